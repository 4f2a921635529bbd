"""Write small GRIB files for the tests with ecCodes, from analytic fields the tests can evaluate independently."""
from __future__ import annotations

import numpy as np
import pandas as pd

from simulate.grib import Grid, GribWriter

#: a coarse grid over central Inner Mongolia (9 × 13 points)
GRID = Grid(west=104.0, east=116.0, south=38.0, north=46.0, step=1.0)


def field(name: str, t: pd.Timestamp, grid: Grid = GRID, level: int | None = None) -> np.ndarray:
    """Analytic field in GRIB units (K, Pa, m, m/s) on ``grid`` (north → south) at time ``t`` (UTC)."""
    lon, lat = np.meshgrid(grid.lon, grid.lat)
    hours = (pd.Timestamp(t) - pd.Timestamp("2024-01-01")) / pd.Timedelta(hours=1)
    phase = np.sin(2 * np.pi * hours / 24.0)
    if name == "2t":
        return 263.15 + 0.5 * (lon - 110) - 0.8 * (lat - 42) + 4 * phase
    if name == "2d":
        return field("2t", t, grid) - 5.0 - 0.1 * (lat - 38)
    if name == "10u":
        return 2.0 + 0.2 * (lon - 104) + phase
    if name == "10v":
        return -1.0 + 0.3 * (lat - 38)
    if name == "sp":
        return 90000.0 - 300.0 * (lat - 38) + 100 * phase
    if name == "msl":
        return 102500.0 + 50.0 * (lon - 104)
    if name == "blh":
        return 300.0 + 40.0 * (lon - 104) + 200 * phase + 250
    if name == "t":
        base = field("2t", t, grid)
        return base - (3.0 if level == 925 else 6.0) + 2.0
    raise KeyError(name)


def write_analysis(path, times, names=("2t", "2d", "10u", "10v", "sp", "blh"), *, grid: Grid = GRID, tp_rate=None,
                   levels=(), bits=24, tp_period=6):
    """Analysis layout: one message per time and variable (step 0); ``tp`` as ``tp_period``-h buckets ending at each
    time (``tp_rate`` [mm/h] × period, written in m); ``t`` at ``levels`` [hPa]."""
    with open(path, "wb") as fh:
        w = GribWriter(fh, grid, bits_per_value=bits)
        for t in pd.DatetimeIndex(times):
            for n in names:
                w.write(n, field(n, t, grid), time=t)
            for lv in levels:
                w.write("t", field("t", t, grid, lv), time=t, level=lv)
            if tp_rate is not None:
                amount = np.full(grid.shape, tp_rate(t) * tp_period / 1000.0)
                w.write("tp", amount, time=t - pd.Timedelta(hours=tp_period), step=tp_period, start_step=0)
        w.close()


def write_forecast(path, init, steps, names=("2t", "10u", "10v", "sp", "blh"), *, grid: Grid = GRID, tp_rate=None,
                   levels=(850, 925), bits=24):
    """Forecast layout: one run from ``init``; ``tp`` accumulated from step 0 (``tp_rate(valid)`` [mm/h] piecewise)."""
    init = pd.Timestamp(init)
    acc = 0.0
    prev = 0
    with open(path, "wb") as fh:
        w = GribWriter(fh, grid, bits_per_value=bits)
        for s in steps:
            t = init + pd.Timedelta(hours=s)
            for n in names:
                w.write(n, field(n, t, grid), time=init, step=s)
            for lv in levels:
                w.write("t", field("t", t, grid, lv), time=init, step=s, level=lv)
            if tp_rate is not None:
                acc += tp_rate(t) * (s - prev)
                w.write("tp", np.full(grid.shape, acc / 1000.0), time=init, step=s, start_step=0)
            prev = s
        w.close()


# ------------------------------------------------------------------------------------------------------------------
# Producers' encodings, written with ecCodes samples and the keys each producer sets.

#: ERA5 as the Climate Data Store delivers it in GRIB1: ECMWF local table 128, 2-m/10-m fields coded at the surface
ERA5_GRIB1_PARAMETERS = {"2t": 167, "2d": 168, "10u": 165, "10v": 166, "sp": 134, "msl": 151, "blh": 159, "tp": 228,
                         "t": 130}
#: NCEP GFS / CMA GRAPES GRIB2: (discipline, parameterCategory, parameterNumber, typeOfFirstFixedSurface, value)
WMO_PARAMETERS = {"2t": (0, 0, 0, 103, 2), "2d": (0, 0, 6, 103, 2), "10u": (0, 2, 2, 103, 10),
                  "10v": (0, 2, 3, 103, 10), "sp": (0, 3, 0, 1, 0), "prmsl": (0, 3, 1, 101, 0),
                  "blh": (0, 3, 18, 1, 0), "hpbl": (0, 3, 196, 1, 0), "tp": (0, 1, 8, 1, 0), "t": (0, 0, 0, 100, None)}
