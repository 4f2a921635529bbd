"""Reading gridded meteorology from GRIB with cfgrib/xarray: the I/O edge where external names and units end.

Any GRIB file lantian meets — ERA5 analyses (a ``time`` dimension), forecast runs from ECMWF IFS open data, CMA
GRAPES or GFS (``time`` = initialisation, ``step``, ``valid_time``) — is opened hypercube by hypercube (every
combination of level type, level and step type found in the file's index, so nothing is silently dropped) and
returned in one layout::

    Dataset, dims (valid_time, lat, lon); valid_time in UTC (naive datetime64)
    variables in the project's nomenclature and units (forecast/data/grib_variables.csv):
        temp_air, dewpoint, temp_850, temp_925 [degC]; wind_u, wind_v [m/s]; pressure, pressure_msl [hPa];
        blh [m]; relative_humidity [%]; cloud_cover [0-1];
        precip [mm]: amount of the period ending at valid_time; precip_hours [h]: that period's length
    attrs: kind = "analysis" | "forecast", source = path; forecasts also init_time (ISO, UTC)
    coords: lead_hours (valid_time) for forecasts

Accumulations are turned into per-period amounts here: a field accumulated from a fixed start (``startStep`` the same
for every step, ECMWF/CMA style) is differenced along ``step``; per-period buckets (``startStep`` = previous
``endStep``, ERA5 hourly style) are kept. Other layouts are refused with a clear error.

cfgrib's index files go to a writable cache (``index_dir``), never beside a data file that may be read-only.
"""
from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .tables import read_commented_csv

DATA_DIR = Path(__file__).parent / "data"
#: the drivers the forecaster uses; a file without some of them is reported, not refused
CORE_VARIABLES = ("temp_air", "dewpoint", "wind_u", "wind_v", "pressure", "blh", "precip", "temp_850", "temp_925")
#: Inner Mongolia box with a margin [degrees]; global grids are cut to it
REGION = {"west": 96.0, "east": 127.0, "south": 36.0, "north": 55.0}


class GribReadError(ValueError):
    """A GRIB file lantian cannot use (names the file and the problem)."""


class GribWarning(UserWarning):
    """A problem in a GRIB file that loses part of it (a variable, a truncated tail)."""


@dataclass
class FileReport:
    """What reading one file found."""

    path: str
    kind: str = ""
    variables: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0


@lru_cache(maxsize=1)
def variable_table() -> pd.DataFrame:
    """The GRIB → nomenclature translation table (``forecast/data/grib_variables.csv``)."""
    table = read_commented_csv(DATA_DIR / "grib_variables.csv", dtype={"level": "Int64"})
    return table


def _lookup(short_name: str, type_of_level: str, level, units: str):
    t = variable_table()
    rows = t[(t["short_name"] == short_name) & (t["type_of_level"] == type_of_level)]
    if level is not None:
        rows = rows[rows["level"].isna() | (rows["level"] == int(level))]
    if len(rows) > 1:
        exact = rows[rows["units"] == units]
        rows = exact if len(exact) else rows.iloc[:1]
    return None if rows.empty else rows.iloc[0]


def index_path(path: Path, index_dir: str | Path | None) -> str:
    """cfgrib ``indexpath`` template: in ``index_dir`` (named after the file's absolute path), or ``""`` (no index)."""
    if index_dir is None:
        return ""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]
    return str(index_dir / f"{Path(path).name}.{tag}.{{short_hash}}.idx")


