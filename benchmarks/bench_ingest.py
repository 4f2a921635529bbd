"""A decade of hourly reanalysis for the region → area series: time and memory, serial, 2 processes, dask.distributed.

The issue's target: about 700 000 GRIB messages (ten years of hourly fields for Inner Mongolia) ingested in under
15 minutes on this 2-core machine within 2 GB. Writing a decade of GRIB would itself take most of an hour, so a
representative slice is written and measured — ERA5-like hourly GRIB2 on the 0.25° grid (69 × 117 points), a
surface file (2t, 2d, 10u, 10v, sp, blh, tp: 7 messages an hour) and a pressure-level file (t at 850 and 925 hPa: 2)
per month, as the CDS delivers them — and the decade is extrapolated from it: its time from the measured rate, its
memory from the measured peak per worker (a worker holds one file at a time, whatever the number of files) and a
measured combination of a decade's worth of area series in the main process (the only part that grows with the
decade). Every line says whether it is measured or extrapolated.

Baseline, measured in the same run on the same files: a bare single-threaded ecCodes loop that opens and decodes
every message (``codes_grib_new_from_file`` + ``codes_get_values``) and does nothing else; each of lantian's paths
is reported as its rate over that rate (1.00: as fast as decoding alone on one core). Every path runs in a fresh
child process from nothing cached, and its peak RSS is that process's and its worker processes' (ru_maxrss).

``BENCH_INGEST_MONTHS`` (default 3) sets the slice: 12 writes and reads a full year hourly (~79 000 messages).

**Forecast runs** (``BENCH_INGEST_RUNS``, default 10): ECMWF open-data-like 00 UTC runs (3-hourly to 144 h, 6-hourly
to 240 h, precipitation accumulated from the start of the run), the reducing scan (which reduces the accumulations
as it decodes them and differences the area means afterwards) against the full read and the bare decode loop.

**The decade itself** (``BENCH_INGEST_DECADE=DIR``, ``1`` for ``/tmp/lantian-bench-decade``): writes ten years of
hourly fields into ``DIR`` once (reused by later runs; ``BENCH_INGEST_DECADE_MONTHS`` caps the months, default
120 — when the disk cannot hold them the largest fraction that fits is used and said) and ingests them serially,
with 2 processes and on a dask.distributed LocalCluster of 2 workers, against the bare decode loop on the same files in the same run: wall time, CPU time, peak memory,
and the machine's load average before and after (a shared machine's load is part of every wall-clock figure).
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simulate.grib import GribWriter

from ._util import header
from .bench_grib import GRID, SFC, _fields as _grib_fields
from .bench_grib import raw_decode  # the same bare ecCodes loop as the baseline of bench_grib

HOURLY_TP = (0.0002, 0.00005)  # gamma scale, offset [m]: hourly precipitation

#: messages an hour: 6 instantaneous surface fields + tp + t at 850 and 925 hPa
PER_HOUR = len(SFC) + 1 + 2
DECADE_HOURS = 10 * 8766
DECADE_MESSAGES = DECADE_HOURS * PER_HOUR
TARGET_S, TARGET_MIB = 15 * 60, 2048


def _tp_base(t: pd.Timestamp) -> pd.Timestamp:
    """ERA5's accumulation base of the hour ending at ``t``: the last 06 or 18 UTC strictly before it."""
    for base in (t.normalize() + pd.Timedelta(hours=18), t.normalize() + pd.Timedelta(hours=6),
                 t.normalize() - pd.Timedelta(hours=6)):
        if base < t:
            return base
    raise AssertionError(t)