#: ERA5/IFS GRIB2 and ECMWF open data: level of each short name (ecCodes derives the rest from shortName)
IFS_LEVELS = {"2t": ("heightAboveGround", 2), "2d": ("heightAboveGround", 2), "10u": ("heightAboveGround", 10),
              "10v": ("heightAboveGround", 10), "sp": ("surface", 0), "msl": ("meanSea", 0), "blh": ("surface", 0),
              "tp": ("surface", 0), "t": ("isobaricInhPa", 850)}
ACCUMULATED = {"tp"}


def era5_grib1_keys(short: str, level: int | None = None) -> list[tuple]:
    """Keys of ERA5 GRIB1 from the CDS: ``centre=ecmf``, ``table2Version=128``, ``indicatorOfParameter``; surface
    (``indicatorOfTypeOfLevel=1``) for single-level fields, isobaric (100) for ``t``."""
    keys = [("centre", "ecmf"), ("table2Version", 128), ("indicatorOfParameter", ERA5_GRIB1_PARAMETERS[short])]
    if short == "t":
        return keys + [("indicatorOfTypeOfLevel", 100), ("level", int(level or 850))]
    return keys + [("indicatorOfTypeOfLevel", 1), ("level", 0)]


def ifs_grib2_keys(short: str, level: int | None = None, centre: str = "ecmf") -> list[tuple]:
    """Keys of ERA5/IFS GRIB2 and ECMWF open data: the ECMWF shortName at its level (2t at heightAboveGround 2)."""
    tol, default = IFS_LEVELS[short]
    return [("centre", centre), ("typeOfLevel", tol), ("level", int(default if level is None else level)),
            ("shortName", short)]


def wmo_keys(short: str, centre: str, level: int | None = None) -> list[tuple]:
    """Keys of GFS (``centre=kwbc``) or CMA (``centre=babj``) GRIB2: WMO discipline/category/number and level."""
    d, c, n, surface, value = WMO_PARAMETERS[short]
    keys = [("centre", centre), ("tablesVersion", 2), ("localTablesVersion", 1)]
    if short in ACCUMULATED:  # APCP: product template 4.8, accumulation
        keys += [("productDefinitionTemplateNumber", 8), ("typeOfStatisticalProcessing", 1)]
    keys += [("discipline", d), ("parameterCategory", c), ("parameterNumber", n),
             ("typeOfFirstFixedSurface", surface), ("scaleFactorOfFirstFixedSurface", 0)]
    if surface == 100:  # isobaric: in Pa
        keys.append(("scaledValueOfFirstFixedSurface", int(level or 850) * 100))
    else:
        keys.append(("scaledValueOfFirstFixedSurface", value))
    return keys + [("typeOfSecondFixedSurface", 255)]


def regular_ll_keys(grid: Grid, *, south_to_north: bool = False) -> list[tuple]:
    """Regular lat/lon grid keys (north → south as ECMWF/GFS write; ``south_to_north``: jScansPositively)."""
    nj, ni = grid.shape
    first, last = (grid.south, grid.north) if south_to_north else (grid.north, grid.south)
    return [("Ni", ni), ("Nj", nj), ("jScansPositively", int(south_to_north)),
            ("latitudeOfFirstGridPointInDegrees", first), ("longitudeOfFirstGridPointInDegrees", grid.west),
            ("latitudeOfLastGridPointInDegrees", last), ("longitudeOfLastGridPointInDegrees", grid.east),
            ("iDirectionIncrementInDegrees", grid.step), ("jDirectionIncrementInDegrees", grid.step),
            ("numberOfDataPoints", ni * nj)]


def gaussian_latitudes(n: int) -> np.ndarray:
    """The 2N Gaussian latitudes of a grid of number N, north → south (zeros of the Legendre polynomial). [deg]"""
    x, _ = np.polynomial.legendre.leggauss(2 * n)
    return np.degrees(np.arcsin(x))[::-1]


def regular_gg_keys(n: int) -> list[tuple]:
    """Global regular Gaussian grid F``n`` (4N longitudes)."""
    lat = gaussian_latitudes(n)
    return [("N", n), ("Ni", 4 * n), ("Nj", 2 * n), ("latitudeOfFirstGridPointInDegrees", float(lat[0])),
            ("longitudeOfFirstGridPointInDegrees", 0.0), ("latitudeOfLastGridPointInDegrees", float(lat[-1])),
            ("longitudeOfLastGridPointInDegrees", 360.0 - 90.0 / n), ("iDirectionIncrementInDegrees", 90.0 / n),
            ("numberOfDataPoints", 8 * n * n)]