class _Capture(logging.Handler):
    """Collects cfgrib's log records (e.g. a truncated last message) instead of printing tracebacks."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            msg = f"{msg}: {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.records.append(msg)


def _open_index(path: Path, indexpath: str):
    from cfgrib import dataset, messages

    stream = messages.FileStream(str(path), errors="warn")
    keys = dataset.compute_index_keys(("time", "step"), {})
    return dataset.open_fileindex(stream, indexpath, keys)


def _groups(index) -> list[dict]:
    """Distinct (typeOfLevel, level, stepType) combinations; levels split only for heightAboveGround-like types."""
    keys = index.index_keys
    it, il, ist = keys.index("typeOfLevel"), keys.index("level:float"), keys.index("stepType")
    combos: dict = {}
    for header, offsets in index.field_ids_index:
        combos.setdefault((header[it], header[ist]), set()).add(header[il])
    out = []
    for (tol, st), levels in sorted(combos.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        if tol == "isobaricInhPa" or len(levels) == 1:
            out.append({"typeOfLevel": tol, "stepType": st})
        else:  # 2-m and 10-m fields share the type but not the level: one hypercube per level
            # "level:float" is one of cfgrib's index keys: filtering on it reuses the index ("level" would rebuild it)
            out.extend({"typeOfLevel": tol, "stepType": st, "level:float": float(lv)} for lv in sorted(levels))
    return out


def _start_steps(index, filt: dict, param_steps: int) -> list[int]:
    """``startStep`` of the messages at the two shortest steps of one initialisation (read from the file, cheap)."""
    sub = index.subindex(filt)
    keys = sub.index_keys
    istep, itime = keys.index("step"), keys.index("time")
    entries = sorted((h[itime], h[istep], offs[0]) for h, offs in sub.field_ids_index)
    first_time = entries[0][0]
    by_step = {}
    for t, step, offset in entries:
        if t == first_time:
            by_step.setdefault(step, offset)
    return [int(sub.fieldset[off]["startStep"]) for _, off in sorted(by_step.items())[: min(2, param_steps)]]


def _normalise_grid(da: xr.DataArray, path: Path) -> xr.DataArray:
    if "latitude" not in da.dims or "longitude" not in da.dims:
        grid = da.attrs.get("GRIB_gridType", "unknown")
        raise GribReadError(f"{path}: unsupported grid type {grid!r} for {da.attrs.get('GRIB_shortName')}; "
                            "allowed: regular_ll (regular latitude/longitude)")
    da = da.rename({"latitude": "lat", "longitude": "lon"})
    lon = ((da["lon"].values + 180.0) % 360.0) - 180.0
    da = da.assign_coords(lon=("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
                          lat=("lat", da["lat"].values, {"units": "degrees_north", "standard_name": "latitude"}))
    if np.any(np.diff(lon) <= 0):
        da = da.sortby("lon")
    # crop to the region with slices (contiguous on a regular grid; cheaper than boolean indexing)
    crop = {}
    for dim, lo, hi in (("lat", REGION["south"], REGION["north"]), ("lon", REGION["west"], REGION["east"])):
        inside = np.flatnonzero((da[dim].values >= lo) & (da[dim].values <= hi))
        if inside.size != da.sizes[dim]:
            crop[dim] = slice(inside[0], inside[-1] + 1) if inside.size else slice(0, 0)
    if crop:
        da = da.isel(crop)
    if da.sizes["lat"] < 2 or da.sizes["lon"] < 2:
        raise GribReadError(f"{path}: the grid does not cover Inner Mongolia "
                            f"({REGION['west']}–{REGION['east']}°E, {REGION['south']}–{REGION['north']}°N)")
    return da


def _to_records(da: xr.DataArray) -> xr.DataArray:
    """(time?, step?, lat, lon) → (record, lat, lon) with coords init_time, lead (timedelta) and valid_time."""
    for dim in ("time", "step"):
        if dim not in da.dims:
            da = da.expand_dims(dim)
    da = da.transpose("time", "step", "lat", "lon")
    stacked = da.stack(record=("time", "step"))
    init = stacked["time"].values
    lead = stacked["step"].values
    stacked = stacked.drop_vars(["record", "time", "step", "valid_time"], errors="ignore")
    stacked = stacked.assign_coords(init_time=("record", init), lead=("record", lead),
                                    valid_time=("record", init + lead))
    return stacked.transpose("record", "lat", "lon")


def _accumulation_to_periods(da: xr.DataArray, starts: list[int], path: Path):
    """Per-period amounts [GRIB units] and period lengths [h] from an accumulated hypercube (time?, step?, lat, lon)."""
    steps = da["step"].values if "step" in da.dims else np.atleast_1d(da["step"].values)
    step_h = (np.asarray(steps) / np.timedelta64(1, "h")).astype(float)
    if "step" in da.dims and da.sizes["step"] > 1:
        if len(starts) >= 2 and starts[0] == starts[1]:  # accumulated from a fixed start: difference along step
            first = da.isel(step=0)
            diff = da.diff("step", label="upper")
            periods = xr.concat([first.expand_dims("step"), diff], dim="step").transpose(*da.dims)
            hours = np.diff(np.concatenate([[starts[0]], step_h]))
        elif len(starts) >= 2 and starts[1] == step_h[0]:  # consecutive buckets
            periods = da
            hours = np.diff(np.concatenate([[starts[0]], step_h]))
        else:
            raise GribReadError(f"{path}: accumulation layout not understood (startStep {starts} for steps "
                                f"{step_h[:2].tolist()}…); supported: accumulations from a fixed start or "
                                "consecutive per-period buckets")
    else:
        periods = da
        hours = step_h - (starts[0] if starts else 0)
    hours_da = xr.DataArray(hours.astype(float), dims=["step"], coords={"step": da["step"].values}) \
        if "step" in da.dims else xr.DataArray(float(hours[0]))
    return periods, hours_da


def _check_units(da: xr.DataArray, row, path: Path, report: FileReport) -> xr.DataArray | None:
    sample = da.values if not hasattr(da.data, "dask") else da.isel({da.dims[0]: 0}).values
    med = float(np.nanmedian(sample)) if np.isfinite(sample).any() else np.nan
    lo, hi = float(row["plausible_min"]), float(row["plausible_max"])
    short = row["short_name"]
    if not np.isfinite(med):
        report.problems.append(f"{short}: all values missing; variable skipped")
        return None
    if not lo <= med <= hi:
        hint = " (degC where K is expected?)" if row["units"] == "K" and -90 < med < 60 else \
            " (hPa where Pa is expected?)" if row["units"] == "Pa" and 300 < med < 1100 else ""
        report.problems.append(f"{short}: median {med:.4g} outside the plausible range {lo:g}…{hi:g} "
                               f"{row['units']}: wrong units{hint}; variable skipped")
        return None
    if not hasattr(da.data, "dask"):
        bad = (da < lo) | (da > hi)
        n_bad = int(bad.sum())
        if n_bad:
            report.problems.append(f"{short}: {n_bad} value(s) outside {lo:g}…{hi:g} {row['units']} set missing")
            da = da.where(~bad)
    return da


def read_grib(path: str | Path, *, index_dir: str | Path | None = None, lazy: bool = False, engine: str = "auto"):
    """Read one GRIB file into the project's layout (see module docstring).

    Parameters
    ----------
    path : path-like
        GRIB1/GRIB2 file (analysis or forecast run; mixed hypercubes allowed).
    index_dir : path-like, optional
        Writable directory for cfgrib index files (reused by later reads). ``None``: no index file.
    lazy : bool
        Keep the values as dask arrays (for maps of a long period); else load them.
    engine : {"auto", "eccodes", "cfgrib"}
        ``cfgrib``: open each hypercube with cfgrib/xarray (lazy reading, any grid cfgrib knows). ``eccodes``: one
        direct pass over the messages (a handle per message, the parameter looked up once per kind of message) —
        the same result, several times faster for bulk extraction (tests hold the two to each other); files it
        cannot handle go to cfgrib. ``auto``: cfgrib when ``lazy``, else eccodes.

    Returns
    -------
    dataset : xarray.Dataset
    report : FileReport
        Variables found, core variables missing, problems (each naming the variable).

    Raises
    ------
    GribReadError
        Not GRIB, no usable variable, an unsupported grid, or several forecast runs mixed in one file.
    """
    path = Path(path)
    report = FileReport(str(path))
    if not path.is_file():
        raise GribReadError(f"{path}: no such file")
    report.bytes = path.stat().st_size
    capture = _Capture()
    cf_logger = logging.getLogger("cfgrib")
    old_propagate = cf_logger.propagate
    cf_logger.addHandler(capture)
    cf_logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            ds = _read(path, index_dir, lazy, report, ("cfgrib" if lazy else "eccodes") if engine == "auto"
                       else engine)
    finally:
        cf_logger.removeHandler(capture)
        cf_logger.propagate = old_propagate
    for msg in capture.records:
        if "End of resource" in msg or "Premature" in msg or "Truncat" in msg.title():
            report.problems.append("file is truncated: the messages before the damage were read")
        else:
            report.problems.append(f"cfgrib: {msg.splitlines()[0][:200]}")
    report.problems = list(dict.fromkeys(report.problems))
    return ds, report


@dataclass
class _Cube:
    """One hypercube as an engine delivers it: dims (time?, step?, latitude, longitude), GRIB units."""

    short: str
    type_of_level: str
    level: int | None
    units: str
    data: xr.DataArray
    starts: list  # startStep [h] of the shortest steps of one initialisation (accumulations only)


def _cfgrib_cubes(path: Path, index_dir, lazy: bool, report: FileReport):
    indexpath = index_path(path, index_dir)
    try:
        index = _open_index(path, indexpath)
    except EOFError:
        raise GribReadError(f"{path}: not a GRIB file (no valid message found)") from None
    except Exception as exc:  # eccodes raises its own error types on damaged files
        raise GribReadError(f"{path}: cannot index GRIB ({type(exc).__name__}: {exc})") from None
    report.messages = sum(len(offs) for _, offs in index.field_ids_index)
    if report.messages == 0:
        raise GribReadError(f"{path}: not a GRIB file (no valid message found)")
    for filt in _groups(index):
        try:
            ds = xr.open_dataset(path, engine="cfgrib", chunks={} if lazy else None,
                                 backend_kwargs={"indexpath": indexpath, "filter_by_keys": filt, "errors": "warn"})
        except Exception as exc:
            report.problems.append(f"hypercube {filt}: not readable ({type(exc).__name__}: {exc}); skipped")
            continue
        for var in ds.data_vars:
            da = ds[var]
            short = da.attrs.get("GRIB_shortName", var)
            tol = da.attrs.get("GRIB_typeOfLevel", filt["typeOfLevel"])
            units = da.attrs.get("units", da.attrs.get("GRIB_units", ""))
            if tol == "isobaricInhPa":
                level_dim = "isobaricInhPa"
                levels = np.atleast_1d(da[level_dim].values) if level_dim in da.coords else []
                subs = [(int(lv), da.sel({level_dim: lv}) if level_dim in da.dims else da) for lv in levels]
            else:
                lv = filt.get("level:float")
                lv = None if lv is None else int(lv)
                if lv is None and tol in da.coords and da[tol].size == 1:
                    lv = int(da[tol].values)
                subs = [(lv, da)]
            for lv, sub in subs:
                sub = sub.drop_vars([c for c in sub.coords if c not in sub.dims and c not in ("time", "step")])
                starts = []
                if filt["stepType"] == "accum":
                    starts = _start_steps(index, {k: v for k, v in filt.items()}, sub.sizes.get("step", 1))
                yield _Cube(short, tol, lv, units, sub, starts)


#: GRIB edition → keys that, with the centre, determine a message's parameter and level (for the lookup cache)
_SIGNATURE = {2: ("discipline", "parameterCategory", "parameterNumber", "typeOfFirstFixedSurface",
                  "scaledValueOfFirstFixedSurface", "scaleFactorOfFirstFixedSurface", "typeOfSecondFixedSurface",
                  "productDefinitionTemplateNumber"),
              1: ("table2Version", "indicatorOfParameter", "indicatorOfTypeOfLevel", "level", "timeRangeIndicator")}


def _grid_of(h, ec, path: Path):
    grid_type = ec.codes_get_string(h, "gridType")
    if grid_type != "regular_ll":
        raise GribReadError(f"{path}: unsupported grid type {grid_type!r}; allowed: regular_ll (regular "
                            "latitude/longitude)")
    if ec.codes_get_long(h, "iScansNegatively") or ec.codes_get_long(h, "alternativeRowScanning"):
        raise _Fallback("unusual scanning mode")
    ni, nj = ec.codes_get_long(h, "Ni"), ec.codes_get_long(h, "Nj")
    lat = np.linspace(ec.codes_get_double(h, "latitudeOfFirstGridPointInDegrees"),
                      ec.codes_get_double(h, "latitudeOfLastGridPointInDegrees"), nj)
    lon0 = ec.codes_get_double(h, "longitudeOfFirstGridPointInDegrees")
    lon1 = ec.codes_get_double(h, "longitudeOfLastGridPointInDegrees")
    if lon1 < lon0:
        lon1 += 360.0
    lon = np.linspace(lon0, lon1, ni)
    return np.round(lat, 6), np.round(lon, 6)


class _Fallback(Exception):
    """The direct scan met something only cfgrib handles; read the file with cfgrib instead."""


def _eccodes_cubes(path: Path, report: FileReport):
    """Scan a file once with ecCodes: one handle per message, the parameter looked up once per signature."""
    import eccodes as ec

    lookup: dict = {}
    grids: dict = {}
    cubes: dict = {}
    n = 0
    with open(path, "rb") as fh:
        while True:
            try:
                h = ec.codes_grib_new_from_file(fh)
            except Exception as exc:  # damaged or truncated message: keep what came before
                if n == 0:
                    raise GribReadError(f"{path}: not a GRIB file ({type(exc).__name__}: {exc})") from None
                report.problems.append("file is truncated: the messages before the damage were read")
                break
            if h is None:
                break
            try:
                edition = ec.codes_get_long(h, "edition")
                sig = (edition, ec.codes_get_long(h, "centre"),
                       *(ec.codes_get_long(h, k) for k in _SIGNATURE.get(edition, ())))
                meta = lookup.get(sig)
                if meta is None:
                    level = ec.codes_get_long(h, "level")
                    meta = lookup[sig] = (ec.codes_get_string(h, "shortName"), ec.codes_get_string(h, "typeOfLevel"),
                                          level, ec.codes_get_string(h, "stepType"), ec.codes_get_string(h, "units"))
                # grid signature from a few integer keys (md5GridSection costs ~0.2 ms a message)
                grid_sig = (ec.codes_get_long(h, "numberOfDataPoints"), ec.codes_get_long(h, "Ni"),
                            ec.codes_get_double(h, "latitudeOfFirstGridPointInDegrees"),
                            ec.codes_get_double(h, "longitudeOfFirstGridPointInDegrees"),
                            ec.codes_get_double(h, "latitudeOfLastGridPointInDegrees"),
                            ec.codes_get_double(h, "longitudeOfLastGridPointInDegrees"))
                if grid_sig not in grids:
                    grids[grid_sig] = _grid_of(h, ec, path)
                date, hhmm = ec.codes_get_long(h, "dataDate"), ec.codes_get_long(h, "dataTime")
                start, end = ec.codes_get_long(h, "startStep"), ec.codes_get_long(h, "endStep")
                values = ec.codes_get_values(h)
                if ec.codes_get_long(h, "bitmapPresent"):
                    values = np.where(values == ec.codes_get_double(h, "missingValue"), np.nan, values)
            finally:
                ec.codes_release(h)
            n += 1
            cubes.setdefault((meta, grid_sig), []).append((date * 10000 + hhmm, end, start, values))
    report.messages = n
    if n == 0:
        raise GribReadError(f"{path}: not a GRIB file (no valid message found)")
    for ((short, tol, level, step_type, units), grid_sig), msgs in cubes.items():
        lat, lon = grids[grid_sig]
        codes = sorted({m[0] for m in msgs})  # YYYYMMDDhhmm as integers
        steps = np.unique([m[1] for m in msgs])
        ti = {c: i for i, c in enumerate(codes)}
        si = {s: i for i, s in enumerate(steps.tolist())}
        inits = pd.to_datetime([str(c).zfill(12) for c in codes], format="%Y%m%d%H%M").values.astype("datetime64[ns]")
        arr = np.full((len(codes), len(steps), lat.size, lon.size), np.nan, dtype="float32")
        for code, end, start, values in msgs:
            arr[ti[code], si[end]] = values.reshape(lat.size, lon.size)
        starts = [start for code, end, start, _ in sorted(msgs, key=lambda m: m[1])
                  if code == codes[0]][:2] if step_type == "accum" else []
        da = xr.DataArray(arr, dims=("time", "step", "latitude", "longitude"),
                          coords={"time": inits, "step": steps.astype("timedelta64[h]").astype("timedelta64[ns]"),
                                  "latitude": lat, "longitude": lon},
                          attrs={"GRIB_shortName": short, "GRIB_typeOfLevel": tol, "units": units})
        if da.sizes["time"] == 1:
            da = da.isel(time=0)
        if da.sizes["step"] == 1:
            da = da.isel(step=0)
        yield _Cube(short, tol, int(level) if tol != "surface" else None, units, da, starts)


def _read(path: Path, index_dir, lazy: bool, report: FileReport, engine: str) -> xr.Dataset:
    if engine == "eccodes":
        try:
            cubes = list(_eccodes_cubes(path, report))
        except _Fallback:
            report.problems = []
            cubes = list(_cfgrib_cubes(path, index_dir, lazy, report))
    elif engine == "cfgrib":
        cubes = _cfgrib_cubes(path, index_dir, lazy, report)
    else:
        raise GribReadError(f"unknown GRIB engine {engine!r}; allowed: eccodes, cfgrib")
    records: dict[str, xr.DataArray] = {}
    periods: dict[str, xr.DataArray] = {}
    instant_steps: set = set()
    init_times: set = set()
    unknown: set = set()
    for cube in cubes:
        short, tol, lv, sub = cube.short, cube.type_of_level, cube.level, cube.data
        row = _lookup(short, tol, lv, cube.units)
        if row is None:
            unknown.add(f"{short}@{tol}{'' if lv is None else f'={lv}'}")
            continue
        name = row["name"]
        if name in records:
            continue
        sub = _normalise_grid(sub, path)
        checked = _check_units(sub, row, path, report)
        if checked is None:
            continue
        sub = checked
        init_times.update(np.atleast_1d(sub["time"].values).tolist())
        if int(row["accumulated"]):
            sub, hours = _accumulation_to_periods(sub, cube.starts, path)
            periods[name] = hours
        else:
            instant_steps.update((np.atleast_1d(sub["step"].values) / np.timedelta64(1, "h")).tolist())
        rec = _to_records(sub * float(row["scale"]) + float(row["offset"]))
        rec.attrs = {"units": row["description"].split("[")[-1].rstrip("]"), "long_name": row["description"],
                     "grib_short_name": short}
        records[name] = rec
    if unknown:
        report.problems.append(f"variables not used by lantian: {', '.join(sorted(unknown))}")
    if not records:
        raise GribReadError(f"{path}: no usable variable (found {', '.join(sorted(unknown)) or 'none'}; "
                            f"known: {', '.join(sorted(variable_table()['short_name'].unique()))})")
    forecast = len(init_times) == 1 and (any(s > 0 for s in instant_steps) or
                                         (not instant_steps and any(r.sizes["record"] > 1 for r in records.values())))
    if not forecast and len(init_times) > 1 and any(s > 0 for s in instant_steps):
        raise GribReadError(f"{path}: {len(init_times)} forecast initialisations in one file "
                            f"({pd.Timestamp(min(init_times))} … {pd.Timestamp(max(init_times))}); "
                            "put each forecast run in its own file or directory")
    report.kind = "forecast" if forecast else "analysis"
    out = {}
    for name, rec in records.items():
        if name in periods:  # per-period amounts: attach each record's period length; drop empty step-0 periods
            step_hours = dict(zip(np.atleast_1d(periods[name]["step"].values if "step" in periods[name].coords
                                                else rec["lead"].values[:1]).tolist(),
                                  np.atleast_1d(periods[name].values).tolist()))
            hours = np.array([step_hours.get(v, np.nan) for v in rec["lead"].values.tolist()], dtype=float)
            rec = rec.assign_coords(period_hours=("record", hours))
            rec = rec.isel(record=np.flatnonzero(hours > 0))
        order = np.argsort(rec["lead"].values, kind="stable")
        rec = rec.isel(record=order)
        _, first = np.unique(rec["valid_time"].values, return_index=True)  # analyses: shortest lead wins
        rec = rec.isel(record=np.sort(first))
        rec = rec.swap_dims(record="valid_time").drop_vars(["record", "init_time", "lead"], errors="ignore")
        if "period_hours" in rec.coords:
            out[f"{name}_hours"] = rec["period_hours"].reset_coords(drop=True).astype(float)
            rec = rec.drop_vars("period_hours")
            if name == "precip":
                rec = rec.clip(min=0.0)  # packing noise makes tiny negative differences
        out[name] = rec
    ds = xr.Dataset(out).sortby("valid_time")
    if forecast:
        init = pd.Timestamp(next(iter(init_times)))
        ds = ds.assign_coords(lead_hours=("valid_time", ((ds["valid_time"].values - np.datetime64(init))
                                                         / np.timedelta64(1, "h")).astype(float)))
        ds.attrs["init_time"] = init.isoformat()
    ds.attrs.update(kind=report.kind, source=str(path))
    report.variables = sorted(records)
    report.missing = [v for v in CORE_VARIABLES if v not in records]
    return ds
