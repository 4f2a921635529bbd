"""Shared small simulated worlds (a few weeks, all areas), built once per test session."""
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def winter_world(tmp_path_factory) -> Path:
    """Four winter weeks with daily forecast runs."""
    from simulate import simulate

    out = tmp_path_factory.mktemp("winter_world")
    simulate(out, seed=11, start="2023-12-01", end="2023-12-28", forecasts="all", progress=False)
    return out


@pytest.fixture(scope="session")
def spring_world(tmp_path_factory) -> Path:
    """Two spring months (dust season), no forecast runs."""
    from simulate import simulate

    out = tmp_path_factory.mktemp("spring_world")
    simulate(out, seed=11, start="2024-03-10", end="2024-05-10", forecasts="none", progress=False)
    return out


@pytest.fixture(scope="session")
def winter_inputs(winter_world):
    """Observations and station-point meteorological drivers of the winter world (cached in the world's .lantian)."""
    from forecast import forecasting

    return forecasting.load_inputs(winter_world)


@pytest.fixture(scope="session")
def winter_model(winter_world, winter_inputs, tmp_path_factory):
    """A small model trained on the first 20 days of the winter world (few rounds: mechanics, not skill)."""
    from forecast import forecasting

    model_dir = tmp_path_factory.mktemp("model")
    forecasting.train(winter_world, model_dir, until="2023-12-20", inputs=winter_inputs, rounds=40)
    return model_dir


@pytest.fixture(scope="session")
def season_world(tmp_path_factory) -> Path:
    """Two heating seasons (Oct 2023 – Feb 2025) of the demo simulator on a 1° analysis grid, no forecast runs:
    long enough to learn the emission-cut counterfactual from (the effect tests compare it with the truth)."""
    from simulate import simulate

    out = tmp_path_factory.mktemp("season_world")
    simulate(out, seed=7, start="2023-10-01", end="2025-02-28", forecasts="none", progress=False, analysis_step=1.0)
    return out


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Per-user caches the tests fill (cfgrib's index files, :func:`forecast.gribread.private_index_dir`) go to a
    temporary folder, not the user's ``~/.cache``."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    patch.undo()


#: fixtures that build or read a simulated world: any test using one (directly or through another fixture) is
#: marked ``slow``, so ``pytest -m "not slow"`` is the quick subset (unit tests on hand-made inputs)
WORLD_FIXTURES = {"winter_world", "spring_world", "season_world", "winter_inputs", "winter_model"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if WORLD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