def _write_month(folder: Path, month: pd.Period, rng) -> int:
    """One month of hourly ERA5-like GRIB2 (a surface and a pressure-level file), written under temporary names
    and renamed when whole (an interrupted write leaves no partial month behind); returns its messages."""
    times = pd.date_range(month.start_time, month.end_time.floor("h"), freq="h")
    names = {k: folder / f"era5_{k}_{month:%Y%m}.grib2" for k in ("sfc", "pl")}
    tmp = {k: p.with_name(f".{p.name}.tmp") for k, p in names.items()}
    with open(tmp["sfc"], "wb") as fs, open(tmp["pl"], "wb") as fp:
        ws, wp = GribWriter(fs, GRID, bits_per_value=16), GribWriter(fp, GRID, bits_per_value=16)
        for t in times:
            f = _grib_fields(t, rng, HOURLY_TP)
            for name in SFC:
                ws.write(name, f[name], time=t)
            base = _tp_base(t)  # ERA5: hourly buckets counted from 06/18 UTC
            step = int((t - base) / pd.Timedelta(hours=1))
            ws.write("tp", f["tp"], time=base, step=step, start_step=step - 1)
            wp.write("t", f["t850"], time=t, level=850)
            wp.write("t", f["t925"], time=t, level=925)
        ws.close()
        wp.close()
    for k in ("pl", "sfc"):
        tmp[k].replace(names[k])
    return len(times) * PER_HOUR


def make_months(root: Path, months: int, year: int = 2023, seed: int = 0, *, reuse: bool = False) -> tuple[int, int]:
    """``months`` months of hourly ERA5-like GRIB2 under ``root/meteorology/analysis`` from January of ``year``:
    (messages, bytes). ``reuse``: a month whose two files are there already is kept (a cache written once)."""
    folder = root / "meteorology" / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    n, size = 0, 0
    for month in pd.period_range(f"{year}-01", periods=months, freq="M"):
        files = [folder / f"era5_{k}_{month:%Y%m}.grib2" for k in ("sfc", "pl")]
        if reuse and all(f.exists() for f in files):
            n += len(pd.date_range(month.start_time, month.end_time.floor("h"), freq="h")) * PER_HOUR
        else:
            n += _write_month(folder, month, np.random.default_rng([seed, month.ordinal]))
        size += sum(f.stat().st_size for f in files)
    return n, size


#: ECMWF open data's 00 UTC steps: 3-hourly to 144 h, 6-hourly to 240 h [h]
RUN_STEPS = (*range(0, 145, 3), *range(150, 241, 6))


def make_runs(root: Path, runs: int, seed: int = 0) -> tuple[int, int]:
    """``runs`` daily 00 UTC forecast runs (:data:`RUN_STEPS`, the 6 surface fields, ``tp`` accumulated from the
    start of the run, ``t`` at 850 and 925 hPa) under ``root/meteorology/forecast/<YYYYMMDDHH>/``: (messages,
    bytes)."""
    rng = np.random.default_rng(seed)
    n = 0
    for init in pd.date_range("2023-12-01", periods=runs, freq="D"):
        folder = root / "meteorology" / "forecast" / f"{init:%Y%m%d%H}"
        folder.mkdir(parents=True, exist_ok=True)
        acc, prev = np.zeros(GRID.shape), 0
        with open(folder / f"ifs_{init:%Y%m%d%H}.grib2", "wb") as fh:
            w = GribWriter(fh, GRID, bits_per_value=16)
            for step in RUN_STEPS:
                f = _grib_fields(init + pd.Timedelta(hours=step), rng, HOURLY_TP)
                acc = acc + f["tp"] * (step - prev)  # hourly amounts over the period, summed from the start
                prev = step
                for name in SFC:
                    w.write(name, f[name], time=init, step=step)
                w.write("tp", acc, time=init, step=step, start_step=0)
                w.write("t", f["t850"], time=init, step=step, level=850)
                w.write("t", f["t925"], time=init, step=step, level=925)
                n += PER_HOUR
            w.close()
    return n, sum(p.stat().st_size for p in (root / "meteorology" / "forecast").rglob("*.grib2"))


