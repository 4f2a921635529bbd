"""Real loaders for gridded meteorology: ERA5 from the Copernicus Climate Data Store and ECMWF IFS open data.

Request builders are pure (tests check exactly what would be sent); the download functions take a client (the
real ``cdsapi.Client()`` / ``ecmwf.opendata.Client()`` by default, from the optional extra ``lantian[loaders]``) and
write files into the data-directory layout that :mod:`forecast.meteorology` reads::

    DIR/meteorology/analysis/era5_sfc_YYYYMM.grib  and  era5_pl_YYYYMM.grib
    DIR/meteorology/forecast/YYYYMMDDHH/ifs_open_YYYYMMDDHH_sfc.grib2  and  _pl.grib2

ERA5 needs a CDS account (``~/.cdsapirc``); open data needs nothing but the network. Nothing here runs in tests
against the network.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: the Inner Mongolia box [north, west, south, east] as CDS "area" (degrees)
AREA = (54.0, 97.0, 37.0, 126.0)
ERA5_SINGLE = "reanalysis-era5-single-levels"
ERA5_PRESSURE = "reanalysis-era5-pressure-levels"
#: ECMWF short name → CDS variable name
ERA5_SINGLE_VARIABLES = {"2t": "2m_temperature", "2d": "2m_dewpoint_temperature",
                         "10u": "10m_u_component_of_wind", "10v": "10m_v_component_of_wind",
                         "sp": "surface_pressure", "msl": "mean_sea_level_pressure",
                         "blh": "boundary_layer_height", "tp": "total_precipitation", "tcc": "total_cloud_cover"}
ERA5_PRESSURE_LEVELS = (850, 925)
#: open data parameters (there is no boundary-layer height in IFS open data: ventilation needs ERA5 or another model)
OPENDATA_SFC = ("2t", "2d", "10u", "10v", "sp", "msl", "tp", "tcc")
OPENDATA_PL = ("t",)
OPENDATA_STEPS = tuple(range(0, 145, 6)) + (150, 156, 162, 168)


class LoaderError(ValueError):
    """A request that cannot be built (bad dates, hours, steps)."""


@dataclass(frozen=True)
class Request:
    """One retrieval: the dataset (CDS) or ``"opendata"``, the request and the file it writes."""

    dataset: str
    request: dict
    target: Path


def era5_requests(start, end, out: str | Path, *, hours=(0, 6, 12, 18), area=AREA, grid: float = 0.25,
                  variables=tuple(ERA5_SINGLE_VARIABLES)) -> list[Request]:
    """Monthly ERA5 requests (single levels and 850/925-hPa temperature) covering ``start`` … ``end`` (UTC days).

    Parameters
    ----------
    start, end : date-like
        First and last day.
    out : path-like
        Data directory; files go to ``out/meteorology/analysis``.
    hours : sequence of int
        Analysis hours [UTC]; 0–23. ERA5 precipitation comes as hourly buckets whatever the hours chosen, so ask for
        every hour if daily precipitation totals must be complete.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        raise LoaderError(f"end {end.date()} is before start {start.date()}")
    bad = [h for h in hours if not 0 <= int(h) <= 23]
    if bad:
        raise LoaderError(f"hours {bad} outside 0–23")
    unknown = [v for v in variables if v not in ERA5_SINGLE_VARIABLES]
    if unknown:
        raise LoaderError(f"unknown ERA5 variable(s) {unknown}; allowed: {', '.join(ERA5_SINGLE_VARIABLES)}")
    folder = Path(out) / "meteorology" / "analysis"
    times = [f"{int(h):02d}:00" for h in sorted(set(hours))]
    out_reqs = []
    for month in pd.period_range(start, end, freq="M"):
        first = max(start, month.start_time)
        last = min(end, month.end_time.normalize())
        days = [f"{d:02d}" for d in range(first.day, last.day + 1)]
        common = {"product_type": ["reanalysis"], "year": [f"{month.year}"], "month": [f"{month.month:02d}"],
                  "day": days, "time": times, "data_format": "grib", "download_format": "unarchived",
                  "area": list(area), "grid": [grid, grid]}
        tag = f"{month.year}{month.month:02d}"
        out_reqs.append(Request(ERA5_SINGLE, {**common, "variable": [ERA5_SINGLE_VARIABLES[v] for v in variables]},
                                folder / f"era5_sfc_{tag}.grib"))
        out_reqs.append(Request(ERA5_PRESSURE, {**common, "variable": ["temperature"],
                                                "pressure_level": [str(p) for p in ERA5_PRESSURE_LEVELS]},
                                folder / f"era5_pl_{tag}.grib"))
    return out_reqs


