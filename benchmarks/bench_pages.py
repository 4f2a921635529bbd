"""Page timings of the app on the prepared demo, in headless Chromium: each page's first visit and the interactions.

The app (``streamlit run app.py``) is started on a copy of the prepared demo world and its model (the demo is
never written to; ``LANTIAN_BENCH_DEMO``, default ``demo``, and ``LANTIAN_BENCH_DEMO_MODEL``, default
``models/demo``) and driven by the walk of the browser test (:func:`tests.ui.test_e2e.walk`): every page's first
visit (from the request to its content, the script finished) and the interactions an officer makes (another area
and lead day, another episode, the language switch). Each run is a fresh app (no Streamlit cache); the medians of
``LANTIAN_BENCH_REPEAT`` runs (default 3) are printed against the targets (first visit < 3 s, interaction < 0.5 s).

Skipped, with the reason, without Chromium and Playwright or without a prepared demo (its ``demo_status.json``
says every step is done: ``make run`` or ``lantian demo prepare``).

``python -m benchmarks.bench_pages --screenshots DIR`` takes the README screenshots instead: the consultation
page on the issue date of the demo's most severe forecast (an orange or red episode), the review page (it opens on
the most significant episode), the duty and data pages.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from ._util import header

ROOT = Path(__file__).resolve().parents[1]
VISIT_TARGET, CLICK_TARGET = 3.0, 0.5


def _demo() -> tuple[Path, Path, str | None]:
    """The prepared demo, its model and why it cannot be used (None: it can)."""
    from lantian import demo

    data = Path(os.environ.get("LANTIAN_BENCH_DEMO", ROOT / "demo"))
    model = Path(os.environ.get("LANTIAN_BENCH_DEMO_MODEL", ROOT / "models" / "demo"))
    status = demo.read_status(demo.status_path(data)) if data.is_dir() else None
    if not data.is_dir():
        return data, model, f"no prepared demo at {data} (make run, or lantian demo prepare; LANTIAN_BENCH_DEMO=DIR)"
    if status is None:  # a world prepared by hand (its workspace filled by lantian train / forecast)
        status = {"steps": []}
    pending = [s["key"] for s in status.get("steps", []) if s.get("state") not in ("done", "skipped")]
    if pending:
        return data, model, f"the demo at {data} is not prepared yet (steps not done: {', '.join(pending)})"
    if not (model / "model.json").exists():
        return data, model, f"no demo model at {model} (LANTIAN_BENCH_DEMO_MODEL=DIR)"
    return data, model, None


def _browser():
    from tests.ui import test_e2e

    if test_e2e.CHROMIUM is None:
        return None, "no chromium on this machine (Debian: apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, "playwright is not installed"
    return test_e2e, None


def _copy(data: Path, model: Path, into: Path) -> tuple[Path, Path]:
    """The demo world as links to its files with a copy of its workspace, and a copy of the model: the app writes
    its caches there, not into the demo (the GRIB files keep their paths, so their extracted tables are used)."""
    world = into / "demo"
    world.mkdir()
    for item in data.iterdir():
        if item.name == ".lantian":
            shutil.copytree(item, world / ".lantian", symlinks=True)
        else:
            (world / item.name).symlink_to(item.resolve())
    shutil.copytree(model, into / "model", symlinks=True)
    return world, into / "model"


def _start_app(e2e, data: Path, model: Path, tmp: Path):
    """The app on ``data`` and ``model`` with a fresh audit store in ``tmp`` and the demo accounts: (process, url)."""
    return e2e.start_app({"LANTIAN_DATA": str(data), "LANTIAN_MODEL": str(model),
                          "LANTIAN_AUDIT": str(tmp / "audit.db"),
                          "LANTIAN_ACCOUNTS": str(ROOT / "config" / "accounts.yaml")}, timeout=180)


def _one_run(e2e, data: Path, model: Path, tmp: Path, shots: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    proc, url = _start_app(e2e, data, model, tmp)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=e2e.CHROMIUM, args=e2e.ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            timings = e2e.walk(page, url, shots, strict=False)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)
    return timings


def bench_pages(repeat: int | None = None) -> dict | None:
    header("page timings on the prepared demo (headless Chromium, a fresh app per run)")
    data, model, why = _demo()
    e2e, why_browser = _browser()
    if why or why_browser:
        print(f"skipped: {why or why_browser}")
        return None
    repeat = repeat or int(os.environ.get("LANTIAN_BENCH_REPEAT", "3"))
    with tempfile.TemporaryDirectory(prefix="lantian-bench-pages-") as tmp:
        tmp = Path(tmp)
        data, model = _copy(data, model, tmp)
        # the workspace as this code keeps it (a demo prepared by another version is derived again once, untimed)
        import subprocess

        subprocess.run([sys.executable, "-c", "import sys; from forecast import forecasting; "
                        "forecasting.load_inputs(sys.argv[1])", str(data)], check=True, cwd=ROOT)
        runs = []
        for k in range(repeat):
            runs.append(_one_run(e2e, data, model, tmp))
            print(f"run {k + 1}: " + ", ".join(f"{n} {v:.2f}" if isinstance(v, float) else f"{n}: {v}"
                                               for n, v in runs[-1].items()), flush=True)
    names = list(dict.fromkeys(k for r in runs for k in r if k != "not timed"))
    result = {}
    for name in names:
        values = [r[name] for r in runs if name in r]
        med = statistics.median(values)
        target = VISIT_TARGET if name.startswith("visit:") else CLICK_TARGET
        result[name] = med
        print(f"{name:28s} median {med:6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})  "
              f"target < {target} s: {'met' if med < target else 'NOT met'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return result


def _episode_issue_date(data: Path) -> str | None:
    """The issue date of the demo's archived forecast with the most areas at orange or red on day 1."""
    import pandas as pd

    from forecast import archive

    try:
        table = archive.archived_forecasts(data)
    except Exception:  # no archive: the consultation page stays on its default date
        return None
    if table is None or not len(table) or "level" not in table:
        return None
    day1 = table[table["lead"] == 1]
    severe = day1[day1["level"].isin(["orange", "red"])]
    if not len(severe):
        return None
    counts = severe.groupby("issue_date").size()
    return str(pd.Timestamp(counts.idxmax()).date())