def _child(mode: str, root: str, cache: str) -> dict:
    """One measured path, in a fresh process (its peak RSS is its own)."""
    from forecast import meteorology

    files = sorted(str(p) for p in (Path(root) / "meteorology").rglob("*.grib2"))
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = me.ru_utime + me.ru_stime  # the imports are not the path's
    t0 = time.perf_counter()
    out: dict = {}
    if mode == "raw":
        out["messages"] = raw_decode(files)
    elif mode == "combine":  # the main process's share at decade scale: a decade of per-file area series combined
        out.update(_combine_decade(root, cache))
    else:
        kw = {"serial": dict(workers=1), "serial_full_read": dict(workers=1, reduce=False),
              "processes": dict(workers=2, scheduler="processes"),
              "threads": dict(workers=2, scheduler="threads")}.get(mode)
        if mode == "cluster":
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                t0 = time.perf_counter()  # the cluster's start-up is not the ingest's
                met = meteorology.ingest(root, cache=cache, client=client)
                out["seconds"] = time.perf_counter() - t0
                out["worker_rss_mib"] = max(w["metrics"]["memory"] for w in
                                            client.scheduler_info()["workers"].values()) / 2**20
        else:
            met = meteorology.ingest(root, cache=cache, **kw)
        out.setdefault("seconds", time.perf_counter() - t0)
        out.update(_usage(cpu0))  # the path's, before anything below is timed on its own
        if met.summary()["failed"]:
            raise RuntimeError(f"{mode}: {met.errors[:1]}")
        out["rows"] = int(len(met.analysis))
        out["memory_series_mib"] = float(met.analysis.memory_usage(deep=True).sum() / 2**20)
        # the one-time set-up each process pays (area boundaries, weights on the grid), timed again on its own
        from forecast import extraction

        c0 = time.process_time()
        polygons = meteorology.targets(root, "areas")
        extraction.target_weights(GRID.lat, GRID.lon, dict(sorted(polygons.items())))
        out["setup_cpu_seconds"] = time.process_time() - c0
        if mode == "serial":  # whether the scan reduced the files as it read them (else: the full read)
            from forecast import gribread

            ds, _ = gribread.read_grib(files[0], reduce=lambda lat, lon: extraction.target_weights(
                lat, lon, dict(sorted(polygons.items()))))
            out["reduced"] = bool(ds.attrs.get("reduced"))
    out.setdefault("seconds", time.perf_counter() - t0)
    for key, value in _usage(cpu0).items():
        out.setdefault(key, value)
    return out


