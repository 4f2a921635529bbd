"""Writing station data in the CNEMC archive layout (``china_sites_YYYYMMDD.csv``), as the real archive has it.

Only the simulator and the tests write CNEMC files; the library reads them (:mod:`forecast.stations`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: row order of the ``type`` column in real CNEMC daily files
CNEMC_TYPE_ORDER = ("AQI", "PM2.5", "PM2.5_24h", "PM10", "PM10_24h", "SO2", "SO2_24h", "NO2", "NO2_24h",
                    "O3", "O3_24h", "O3_8h", "O3_8h_24h", "CO", "CO_24h")


def write_cnemc_day(path: str | Path, day, values: dict, station_codes) -> Path:
    """Write one ``china_sites_YYYYMMDD.csv`` in the CNEMC layout.

    Parameters
    ----------
    path : path-like
        Output file.
    day : date-like
        The file's date (``date`` column, YYYYMMDD).
    values : dict of str → ndarray (24, n_stations)
        Per CNEMC ``type`` (``"PM2.5"``, ``"PM10_24h"``, ``"AQI"`` …) the values of hours 0–23; NaN is written as
        an empty cell. Types are written in the CNEMC order; types not given are omitted.
    station_codes : sequence of str
        Column names (``1001A`` …).
    """
    day = pd.Timestamp(day)
    codes = list(station_codes)
    lines = [",".join(["date", "hour", "type", *codes])]
    stamp = day.strftime("%Y%m%d")
    for hour in range(24):
        for typ in CNEMC_TYPE_ORDER:
            if typ not in values:
                continue
            row = np.asarray(values[typ], dtype=float)[hour]
            fmt = "{:.3f}" if typ.startswith("CO") else "{:.0f}"
            cells = ["" if np.isnan(v) else fmt.format(v) for v in row]
            lines.append(",".join([stamp, str(hour), typ, *cells]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
