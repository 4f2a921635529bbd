"""A year of 6-hourly ERA5-like GRIB2 on the 0.25° Inner Mongolia grid → area series of all 21 areas.

Baseline, measured in the same run on the same files: a plain loop over ``eccodes`` that opens and decodes every
message (``codes_grib_new_from_file`` + ``codes_get_values``) and does nothing else — the rate no GRIB reader can beat
on one core. lantian is timed from nothing cached with its default reader (a direct ecCodes scan reducing each
message to area means as it decodes it; serial, 2 threads and a 2-process pool), with the full read of each file's
fields reduced afterwards (the path before the reducing scan), with the cfgrib engine (cold and with a warm cfgrib
index) for comparison, and fully cached. ``bench_ingest`` measures the hourly decade's time and memory.
"""
from __future__ import annotations

import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import meteorology
from simulate.grib import Grid, GribWriter

from ._util import header, max_rss_mib

GRID = Grid(step=0.25)
SFC = ("2t", "2d", "10u", "10v", "sp", "blh")


def _fields(t: pd.Timestamp, rng, tp=(0.001, 0.0003)) -> dict:
    """Smooth synthetic fields of hour ``t``; ``tp`` (gamma scale, offset) [m] sets the precipitation amounts
    (6-hourly here, hourly in bench_ingest)."""
    lon, lat = np.meshgrid(GRID.lon, GRID.lat)
    h = (t - pd.Timestamp("2023-01-01")) / pd.Timedelta(hours=1)
    day = np.sin(2 * np.pi * h / 24)
    season = np.cos(2 * np.pi * h / 8766)
    noise = rng.normal(0, 1, GRID.shape)
    t2 = 275 - 15 * season - 0.6 * (lat - 45) + 5 * day + noise
    return {"2t": t2, "2d": t2 - 6 - np.abs(noise), "10u": 3 + 2 * np.sin(lon / 5) + noise,
            "10v": 1 + np.cos(lat / 3) + noise, "sp": 88000 - 200 * (lat - 45) + 50 * noise,
            "blh": np.clip(600 + 400 * day + 80 * noise, 30, None), "t850": t2 - 7 + noise, "t925": t2 - 3,
            "tp": np.clip(rng.gamma(0.3, tp[0], GRID.shape) - tp[1], 0, None)}


def make_year(root: Path, year: int = 2023, seed: int = 0) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    folder = root / "meteorology" / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for month in pd.period_range(f"{year}-01", f"{year}-12", freq="M"):
        times = pd.date_range(month.start_time, month.end_time, freq="6h")
        with open(folder / f"era5_sfc_{month:%Y%m}.grib2", "wb") as fs, \
                open(folder / f"era5_pl_{month:%Y%m}.grib2", "wb") as fp:
            ws, wp = GribWriter(fs, GRID, bits_per_value=16), GribWriter(fp, GRID, bits_per_value=16)
            for t in times:
                f = _fields(t, rng)
                for name in SFC:
                    ws.write(name, f[name], time=t)
                ws.write("tp", f["tp"], time=t - pd.Timedelta(hours=6), step=6, start_step=0)
                wp.write("t", f["t850"], time=t, level=850)
                wp.write("t", f["t925"], time=t, level=925)
                n += 9
            ws.close()
            wp.close()
    size = sum(p.stat().st_size for p in folder.iterdir())
    return n, size


def raw_decode(files: list[Path]) -> int:
    import eccodes

    n = 0
    for path in files:
        with open(path, "rb") as fh:
            while True:
                h = eccodes.codes_grib_new_from_file(fh)
                if h is None:
                    break
                eccodes.codes_get_values(h)
                eccodes.codes_release(h)
                n += 1
    return n


def children_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run():
    header("GRIB → area series: one year, 6-hourly, 0.25° (69 × 117), 21 areas")
    root = Path(tempfile.mkdtemp(prefix="lantian-bench-grib-"))
    old_xdg = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(root / "xdg")  # cfgrib's private index folder goes away with the run
    try:
        t0 = time.perf_counter()
        n_msgs, size = make_year(root)
        print(f"written {n_msgs} messages, {size / 2**20:.0f} MiB in {time.perf_counter() - t0:.1f} s")
        files = sorted((root / "meteorology" / "analysis").glob("*.grib2"))
        mib = size / 2**20

        raws = []
        for _ in range(2):  # best of two: the first pass may still compete with the file writes
            t0 = time.perf_counter()
            assert raw_decode(files) == n_msgs
            raws.append(time.perf_counter() - t0)
        raw = min(raws)
        rate_raw = n_msgs / raw
        print(f"{'eccodes raw decode loop (baseline, best of 2)':<46} {raw:7.2f} s  {rate_raw:8.0f} fields/s "
              f"{mib / raw:7.1f} MB/s  ratio 1.00")

        cache = root / "cache"

        def timed_ingest(label, **kw):
            t = time.perf_counter()
            met = meteorology.ingest(root, cache=cache, **kw)
            dt = time.perf_counter() - t
            rate = n_msgs / dt
            print(f"{label:<46} {dt:7.2f} s  {rate:8.0f} fields/s {mib / dt:7.1f} MB/s  "
                  f"ratio {rate / rate_raw:.2f}")
            assert met.summary()["failed"] == 0
            return met, dt

        timed_ingest("lantian, serial (decode + area means + cache)", workers=1)
        shutil.rmtree(cache)
        timed_ingest("lantian, serial, full read then reduce (before)", workers=1, reduce=False)
        shutil.rmtree(cache)
        met, _ = timed_ingest("lantian, 2 threads (default)", workers=2)
        shutil.rmtree(cache)
        timed_ingest("lantian, 2 processes", workers=2, scheduler="processes")
        shutil.rmtree(cache)
        timed_ingest("lantian, cfgrib engine, cold index, serial", workers=1, engine="cfgrib")
        for p in (cache / "meteorology").glob("*.parquet"):
            p.unlink()
        timed_ingest("lantian, cfgrib engine, warm index, serial", workers=1, engine="cfgrib")
        t = time.perf_counter()
        meteorology.ingest(root, cache=cache, workers=2)
        print(f"{'lantian fully cached (no GRIB decoded)':<46} {time.perf_counter() - t:7.2f} s")
        t = time.perf_counter()
        by_day, _ = meteorology.daily(met)
        print(f"daily drivers: {len(by_day)} area-days in {time.perf_counter() - t:.2f} s; "
              f"series rows {len(met.analysis)}")
        print(f"peak RSS: main process {max_rss_mib():.0f} MiB, largest worker {children_rss_mib():.0f} MiB "
              f"(a year of fields would be {n_msgs * GRID.shape[0] * GRID.shape[1] * 4 / 2**20:.0f} MiB as float32)")
    finally:
        if old_xdg is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old_xdg
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    run()
