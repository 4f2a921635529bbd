"""Orchestrator for gridded meteorology: GRIB files → per-area series → daily drivers, cached and parallel.

Every GRIB file is one task (read with :func:`forecast.gribread.read_grib`, which applies the area weights of
:mod:`forecast.extraction` to batches of messages as it decodes them, so no field of the file is held beyond its
batch), so memory stays bounded by a file per worker however long the archive is, and the tasks run on local threads
or processes or on any ``dask.distributed`` client (``lantian ingest --workers N`` / ``--scheduler ADDRESS``). The per-area series of each file are cached as
parquet keyed by the file (path, size, modification time) and the area set, so a second run decodes nothing and a
new month or a new forecast run decodes only itself. cfgrib index files go to a folder private to the user
(:func:`forecast.gribread.private_index_dir`), never to the data folder's workspace: they are pickles.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import areas as areas_mod
from . import drivers, extraction, gribread, workspace

#: bump when the extraction changes what is stored
CACHE_VERSION = "1"
GRIB_SUFFIXES = (".grib", ".grib2", ".grb", ".grb2", ".grib1")


@dataclass
class Meteorology:
    """Result of :func:`ingest`."""

    analysis: pd.DataFrame  #: area_id, valid_time (UTC), variables; 6-hourly (or the files' step)
    runs: pd.DataFrame  #: init_time, area_id, valid_time, lead_hours, variables
    files: list[dict] = field(default_factory=list)  #: one report per file (kind, variables, missing, problems…)

    @property
    def errors(self) -> list[dict]:
        return [f for f in self.files if f.get("error")]

    def summary(self) -> dict:
        ok = [f for f in self.files if not f.get("error")]
        found = sorted({v for f in ok for v in f.get("variables", [])})
        return {"files": len(self.files), "from_cache": sum(bool(f.get("cached")) for f in ok),
                "failed": len(self.errors), "analysis_files": sum(f.get("kind") == "analysis" for f in ok),
                "forecast_files": sum(f.get("kind") == "forecast" for f in ok),
                "variables": found, "missing": [v for v in gribread.CORE_VARIABLES if v not in found],
                "analysis_period": _period(self.analysis), "runs": int(self.runs["init_time"].nunique())
                if len(self.runs) else 0}


def _period(frame: pd.DataFrame):
    if frame.empty:
        return None
    return [str(frame["valid_time"].min()), str(frame["valid_time"].max())]


def grib_files(data: str | Path) -> tuple[list[Path], list[Path]]:
    """Analysis files (``DIR/meteorology/analysis``) and forecast-run files (``DIR/meteorology/forecast/**``)."""
    root = Path(data) / "meteorology"
    if not Path(data).is_dir():
        raise workspace.DataLayoutError(f"{data}: no such data directory")

    def find(sub):
        d = root / sub
        if not d.is_dir():
            return []
        found = []
        for root_dir, _, names in os.walk(d, followlinks=True):
            found.extend(Path(root_dir) / n for n in names if n.lower().endswith(GRIB_SUFFIXES))
        return sorted(found)

    analysis, forecast = find("analysis"), find("forecast")
    if not analysis and not forecast:
        raise workspace.DataLayoutError(f"{root}: no GRIB files (expected meteorology/analysis/*.grib2 and/or "
                                        "meteorology/forecast/<run>/*.grib2)")
    return analysis, forecast


def targets(data, at: str = "areas", area_table: pd.DataFrame | None = None, boundaries: dict | None = None) -> dict:
    """Extraction targets per ``area_id``: boundary polygons (``boundaries``, default the offline ones of the area
    table), or the multi-point of the area's assessment stations (matched to ``area_table``)."""
    if at == "areas":
        return boundaries if boundaries is not None else areas_mod.boundaries(area_table)
    if at == "stations":
        from shapely.geometry import MultiPoint

        from . import cnemc as st

        sites = st.read_station_list(workspace.sites_file(data), area_table)
        sites = sites[~sites["background"].astype(bool) & sites["lon"].notna() & sites["lat"].notna()]
        return {a: MultiPoint(list(zip(g["lon"], g["lat"]))) for a, g in sites.groupby("area_id", sort=True)}
    raise ValueError(f"unknown extraction target {at!r}; allowed: areas, stations")


#: margin around the targets when a file's grid is cut to them [degrees]
BOX_MARGIN = 1.0


def target_box(polygons: dict, margin: float = BOX_MARGIN) -> dict:
    """The lon/lat box around the extraction targets (polygons or station points) plus ``margin`` [degrees]: a
    global or national grid is cut to it as it is decoded (:func:`forecast.gribread.read_grib`)."""
    bounds = np.array([g.bounds for g in polygons.values()])
    return {"west": float(bounds[:, 0].min() - margin), "east": float(bounds[:, 2].max() + margin),
            "south": float(bounds[:, 1].min() - margin), "north": float(bounds[:, 3].max() + margin)}


def _areas_signature(polygons: dict) -> str:
    h = hashlib.sha1()
    for k in sorted(polygons):
        h.update(k.encode())
        h.update(polygons[k].wkb)
    return h.hexdigest()[:12]


def _file_key(path: Path, areas_sig: str, *, absolute: bool = False) -> str:
    """A GRIB file's cache key: its name and folder (``analysis/era5_sfc_202401.grib2``, ``YYYYMMDD00/…``), size and
    modification time — not its absolute path, so that a data folder moved or copied with its times (``cp -a``,
    ``rsync -a``) keeps its extracted series instead of spending half an hour extracting them again.
    ``absolute``: the key caches written before 2026-12 used (the absolute path); their entries are renamed to the
    current key on first use (:func:`cached_file`) instead of being extracted again."""
    st = path.stat()
    where = str(path.resolve()) if absolute else f"{path.parent.name}/{path.name}"
    text = f"{where}|{st.st_size}|{st.st_mtime_ns}|{areas_sig}|{CACHE_VERSION}"
    return hashlib.sha1(text.encode()).hexdigest()[:20]


@lru_cache(maxsize=16)
def _weights(grid: extraction.GridKey, areas_sig: str, polygons_items: tuple):
    return extraction.target_weights(*grid.coordinates(), dict(polygons_items))


def extract_file(path: str | Path, polygons: dict, *, index_dir: str | Path | None = None,
                 store: str | Path | None = None, areas_sig: str | None = None,
                 engine: str = "auto", reduce: bool = True) -> tuple[pd.DataFrame | None, dict]:
    """One GRIB file → long table of area means (``area_id, valid_time, [init_time, lead_hours], vars``) and a report.

    A file that cannot be used gives ``(None, report)`` with ``report["error"]``; it never raises, so one bad file
    among many loses nothing else. With ``store`` the table and report are cached there and reused. ``reduce``
    (default): the direct ecCodes scan reduces each message to the targets' means as it decodes it
    (:func:`forecast.gribread.read_grib`), so no gridded field of the file is held; ``False``: the file's fields
    are read in full, then reduced (the same values to float rounding; tests hold the two to each other).
    """
    path = Path(path)
    areas_sig = areas_sig or _areas_signature(polygons)
    info: dict = {"file": str(path)}
    cached = None
    if store is not None:
        hit = cached_file(path, store, areas_sig)
        if hit is not None:
            return hit
        key = _file_key(path, areas_sig)
        cached, meta = Path(store) / f"{key}.parquet", Path(store) / f"{key}.json"
    items = tuple(sorted(polygons.items()))
    used: list = []

    def weights(lat, lon):  # the reducing read's targets on the file's grid (cached per grid)
        used.append(_weights(extraction.GridKey.of(lat, lon), areas_sig, items))
        return used[-1]

    try:
        ds, report = gribread.read_grib(path, index_dir=index_dir, engine=engine, region=target_box(polygons),
                                        reduce=weights if reduce else None)
        if ds.attrs.get("reduced"):
            w, ids = used[-1]
        else:
            w, ids = _weights(extraction.GridKey.of(ds["lat"].values, ds["lon"].values), areas_sig, items)
        table = extraction.extract(ds, w, ids)
    except (gribread.GribReadError, extraction.ExtractionError, OSError) as exc:
        info["error"] = str(exc)
        return None, info
    if report.kind == "forecast":
        table.insert(0, "init_time", pd.Timestamp(ds.attrs["init_time"]))
    methods = table.attrs.get("extraction") or {}
    # areas whose values are not a plain mean over their polygon (or their stations): say how they were formed
    fallbacks = {a: m for a, m in methods.items() if extraction.is_fallback(str(m))}
    info.update(kind=report.kind, variables=report.variables, missing=report.missing, problems=report.problems,
                extraction=fallbacks,
                messages=report.messages, bytes=report.bytes, cached=False,
                init_time=ds.attrs.get("init_time"), valid=[str(ds["valid_time"].values.min()),
                                                              str(ds["valid_time"].values.max())])
    if cached is not None:
        tmp = cached.with_suffix(".parquet.tmp")
        table.to_parquet(tmp, index=False)
        os.replace(tmp, cached)
        meta.write_text(json.dumps({k: v for k, v in info.items() if k != "cached"}, ensure_ascii=False))
    return table, info


def cached_file(path: Path, store: str | Path, areas_sig: str):
    """The cached ``(table, report)`` of a file, or ``None`` when the file changed or was never extracted."""
    key = _file_key(Path(path), areas_sig)
    table, meta = Path(store) / f"{key}.parquet", Path(store) / f"{key}.json"
    if not (table.exists() and meta.exists()):
        old = _file_key(Path(path), areas_sig, absolute=True)
        old_table, old_meta = Path(store) / f"{old}.parquet", Path(store) / f"{old}.json"
        if old_table.exists() and old_meta.exists():
            with contextlib.suppress(OSError):
                os.replace(old_table, table)
                os.replace(old_meta, meta)
    if table.exists() and meta.exists():
        try:
            info = json.loads(meta.read_text())
            frame = pd.read_parquet(table)
        except (OSError, ValueError):  # a damaged cache entry is extracted again
            return None
        info["cached"] = True
        return frame, info
    return None


def _combine(tables: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    if not tables:
        return pd.DataFrame(columns=keys)
    frame = pd.concat(tables, ignore_index=True, sort=False)
    # files of the same times (surface and pressure-level files of a month) complete each other
    frame = frame.groupby(keys, sort=True).first().reset_index()
    return frame


def ingest(data: str | Path, *, cache: str | Path | None = None, area_table: pd.DataFrame | None = None,
           client=None, workers: int | None = None, progress: bool = False, refresh: bool = False,
           engine: str = "auto", scheduler: str = "threads", at: str = "areas",
           boundaries: dict | None = None, reduce: bool = True) -> Meteorology:
    """Extract every GRIB file of a data directory into per-area series (cached; parallel).

    Parameters
    ----------
    data : path-like
        Data directory with ``meteorology/analysis`` and/or ``meteorology/forecast/<run>/`` GRIB files.
    cache : path-like, optional
        Cache directory (default: see :func:`forecast.workspace.cache_dir`).
    area_table : DataFrame, optional
        Areas (the region's; default: the shipped league/city and banner/county table).
    boundaries : dict, optional
        The region's polygons per ``area_id`` for ``at="areas"`` (default: the offline ones of ``area_table``).
    client : dask.distributed.Client, optional
        Run the file tasks on this cluster; else locally on ``workers`` (default: CPU count, ≤ 4).
    scheduler : {"threads", "processes"}
        Local dask scheduler. ecCodes decodes outside the GIL, so threads scale and need no ``__main__`` guard
        (processes are spawned: scripts must guard their entry point).
    progress : bool
        Show a progress bar.
    refresh : bool
        Ignore cached series.
    at : {"areas", "stations"}
        ``areas``: means over each league/city and banner/county polygon (maps, consultation). ``stations``: the
        mean of the bilinear values at each area's assessment stations — the meteorology where the AQI is measured,
        which the forecaster uses (a league can span 500 km; its city stations sit in one corner).
    engine : str
        GRIB reader (:func:`forecast.gribread.read_grib`): ``auto``/``eccodes`` (direct scan) or ``cfgrib``.
    reduce : bool
        The direct scan reduces each message to area means as it decodes it (default; :func:`extract_file`);
        ``False``: each file's fields are read in full, then reduced (the same series to float rounding).

    Memory stays bounded by one file per worker (a task holds one file's area series and, while it reads, a batch
    of decoded messages and its accumulated fields); only the area series come back.
    """
    analysis_files, forecast_files = grib_files(data)
    files = analysis_files + forecast_files
    cdir = workspace.cache_dir(data, cache)
    store = cdir / "meteorology"
    store.mkdir(parents=True, exist_ok=True)
    if refresh:
        for p in store.glob("*.parquet"):
            p.unlink()
    polygons = targets(data, at, area_table, boundaries)
    sig = _areas_signature(polygons)
    index_dir = gribread.private_index_dir()
    results: list = [None] * len(files)
    todo = []
    for i, p in enumerate(files):
        hit = cached_file(p, store, sig)
        if hit is None:
            todo.append(i)
        else:
            results[i] = hit
    if todo:
        fresh = _run([files[i] for i in todo], polygons, sig, index_dir, store, client, workers, progress, engine,
                     scheduler, reduce)
        for i, r in zip(todo, fresh):
            results[i] = r
    analysis, runs, reports = [], [], []
    for table, info in results:
        reports.append(info)
        if table is None:
            continue
        (runs if info.get("kind") == "forecast" else analysis).append(table)
    met = Meteorology(_combine(analysis, ["area_id", "valid_time"]),
                      _combine(runs, ["init_time", "area_id", "valid_time"]), reports)
    if met.analysis.empty and met.runs.empty:
        problems = "; ".join(f"{Path(r['file']).name}: {r['error']}" for r in met.errors[:3])
        raise gribread.GribReadError(f"{data}: no usable GRIB file ({problems})")
    return met


def _run(files, polygons, sig, index_dir, store, client, workers, progress, engine, scheduler, reduce=True):
    import dask
    from tqdm.auto import tqdm

    if scheduler not in ("threads", "processes"):
        raise ValueError(f"unknown local scheduler {scheduler!r}; allowed: threads, processes")
    tasks = [dask.delayed(extract_file, pure=False)(p, polygons, index_dir=index_dir, store=store, areas_sig=sig,
                                                    engine=engine, reduce=reduce) for p in files]
    bar = tqdm(total=len(tasks), desc="GRIB → areas", unit="file", disable=not progress)
    try:
        if client is not None:
            from distributed import as_completed

            futures = client.compute(tasks)
            order = {f.key: i for i, f in enumerate(futures)}
            results = [None] * len(futures)
            for fut in as_completed(futures):
                results[order[fut.key]] = fut.result()
                bar.update()
            return results
        n = workers or min(4, os.cpu_count() or 1)
        if n <= 1 or len(tasks) == 1:
            results = []
            for t in tasks:
                results.append(t.compute(scheduler="synchronous"))
                bar.update()
            return results
        from dask.callbacks import Callback

        class _Bar(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                if isinstance(key, tuple) or str(key).startswith("extract_file"):
                    bar.update()

        with _Bar():
            return list(dask.compute(*tasks, scheduler=scheduler,
                                     num_workers=n))
    finally:
        bar.close()


def daily(met: Meteorology) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily drivers from analyses (per area and CST day) and per forecast run and lead day."""
    by_day = drivers.daily_drivers(met.analysis) if len(met.analysis) else pd.DataFrame()
    by_lead = drivers.lead_day_drivers(met.runs) if len(met.runs) else pd.DataFrame()
    return by_day, by_lead


def ingest_drivers(data, *, cache=None, scheduler_address: str | None = None, workers: int | None = None,
                   progress: bool = False, refresh: bool = False, out=None, at: str = "auto", region=None,
                   scheduler: str = "threads"):
    """Ingest a data directory's GRIB files and write the daily drivers (``drivers_daily.parquet``,
    ``drivers_lead_days.parquet``) to ``out`` (default: the cache).

    ``at="stations"`` fills the same cache :func:`forecast.forecasting.load_inputs` reads, so a later ``train`` or
    ``forecast`` decodes nothing; ``"auto"`` (default) does that when the data directory has a station list, else
    takes area means; ``region`` (:class:`forecast.region.Region`, default the data directory's) gives the areas
    and their boundaries; ``scheduler_address`` runs the file tasks on a ``dask.distributed``
    scheduler, else on ``workers`` local ``scheduler`` (``threads`` or ``processes``). Returns the
    :class:`Meteorology` and the paths written.
    """
    client = None
    if scheduler_address:
        from distributed import Client

        try:
            client = Client(scheduler_address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValueError(f"dask scheduler {scheduler_address}: cannot connect ({type(exc).__name__}: {exc})") \
                from None
    try:
        return _ingest_drivers(data, cache, client, workers, progress, refresh, out, at, region, scheduler)
    finally:
        if client is not None:
            client.close()


def _ingest_drivers(data, cache, client, workers, progress, refresh, out, at, region, scheduler):
    if at == "auto":
        try:
            workspace.sites_file(data)
            at = "stations"
        except workspace.DataLayoutError:
            at = "areas"
    if region is None:
        from .region import load_region

        region = load_region(data=data)
    met = ingest(data, cache=cache, client=client, workers=workers, progress=progress, refresh=refresh, at=at,
                 area_table=region.areas, boundaries=region.boundaries if at == "areas" else None,
                 scheduler=scheduler)
    by_day, by_lead = daily(met)
    target = Path(out) if out else workspace.cache_dir(data, cache)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("drivers_daily", by_day), ("drivers_lead_days", by_lead)):
        if len(frame):
            path = target / f"{name}.parquet"
            frame.reset_index().to_parquet(path, index=False)
            written.append(str(path))
    return met, written


def open_fields(files: list[str | Path], *, index_dir: str | Path | None = None, variables: list[str] | None = None):
    """Lazily open many GRIB files (dask arrays) as one ``(valid_time, lat, lon)`` dataset, for maps of any time.

    Files with different grids cannot be concatenated; give files of one source (e.g. the analyses).
    """
    import xarray as xr

    parts = []
    for p in files:
        ds, _ = gribread.read_grib(p, index_dir=index_dir, lazy=True)
        if variables:
            ds = ds[[v for v in variables if v in ds]]
        parts.append(ds)
    if not parts:
        raise gribread.GribReadError("no GRIB files to open")
    groups: dict = {}
    for ds in parts:  # e.g. surface files and pressure-level files: concatenate each kind, then merge the kinds
        groups.setdefault(tuple(sorted(ds.data_vars)), []).append(ds)
    merged = xr.merge([xr.concat(g, dim="valid_time", data_vars="all", coords="minimal", compat="override",
                                 join="outer", combine_attrs="drop_conflicts") for g in groups.values()],
                      compat="no_conflicts", join="outer", combine_attrs="drop_conflicts")
    return merged.sortby("valid_time")


#: fields the consultation's driver maps show, with their units
MAP_FIELDS = {"blh": "m", "wind_speed": "m/s", "inversion": "K", "temp_air": "degC", "relative_humidity": "%"}


def map_fields(data: str | Path, issued, *, cache: str | Path | None = None):
    """Gridded drivers for the consultation's maps: the issue day's 00 UTC forecast run when present, else the
    analyses of the issue day and the 7 days after it.

    Returns an ``xarray.Dataset`` on ``(valid_time [UTC], lat, lon)`` with ``blh`` [m], ``wind_u``/``wind_v`` and
    ``wind_speed`` [m/s], ``inversion`` (T850 − T2m) [K], ``temp_air`` [degC] and ``relative_humidity`` [%]
    (those the files hold); ``attrs["kind"]`` says ``forecast`` or ``analysis``. ``cache`` is accepted for the
    callers' symmetry and not used: cfgrib's index files go to :func:`forecast.gribread.private_index_dir`.
    """
    issued = pd.Timestamp(issued).normalize()
    analysis_files, forecast_files = grib_files(data)
    index_dir = gribread.private_index_dir()
    runs = [p for p in forecast_files if issued.strftime("%Y%m%d00") in str(p)]
    if runs:
        ds, kind = open_fields(runs, index_dir=index_dir), "forecast"
    else:
        months = {m.strftime("%Y%m") for m in pd.date_range(issued, issued + pd.Timedelta(days=7))}
        files = [p for p in analysis_files if any(m in p.name for m in months)]
        if not files:
            raise workspace.DataLayoutError(f"{data}: no forecast run of {issued.date()} and no analyses for "
                                            f"{', '.join(sorted(months))}: nothing to map")
        ds, kind = open_fields(files, index_dir=index_dir), "analysis"
        ds = ds.sel(valid_time=slice(issued, issued + pd.Timedelta(days=8)))
    import xarray as xr

    def derived(func, *names):  # the drivers' array functions, lazily on the dask-backed fields
        return xr.apply_ufunc(func, *(ds[n] for n in names), dask="parallelized", output_dtypes=[np.float32])

    if "wind_u" in ds and "wind_v" in ds:
        ds["wind_speed"] = derived(drivers.wind_speed, "wind_u", "wind_v")
    if "temp_850" in ds and "temp_air" in ds:
        ds["inversion"] = derived(drivers.inversion_strength, "temp_850", "temp_air")
    if "dewpoint" in ds and "temp_air" in ds and "relative_humidity" not in ds:
        ds["relative_humidity"] = derived(drivers.relative_humidity, "temp_air", "dewpoint")
    ds.attrs["kind"] = kind
    return ds
