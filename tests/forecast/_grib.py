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