def _usage(cpu0: float) -> dict:
    """Peak RSS of this process and of its largest child [MiB], CPU time of both since ``cpu0`` [s]."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"self_mib": me.ru_maxrss / 1024, "children_mib": kids.ru_maxrss / 1024,
            "cpu_seconds": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime - cpu0}


def _combine_decade(root: str, cache: str) -> dict:
    """Combine a decade's worth of the slice's cached per-file series (shifted in time) as ``ingest`` does."""
    from forecast import meteorology

    store = Path(cache) / "meteorology"
    tables = [pd.read_parquet(p) for p in sorted(store.glob("*.parquet"))]
    hours = sum(t["valid_time"].nunique() for t in tables) / 2  # surface and pressure-level files of each month
    copies = int(np.ceil(DECADE_HOURS / hours))
    span = pd.Timedelta(hours=int(np.ceil(hours)))
    decade = [t.assign(valid_time=t["valid_time"] + k * span) for k in range(copies) for t in tables]
    t0 = time.perf_counter()
    frame = meteorology._combine(decade, ["area_id", "valid_time"])
    return {"seconds": time.perf_counter() - t0, "rows": int(len(frame)), "files": len(decade),
            "memory_series_mib": float(frame.memory_usage(deep=True).sum() / 2**20)}


def _measure(mode: str, root: Path, cache: Path) -> dict:
    shutil.rmtree(cache, ignore_errors=True)
    if mode == "combine":
        _measure("serial", root, cache)  # the per-file series to combine
    cmd = [sys.executable, "-c", "import json, sys; from benchmarks.bench_ingest import _child; "
           f"print(json.dumps(_child({mode!r}, {str(root)!r}, {str(cache)!r})))"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode:
        raise RuntimeError(f"{mode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _runs_case(runs: int) -> None:
    """Forecast runs with precipitation accumulated from the start: the reducing scan against the full read."""
    root = Path(tempfile.mkdtemp(prefix="lantian-bench-runs-"))
    cache = root / "cache"
    try:
        n_msgs, size = make_runs(root, runs)
        print(f"\nforecast runs: {runs} daily 00 UTC runs ({len(RUN_STEPS)} steps to 240 h, tp accumulated from the "
              f"start), {n_msgs} messages, {size / 2**20:.0f} MiB")
        raw = _measure("raw", root, cache)
        rows = {mode: _measure(mode, root, cache) for mode in ("serial", "serial_full_read")}
        print(f"{'path':<56} {'wall':>7} {'ratio':>6} {'CPU':>7} {'ratio':>6} {'peak RSS':>9}")
        print(f"{'bare ecCodes decode loop, 1 thread':<56} {raw['seconds']:6.1f}s {1:6.2f} {raw['cpu_seconds']:6.1f}s "
              f"{1:6.2f} {raw['self_mib']:5.0f} MiB")
        for mode, label in (("serial", "lantian serial, reducing scan (accumulations reduced, then differenced)"),
                            ("serial_full_read", "lantian serial, full read then reduce")):
            r = rows[mode]
            print(f"{label[:56]:<56} {r['seconds']:6.1f}s {raw['seconds'] / r['seconds']:6.2f} "
                  f"{r['cpu_seconds']:6.1f}s {raw['cpu_seconds'] / r['cpu_seconds']:6.2f} {r['self_mib']:5.0f} MiB")
        print(f"the reducing scan reduced the runs as it read them: {'yes' if rows['serial']['reduced'] else 'NO'}; "
              "the two agree to the packing precision of tp (tests/forecast/test_gribread.py)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def run_decade(folder: Path) -> None:
    """A decade of hourly single-level and pressure-level fields written once into ``folder`` (reused), ingested
    serially, with 2 processes and on a 2-worker LocalCluster, against the bare decode loop on the same files in the same run."""
    from forecast import meteorology

    want = int(os.environ.get("BENCH_INGEST_DECADE_MONTHS", "120"))
    folder.mkdir(parents=True, exist_ok=True)
    grib = folder / "meteorology" / "analysis"
    have = sum(p.stat().st_size for p in grib.glob("*.grib2")) if grib.is_dir() else 0
    per_month = 31 * 24 * PER_HOUR * (2 * GRID.shape[0] * GRID.shape[1] + 200)  # 16-bit values + headers [bytes]
    free = shutil.disk_usage(folder).free
    fits = int((free - 2 * 2**30 + have) // per_month)  # 2 GiB left to the machine and the ingest's cache
    months = max(1, min(want, fits))
    header(f"A decade of hourly reanalysis → area series, measured: {months} months of hourly fields in {folder}")
    if months < want:
        print(f"the disk holds {months} of the {want} months asked ({free / 2**30:.1f} GiB free): measured on them, "
              "not a decade")
    t0 = time.perf_counter()
    n_msgs, size = make_months(folder, months, year=2014, reuse=True)
    print(f"{n_msgs} messages ({months} months from 2014-01, hourly, 0.25° 69 × 117, {PER_HOUR} an hour), "
          f"{size / 2**30:.1f} GiB; written or found in {time.perf_counter() - t0:.0f} s "
          f"(a decade: {DECADE_MESSAGES} messages)")
    # the months measured, linked into a folder of their own (the store may hold more months from another run)
    view = folder / "measured"
    shutil.rmtree(view, ignore_errors=True)
    (view / "meteorology" / "analysis").mkdir(parents=True)
    for month in pd.period_range("2014-01", periods=months, freq="M"):
        for k in ("sfc", "pl"):
            name = f"era5_{k}_{month:%Y%m}.grib2"
            (view / "meteorology" / "analysis" / name).symlink_to(grib / name)
    cache = folder / "cache"
    before = _load()
    rows = {"raw": _measure("raw", view, cache)}
    for mode in ("serial", "processes", "cluster"):
        rows[mode] = _measure(mode, view, cache)
    after = _load()
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(view, ignore_errors=True)
    raw = rows["raw"]
    print(f"machine before: {before}; after: {after} (the wall times below are under this load; the CPU-time ratios "
          "are not)")
    print(f"{'path':<50} {'wall':>8} {'msg/s':>6} {'ratio':>6} {'CPU':>8} {'ratio':>6} {'peak RSS':>9} {'workers':>8}")
    labels = {"raw": "bare ecCodes decode loop, 1 thread", "serial": "lantian serial (reducing scan)",
              "processes": "lantian 2 processes (--workers 2)",
              "cluster": "lantian dask.distributed LocalCluster, 2 workers"}
    for mode, r in rows.items():
        workers = max(r.get("children_mib", 0.0), r.get("worker_rss_mib", 0.0))
        print(f"{labels[mode]:<50} {r['seconds']:7.1f}s {n_msgs / r['seconds']:6.0f} "
              f"{raw['seconds'] / r['seconds']:6.2f} {r['cpu_seconds']:7.1f}s "
              f"{raw['cpu_seconds'] / r['cpu_seconds']:6.2f} {r['self_mib']:5.0f} MiB "
              f"{(f'{workers:.0f} MiB' if workers > 1 else '-'):>8}")
    setup = rows["serial"]["setup_cpu_seconds"]
    print(f"one-time set-up of a process (area boundaries and weights): {setup:.1f} s CPU; set-up excluded (what a "
          f"decade's rate tends to), CPU ratio serial {raw['cpu_seconds'] / (rows['serial']['cpu_seconds'] - setup):.2f}"
          f", 2 processes {raw['cpu_seconds'] / (rows['processes']['cpu_seconds'] - 2 * setup):.2f}"
          f", cluster {raw['cpu_seconds'] / (rows['cluster']['cpu_seconds'] - 2 * setup):.2f}")
    for mode in ("serial", "processes", "cluster"):
        r = rows[mode]
        workers = max(r.get("children_mib", 0.0), r.get("worker_rss_mib", 0.0))
        mem = r["self_mib"] + (2 * workers if mode != "serial" else 0.0)
        print(f"  {labels[mode]}: {r['rows']} area-hours; {r['seconds'] / 60:.1f} min wall, ~{mem:.0f} MiB in all "
              f"({'within' if r['seconds'] <= TARGET_S and mem <= TARGET_MIB else 'OUTSIDE'} the target of "
              f"{TARGET_S // 60} min and {TARGET_MIB} MiB{'' if months >= 120 else ' — for this fraction'})")


def run():
    decade = os.environ.get("BENCH_INGEST_DECADE")
    if decade:
        run_decade(Path("/tmp/lantian-bench-decade" if decade == "1" else decade))
        return
    months = int(os.environ.get("BENCH_INGEST_MONTHS", "3"))
    header(f"Decade of hourly reanalysis → area series: {months}-month hourly slice measured, decade extrapolated")
    root = Path(tempfile.mkdtemp(prefix="lantian-bench-ingest-"))
    cache = root / "cache"
    try:
        t0 = time.perf_counter()
        n_msgs, size = make_months(root, months)
        print(f"written {n_msgs} messages ({months} months hourly, 0.25° 69 × 117, {PER_HOUR} a hour), "
              f"{size / 2**20:.0f} MiB in {time.perf_counter() - t0:.0f} s")
        raws = [_measure("raw", root, cache)]
        rows = {}
        for mode in ("serial", "processes", "cluster", "threads", "serial_full_read"):
            rows[mode] = _measure(mode, root, cache)
        raws.append(_measure("raw", root, cache))  # before and after: the shared machine's load drifts
        raw = min(r["seconds"] for r in raws)
        rate_raw = n_msgs / raw
        cpu_raw = min(r["cpu_seconds"] for r in raws)
        print(f"\nmeasured on the slice ({n_msgs} messages). ratio = rate / the bare decode loop's rate in the same "
              "run, on wall time and on CPU time (process + worker processes; robust to a shared machine's load):")
        print(f"{'path':<56} {'wall':>7} {'msg/s':>6} {'ratio':>6} {'CPU':>7} {'ratio':>6} {'peak RSS':>9} "
              f"{'workers':>8}")
        print(f"{'bare ecCodes decode loop, 1 thread (best of 2)':<56} {raw:6.1f}s {rate_raw:6.0f} {1:6.2f} "
              f"{cpu_raw:6.1f}s {1:6.2f} {min(r['self_mib'] for r in raws):5.0f} MiB {'-':>8}")
        setup = rows["serial"]["setup_cpu_seconds"]
        print(f"one-time set-up of a process (area boundaries, area weights on the grid; in each path above, once per "
              f"process): {setup:.1f} s CPU")
        steady = cpu_raw / (rows["serial"]["cpu_seconds"] - setup)
        print(f"serial steady state, set-up excluded (what a decade's rate tends to): CPU ratio {steady:.2f}; "
              f"full read then reduce: {cpu_raw / (rows['serial_full_read']['cpu_seconds'] - setup):.2f}")
        labels = {"serial": "lantian serial (reducing scan; default)",
                  "processes": "lantian 2 local processes (lantian ingest --workers 2)",
                  "cluster": "lantian dask.distributed LocalCluster, 2 workers",
                  "threads": "lantian 2 threads",
                  "serial_full_read": "lantian serial, full read then reduce (before #21)"}
        for mode, r in rows.items():
            workers = max(r["children_mib"], r.get("worker_rss_mib", 0.0))
            print(f"{labels[mode]:<56} {r['seconds']:6.1f}s {n_msgs / r['seconds']:6.0f} "
                  f"{raw / r['seconds']:6.2f} {r['cpu_seconds']:6.1f}s {cpu_raw / r['cpu_seconds']:6.2f} "
                  f"{r['self_mib']:5.0f} MiB {(f'{workers:.0f} MiB' if workers > 1 else '-'):>8}")
        comb = _measure("combine", root, cache)
        print(f"\nmeasured: combining a decade's worth of per-file series ({comb['files']} files, {comb['rows']} "
              f"area-hours, {comb['memory_series_mib']:.0f} MiB as a table) in one process: {comb['seconds']:.1f} s, "
              f"peak RSS {comb['self_mib']:.0f} MiB")
        print(f"\nextrapolated to a decade ({DECADE_MESSAGES} messages = 10 × 8766 h × {PER_HOUR}; target "
              f"{TARGET_S // 60} min, {TARGET_MIB} MiB):")
        print("  time from the slice's wall-clock rate (as measured, with this run's load), and in brackets from its CPU "
              "time spread over the path's workers (what an otherwise idle 2-core machine gives):")
        for mode in ("serial", "processes", "cluster"):
            r = rows[mode]
            secs = DECADE_MESSAGES / (n_msgs / r["seconds"]) + comb["seconds"]
            per_msg = max(r["cpu_seconds"] - setup * (1 if mode == "serial" else 2), 0.0) / n_msgs
            idle = setup + DECADE_MESSAGES * per_msg / (1 if mode == "serial" else 2) + comb["seconds"]
            # a worker's peak does not grow with the number of files; the main process's is the combination's
            workers = max(r["children_mib"], r.get("worker_rss_mib", 0.0))
            # the main process holds a decade of series (the measured combination, interpreter and libraries
            # included); serial, it also reads (its slice peak above the bare loop's process); else each worker
            # holds one file at a time (its measured peak)
            base = min(x["self_mib"] for x in raws)
            mem = comb["self_mib"] + (max(r["self_mib"] - base, 0.0) if mode == "serial" else 2 * workers)
            print(f"  {labels[mode]:<56} {secs / 60:5.1f} min [{idle / 60:5.1f} min]  ~{mem:5.0f} MiB in all "
                  f"({'within' if min(secs, idle) <= TARGET_S and mem <= TARGET_MIB else 'OUTSIDE'} the target)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _runs_case(int(os.environ.get("BENCH_INGEST_RUNS", "10")))


if __name__ == "__main__":
    run()
