"""Page timings of the app on the prepared demo, in headless Chromium: each page's first visit and the interactions.

The app (``streamlit run app.py``) is started on a copy of the prepared demo world and its model (the demo is
never written to; ``LANTIAN_BENCH_DEMO``, default ``demo``, and ``LANTIAN_BENCH_DEMO_MODEL``, default
``models/demo``) and driven by the walk of the browser test (:func:`tests.ui.test_e2e.walk`): every page's first
visit (from the request to its content, the script finished) and the interactions an officer makes (another area
and lead day, another episode, the language switch). Each run is a fresh app (no Streamlit cache; served as
``make run`` serves it, ``python app.py``) and a fresh browser; the medians of ``LANTIAN_BENCH_REPEAT`` runs
(default 3) are printed against the targets (first visit < 3 s, interaction < 0.5 s), with the app server's CPU
time of each step (``/proc``: what the server computed, apart from the browser's work and the machine's load) and
of its start (imports and the preload, :mod:`ui.warm`, before the first request).

Skipped, with the reason, without Chromium and Playwright or without a prepared demo (its ``demo_status.json``
says every step is done: ``make run`` or ``lantian demo prepare``).

``python -m benchmarks.bench_pages --screenshots DIR [--data DATA --model MODEL] [--date YYYY-MM-DD]`` takes the
README screenshots instead (on copies of DATA and MODEL, default the prepared demo): the consultation and duty pages
on an issue date of the most significant episode after training (:func:`episode_issue_date`; an orange or red
episode), opened through their address ``?issued=…``, the review page (it opens on that episode) and the data page.
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
    """The app on ``data`` and ``model`` (the copies: its audit store the copy's own, the demo warning history the
    review evaluates and the page cache keyed with) and the demo accounts: (process, url)."""
    env = {"LANTIAN_DATA": str(data), "LANTIAN_MODEL": str(model),
           "LANTIAN_ACCOUNTS": str(ROOT / "config" / "accounts.yaml")}
    return e2e.start_app(env, timeout=180, unset=("LANTIAN_AUDIT",))


def process_cpu(pid: int) -> float | None:
    """A process's CPU time so far (user + system) [s], from ``/proc`` (``None`` where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _one_run(e2e, data: Path, model: Path, tmp: Path, shots: Path | None = None) -> tuple[dict, dict]:
    """One walk on a fresh app, started once the server's start is done (its CPU time stops growing: imports and
    the preload of :mod:`ui.warm`, at most 60 s): ``(wall seconds per step, the app server's CPU seconds per step
    and of its start, ``"server start"``)``."""
    from playwright.sync_api import sync_playwright

    proc, url = _start_app(e2e, data, model, tmp)
    cpu_log: dict = {}
    try:
        _settled(proc.pid)
        cpu_log["server start"] = process_cpu(proc.pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=e2e.CHROMIUM, args=e2e.ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            timings = e2e.walk(page, url, shots, strict=False, cpu=lambda: process_cpu(proc.pid), cpu_log=cpu_log)
            browser.close()
    finally:
        _stop(proc)
    return timings, cpu_log


def _stop(proc) -> None:
    """Stop the app (killed when it does not stop within 30 s: a script run still busy)."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)


def _settled(pid: int, timeout: float = 60.0) -> None:
    """Until the app server's start is done: its CPU time stops growing (the background preload finished)."""
    import time

    deadline, last = time.monotonic() + timeout, process_cpu(pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = process_cpu(pid)
        if now is None or last is None or now - last < 0.02:
            return
        last = now


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
        # the demo as this code prepares it, untimed: its workspace and its page cache (whose keys include the
        # code's digest: a demo prepared by another version of the code is brought up to date once, here — else
        # the first run would time computing what a prepared demo keeps)
        import subprocess

        subprocess.run([sys.executable, "-m", "lantian", "demo", "prepare", "--data", str(data), "--model", str(model)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        runs, cpus = [], []
        for k in range(repeat):
            load = os.getloadavg()[0]
            timings, cpu = _one_run(e2e, data, model, tmp)
            runs.append(timings)
            cpus.append(cpu)
            print(f"run {k + 1} (load {load:.1f} → {os.getloadavg()[0]:.1f}): "
                  + ", ".join(f"{n} {v:.2f}" if isinstance(v, float) else f"{n}: {v}" for n, v in timings.items())
                  + "; server CPU: " + ", ".join(f"{n} {v:.2f}" for n, v in cpu.items() if v is not None),
                  flush=True)
    names = list(dict.fromkeys(k for r in runs for k in r if k != "not timed"))
    result = {}
    print(f"{'':28s} {'wall (median, runs)':>44s}   server CPU (median)")
    start = [c["server start"] for c in cpus if c.get("server start") is not None]
    if start:
        print(f"{'server start (preload)':28s} {'':44s}   {statistics.median(start):6.2f} s")
    for name in names:
        values = [r[name] for r in runs if name in r]
        med = statistics.median(values)
        cpu = [c[name] for c in cpus if c.get(name) is not None]
        target = VISIT_TARGET if name.startswith("visit:") else CLICK_TARGET
        result[name] = med
        print(f"{name:28s} median {med:6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})  "
              f"target < {target} s: {'met' if med < target else 'NOT met'}"
              + (f"   {statistics.median(cpu):6.2f} s" if cpu else ""))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return result


def episode_issue_date(data: Path, model: Path) -> str | None:
    """The issue date to show an episode on: in the most significant episode after the model's training period
    (:func:`response.evaluation.most_significant_episode`), the issue date from two days before it to its last
    day whose archived forecast has the most areas at orange or red (day 1–3), else the day before the episode
    starts; ``None`` without an episode."""
    import pandas as pd

    from forecast import archive, forecasting, modelcard
    from lantian import pagecache
    from response import episodes, evaluation

    inputs = forecasting.load_inputs(data)
    eps = episodes.detect_episodes(inputs.obs.daily)
    if eps.empty:
        return None
    i = evaluation.most_significant_episode(eps, after=modelcard.last_training_day(model))
    ep = eps.iloc[i if i is not None else len(eps) - 1]
    first = ep["start"] - pd.Timedelta(days=2)
    try:
        table = archive.archived_forecasts(data, model_version=pagecache.model_version(model))
    except (OSError, ValueError):
        table = pd.DataFrame()
    if len(table) and "level" in table:
        near = table[table["issue_date"].between(first, ep["end"]) & (table["lead"] <= 3)
                     & table["level"].isin(["orange", "red"])]
        if len(near):
            counts = near.groupby("issue_date")["area_id"].nunique()
            return str(pd.Timestamp(counts.idxmax()).date())
    return str((ep["start"] - pd.Timedelta(days=1)).date())


#: the README screenshots: file, address (``{issued}``: the episode's issue date), the element showing the content
SHOTS = (("consultation", "/?issued={issued}", "img[src^='data:image/svg+xml']"),  # its charts: SVG images
         ("duty", "/duty?issued={issued}", "[data-testid='stDataFrame']"),
         ("review", "/review", "[data-testid='stDataFrame']"),
         ("data", "/data", "[data-testid='stMetric']"))


def screenshots(out: Path, data: Path | None = None, model: Path | None = None, issued: str | None = None) -> int:
    """The README screenshots (module docstring) of ``data`` and ``model`` (default the prepared demo), the
    consultation and duty pages on ``issued`` (default :func:`episode_issue_date`), chosen through the page's
    address (``?issued=``), not its slider."""
    if data is None or model is None:
        d, m, why = _demo()
        data, model = data or d, model or m
    else:
        why = None if (Path(model) / "model.json").exists() or (Path(model) / "registry.json").exists() else \
            f"no model at {model}"
    e2e, why_browser = _browser()
    if why or why_browser:
        print(f"lantian screenshots: {why or why_browser}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    issued = issued or episode_issue_date(data, model)
    with tempfile.TemporaryDirectory(prefix="lantian-shots-") as tmp:
        tmp = Path(tmp)
        data_copy, model_copy = _copy(Path(data), Path(model), tmp)
        proc, url = _start_app(e2e, data_copy, model_copy, tmp)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=e2e.CHROMIUM, args=e2e.ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for name, path, ready in SHOTS:
                    if "{issued}" in path and not issued:
                        path = path.split("?")[0]
                    page.goto(url + path.format(issued=issued), timeout=600_000)
                    page.locator(ready).first.wait_for(timeout=600_000)
                    e2e.settle(page, timeout=600_000)
                    page.wait_for_function(e2e.CONTENT_DRAWN, timeout=600_000)  # the charts drawn
                    if page.locator("[data-testid='stException']").count():
                        print(f"lantian screenshots: the {name} page shows an error", file=sys.stderr)
                        return 1
                    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                browser.close()
        finally:
            _stop(proc)
    print(f"screenshots written to {out} (issued {issued or 'the latest date'})")
    return 0


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_pages",
                                 description="Page timings on the prepared demo, or (--screenshots) the README "
                                             "screenshots.")
    ap.add_argument("--screenshots", metavar="DIR", type=Path, help="take the README screenshots into DIR")
    ap.add_argument("--data", type=Path, help="data directory (default the prepared demo, LANTIAN_BENCH_DEMO)")
    ap.add_argument("--model", type=Path, help="model folder (default LANTIAN_BENCH_DEMO_MODEL)")
    ap.add_argument("--date", help="the issue date to show (default: the most significant episode's)")
    args = ap.parse_args(argv)
    if args.screenshots:
        return screenshots(args.screenshots, args.data, args.model, args.date)
    if args.data:
        os.environ["LANTIAN_BENCH_DEMO"] = str(args.data)
    if args.model:
        os.environ["LANTIAN_BENCH_DEMO_MODEL"] = str(args.model)
    bench_pages()
    return 0


def run():
    bench_pages()


if __name__ == "__main__":
    sys.exit(main())