def screenshots(out: Path) -> int:
    """The README screenshots from the prepared demo (see the module docstring)."""
    data, model, why = _demo()
    e2e, why_browser = _browser()
    if why or why_browser:
        print(f"lantian screenshots: {why or why_browser}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    issued = _episode_issue_date(data)
    with tempfile.TemporaryDirectory(prefix="lantian-shots-") as tmp:
        tmp = Path(tmp)
        data_copy, model_copy = _copy(data, model, tmp)
        proc, url = _start_app(e2e, data_copy, model_copy, tmp)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=e2e.CHROMIUM, args=e2e.ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for path, text, ready, name in e2e.PAGES:
                    page.goto(url + path, timeout=240_000)
                    page.locator(ready).first.wait_for(timeout=240_000)
                    e2e.settle(page)
                    if name == "consultation" and issued:
                        _slide_to(page, issued)
                    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"screenshots written to {out} (consultation issued {issued or 'on its default date'})")
    return 0


def _slide_to(page, issued: str):
    """Move the consultation's issue-date slider to ``issued`` (keyboard: End, then left until it shows)."""
    from tests.ui.test_e2e import settle

    slider = page.locator("[data-testid='stSlider'] [role='slider']").first
    slider.click()
    for _ in range(400):
        if slider.get_attribute("aria-valuetext") == issued:
            break
        slider.press("ArrowLeft")
    settle(page)


def run():
    bench_pages()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--screenshots":
        sys.exit(screenshots(Path(sys.argv[2])))
    run()
