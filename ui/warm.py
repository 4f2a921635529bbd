"""What the app's server loads as it starts, so that the first visit of a page does not have to.

``python app.py [streamlit options]`` (what ``make run`` starts; ``streamlit run app.py`` still works, without
this) imports the pages and the library before the server answers (pandas, plotly, scipy, the page modules: about
2–4 s of CPU that a plain ``streamlit run`` spends in the first visit), then starts :func:`start` in a background
thread: the region (its boundaries parsed through the geometry cache, :func:`forecast.areas.geometries`) and the
inputs (:func:`forecast.forecasting.load_inputs`: about 1 s on the demo) of the data directory, and draws one small
chart (matplotlib for the consultation's SVG charts). The pages' cached
calls (:func:`ui.common.region`, :func:`ui.common.inputs`) take what was loaded here (:func:`take`), waiting
for it when a visit comes first; a preload that failed is ignored and the page loads (and reports) it itself.

The inputs are preloaded only when nothing is being prepared for the data directory or the demo preparation
is past its ``inputs`` step (:mod:`lantian.demo`): never concurrently with a preparation that writes them.
Nothing here imports streamlit's runtime or draws anything.
"""
from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import Future
from pathlib import Path

#: the modules the pages import (imported here as the server starts)
PAGE_MODULES = ("ui.common", "ui.consultation", "ui.duty", "ui.review", "ui.data", "ui.status", "ui.briefing",
                "forecast.forecasting", "forecast.products", "response.figures", "response.charts",
                "response.respond", "lantian.pagecache")

_lock = threading.Lock()
_loaded: dict[tuple[str, str], Future] = {}


def take(kind: str, data: str):
    """What the server's start loaded of ``kind`` (``region``, ``inputs``) for ``data`` (waiting for it while it is
    being loaded), or ``None`` when nothing was (or it failed: the caller loads it and reports its error). Handed
    out once: a later call (the page's cache cleared) loads afresh."""
    with _lock:
        fut = _loaded.pop((kind, str(data)), None)
    if fut is None:
        return None
    try:
        return fut.result()
    except Exception:  # noqa: BLE001 - the page loads it again and shows its error where it belongs
        return None


def _wait_for_runtime(timeout: float = 60.0) -> None:
    """Until the server's runtime exists (the pages' caches are made for it, not for a bare process)."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _ready_for_inputs(data: Path) -> bool:
    """Whether the inputs may be read now: nothing is being prepared, or the preparation has read them."""
    from lantian import demo

    path = data / ".lantian" / demo.STATUS_FILE
    status = demo.read_status(path) if path.exists() else None
    return (data / "stations").is_dir() and demo.step_done(status, "model")


def _register(data: str) -> dict[str, Future]:
    futures = {k: Future() for k in ("region", "inputs")}
    with _lock:
        for kind, fut in futures.items():
            _loaded[(kind, data)] = fut
    return futures


def preload(data: str, futures: dict[str, Future] | None = None) -> None:
    """Load the region and (when :func:`_ready_for_inputs`) the inputs of ``data`` into :func:`take`'s store."""
    from forecast import forecasting
    from forecast.region import load_region

    data = str(data)
    futures = futures or _register(data)
    _wait_for_runtime()
    import importlib

    for name in PAGE_MODULES:  # the pages and, through them, the library (the script's own imports then find them)
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    _draw_once()
    try:
        region = load_region(data=data)
        region.boundaries  # noqa: B018 - parsed (or read from the geometry cache) now, not on the first visit
        futures["region"].set_result(region)
    except Exception as exc:  # noqa: BLE001 - the page reports it
        futures["region"].set_exception(exc)
        futures["inputs"].set_exception(exc)
        return
    try:
        if not _ready_for_inputs(Path(data)):
            raise RuntimeError("inputs not ready: the demo is being prepared")
        futures["inputs"].set_result(forecasting.load_inputs(data, region=region))
    except Exception as exc:  # noqa: BLE001 - the page loads them itself (and reports their error)
        futures["inputs"].set_exception(exc)
    _read_tables(region)


def _draw_once() -> None:
    """One small SVG chart (:mod:`response.charts`): matplotlib, its font list and SVG writer are loaded now, not
    on the consultation page's first visit (about 1 s of CPU)."""
    with contextlib.suppress(Exception):  # the page draws (and reports) it itself
        from response import charts

        fig = charts.figure(1.0, 1.0)
        fig.add_subplot(1, 1, 1).text(0.5, 0.5, "蓝天 AQI")
        charts.render(fig, "svg")


def _read_tables(region) -> None:
    """The tables every page reads (kept by their loaders' caches): the nomenclature, the region's plans and
    warning rules — read now, not on the first visit."""
    with contextlib.suppress(Exception):  # a bad table (or module) is the page's to report
        from forecast import labels, levels
        from response import plans

        for load in (labels.load_labels, lambda: plans.load_plans(region.plans_file, areas=region.areas),
                     lambda: levels.load_rules(region.rules_path)):
            with contextlib.suppress(Exception):
                load()


def start(data: str) -> threading.Thread:
    """:func:`preload` of ``data`` in a daemon thread (the server answers meanwhile; a page asking before it is
    done waits for it, :func:`take`)."""
    futures = _register(str(data))
    thread = threading.Thread(target=preload, args=(str(data), futures), name="lantian-preload", daemon=True)
    thread.start()
    return thread


def reset() -> None:
    """Forget what was preloaded (tests)."""
    with _lock:
        _loaded.clear()
