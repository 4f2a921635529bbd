"""The AQI of every area-hour, and the area observations a forecast reads: vectorised and kept in the workspace.

Baselines, measured in the same run:

- the per-row table AQI as it was before vectorisation (``tests/forecast/_aqi_reference.py``) against
  :func:`forecast.aqi.aqi`, on the rolling-24-h table of three winters × 21 areas (~460,000 area-hours);
- the area observations derived from scratch (read the archive, QC, daily / hourly / rolling-24-h tables, AQI:
  what every ``lantian forecast`` did before the workspace kept them) against reading them back
  (:func:`forecast.history.area_observations`, warm) and against one appended day (only its hours derived).

With ``LANTIAN_BENCH_WORLD=DIR`` (a demo world) it times the history of its archive built cold and with one day
appended (a symlinked copy of the archive; fresh processes, maximum RSS). With ``LANTIAN_BENCH_WORLD`` a writable
copy and ``LANTIAN_BENCH_MODEL=DIR`` (a model trained on it) it also times ``lantian forecast`` end to end, as a
user runs it (a fresh process: imports included), with the kept tables removed (cold) and present (warm), and
prints each run's maximum resident set size.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import aqi, history
from tests.forecast._aqi_reference import aqi_reference

from ._util import header, max_rss_mib, timed

#: area-hours of a three-winter demo world (21 areas × ~21,900 hours)
AREA_HOURS = 21 * 21_900


def _rolling_table(n: int, seed: int = 0) -> pd.DataFrame:
    """Area rolling-24-h concentrations like a winter's (log-normal PM, some gaps), dated across HJ 633-2026."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "pm25_24h": rng.lognormal(4.0, 0.8, n), "pm10_24h": rng.lognormal(4.6, 0.7, n),
        "so2_24h": rng.lognormal(2.8, 0.5, n), "no2_24h": rng.lognormal(3.4, 0.4, n),
        "co_24h": rng.lognormal(0.0, 0.5, n), "o3_8h": rng.lognormal(4.0, 0.5, n)})
    frame[rng.random(frame.shape) < 0.03] = np.nan
    frame["time"] = pd.date_range("2023-10-01", periods=n, freq="min")  # crosses 2026-03-01 for the largest n
    frame.loc[frame.index[n // 2:], "time"] += pd.Timedelta(days=900)
    return frame


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_aqi(n: int = AREA_HOURS):
    header(f"table AQI of {n:,} area-hours: per-row reference vs vectorised (HJ 633, edition by date)")
    table = _rolling_table(n)
    t0 = time.perf_counter()
    ref = aqi_reference(table, standard="auto", date_column="time")
    t_ref = time.perf_counter() - t0  # once: it is the slow one
    t_new = _median(lambda: aqi.aqi(table, standard="auto", date_column="time"), 3)
    pd.testing.assert_frame_equal(aqi.aqi(table, standard="auto", date_column="time"), ref)  # the same table
    print(f"per-row reference (baseline) : {t_ref:7.2f} s")
    print(f"vectorised aqi.aqi (median 3): {t_new:7.2f} s   {t_ref / t_new:5.1f}x faster, identical table")
    return {"aqi_reference": t_ref, "aqi": t_new}


def bench_observations(days: int = 120, n_stations: int = 60):
    from forecast import features
    from forecast.areas import load_areas

    from .bench_stations import make_archive

    header(f"area observations: {days} days x {n_stations} stations, derived vs kept in the workspace")
    r = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_archive(root, n_stations=n_stations, days=days - 1)
        areas = load_areas()

        def scratch():
            shutil.rmtree(root / "scratch", ignore_errors=True)
            hist, sites, _ = history.build_history(root, cache=root / "scratch", areas=areas)
            return features.observations(hist, sites)

        with timed(r, "scratch"):
            scratch()
        with timed(r, "cold"):
            history.area_observations(root, cache=root / "ws", areas=areas)
        r["warm"] = _median(lambda: history.area_observations(root, cache=root / "ws", areas=areas), 3)
        from simulate.cnemc import write_cnemc_day  # one more day, as the archive grows each morning

        sites = pd.read_csv(root / "stations" / "sites.csv")
        codes = sites["监测点编码"].tolist()
        rng = np.random.default_rng(1)
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=days - 1)
        pm25 = rng.gamma(2.0, 25.0, (24, len(codes))).round()
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day,
                        {"PM2.5": pm25, "PM10": (pm25 * 1.7).round(), "O3": rng.uniform(5, 160, (24, len(codes))),
                         "SO2": rng.uniform(5, 40, (24, len(codes))), "NO2": rng.uniform(10, 70, (24, len(codes))),
                         "CO": rng.uniform(0.3, 2.5, (24, len(codes)))}, codes)
        with timed(r, "appended"):
            _, _, meta = history.area_observations(root, cache=root / "ws", areas=areas)
        print(f"derived from scratch (baseline)      : {r['scratch']:7.2f} s")
        print(f"cold workspace (derive + keep)       : {r['cold']:7.2f} s   {r['cold'] / r['scratch']:5.2f}x baseline")
        print(f"warm workspace (read back, median 3) : {r['warm']:7.2f} s   {r['scratch'] / r['warm']:5.1f}x faster")
        print(f"one day appended ({meta['observations']}): {r['appended']:7.2f} s   "
              f"{r['scratch'] / r['appended']:5.1f}x faster (the archive is read again; only the new days derived)")
        print(f"max RSS so far {max_rss_mib():.0f} MiB")
    return r