def octahedral_pl(n: int) -> np.ndarray:
    """Points per latitude row of the octahedral reduced Gaussian grid O``n`` (20 + 4i, north → south)."""
    half = 20 + 4 * np.arange(n)
    return np.concatenate([half, half[::-1]])


def reduced_gg_keys(n: int) -> list[tuple]:
    """Global octahedral reduced Gaussian grid O``n`` (ECMWF IFS since 2016)."""
    lat = gaussian_latitudes(n)
    pl = octahedral_pl(n)
    return [("N", n), ("Nj", 2 * n), ("pl", pl), ("latitudeOfFirstGridPointInDegrees", float(lat[0])),
            ("longitudeOfFirstGridPointInDegrees", 0.0), ("latitudeOfLastGridPointInDegrees", float(lat[-1])),
            ("longitudeOfLastGridPointInDegrees", 360.0 - 360.0 / pl.max()), ("numberOfDataPoints", int(pl.sum()))]


def lambert_keys(nx: int = 60, ny: int = 48, dx: float = 50000.0, first=(34.0, 97.0)) -> list[tuple]:
    """Lambert conformal grid (template 3.30) over Inner Mongolia: tangent cone at 30/60°N, LoV 110°E."""
    return [("gridDefinitionTemplateNumber", 30), ("shapeOfTheEarth", 6), ("Nx", nx), ("Ny", ny),
            ("latitudeOfFirstGridPointInDegrees", first[0]), ("longitudeOfFirstGridPointInDegrees", first[1]),
            ("LaDInDegrees", 40.0), ("LoVInDegrees", 110.0), ("Latin1InDegrees", 30.0), ("Latin2InDegrees", 60.0),
            ("latitudeOfSouthernPoleInDegrees", -90.0), ("longitudeOfSouthernPoleInDegrees", 0.0),
            ("DxInMetres", dx), ("DyInMetres", dx), ("iScansNegatively", 0), ("jScansPositively", 1),
            ("numberOfDataPoints", nx * ny)]


def polar_stereographic_keys(nx: int = 50, ny: int = 50, dx: float = 60000.0, first=(30.0, 95.0)) -> list[tuple]:
    """North polar stereographic grid (template 3.20), true at 60°N, oriented along 110°E."""
    return [("shapeOfTheEarth", 6), ("Nx", nx), ("Ny", ny), ("latitudeOfFirstGridPointInDegrees", first[0]),
            ("longitudeOfFirstGridPointInDegrees", first[1]), ("LaDInDegrees", 60.0),
            ("orientationOfTheGridInDegrees", 110.0), ("DxInMetres", dx), ("DyInMetres", dx),
            ("projectionCentreFlag", 0), ("iScansNegatively", 0), ("jScansPositively", 1),
            ("numberOfDataPoints", nx * ny)]


def _set(ec, h, key, value):
    if isinstance(value, np.ndarray):
        ec.codes_set_long_array(h, key, value.astype(int).tolist())
    elif key == "numberOfDataPoints" and ec.codes_get(h, "edition") == 1:
        pass  # GRIB1 derives it from the grid
    else:
        ec.codes_set(h, key, value)


