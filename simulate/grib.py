"""Writing GRIB2 with ecCodes: the demo world's writer (the simulator and the tests write real GRIB that cfgrib reads
back; the library only reads GRIB, :mod:`forecast.gribread`).

Messages use ECMWF short names (``2t, 2d, 10u, 10v, sp, msl, blh, tp, tcc`` and ``t`` on pressure levels) on a
regular lat/lon grid scanned north to south, west to east, with centre ``ecmf`` so that ecCodes' ECMWF local
tables name them. ``tp`` is written as an accumulation (``stepType=accum``) from ``start_step`` to ``step``.
Times are UTC.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: short name → (typeOfLevel, level); ``t`` takes its level from the call
LEVELS = {"2t": ("heightAboveGround", 2), "2d": ("heightAboveGround", 2), "10u": ("heightAboveGround", 10),
          "10v": ("heightAboveGround", 10), "sp": ("surface", 0), "msl": ("meanSea", 0), "blh": ("surface", 0),
          "tp": ("surface", 0), "tcc": ("surface", 0), "2r": ("heightAboveGround", 2), "t": ("isobaricInhPa", 850)}
ACCUMULATED = {"tp"}


class GribWriteError(ValueError):
    """A field that does not fit the grid or an unknown variable."""


@dataclass(frozen=True)
class Grid:
    """Regular lat/lon grid: ``lat`` from north to south, ``lon`` from west to east. [degrees]

    The default extent is the shipped Inner Mongolia domain; :func:`simulate.world.grid_extent` gives the extent
    that covers an area table.
    """

    west: float = 97.0
    east: float = 126.0
    south: float = 37.0
    north: float = 54.0
    step: float = 0.25

    @property
    def lon(self) -> np.ndarray:
        return np.round(np.arange(self.west, self.east + self.step / 2, self.step), 6)

    @property
    def lat(self) -> np.ndarray:
        return np.round(np.arange(self.north, self.south - self.step / 2, -self.step), 6)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.lat), len(self.lon)


class GribWriter:
    """Append GRIB2 messages to an open binary file from one prepared handle per variable and level.

    The handle is reused across messages (cloning costs as much as packing): date, time, step and values are set
    for every message, so nothing carries over from the previous one.
    """

    def __init__(self, fh, grid: Grid, *, bits_per_value: int = 12):
        import eccodes

        self._ec = eccodes
        self.fh = fh
        self.grid = grid
        self.bits = bits_per_value
        self._templates: dict = {}

    def _template(self, short_name: str, level: int | None):
        key = (short_name, level)
        if key in self._templates:
            return self._templates[key]
        if short_name not in LEVELS:
            raise GribWriteError(f"unknown variable {short_name!r}; allowed: {', '.join(LEVELS)}")
        ec = self._ec
        g = self.grid
        h = ec.codes_grib_new_from_samples("regular_ll_sfc_grib2")
        nj, ni = g.shape
        for k, v in (("centre", "ecmf"), ("Ni", ni), ("Nj", nj), ("latitudeOfFirstGridPointInDegrees", g.north),
                     ("longitudeOfFirstGridPointInDegrees", g.west), ("latitudeOfLastGridPointInDegrees", g.south),
                     ("longitudeOfLastGridPointInDegrees", g.east), ("iDirectionIncrementInDegrees", g.step),
                     ("jDirectionIncrementInDegrees", g.step), ("numberOfDataPoints", ni * nj)):
            ec.codes_set(h, k, v)
        type_of_level, default_level = LEVELS[short_name]
        ec.codes_set(h, "typeOfLevel", type_of_level)
        ec.codes_set(h, "level", int(default_level if level is None else level))
        ec.codes_set(h, "shortName", short_name)
        if short_name in ACCUMULATED:
            ec.codes_set(h, "stepType", "accum")
        ec.codes_set(h, "bitsPerValue", self.bits)
        self._templates[key] = h
        return h

    def write(self, short_name: str, values: np.ndarray, *, time, step: int = 0, start_step: int = 0,
              level: int | None = None) -> None:
        """Write one field.

        Parameters
        ----------
        short_name : str
            ECMWF short name (``2t``, ``blh``, ``tp``, ``t`` …).
        values : ndarray (n_lat, n_lon)
            The field on the grid, north to south. Units as ECMWF: K, m s⁻¹, Pa, m, m of water for ``tp``.
        time : datetime-like
            Analysis time or forecast initialisation (UTC).
        step : int
            Forecast step (end of the accumulation for ``tp``). [h]
        start_step : int
            Start of the accumulation period for ``tp``. [h]
        level : int, optional
            Pressure level for ``t``. [hPa]
        """
        values = np.asarray(values, dtype=float)
        if values.shape != self.grid.shape:
            raise GribWriteError(f"{short_name}: field shape {values.shape} does not match the grid {self.grid.shape}")
        ec = self._ec
        h = self._template(short_name, level)  # reused: every key that differs per message is set below
        t = pd.Timestamp(time)
        ec.codes_set(h, "dataDate", int(t.strftime("%Y%m%d")))
        ec.codes_set(h, "dataTime", int(t.strftime("%H%M")))
        if short_name in ACCUMULATED:
            ec.codes_set(h, "startStep", int(start_step))
            ec.codes_set(h, "endStep", int(step))
        else:
            ec.codes_set(h, "step", int(step))
        flat = values.ravel()
        # guard against a template/grid mismatch (numberOfDataPoints is not derived from Ni × Nj)
        expected = ec.codes_get(h, "Ni") * ec.codes_get(h, "Nj")
        if expected != flat.size or ec.codes_get(h, "numberOfDataPoints") != flat.size:
            raise GribWriteError(f"{short_name}: {flat.size} values for a grid of {expected} points")
        ec.codes_set_values(h, flat)
        ec.codes_write(h, self.fh)

    def close(self):
        for h in self._templates.values():
            self._ec.codes_release(h)
        self._templates.clear()
