"""Shared small simulated worlds (a few weeks, all areas), built once per test session."""
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def winter_world(tmp_path_factory) -> Path:
    """Four winter weeks with daily forecast runs."""
    from forecast.simulate import simulate

    out = tmp_path_factory.mktemp("winter_world")
    simulate(out, seed=11, start="2023-12-01", end="2023-12-28", forecasts="all", progress=False)
    return out


@pytest.fixture(scope="session")
def spring_world(tmp_path_factory) -> Path:
    """Two spring months (dust season), no forecast runs."""
    from forecast.simulate import simulate

    out = tmp_path_factory.mktemp("spring_world")
    simulate(out, seed=11, start="2024-03-10", end="2024-05-10", forecasts="none", progress=False)
    return out