def grid_points(sample: str, grid_keys: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes ecCodes gives for a grid, in the message's order (to evaluate analytic fields)."""
    import eccodes as ec

    h = ec.codes_grib_new_from_samples(sample)
    try:
        for k, v in grid_keys:
            _set(ec, h, k, v)
        n = ec.codes_get(h, "numberOfDataPoints")
        ec.codes_set_values(h, np.zeros(n))
        return ec.codes_get_array(h, "latitudes"), ec.codes_get_array(h, "longitudes")
    finally:
        ec.codes_release(h)


class MessageWriter:
    """Append messages built from an ecCodes sample and (key, value) lists; one handle per kind of message, reused.

    ``write`` sets the time keys the producer sets: ``dataDate``/``dataTime`` of the analysis or initialisation,
    ``step`` (instant) or ``startStep``/``endStep`` (accumulations; GRIB1 timeRangeIndicator 4, GRIB2 template 4.8).
    """

    def __init__(self, fh, sample: str, grid_keys: list[tuple], *, bits_per_value: int = 16):
        import eccodes

        self._ec = eccodes
        self.fh = fh
        self.sample = sample
        self.grid_keys = grid_keys
        self.bits = bits_per_value
        self._handles: dict = {}

    def _handle(self, keys: list[tuple], accumulated: bool):
        tag = (tuple((k, str(v)) for k, v in keys), accumulated)
        if tag not in self._handles:
            ec = self._ec
            h = ec.codes_grib_new_from_samples(self.sample)
            for k, v in self.grid_keys:
                _set(ec, h, k, v)
            for k, v in keys:
                _set(ec, h, k, v)
            if accumulated and ec.codes_get(h, "stepType") != "accum":
                ec.codes_set(h, "stepType", "accum")
            ec.codes_set(h, "bitsPerValue", self.bits)
            self._handles[tag] = h
        return self._handles[tag]

    def write(self, keys: list[tuple], values: np.ndarray, *, time, step: int = 0, start_step: int | None = None):
        ec = self._ec
        accumulated = start_step is not None
        h = self._handle(keys, accumulated)
        t = pd.Timestamp(time)
        ec.codes_set(h, "dataDate", int(t.strftime("%Y%m%d")))
        ec.codes_set(h, "dataTime", int(t.strftime("%H%M")))
        if accumulated:
            ec.codes_set(h, "startStep", int(start_step))
            ec.codes_set(h, "endStep", int(step))
        else:
            ec.codes_set(h, "step", int(step))
        flat = np.asarray(values, dtype=float).ravel()
        if flat.size != ec.codes_get(h, "numberOfDataPoints"):
            raise ValueError(f"{flat.size} values for a grid of {ec.codes_get(h, 'numberOfDataPoints')} points")
        ec.codes_set_values(h, flat)
        ec.codes_write(h, self.fh)

    def close(self):
        for h in self._handles.values():
            self._ec.codes_release(h)
        self._handles.clear()


def era5_tp_base(t: pd.Timestamp) -> pd.Timestamp:
    """ERA5's accumulation base of the hour ending at ``t``: the last 06 or 18 UTC strictly before it."""
    t = pd.Timestamp(t)
    for base in (t.normalize() + pd.Timedelta(hours=18), t.normalize() + pd.Timedelta(hours=6),
                 t.normalize() - pd.Timedelta(hours=6)):
        if base < t:
            return base
    raise AssertionError(t)


def write_surface_hourly(path, times, grid: Grid, fields: dict, edition: int = 1, *, bits: int = 16) -> None:
    """ERA5-like hourly single-level file on a regular lat/lon grid, as the CDS delivers it.

    Parameters
    ----------
    path : path-like
    times : sequence of datetime-like
        Valid times (UTC), hourly.
    grid : simulate.grib.Grid
        Regular lat/lon grid (fields north → south).
    fields : dict
        ``{short_name: ndarray (n_times, n_lat, n_lon)}`` for any of ``2t, 2d, 10u, 10v, sp, tp`` (and ``msl``,
        ``blh``), in GRIB units: K, m s⁻¹, Pa, m; ``tp`` is the amount of the hour ending at each time [m].
    edition : {1, 2}
        1: GRIB1 as the CDS gives ERA5 (table 128, 2t/2d/10u/10v coded at the surface). 2: ERA5 GRIB2 (2t/2d at
        heightAboveGround 2, 10u/10v at 10).

    ``tp`` is written as ERA5 does: from the 06/18 UTC base before each hour, step = hours since it, each message the
    1-hour bucket ``startStep = step − 1``.
    """
    times = pd.DatetimeIndex(times)
    sample = "regular_ll_sfc_grib1" if edition == 1 else "regular_ll_sfc_grib2"
    with open(path, "wb") as fh:
        w = MessageWriter(fh, sample, regular_ll_keys(grid), bits_per_value=bits)
        for i, t in enumerate(times):
            for short, values in fields.items():
                keys = era5_grib1_keys(short) if edition == 1 else ifs_grib2_keys(short)
                if short in ACCUMULATED:
                    base = era5_tp_base(t)
                    step = int((t - base) / pd.Timedelta(hours=1))
                    w.write(keys, values[i], time=base, step=step, start_step=step - 1)
                else:
                    w.write(keys, values[i], time=t)
        w.close()


def linear_2t(lon, lat, t=None) -> np.ndarray:
    """An analytic 2-m temperature [K], linear in longitude (wrapped to −180…180) and latitude."""
    lon = ((np.asarray(lon, float) + 180.0) % 360.0) - 180.0
    return 263.15 + 0.5 * (lon - 110.0) - 0.8 * (np.asarray(lat, float) - 42.0)


def write_on_grid(path, sample: str, grid_keys: list[tuple], times, fields: dict | None = None, *,
                  keys=ifs_grib2_keys, bits: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Write analytic fields ``{short_name: f(lon, lat, t)}`` (default ``2t``: :func:`linear_2t`) on any grid a
    sample and its keys describe; returns the grid's latitudes and longitudes in the message's order."""
    fields = fields or {"2t": linear_2t}
    lat, lon = grid_points(sample, grid_keys)
    with open(path, "wb") as fh:
        w = MessageWriter(fh, sample, grid_keys, bits_per_value=bits)
        for t in pd.DatetimeIndex(times):
            for short, f in fields.items():
                w.write(keys(short), f(lon, lat, t), time=t)
        w.close()
    return lat, lon