def opendata_requests(init, out: str | Path, *, steps=OPENDATA_STEPS) -> list[Request]:
    """ECMWF IFS open-data requests for one run (surface parameters and 850/925-hPa temperature).

    Parameters
    ----------
    init : datetime-like
        Initialisation (UTC); 00, 06, 12 or 18 UTC (runs beyond 90 h exist for 00 and 12 UTC only).
    """
    init = pd.Timestamp(init)
    if init.hour not in (0, 6, 12, 18) or init.minute:
        raise LoaderError(f"initialisation {init} is not 00, 06, 12 or 18 UTC")
    if init.hour in (6, 18) and max(steps) > 90:
        raise LoaderError(f"the {init.hour:02d} UTC runs reach 90 h; asked for {max(steps)} h")
    bad = [s for s in steps if s < 0 or (s > 144 and s % 6) or s > 360 or s % 3]
    if bad:
        raise LoaderError(f"steps {bad} are not open-data steps (0–144 every 3 h, 150–360 every 6 h)")
    tag = init.strftime("%Y%m%d%H")
    folder = Path(out) / "meteorology" / "forecast" / tag
    base = {"date": init.strftime("%Y-%m-%d"), "time": init.hour, "stream": "oper", "type": "fc",
            "step": [int(s) for s in steps]}
    return [Request("opendata", {**base, "levtype": "sfc", "param": list(OPENDATA_SFC)},
                    folder / f"ifs_open_{tag}_sfc.grib2"),
            Request("opendata", {**base, "levtype": "pl", "levelist": list(ERA5_PRESSURE_LEVELS),
                                 "param": list(OPENDATA_PL)}, folder / f"ifs_open_{tag}_pl.grib2")]


def _fetch(requests: list[Request], retrieve, overwrite: bool) -> list[Path]:
    written = []
    for r in requests:
        if r.target.exists() and not overwrite:
            written.append(r.target)
            continue
        r.target.parent.mkdir(parents=True, exist_ok=True)
        part = r.target.with_name(r.target.name + ".part")
        retrieve(r, part)
        if not part.exists() or part.stat().st_size == 0:
            raise OSError(f"{r.target}: the download wrote nothing")
        os.replace(part, r.target)  # a broken download never replaces a good file
        written.append(r.target)
    return written


def download_era5(requests: list[Request], *, client=None, overwrite: bool = False) -> list[Path]:
    """Retrieve ERA5 requests with ``cdsapi`` (files already present are kept unless ``overwrite``)."""
    if client is None:
        try:
            import cdsapi
        except ImportError:
            raise LoaderError("ERA5 downloads need cdsapi: pip install 'lantian[loaders]'") from None
        client = cdsapi.Client()
    return _fetch(requests, lambda r, part: client.retrieve(r.dataset, r.request, str(part)), overwrite)


def download_opendata(requests: list[Request], *, client=None, overwrite: bool = False) -> list[Path]:
    """Retrieve IFS open-data requests with ``ecmwf-opendata``."""
    if client is None:
        try:
            from ecmwf.opendata import Client
        except ImportError:
            raise LoaderError("open-data downloads need ecmwf-opendata: pip install 'lantian[loaders]'") from None
        client = Client(source="ecmwf")
    return _fetch(requests, lambda r, part: client.retrieve(**r.request, target=str(part)), overwrite)
