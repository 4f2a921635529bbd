"""Reading gridded meteorology from GRIB: the I/O edge where external names, units and grids end.

Any GRIB file lantian meets — ERA5 from the Climate Data Store (GRIB1, 2-m/10-m fields coded at the surface),
ERA5/IFS GRIB2, ECMWF open data, NCEP GFS, CMA GRAPES/CMA-GFS; analyses (a ``time`` dimension) or forecast runs
(``time`` = initialisation, ``step``, ``valid_time``) — is read hypercube by hypercube (every combination of level
type, level and step type found in the file, so nothing is silently dropped) and returned in one layout::

    Dataset, dims (valid_time, lat, lon) — or (valid_time, y, x) with 2-D lat/lon coordinates on projected grids;
    valid_time in UTC (naive datetime64); lat from north to south, lon ascending in [-180, 180)
    variables in the project's nomenclature and units (forecast/data/grib_variables.csv):
        temp_air, dewpoint, temp_850, temp_925 [degC]; wind_u, wind_v [m/s]; pressure, pressure_msl [hPa];
        blh [m]; relative_humidity [%]; cloud_cover [0-1];
        precip [mm]: amount of the period ending at valid_time; precip_hours [h]: that period's length
    attrs: kind = "analysis" | "forecast", source = path, grid_type (the file's grid), grid_note (how it was mapped);
        forecasts also init_time (ISO, UTC)
    coords: lead_hours (valid_time) for forecasts

**Encodings.** Each message is translated by the variable table: by ecCodes ``shortName`` or ``paramId`` where
ecCodes knows the parameter, else (a centre's local table) by the WMO ``discipline/parameterCategory/
parameterNumber``; then by level type and level, so the same variable may come in several encodings (2-m temperature
at ``heightAboveGround=2`` or, ERA5 GRIB1, at ``surface``). The declared ``units`` pick the row (``tp`` in m from
ECMWF, in kg m⁻² from GFS) or are converted (:data:`UNIT_CONVERSIONS`); a field whose values contradict its units
(°C written in a K field) is dropped with a warning.

**Grids** (:data:`SUPPORTED_GRIDS`), each cut to the region (:data:`REGION`) as it is decoded:

* ``regular_ll``, ``regular_gg``: the points' latitudes and longitudes as ecCodes gives them (any scanning
  direction); Gaussian latitudes are kept as they are (not evenly spaced: :mod:`forecast.extraction` uses them).
* ``reduced_gg``: mapped to the regular Gaussian grid of the same resolution (the Gaussian latitudes, as many
  longitudes as the fullest row) by the nearest point along each latitude row — no interpolation across rows, so a
  value is always one the model produced. ``earthkit-regrid`` (0.5.1, the version PyPI serves) was tried: it
  installs (with mir, eckit and atlas, ~700 MB), but its ``interpolate`` downloads a matrix index and the
  interpolation matrices from ECMWF at run time, so it is not used. Measured on this machine (2 shared cores), O320
  (421 120 points): ecCodes gives the points' coordinates in ~35 ms and building the mapping takes ~0.1 s, once per
  grid and file; applying it costs ~0.02 ms a message against ~1.4 ms to decode one, so an 8-message file reads in
  ~0.13 s.
* ``lambert``, ``polar_stereographic``: kept on their own ``(y, x)`` grid with the 2-D latitudes/longitudes ecCodes
  computes; area values come from the points inside each polygon, point values are linear on the grid's triangles
  (:mod:`forecast.extraction`).
* anything else (spherical harmonics ``sh``, ``rotated_ll`` …) is refused with one line naming the file and the grid
  type; in a file that also holds supported grids those messages are skipped and reported.

Accumulations are turned into per-period amounts here, step by step: a step accumulated from the same start as the
previous one (ECMWF/CMA from the start of the run; GFS between its 6-hourly resets) is differenced from it; a step
starting where the previous one ended (ERA5 hourly buckets from 06/18 UTC, GFS 6-hourly buckets) is kept. A step
written twice (GFS APCP 6–12 h and 0–12 h) keeps its shortest period in the direct scan (the cfgrib engine cannot
tell the two apart: it skips that variable and says so). Other layouts are refused with a clear error.

Two engines give the same result (tests hold them to each other): a direct ecCodes scan (default; one handle per
message, the parameter and the grid looked up once per kind of message) and cfgrib/xarray (lazy, dask-backed, for
maps).

**Reducing scan** (``read_grib(..., reduce=...)``, what ``lantian ingest`` uses): when only target means are wanted,
the direct scan decodes each message into a preallocated batch and reduces the batch with one sparse product (the
target weights composed with the cut to the region), so a file's fields are never held; GRIB2 headers are read
once per distinct section (a string key such as ``shortName`` costs ecCodes as much as decoding the message), and
the result is the full read's reduced (tests hold them to each other). Profiled on an hourly month of 0.25°
ERA5-like GRIB2 (5 208 messages): the full read spent about as long again as decoding on the per-message keys
(21 a message), the parameter-table lookups, the float32 hypercubes with their unit conversion and checks and the
reduction of whole cubes; the reducing scan spends ~80 % of its CPU time in ecCodes creating, decoding and
releasing handles. Accumulations are reduced as they come too, whatever their layout: an area mean is linear, so
the mean of a period's amount is the difference of the means of the accumulations at its ends,
mean(acc_t) − mean(acc_{t−1}) = mean(acc_t − acc_{t−1}); a run accumulated from a fixed start (ECMWF, CMA) is
differenced after the reduction, on the means, and a negative difference is clipped at zero as the full read clips
each point's. The one difference from the full read: it clips the packing noise of a dry period point by point
before averaging (a mean of non-negative noise), this scan clips the mean — the two agree to the packing precision
of the accumulation (at most one packing step, and zero where the field is not dry). A message with a bitmap or a
value outside its variable's plausible range, several grids in one file, or an unusual framing sends the file to
the full read, which treats them as documented above.

**cfgrib's index files are pickles**: cfgrib unpickles whatever file sits at the index path it is given, and
unpickling runs code. They are therefore kept only in a folder private to the user running lantian
(:func:`private_index_dir`: ``$XDG_CACHE_HOME/lantian/grib-index``, default ``~/.cache/…``, created with mode 0700)
— never beside a GRIB file, nor in a data folder's workspace ``DIR/.lantian`` where anyone who can write to the data
folder could plant one. An ``index_dir`` that is not a real folder owned by this user and closed to others' writes
is not used (the read goes on without index files and says so in the report). Index files are named after the GRIB
file's absolute path, size and modification time, so a replaced file gets a new index.

Why keep index files at all rather than switch them off (``indexpath=""``)? Without them cfgrib scans the whole
file again for every hypercube it opens. Measured on this machine (2 shared cores) on 10 files of a demo world (the
two 0.25° analysis files of a month and 8 forecast runs), best of 3: eccodes engine 3.8 s; cfgrib engine without
index files 29.2 s, with a cold index 32.7 s, with a warm index 4.0 s; lazy opening for maps 27.4 s without and
5.4 s with a warm index (20.9 s and 5.7 s including loading the values). Switching them off would make the
consultation's maps and the cfgrib engine 5–7 × slower on every read, so they are kept — where only their owner
can write.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
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
#: grid types lantian reads (ecCodes ``gridType``)
SUPPORTED_GRIDS = ("regular_ll", "regular_gg", "reduced_gg", "lambert", "polar_stereographic")
_PROJECTED = ("lambert", "polar_stereographic")
#: declared GRIB units → (factor, offset) into the units a variable-table row expects (value × factor + offset)
UNIT_CONVERSIONS = {
    ("degC", "K"): (1.0, 273.15), ("C", "K"): (1.0, 273.15), ("°C", "K"): (1.0, 273.15),
    ("hPa", "Pa"): (100.0, 0.0), ("kPa", "Pa"): (1000.0, 0.0),
    ("mm", "m"): (0.001, 0.0), ("kg m**-2", "m"): (0.001, 0.0), ("kg m-2", "m"): (0.001, 0.0),
    ("m", "kg m**-2"): (1000.0, 0.0), ("mm", "kg m**-2"): (1.0, 0.0), ("kg m-2", "kg m**-2"): (1.0, 0.0),
    ("km", "m"): (1000.0, 0.0), ("m s-1", "m s**-1"): (1.0, 0.0), ("%", "(0 - 1)"): (0.01, 0.0),
}
_LAT_ATTRS = {"units": "degrees_north", "standard_name": "latitude"}
_LON_ATTRS = {"units": "degrees_east", "standard_name": "longitude"}


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
    grid: str = ""


@lru_cache(maxsize=4)
def variable_table(path: str | Path | None = None) -> pd.DataFrame:
    """The GRIB → nomenclature translation table (default ``forecast/data/grib_variables.csv``)."""
    table = read_commented_csv(path or DATA_DIR / "grib_variables.csv",
                               dtype={"level": "Int64", "param_id": "Int64", "wmo_parameter": "string",
                                      "centre": "string", "short_name": "string"})
    return table


def _lookup(short_name: str, type_of_level: str, level, units: str, *, param_id=None, wmo: str | None = None,
            centre: str | None = None, table: pd.DataFrame | None = None):
    """The table row of a message and the (factor, offset) that turn its declared units into the row's, or None.

    A parameter ecCodes knows is matched by ``shortName`` or ``paramId``; an unknown one (``shortName`` "unknown":
    a centre's local table) by its WMO ``discipline/category/number``.
    """
    if table is None:  # the shipped table: the answer depends on the arguments only
        return _lookup_shipped(short_name, type_of_level, None if level is None else int(level), units,
                               None if param_id is None else int(param_id), wmo, centre)
    return _lookup_in(table, short_name, type_of_level, level, units, param_id, wmo, centre)


@lru_cache(maxsize=4096)
def _lookup_shipped(short_name, type_of_level, level, units, param_id, wmo, centre):
    return _lookup_in(variable_table(), short_name, type_of_level, level, units, param_id, wmo, centre)


def _lookup_in(t: pd.DataFrame, short_name, type_of_level, level, units, param_id, wmo, centre):
    if short_name and short_name != "unknown":
        ident = (t["short_name"] == short_name).fillna(False)
        if param_id:
            ident |= (t["param_id"] == int(param_id)).fillna(False)
    elif wmo:
        ident = (t["wmo_parameter"] == wmo).fillna(False)
    else:
        return None
    rows = t[ident & (t["type_of_level"] == type_of_level) & (t["centre"].isna() | (t["centre"] == (centre or "")))]
    if level is not None:
        rows = rows[rows["level"].isna() | (rows["level"] == int(level))]
    if rows.empty:
        return None
    exact = rows[rows["units"] == units]
    if len(exact):
        return exact.iloc[0], 1.0, 0.0
    for _, row in rows.iterrows():
        conv = UNIT_CONVERSIONS.get((units, row["units"]))
        if conv is not None:
            return row, *conv
    # "unknown" units of a local parameter, or the same units spelt otherwise: the row's; the check of the values
    # against the row's plausible range catches a field in other units
    return rows.iloc[0], 1.0, 0.0


def _unsupported(path: Path, grid_types) -> GribReadError:
    kinds = ", ".join(repr(g) for g in sorted(set(grid_types)))
    return GribReadError(f"{path}: unsupported grid {kinds} (supported: {', '.join(SUPPORTED_GRIDS)})")


@dataclass(eq=False)
class _Grid:
    """Where each output grid point takes its value from a message's value array, already cut to the region."""

    kind: str
    dims: tuple
    take: np.ndarray  # (ny, nx) indices into a message's values; -1: no source point (reduced rows of a sub-area)
    lat: np.ndarray  # (ny,) or (ny, nx) [degrees north]
    lon: np.ndarray  # (nx,) or (ny, nx) [degrees east]
    note: str = ""

    @property
    def gaps(self) -> bool:
        return bool((self.take < 0).any())

    def apply(self, values):
        """(…, n_points) → (…, ny, nx) (numpy or dask)."""
        flat = np.maximum(self.take.ravel(), 0)
        out = values[..., flat]
        out = out.reshape(tuple(values.shape[:-1]) + self.take.shape)
        if self.gaps:
            out = np.where(self.take >= 0, out, np.nan)
        return out

    def coords(self) -> dict:
        if self.lat.ndim == 1:
            return {"lat": ("lat", self.lat, _LAT_ATTRS), "lon": ("lon", self.lon, _LON_ATTRS)}
        return {"lat": (self.dims, self.lat, _LAT_ATTRS), "lon": (self.dims, self.lon, _LON_ATTRS)}


def _inside(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.flatnonzero((v >= lo - 1e-9) & (v <= hi + 1e-9))


def _not_covered(path: Path, region: dict) -> GribReadError:
    return GribReadError(f"{path}: the grid does not cover the region's areas ({region['west']:g}–{region['east']:g}°E, "
                         f"{region['south']:g}–{region['north']:g}°N)")


def _grid_from_points(kind: str, lat, lon, path: Path, region: dict, layout: np.ndarray | None = None) -> _Grid:
    """A :class:`_Grid` from the latitude/longitude of every point of a message (in the message's order).

    ``layout`` (projected grids): the point indices arranged as the grid's ``(y, x)``.
    """
    lat = np.round(np.asarray(lat, dtype=float), 6)
    lon = np.round(((np.asarray(lon, dtype=float) + 180.0) % 360.0) - 180.0, 6)
    if kind in ("regular_ll", "regular_gg"):
        return _regular_grid(kind, lat, lon, path, region)
    if kind == "reduced_gg":
        return _reduced_grid(lat, lon, path, region)
    return _projected_grid(kind, lat, lon, layout, path, region)


def _regular_grid(kind, lat, lon, path, region) -> _Grid:
    asc = np.unique(lat)
    ulon = np.unique(lon)
    full = np.full((asc.size, ulon.size), -1, dtype=np.int64)
    full[asc.size - 1 - np.searchsorted(asc, lat), np.searchsorted(ulon, lon)] = np.arange(lat.size)
    if (full < 0).any():
        raise GribReadError(f"{path}: {kind} grid: its points do not form a latitude × longitude product")
    ulat = asc[::-1]  # north → south
    rows = _inside(ulat, region["south"], region["north"])
    cols = _inside(ulon, region["west"], region["east"])
    if rows.size < 2 or cols.size < 2:
        raise _not_covered(path, region)
    return _Grid(kind, ("lat", "lon"), full[np.ix_(rows, cols)], ulat[rows], ulon[cols])


def _reduced_grid(lat, lon, path, region) -> _Grid:
    order = np.lexsort((lon, -lat))  # rows north → south, each row west → east
    lat_s, lon_s = lat[order], lon[order]
    neg, start, count = np.unique(-lat_s, return_index=True, return_counts=True)
    ulat = -neg
    fullest = int(np.argmax(count))
    target = lon_s[start[fullest]:start[fullest] + count[fullest]]  # the fullest row's longitudes: a regular set
    rows = _inside(ulat, region["south"], region["north"])
    cols = _inside(target, region["west"], region["east"])
    if rows.size < 2 or cols.size < 2:
        raise _not_covered(path, region)
    t = target[cols]
    take = np.full((rows.size, cols.size), -1, dtype=np.int64)
    for out_row, r in enumerate(rows):
        n = int(count[r])
        row_lon = lon_s[start[r]:start[r] + n]
        idx = order[start[r]:start[r] + n]
        step = float(np.median(np.diff(row_lon))) if n > 1 else 360.0
        if abs(step * n - 360.0) < step / 2:  # a whole latitude circle of equally spaced points
            k = np.rint((t - row_lon[0]) / (360.0 / n)).astype(np.int64) % n
            take[out_row] = idx[k]
        else:  # a row of a sub-area: nearest point, none beyond half a step from its ends
            k = np.searchsorted(row_lon, t)
            lo, hi = np.clip(k - 1, 0, n - 1), np.clip(k, 0, n - 1)
            k = np.where(np.abs(t - row_lon[lo]) <= np.abs(row_lon[hi] - t), lo, hi)
            ok = (t >= row_lon[0] - step / 2) & (t <= row_lon[-1] + step / 2)
            take[out_row] = np.where(ok, idx[k], -1)
    note = (f"reduced Gaussian grid mapped to the regular Gaussian grid of {target.size} longitudes by the nearest "
            "point along each latitude row")
    return _Grid("reduced_gg", ("lat", "lon"), take, ulat[rows], t, note)


def _projected_grid(kind, lat, lon, layout, path, region) -> _Grid:
    lat2, lon2 = lat[layout], lon[layout]
    inside = ((lat2 >= region["south"]) & (lat2 <= region["north"]) & (lon2 >= region["west"])
              & (lon2 <= region["east"]))
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if rows.size == 0:
        raise _not_covered(path, region)
    # one point of margin so that interpolation near the region's edge has neighbours
    r = slice(max(rows[0] - 1, 0), min(rows[-1] + 2, layout.shape[0]))
    c = slice(max(cols[0] - 1, 0), min(cols[-1] + 2, layout.shape[1]))
    take = layout[r, c]
    if take.shape[0] < 2 or take.shape[1] < 2:
        raise _not_covered(path, region)
    return _Grid(kind, ("y", "x"), take, lat2[r, c], lon2[r, c],
                 f"{kind} grid kept on its own (y, x) points with their 2-D latitudes/longitudes")


def private_index_dir() -> Path:
    """The folder for cfgrib's index files: private to the user running lantian and outside every data folder
    (``$XDG_CACHE_HOME/lantian/grib-index``, default ``~/.cache/lantian/grib-index``; see the module docstring)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lantian" / "grib-index"


def _private(index_dir: str | Path) -> Path | None:
    """``index_dir`` (created with mode 0700 when missing) when only this user can put files in it: a real folder,
    not a symbolic link, owned by this user and not writable by group or others; else ``None``."""
    folder = Path(index_dir)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        if not folder.exists():
            folder.mkdir(mode=0o700)
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return None
    return folder


def index_path(path: Path, index_dir: str | Path | None) -> str:
    """cfgrib ``indexpath`` template in ``index_dir`` when that folder is private (:func:`_private`), else ``""``
    (no index file is read or written). Named after the GRIB file's absolute path, size and modification time."""
    folder = _private(index_dir) if index_dir is not None else None
    if folder is None:
        return ""
    st = Path(path).stat()
    key = f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}"
    tag = hashlib.sha1(key.encode()).hexdigest()[:12]
    return str(folder / f"{Path(path).name}.{tag}.{{short_hash}}.idx")


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


#: keys cfgrib reads besides its own, to name the parameters ecCodes does not know
_WMO_KEYS = ("discipline", "parameterCategory", "parameterNumber")


def _open_index(path: Path, indexpath: str):
    from cfgrib import dataset, messages

    stream = messages.FileStream(str(path), errors="warn")
    keys = dataset.compute_index_keys(("time", "step"), {}) + list(_WMO_KEYS)
    return dataset.open_fileindex(stream, indexpath, keys)


def _groups(index, path: Path, report: FileReport) -> list[dict]:
    """cfgrib filters, one per hypercube: distinct (gridType, typeOfLevel, stepType); levels split only for
    heightAboveGround-like types; a group with parameters ecCodes does not know is split per parameter."""
    keys = index.index_keys
    pos = {k: keys.index(k) for k in ("typeOfLevel", "level:float", "stepType", "gridType", "paramId", *_WMO_KEYS)}
    combos: dict = {}
    unsupported: dict = {}
    for header, offsets in index.field_ids_index:
        grid = header[pos["gridType"]]
        if grid not in SUPPORTED_GRIDS:
            unsupported[grid] = unsupported.get(grid, 0) + len(offsets)
            continue
        entry = combos.setdefault((grid, header[pos["typeOfLevel"]], header[pos["stepType"]]), {"levels": set(),
                                                                                                "params": set()})
        entry["levels"].add(header[pos["level:float"]])
        entry["params"].add((header[pos["paramId"]], *(header[pos[k]] for k in _WMO_KEYS)))
    if unsupported and not combos:
        raise _unsupported(path, unsupported)
    for grid, n in sorted(unsupported.items()):
        report.problems.append(f"{n} message(s) on an unsupported grid {grid!r} skipped (supported: "
                               f"{', '.join(SUPPORTED_GRIDS)})")
    out = []
    for (grid, tol, st), entry in sorted(combos.items(), key=lambda kv: tuple(map(str, kv[0]))):
        base = {"gridType": grid, "typeOfLevel": tol, "stepType": st}
        if tol == "isobaricInhPa" or len(entry["levels"]) == 1:
            by_level = [base]
        else:  # 2-m and 10-m fields share the type but not the level: one hypercube per level
            # "level:float" is one of cfgrib's index keys: filtering on it reuses the index ("level" would rebuild it)
            by_level = [{**base, "level:float": float(lv)} for lv in sorted(entry["levels"])]
        if not any(p[0] == 0 for p in entry["params"]):
            out.extend(by_level)
            continue
        # unknown parameters all have paramId 0 and the name "unknown": one hypercube per parameter
        for filt in by_level:
            for pid, *wmo in sorted(entry["params"], key=lambda p: tuple(map(str, p))):
                extra = {"paramId": pid}
                if pid == 0:
                    extra.update({k: v for k, v in zip(_WMO_KEYS, wmo) if v not in (None, "undef")})
                out.append({**filt, **extra})
    return out


def _start_steps(index, filt: dict) -> tuple[dict[int, int], list[int]]:
    """``startStep`` [h] of the messages at each step (``endStep``), read from the messages' headers (cheap), and the
    steps written with two different start steps (which cfgrib cannot tell apart)."""
    sub = index.subindex(filt)
    istep = sub.index_keys.index("step")
    by_step: dict = {}
    for h, offs in sub.field_ids_index:
        by_step.setdefault(int(round(float(h[istep]))), set()).update(int(sub.fieldset[o]["startStep"]) for o in offs)
    twice = sorted(step for step, st in by_step.items() if len(st) > 1)
    return {step: min(st) for step, st in by_step.items()}, twice


def _present(index, filt: dict, da: xr.DataArray) -> xr.DataArray | None:
    """Which (time, step) combinations of a cfgrib hypercube the file holds (from the index: nothing decoded)."""
    dims = [d for d in ("time", "step") if d in da.dims]
    if not dims:
        return None
    sub = index.subindex(filt)
    it, ist = sub.index_keys.index("time"), sub.index_keys.index("step")
    held = {(int(h[it]), float(h[ist])) for h, _ in sub.field_ids_index}
    times = np.atleast_1d(da["time"].values).astype("datetime64[s]").astype(np.int64)
    steps = np.atleast_1d(da["step"].values) / np.timedelta64(1, "h")
    mask = np.array([[(int(t), float(s)) in held for s in steps] for t in times])
    full = xr.DataArray(mask, dims=("time", "step"))
    return full.isel({d: 0 for d in ("time", "step") if d not in da.dims})


def _to_records(da: xr.DataArray, present: xr.DataArray | None = None) -> xr.DataArray:
    """(time?, step?, *space) → (record, *space) with coords init_time, lead (timedelta) and valid_time.

    ``present`` (time?, step?): which (time, step) combinations the file holds; the others (holes of the product,
    e.g. ERA5 precipitation from two bases with different steps) are dropped.
    """
    for dim in ("time", "step"):
        if dim not in da.dims:
            da = da.expand_dims(dim)
            if present is not None and dim not in present.dims:
                present = present.expand_dims(dim)
    space = tuple(d for d in da.dims if d not in ("time", "step"))
    da = da.transpose("time", "step", *space)
    stacked = da.stack(record=("time", "step"))
    if present is not None:
        keep = present.transpose("time", "step").values.ravel()
        if not keep.all():
            stacked = stacked.isel(record=np.flatnonzero(keep))
    init = stacked["time"].values
    lead = stacked["step"].values
    stacked = stacked.drop_vars(["record", "time", "step", "valid_time"], errors="ignore")
    stacked = stacked.assign_coords(init_time=("record", init), lead=("record", lead),
                                    valid_time=("record", init + lead))
    return stacked.transpose("record", *space)


def _accumulation_to_periods(da: xr.DataArray, starts: dict[int, int], path: Path):
    """Per-period amounts [GRIB units] and period lengths [h] from an accumulated hypercube (time?, step?, …).

    ``starts`` gives the ``startStep`` of each step. Going through the steps in order, a step that continues the
    previous step's accumulation (same start: ECMWF/CMA from the start of the run, GFS between its 6-hourly resets)
    is differenced from it; a step that starts where (or after) the previous one ended (ERA5 hourly buckets, GFS 6-h
    buckets) is a period of its own.
    """
    steps = da["step"].values if "step" in da.dims else np.atleast_1d(da["step"].values)
    step_h = (np.asarray(steps) / np.timedelta64(1, "h")).astype(float)
    st = np.array([starts.get(int(round(h)), np.nan) for h in step_h], dtype=float)
    if np.isnan(st).any():
        raise GribReadError(f"{path}: accumulation without a start step at steps {step_h[np.isnan(st)].tolist()}")
    if "step" in da.dims and da.sizes["step"] > 1:
        same = np.concatenate([[False], st[1:] == st[:-1]])
        fresh = np.concatenate([[True], st[1:] >= step_h[:-1]])  # a bucket of its own (steps may be missing)
        if not (same | fresh).all():
            k = int(np.flatnonzero(~(same | fresh))[0])
            raise GribReadError(f"{path}: accumulation layout not understood (step {step_h[k - 1]:g} from "
                                f"{st[k - 1]:g}, step {step_h[k]:g} from {st[k]:g}); supported: accumulations from "
                                "a fixed start (differenced) and per-period buckets (kept)")
        if same.any():
            diff = xr.DataArray(same, dims=["step"], coords={"step": da["step"].values})
            periods = xr.where(diff, da - da.shift(step=1), da).transpose(*da.dims)
        else:
            periods = da
        hours = step_h - np.where(same, np.concatenate([[np.nan], step_h[:-1]]), st)
    else:
        periods = da
        hours = step_h - st
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


def read_grib(path: str | Path, *, index_dir: str | Path | None = None, lazy: bool = False, engine: str = "auto",
              region: dict | None = None, reduce=None):
    """Read one GRIB file into the project's layout (see module docstring).

    Parameters
    ----------
    path : path-like
        GRIB1/GRIB2 file (analysis or forecast run; mixed hypercubes allowed).
    index_dir : path-like, optional
        Folder for cfgrib index files (reused by later reads), e.g. :func:`private_index_dir`. Used only when it is
        private to this user (owned by them, not writable by others, not a symbolic link); ``None``: no index file.
    lazy : bool
        Keep the values as dask arrays (for maps of a long period); else load them.
    engine : {"auto", "eccodes", "cfgrib"}
        ``cfgrib``: open each hypercube with cfgrib/xarray (lazy reading). ``eccodes``: one direct pass over the
        messages (a handle per message, the parameter and grid looked up once per kind of message) — the same
        result, several times faster for bulk extraction (tests hold the two to each other). ``auto``: cfgrib when
        ``lazy``, else eccodes.
    region : dict, optional
        ``{"west", "east", "south", "north"}`` box the grid is cut to. [degrees] Default: :data:`REGION`.
    reduce : callable, optional
        ``reduce(lat, lon) -> (weights, ids)``: target weights (sparse, ``(n_targets, n_points)`` over the grid cut
        to the region, C order, as :mod:`forecast.extraction` makes them) and the target ids. With it the direct
        scan reduces every message to target means as it decodes it (:func:`_reducing_cubes`) and the dataset is
        on ``(valid_time, target)`` with ``attrs["reduced"] = "target"`` — the same values (to float rounding) as
        reducing the full read's fields, which is what happens when a file needs the full read (a bitmap, values
        out of range, a damaged tail…); then the dataset is the full read's, without ``attrs["reduced"]``.

    Returns
    -------
    dataset : xarray.Dataset
    report : FileReport
        Variables found, core variables missing, problems (each naming the variable), the file's grid type.

    Raises
    ------
    GribReadError
        Not GRIB, no usable variable, only unsupported grids, a grid outside the region, or several forecast runs
        mixed in one file.
    """
    path = Path(path)
    region = REGION if region is None else region
    report = FileReport(str(path))
    if not path.is_file():
        raise GribReadError(f"{path}: no such file")
    report.bytes = path.stat().st_size
    if index_dir is not None and _private(index_dir) is None:
        report.problems.append(f"cfgrib index folder {index_dir} is not private to this user (a real folder owned by "
                               "them and closed to others' writes): index files not used")
        index_dir = None
    capture = _Capture()
    cf_logger = logging.getLogger("cfgrib")
    old_propagate = cf_logger.propagate
    cf_logger.addHandler(capture)
    cf_logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            engine = ("cfgrib" if lazy else "eccodes") if engine == "auto" else engine
            ds = None
            if reduce is not None and engine == "eccodes" and not lazy:
                before = list(report.problems)
                try:
                    ds = _read(path, index_dir, lazy, report, engine, region, reduce)
                except (_NotReducible, GribReadError):  # the full read decides, and words any error its way
                    report = FileReport(str(path), bytes=report.bytes, problems=before)
            if ds is None:
                ds = _read(path, index_dir, lazy, report, engine, region)
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
    """One hypercube as an engine delivers it: dims (time?, step?, *grid dims), cut to the region, GRIB units."""

    short: str
    type_of_level: str
    level: int | None
    units: str
    data: xr.DataArray
    starts: dict  # endStep → startStep [h] (accumulations only)
    param_id: int | None = None
    wmo: str | None = None
    centre: str | None = None
    grid: _Grid | None = None
    present: xr.DataArray | None = None  # (time?, step?): the combinations the file holds
    reduce: tuple | None = None  # (weights, ids): the records are reduced to target means once they are formed


def _cube_array(values, grid: _Grid, lead_dims: tuple, lead_coords: dict, attrs: dict) -> xr.DataArray:
    """Values ``(…lead, n_points)`` on ``grid`` as a DataArray ``(…lead, *grid.dims)``."""
    return xr.DataArray(grid.apply(values), dims=lead_dims + grid.dims, coords={**lead_coords, **grid.coords()},
                        attrs=attrs)


def _cfgrib_points(da: xr.DataArray, path: Path):
    """A cfgrib variable as (values (…, n_points), lead dims, latitude, longitude, layout) in the message's order."""
    if "latitude" in da.dims and "longitude" in da.dims:
        da = da.transpose(..., "latitude", "longitude")
        lat, lon = da["latitude"].values, da["longitude"].values
        lead = da.dims[:-2]
        values = da.data.reshape(tuple(da.shape[:-2]) + (lat.size * lon.size,))
        return values, lead, np.repeat(lat, lon.size), np.tile(lon, lat.size), None
    if "values" in da.dims and "latitude" in da.coords:
        da = da.transpose(..., "values")
        return da.data, da.dims[:-1], da["latitude"].values, da["longitude"].values, None
    if "y" in da.dims and "x" in da.dims and "latitude" in da.coords:
        da = da.transpose(..., "y", "x")
        ny, nx = da.sizes["y"], da.sizes["x"]
        lat = da["latitude"].transpose("y", "x").values.ravel()
        lon = da["longitude"].transpose("y", "x").values.ravel()
        values = da.data.reshape(tuple(da.shape[:-2]) + (ny * nx,))
        return values, da.dims[:-2], lat, lon, np.arange(ny * nx).reshape(ny, nx)
    raise _unsupported(path, [da.attrs.get("GRIB_gridType", "unknown")])


def _cfgrib_cubes(path: Path, index_dir, lazy: bool, report: FileReport, region: dict):
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
    grids: dict = {}
    for filt in _groups(index, path, report):
        try:
            ds = xr.open_dataset(path, engine="cfgrib", chunks={} if lazy else None,
                                 backend_kwargs={"indexpath": indexpath, "filter_by_keys": filt, "errors": "warn",
                                                 "read_keys": list(_WMO_KEYS)})
        except Exception as exc:
            report.problems.append(f"hypercube {filt}: not readable ({type(exc).__name__}: {exc}); skipped")
            continue
        centre = ds.attrs.get("GRIB_centre")
        for var in ds.data_vars:
            da = ds[var]
            attrs = da.attrs
            short = attrs.get("GRIB_shortName", var)
            tol = attrs.get("GRIB_typeOfLevel", filt["typeOfLevel"])
            units = attrs.get("GRIB_units", attrs.get("units", ""))
            wmo = "/".join(str(attrs[f"GRIB_{k}"]) for k in _WMO_KEYS) \
                if all(f"GRIB_{k}" in attrs for k in _WMO_KEYS) else None
            if tol == "isobaricInhPa":
                level_dim = "isobaricInhPa"
                levels = np.atleast_1d(da[level_dim].values) if level_dim in da.coords else []
                subs = [(int(lv), da.sel({level_dim: lv}) if level_dim in da.dims else da) for lv in levels]
            else:
                lv = filt.get("level:float")
                lv = None if lv is None else int(lv)
                if lv is None and tol in da.coords and da[tol].size == 1 and tol != "surface":
                    lv = int(da[tol].values)
                subs = [(lv, da)]
            for lv, sub in subs:
                values, lead, lat, lon, layout = _cfgrib_points(sub, path)
                key = (filt["gridType"], lat.size, hashlib.sha1(lat.tobytes() + lon.tobytes()).hexdigest())
                if key not in grids:
                    grids[key] = _grid_from_points(filt["gridType"], lat, lon, path, region, layout)
                grid = grids[key]
                coords = {d: sub[d].values for d in lead if d in sub.coords}
                cube = _cube_array(values, grid, tuple(lead), coords,
                                   {"GRIB_shortName": short, "GRIB_typeOfLevel": tol, "units": units})
                for c in ("time", "step"):
                    if c in sub.coords and c not in cube.dims:
                        cube = cube.assign_coords({c: sub[c].values})
                starts, twice = _start_steps(index, dict(filt)) if filt["stepType"] == "accum" else ({}, [])
                if twice:
                    report.problems.append(f"{short}: steps {twice} accumulated over two different periods; "
                                           "variable skipped (the direct ecCodes scan reads it)")
                    continue
                yield _Cube(short, tol, lv, units, cube, starts, attrs.get("GRIB_paramId"), wmo, centre, grid,
                            _present(index, filt, cube))


#: GRIB edition → keys that, with the centre, determine a message's parameter and level (for the lookup cache)
_SIGNATURE = {2: ("discipline", "parameterCategory", "parameterNumber", "typeOfFirstFixedSurface",
                  "scaledValueOfFirstFixedSurface", "scaleFactorOfFirstFixedSurface", "typeOfSecondFixedSurface",
                  "productDefinitionTemplateNumber"),
              1: ("table2Version", "indicatorOfParameter", "indicatorOfTypeOfLevel", "level", "timeRangeIndicator")}
#: keys that identify a regular grid cheaply (md5GridSection costs ~0.2 ms a message; other grids use it)
_REGULAR_GRID_KEYS = ("numberOfDataPoints", "Ni", "Nj", "iScansNegatively", "jScansPositively",
                      "jPointsAreConsecutive")
_REGULAR_GRID_DOUBLES = ("latitudeOfFirstGridPointInDegrees", "longitudeOfFirstGridPointInDegrees",
                         "latitudeOfLastGridPointInDegrees", "longitudeOfLastGridPointInDegrees")


def _message_meta(ec, h, edition: int, cache: dict) -> tuple:
    """A message's parameter and level (short name, level type, level, step type, units, paramId, WMO
    discipline/category/number, centre), looked up once per distinct signature of integer keys and kept in ``cache``:
    the string keys cost as much as decoding a message."""
    sig = (edition, ec.codes_get_long(h, "centre"), *(ec.codes_get_long(h, k) for k in _SIGNATURE.get(edition, ())))
    meta = cache.get(sig)
    if meta is None:
        wmo = "/".join(str(v) for v in sig[2:5]) if edition == 2 else None
        meta = cache[sig] = (ec.codes_get_string(h, "shortName"), ec.codes_get_string(h, "typeOfLevel"),
                             ec.codes_get_long(h, "level"), ec.codes_get_string(h, "stepType"),
                             ec.codes_get_string(h, "units"), ec.codes_get_long(h, "paramId"), wmo,
                             ec.codes_get_string(h, "centre"))
    return meta


def run_steps(files) -> dict:
    """The steps each parameter of each forecast run holds in ``files``, from the messages' headers alone (no value
    is decoded): what a run's files actually cover, whatever the processed meteorology made of them.

    Returns
    -------
    dict
        ``{init_time: {parameter: [step, …]}}``: ``init_time`` a naive UTC Timestamp; ``parameter`` the GRIB short
        name, with the level for a pressure level (``t850``); steps the ``endStep`` [h], sorted. Analyses (step 0
        only) are runs with the one step.

    Raises
    ------
    GribReadError
        A file that cannot be opened or holds no GRIB message (the message names it).
    """
    import eccodes as ec

    out: dict = {}
    for path in files:
        lookup: dict = {}
        n = 0
        try:
            with open(path, "rb") as fh:
                while True:
                    try:
                        h = ec.codes_grib_new_from_file(fh, headers_only=True)
                    except Exception:  # a damaged tail: the messages before it count
                        break
                    if h is None:
                        break
                    try:
                        n += 1
                        short, tol, level = _message_meta(ec, h, ec.codes_get_long(h, "edition"), lookup)[:3]
                        code = ec.codes_get_long(h, "dataDate") * 10000 + ec.codes_get_long(h, "dataTime")
                        step = ec.codes_get_long(h, "endStep")
                    finally:
                        ec.codes_release(h)
                    name = f"{short}{level}" if tol == "isobaricInhPa" else short
                    out.setdefault(code, {}).setdefault(name, set()).add(int(step))
        except OSError as exc:
            raise GribReadError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        if n == 0:
            raise GribReadError(f"{path}: not a GRIB file (no message found)")
    return {pd.Timestamp(str(code).zfill(12)[:8] + "T" + str(code).zfill(12)[8:]):
            {name: sorted(steps) for name, steps in sorted(params.items())} for code, params in sorted(out.items())}


def _eccodes_grid(h, ec, kind: str, path: Path, region: dict) -> _Grid:
    try:
        lat, lon = ec.codes_get_array(h, "latitudes"), ec.codes_get_array(h, "longitudes")
        layout = None
        if kind in _PROJECTED:
            nx, ny = ec.codes_get_long(h, "Nx"), ec.codes_get_long(h, "Ny")
            idx = np.arange(nx * ny)
            layout = idx.reshape(nx, ny).T if ec.codes_get_long(h, "jPointsAreConsecutive") else idx.reshape(ny, nx)
    except ec.EcCodesError as exc:
        raise GribReadError(f"{path}: {kind} grid: ecCodes cannot give its coordinates ({exc})") from None
    return _grid_from_points(kind, lat, lon, path, region, layout)


def _eccodes_cubes(path: Path, report: FileReport, region: dict):
    """Scan a file once with ecCodes: one handle per message, parameter and grid looked up once per signature."""
    import eccodes as ec

    lookup: dict = {}
    grids: dict = {}
    cubes: dict = {}
    unsupported: dict = {}
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
                n += 1
                kind = ec.codes_get_string(h, "gridType")
                if kind not in SUPPORTED_GRIDS:
                    unsupported[kind] = unsupported.get(kind, 0) + 1
                    continue
                edition = ec.codes_get_long(h, "edition")
                meta = _message_meta(ec, h, edition, lookup)
                if kind in ("regular_ll", "regular_gg"):
                    grid_sig = (kind, *(ec.codes_get_long(h, k) for k in _REGULAR_GRID_KEYS),
                                *(ec.codes_get_double(h, k) for k in _REGULAR_GRID_DOUBLES))
                else:
                    grid_sig = (kind, ec.codes_get_string(h, "md5GridSection"))
                if grid_sig not in grids:
                    grids[grid_sig] = _eccodes_grid(h, ec, kind, path, region)
                date, hhmm = ec.codes_get_long(h, "dataDate"), ec.codes_get_long(h, "dataTime")
                start, end = ec.codes_get_long(h, "startStep"), ec.codes_get_long(h, "endStep")
                values = ec.codes_get_values(h)
                if ec.codes_get_long(h, "bitmapPresent"):
                    values = np.where(values == ec.codes_get_double(h, "missingValue"), np.nan, values)
                values = grids[grid_sig].apply(values)  # cut to the region now: global grids stay small
            finally:
                ec.codes_release(h)
            cubes.setdefault((meta, grid_sig), []).append((date * 10000 + hhmm, end, start, values))
    yield from _assemble(path, report, n, unsupported, cubes, grids)


def _assemble(path: Path, report: FileReport, n: int, unsupported: dict, cubes: dict, grids: dict,
              reduced: dict | None = None):
    """The hypercubes of a scan's messages ``{(meta, grid_sig): [(YYYYMMDDhhmm, endStep, startStep, values)]}``.

    ``reduced`` (:func:`_reducing_cubes`): ``{grid_sig: (weights, ids)}``; the cubes whose values are already
    target means (one value per target) are on ``(time?, step?, target)``, the others keep the grid and say how
    their records are reduced (:attr:`_Cube.reduce`).
    """
    report.messages = n
    if n == 0:
        raise GribReadError(f"{path}: not a GRIB file (no valid message found)")
    if unsupported and not cubes:
        raise _unsupported(path, unsupported)
    for kind, count in sorted(unsupported.items()):
        report.problems.append(f"{count} message(s) on an unsupported grid {kind!r} skipped (supported: "
                               f"{', '.join(SUPPORTED_GRIDS)})")
    for ((short, tol, level, step_type, units, param_id, wmo, centre), grid_sig), msgs in cubes.items():
        grid = grids[grid_sig]
        starts = {}
        if step_type == "accum":
            # GFS files hold some steps twice (APCP 6-12 h and 0-12 h): keep the shortest period, the one the
            # neighbouring steps continue
            best: dict = {}
            for m in msgs:
                if (m[0], m[1]) not in best or m[2] > best[(m[0], m[1])][2]:
                    best[(m[0], m[1])] = m
            msgs = list(best.values())
            for code, end, start, _ in msgs:
                if starts.setdefault(end, start) != start:
                    raise GribReadError(f"{path}: {short}: step {end} accumulated from {starts[end]} in one run and "
                                        f"from {start} in another; put each layout in its own file")
        codes = sorted({m[0] for m in msgs})  # YYYYMMDDhhmm as integers
        steps = np.unique([m[1] for m in msgs])
        ti = {c: i for i, c in enumerate(codes)}
        si = {s: i for i, s in enumerate(steps.tolist())}
        inits = pd.to_datetime([str(c).zfill(12) for c in codes], format="%Y%m%d%H%M").values.astype("datetime64[ns]")
        w_ids = reduced.get(grid_sig) if reduced else None
        means = w_ids is not None and (msgs[0][3] is None or msgs[0][3].ndim == 1)
        if means:  # target means (float64: nothing is rounded before the means)
            arr = np.full((len(codes), len(steps), len(w_ids[1])), np.nan)
            space_dims, space = (_TARGET_DIM,), {_TARGET_DIM: np.asarray(w_ids[1], dtype=object)}
        else:
            arr = np.full((len(codes), len(steps)) + grid.take.shape, np.nan, dtype="float32")
            space_dims, space = grid.dims, grid.coords()
        present = np.zeros((len(codes), len(steps)), dtype=bool)
        for code, end, start, values in msgs:
            if values is not None:  # None: a parameter lantian does not use, never decoded
                arr[ti[code], si[end]] = values
            present[ti[code], si[end]] = True
        da = xr.DataArray(arr, dims=("time", "step") + space_dims,
                          coords={"time": inits, "step": steps.astype("timedelta64[h]").astype("timedelta64[ns]"),
                                  **space},
                          attrs={"GRIB_shortName": short, "GRIB_typeOfLevel": tol, "units": units})
        present = xr.DataArray(present, dims=("time", "step"), coords={"time": da["time"], "step": da["step"]})
        if da.sizes["time"] == 1:
            da, present = da.isel(time=0), present.isel(time=0)
        if da.sizes["step"] == 1:
            da, present = da.isel(step=0), present.isel(step=0)
        yield _Cube(short, tol, int(level) if tol != "surface" else None, units, da, starts, param_id, wmo, centre,
                    grid, present, None if means or w_ids is None else w_ids)


#: the target dimension of a reducing read (:func:`read_grib` with ``reduce``)
_TARGET_DIM = "target"
#: bytes of decoded values a reducing read holds before it reduces them (one matrix product per batch)
REDUCE_BATCH_BYTES = 16 * 2**20


class _NotReducible(Exception):
    """Something in a file only the full read handles exactly (a bitmap, a value out of its plausible range, an
    unusual framing…): :func:`read_grib` reads the file again without reducing."""


def _frames(fh):
    """Each message of an open GRIB file as ``(edition, bytes)``; :class:`_NotReducible` on anything but messages
    following each other (junk between messages, a truncated tail, ECMWF's large-GRIB1 length coding)."""
    while True:
        head = fh.read(16)
        if not head:
            return
        if len(head) < 16 or head[:4] != b"GRIB" or head[7] not in (1, 2):
            raise _NotReducible("framing")
        edition = head[7]
        size = int.from_bytes(head[8:16] if edition == 2 else head[4:7], "big")
        if edition == 1 and size & 0x800000 or size < 16:
            raise _NotReducible("large GRIB1 message")
        msg = head + fh.read(size - 16)
        if len(msg) != size or msg[-4:] != b"7777":
            raise _NotReducible("truncated message")
        yield edition, msg


def _sections(msg: bytes) -> dict:
    """GRIB2 sections 1–7 of one message by number (the raw bytes); :class:`_NotReducible` for a message holding
    several fields (repeated sections)."""
    out, pos, end = {}, 16, len(msg) - 4
    while pos < end:
        size, number = int.from_bytes(msg[pos:pos + 4], "big"), msg[pos + 4]
        if size < 5 or pos + size > end or number in out:
            raise _NotReducible("section layout")
        out[number] = msg[pos:pos + size]
        pos += size
    if pos != end or not {1, 3, 4, 5, 6, 7} <= out.keys():
        raise _NotReducible("section layout")
    return out


def _decoder(ec):
    """``decode(handle, out) -> bool``: a message's values decoded straight into the float64 row ``out`` (through
    ecCodes' own binding; False when the sizes differ), or a copy when that binding is not there."""
    try:
        from gribapi.bindings import ffi, lib
    except ImportError:  # pragma: no cover - another packaging of the Python binding
        ffi = lib = None
    if ffi is None or not hasattr(lib, "grib_get_double_array"):  # pragma: no cover
        def decode(h, out):
            values = ec.codes_get_values(h)
            if values.size != out.size:
                return False
            out[:] = values
            return True

        return decode
    key = b"values"

    def decode(h, out):
        size = ffi.new("size_t*", out.size)
        err = lib.grib_get_double_array(ffi.cast("grib_handle*", h), key, ffi.cast("double *", out.ctypes.data),
                                        size)
        return err == 0 and size[0] == out.size

    return decode


def _source_weights(grid: _Grid, weights, n_points: int):
    """Target weights over a grid cut to the region → over every point of the message (``grid.take`` composed in)."""
    from scipy import sparse

    cut = grid.take.size
    pick = sparse.csr_matrix((np.ones(cut), (np.arange(cut), grid.take.ravel())), shape=(cut, n_points))
    return sparse.csr_matrix(weights @ pick)


def _reducing_cubes(path: Path, report: FileReport, region: dict, reduce):
    """The direct ecCodes scan reducing each message to target means as it goes (:func:`read_grib` ``reduce``).

    The same hypercubes as :func:`_eccodes_cubes`, with the values of every non-accumulated parameter lantian uses
    replaced by their target means: messages are decoded into a preallocated batch and reduced by one sparse
    product per batch (the target weights of the region's cut composed with the cut), so no gridded hypercube,
    DataArray or unit conversion of a full field is ever formed. Accumulations are reduced too (none of their
    values below zero): per-period buckets are periods already, and an accumulation from a fixed start is
    differenced afterwards on the means (linear; the difference clipped at zero as the full read clips each
    point's, which agrees with it to the packing precision). Parameters whose conversion is not a positive scale
    keep their grid and are reduced once their records are formed. GRIB2 headers are read
    once per distinct section (parameter and level: section 4; grid: section 3; time: section 1) instead of once
    per message. Exact by construction: every message must hold its full grid (no bitmap) with every value inside
    its variable's plausible range, so the full read's checks pass unchanged; anything else raises
    :class:`_NotReducible` and the file is read in full.
    """
    import eccodes as ec

    decode = _decoder(ec)
    by_meta: dict = {}  # section key → (meta, startStep, endStep)
    by_time: dict = {}  # section 1 reference time → YYYYMMDDhhmm
    by_grid: dict = {}  # section 3 → grid_sig (None: unsupported, with its gridType)
    rows: dict = {}  # meta → None (not used by lantian), False (accumulated: keep the grid) or (lo, hi, f, o)
    grids: dict = {}
    reduced: dict = {}  # grid_sig → (weights over the cut grid, ids)
    batches: dict = {}  # grid_sig → [buffer, source weights, pending [(cube key, code, end, start, lo, hi)],
    #                                  the region's points (None: all)]
    cubes: dict = {}
    unsupported: dict = {}
    n = 0

    def flush(grid_sig):
        buf, w_src, pending, inside = batches[grid_sig]
        if not pending:
            return
        block = buf[:len(pending)]
        lo = np.array([p[4] for p in pending])
        hi = np.array([p[5] for p in pending])
        seen = block if inside is None else block[:, inside]  # the full read checks the region's points only
        if not ((seen.min(axis=1) >= lo).all() and (seen.max(axis=1) <= hi).all()):
            raise _NotReducible("a value outside its plausible range")
        means = (w_src @ block.T).T  # (messages, targets)
        for (key, code, end, start, _, _), m in zip(pending, means):
            cubes.setdefault(key, []).append((code, end, start, m))
        pending.clear()

    by_sig: dict = {}  # as the full scan: parameter and level per signature (string keys cost as much as a decode)
    by_param: dict = {}  # GRIB2 sections without the step → parameter and level

    def header(h, edition):
        return _message_meta(ec, h, edition, by_sig), ec.codes_get_long(h, "startStep"), ec.codes_get_long(h, "endStep")

    def grid_of(h):
        kind = ec.codes_get_string(h, "gridType")
        if kind not in SUPPORTED_GRIDS:
            return None, kind
        if kind in ("regular_ll", "regular_gg"):
            grid_sig = (kind, *(ec.codes_get_long(h, k) for k in _REGULAR_GRID_KEYS),
                        *(ec.codes_get_double(h, k) for k in _REGULAR_GRID_DOUBLES))
        else:
            grid_sig = (kind, ec.codes_get_string(h, "md5GridSection"))
        if grid_sig not in grids:
            grid = grids[grid_sig] = _eccodes_grid(h, ec, kind, path, region)
            if grid.gaps or reduced:  # rows of a sub-area, or a second grid in the file: the full read
                raise _NotReducible("grid")
            weights, ids = reduce(grid.lat, grid.lon)
            reduced[grid_sig] = (weights, ids)
            n_points = ec.codes_get_long(h, "numberOfDataPoints")
            rows_per_batch = int(max(1, min(512, REDUCE_BATCH_BYTES // (8 * n_points))))
            inside = np.unique(grid.take)
            batches[grid_sig] = [np.empty((rows_per_batch, n_points)), _source_weights(grid, weights, n_points), [],
                                 None if inside.size == n_points else inside]
        return grid_sig, kind

    with open(path, "rb", buffering=1 << 20) as fh:
        try:
            for edition, msg in _frames(fh):
                try:
                    h = ec.codes_new_from_message(msg)
                except Exception:
                    raise _NotReducible("message") from None
                try:
                    n += 1
                    if edition == 2:
                        sec = _sections(msg)
                        if sec[6][5] != 255:  # a bitmap: missing values
                            raise _NotReducible("bitmap")
                        s1, s4 = sec[1], sec[4]
                        if s4[7:9] == b"\x00\x08" and len(s4) >= 41:
                            # template 4.8 (a statistic over a period: accumulations) writes the period's end
                            # time, which changes with every message of a series; it follows from the reference
                            # time and the steps (kept in the key), so it is left out of the key
                            s4 = s4[:34] + s4[41:]
                        meta_key = msg[6:8] + s1[:12] + s1[19:] + sec.get(2, b"") + s4
                        found = by_meta.get(meta_key)
                        if found is None:
                            # the parameter and level do not depend on the step: a forecast run's steps share
                            # them (templates 4.0 and 4.8 without their step and period fields), and only the
                            # steps are read per new section
                            o4 = sec[4]
                            if o4[7:9] == b"\x00\x00" and len(o4) >= 22:
                                param_key = o4[:17] + o4[22:]
                            elif o4[7:9] == b"\x00\x08" and len(o4) >= 53:
                                param_key = o4[:17] + o4[22:34] + o4[41:48] + o4[53:]
                            else:
                                param_key = o4
                            param_key = msg[6:8] + s1[:12] + s1[19:] + sec.get(2, b"") + param_key
                            meta = by_param.get(param_key)
                            if meta is None:
                                meta = by_param[param_key] = _message_meta(ec, h, edition, by_sig)
                            found = by_meta[meta_key] = (meta, ec.codes_get_long(h, "startStep"),
                                                         ec.codes_get_long(h, "endStep"))
                        code = by_time.get(s1[12:19])
                        if code is None:  # the reference time as ecCodes gives it (dataDate, dataTime)
                            code = by_time[s1[12:19]] = (ec.codes_get_long(h, "dataDate") * 10000
                                                         + ec.codes_get_long(h, "dataTime"))
                        grid_sig, kind = by_grid.get(sec[3]) or by_grid.setdefault(sec[3], grid_of(h))
                    else:
                        if ec.codes_get_long(h, "bitmapPresent"):
                            raise _NotReducible("bitmap")
                        found = header(h, edition)
                        code = ec.codes_get_long(h, "dataDate") * 10000 + ec.codes_get_long(h, "dataTime")
                        grid_sig, kind = grid_of(h)
                    if grid_sig is None:
                        unsupported[kind] = unsupported.get(kind, 0) + 1
                        continue
                    meta, start, end = found
                    use = rows.get(meta, ())
                    if use == ():
                        use = rows[meta] = _reduce_rule(meta)
                    key = (meta, grid_sig)
                    if use is None:  # not used by lantian: reported by name, never decoded
                        cubes.setdefault(key, []).append((code, end, start, None))
                    elif use is False:  # an accumulation: its grid, as the full read keeps it
                        cubes.setdefault(key, []).append((code, end, start,
                                                          grids[grid_sig].apply(ec.codes_get_values(h))))
                    else:
                        buf, _, pending, _ = batches[grid_sig]
                        if not decode(h, buf[len(pending)]):
                            raise _NotReducible("values")
                        cubes.setdefault(key, [])  # the hypercubes keep the order of their first messages
                        pending.append((key, code, end, start, *use[:2]))
                        if len(pending) == len(buf):
                            flush(grid_sig)
                finally:
                    ec.codes_release(h)
        except (_NotReducible, GribReadError):
            raise
        except Exception as exc:  # ecCodes could not read a key: the full read reports it its way
            raise _NotReducible(f"{type(exc).__name__}: {exc}") from None
    for grid_sig in batches:
        flush(grid_sig)
    yield from _assemble(path, report, n, unsupported, cubes, grids, reduced)


def _reduce_rule(meta: tuple):
    """How a reducing read treats a parameter: None (lantian does not use it), False (keep its grid) or
    ``(lo, hi, accumulated)``: the raw-value range every message must stay inside (the variable's plausible range in
    the message's units; not below zero for an accumulation), so that the full read's checks pass unchanged."""
    short, tol, level, step_type, units, param_id, wmo, centre = meta
    found = _lookup(short, tol, level if tol != "surface" else None, units, param_id=param_id, wmo=wmo,
                    centre=centre)
    if found is None:
        return None
    row, factor, offset = found
    lo, hi = float(row["plausible_min"]), float(row["plausible_max"])
    if factor <= 0:
        return False
    if int(row["accumulated"]) or step_type == "accum":
        # reduced as they come when no value is negative: buckets are periods already, an accumulation from a fixed
        # start is differenced on the means afterwards (linear; :func:`_reducing_cubes`)
        if offset != 0 or float(row["offset"]) != 0 or float(row["scale"]) <= 0:
            return False
        return max(lo, 0.0) / factor, hi / factor, True
    return (lo - offset) / factor, (hi - offset) / factor, False


def _read(path: Path, index_dir, lazy: bool, report: FileReport, engine: str, region: dict,
          reduce=None) -> xr.Dataset:
    if engine == "eccodes" and reduce is not None:
        cubes = _reducing_cubes(path, report, region, reduce)
    elif engine == "eccodes":
        cubes = _eccodes_cubes(path, report, region)
    elif engine == "cfgrib":
        cubes = _cfgrib_cubes(path, index_dir, lazy, report, region)
    else:
        raise GribReadError(f"unknown GRIB engine {engine!r}; allowed: eccodes, cfgrib")
    records: dict[str, xr.DataArray] = {}
    reducers: dict[str, tuple] = {}
    periods: dict[str, xr.DataArray] = {}
    instant_steps: set = set()
    init_times: set = set()
    unknown: set = set()
    grid = None
    for cube in cubes:
        short, tol, lv, sub = cube.short, cube.type_of_level, cube.level, cube.data
        found = _lookup(short, tol, lv, cube.units, param_id=cube.param_id, wmo=cube.wmo, centre=cube.centre)
        if found is None:
            label = short if short != "unknown" else f"unknown({cube.wmo})"
            unknown.add(f"{label}@{tol}{'' if lv is None else f'={lv}'}")
            continue
        row, factor, offset = found
        name = row["name"]
        if name in records:
            continue
        if (factor, offset) != (1.0, 0.0):
            sub = sub * factor + offset
        checked = _check_units(sub, row, path, report)
        if checked is None:
            continue
        sub = checked
        grid = grid or cube.grid
        init_times.update(np.atleast_1d(sub["time"].values).tolist())
        if int(row["accumulated"]):
            sub, hours = _accumulation_to_periods(sub, cube.starts, path)
            periods[name] = hours
        else:
            instant_steps.update((np.atleast_1d(sub["step"].values) / np.timedelta64(1, "h")).tolist())
        rec = _to_records(sub * float(row["scale"]) + float(row["offset"]), cube.present)
        desc = row["description"]
        rec.attrs = {"units": desc.split("[")[-1].split("]")[0], "long_name": desc[:desc.index("]") + 1],
                     "grib_short_name": short}
        records[name] = rec
        if cube.reduce is not None:
            reducers[name] = cube.reduce
    if unknown:
        report.problems.append(f"variables not used by lantian: {', '.join(sorted(unknown))}")
    if not records:
        known = variable_table()["short_name"].dropna().unique()
        raise GribReadError(f"{path}: no usable variable (found {', '.join(sorted(unknown)) or 'none'}; "
                            f"known: {', '.join(sorted(known))})")
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
        if name in reducers:  # a gridded cube of a reducing read: its target means, now that its values are final
            from .extraction import apply_weights

            weights, ids = reducers[name]
            rec = apply_weights(rec, weights, ids, _TARGET_DIM)
        out[name] = rec
    ds = xr.Dataset(out).sortby("valid_time")
    if reduce is not None:
        ds.attrs["reduced"] = _TARGET_DIM
    if forecast:
        init = pd.Timestamp(next(iter(init_times)))
        ds = ds.assign_coords(lead_hours=("valid_time", ((ds["valid_time"].values - np.datetime64(init))
                                                         / np.timedelta64(1, "h")).astype(float)))
        ds.attrs["init_time"] = init.isoformat()
    ds.attrs.update(kind=report.kind, source=str(path))
    if grid is not None:
        ds.attrs["grid_type"] = report.grid = grid.kind
        if grid.note:
            ds.attrs["grid_note"] = grid.note
    report.variables = sorted(records)
    report.missing = [v for v in CORE_VARIABLES if v not in records]
    return ds