def _forecast_run(world: str, model: str, issued: str) -> tuple[float, float]:
    """Wall time [s] and maximum RSS [MiB] of one ``lantian forecast`` in a fresh process."""
    code = ("import resource, sys, time; t=time.perf_counter(); from lantian.cli import main; "
            f"rc=main(['forecast','--data',{world!r},'--model',{model!r},'--issued',{issued!r},'--quiet']); "
            "print('BENCH', time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, "
            "file=sys.stderr); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("BENCH")][-1].split()
    return float(line[1]), float(line[2])


def bench_forecast(world: str, model: str, issued: str = "2024-01-15", repeat: int = 3):
    header(f"lantian forecast --issued {issued} end to end (fresh process), cold vs warm workspace")
    ws = Path(world) / ".lantian"
    cold = []
    for _ in range(repeat):
        for kept in ("observations", "drivers"):
            shutil.rmtree(ws / kept, ignore_errors=True)
        cold.append(_forecast_run(world, model, issued))
    warm = [_forecast_run(world, model, issued) for _ in range(repeat)]
    t_cold, t_warm = statistics.median(t for t, _ in cold), statistics.median(t for t, _ in warm)
    print(f"cold (tables derived and kept) : {t_cold:6.2f} s  max RSS {max(m for _, m in cold):6.0f} MiB")
    print(f"warm (tables read back)        : {t_warm:6.2f} s  max RSS {max(m for _, m in warm):6.0f} MiB  "
          f"{t_cold / t_warm:4.1f}x faster   (medians of {repeat}; target < 3 s, < 500 MiB)")
    return {"cold": t_cold, "warm": t_warm}


def _history_run(data: str, cache: str) -> tuple[float, float, dict]:
    """Wall time [s], maximum RSS [MiB] and report of one :func:`forecast.history.area_observations` in a fresh
    process (imports not timed)."""
    code = ("import json, resource, sys, time; from forecast import history; t=time.perf_counter(); "
            f"_, _, meta = history.area_observations({data!r}, cache={cache!r}); "
            "print('BENCH', time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024, "
            "json.dumps({k: meta.get(k) for k in ('files_parsed', 'derived_from', 'observations')}), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("BENCH")][-1].split(maxsplit=3)
    import json

    return float(line[1]), float(line[2]), json.loads(line[3])


def bench_history_incremental(world: str):
    """The station history and area observations of a full-size archive: built cold (every file parsed, QC month by
    month), then one day appended (its file parsed alone, QC and tables from the last safe day start) — the
    baseline is the cold build, which is what every grown archive cost before."""
    header("station history of a three-winter archive: cold build vs one appended day (fresh processes)")
    with tempfile.TemporaryDirectory(prefix="lantian-bench-hist-") as tmp:
        root = Path(tmp)
        (root / "stations").mkdir()
        files = sorted((Path(world) / "stations").glob("china_sites_*.csv"))
        for f in [*files[:-1], Path(world) / "stations" / "sites.csv"]:
            (root / "stations" / f.name).symlink_to(f.resolve())
        t_cold, m_cold, meta_cold = _history_run(str(root), str(root / "ws"))
        (root / "stations" / files[-1].name).symlink_to(files[-1].resolve())
        t_app, m_app, meta_app = _history_run(str(root), str(root / "ws"))
    print(f"cold ({meta_cold['files_parsed']} files parsed)      : {t_cold:7.2f} s  max RSS {m_cold:6.0f} MiB")
    print(f"{files[-1].name} appended ({meta_app['files_parsed']} parsed, QC from {meta_app['derived_from']}, "
          f"{meta_app['observations']}): {t_app:6.2f} s  max RSS {m_app:6.0f} MiB  {t_cold / t_app:4.1f}x faster")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return {"cold": t_cold, "cold_rss": m_cold, "appended": t_app, "appended_rss": m_app}


def run():
    out = {"aqi": bench_aqi(), "observations": bench_observations()}
    world, model = os.environ.get("LANTIAN_BENCH_WORLD"), os.environ.get("LANTIAN_BENCH_MODEL")
    if world:
        out["history"] = bench_history_incremental(world)
    if world and model:
        out["forecast"] = bench_forecast(world, model, os.environ.get("LANTIAN_BENCH_ISSUED", "2024-01-15"))
    else:
        print("(LANTIAN_BENCH_WORLD / LANTIAN_BENCH_MODEL not set: lantian forecast end to end not timed)")
    return out


if __name__ == "__main__":
    run()
