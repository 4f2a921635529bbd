"""A small CNEMC archive (four stations, one a background station) and tidy-history builders for the station tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

from simulate.cnemc import write_cnemc_day

CODES = ["1001A", "1002A", "1003A", "1004A"]
SITES = pd.DataFrame({"监测点编码": CODES, "监测点名称": ["市监测站", "工业园", "昆区", "对照点"],
                      "城市": ["呼和浩特", "呼和浩特", "包头", "呼和浩特"],
                      "经度": [111.6, 111.7, 109.8, 111.9], "纬度": [40.8, 40.9, 40.6, 41.2],
                      "对照点": ["N", "N", "N", "Y"]})


def hourly_values(day_index, rng, n=len(CODES)):
    """One day of CNEMC rows per ``type`` (24 × n), rising by 10 µg m⁻³ PM2.5 a day, with two derived types."""
    base = 40 + 10 * day_index
    pm25 = np.round(base + rng.uniform(0, 20, (24, n)))
    return {"PM2.5": pm25, "PM10": pm25 * 1.6, "SO2": np.full((24, n), 12.0) + rng.integers(0, 3, (24, n)),
            "NO2": np.round(rng.uniform(20, 60, (24, n))), "O3": np.round(rng.uniform(10, 120, (24, n))),
            "CO": np.round(rng.uniform(0.4, 1.8, (24, n)), 3), "AQI": np.full((24, n), 99.0),
            "PM2.5_24h": np.full((24, n), 50.0)}


def write_archive(root):
    """``root/stations/sites.csv`` and four daily files 2024-01-01 … 04; returns ``root``."""
    rng = np.random.default_rng(1)
    (root / "stations").mkdir(parents=True)
    SITES.to_csv(root / "stations" / "sites.csv", index=False)
    for k, day in enumerate(pd.date_range("2024-01-01", "2024-01-04")):
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, hourly_values(k, rng), CODES)
    return root


def read_archive(archive):
    """``(history, removed, log, sites)`` of an archive written by :func:`write_archive`."""
    from forecast import cnemc

    sites = cnemc.read_station_list(archive / "stations" / "sites.csv")
    return (*cnemc.read_cnemc_archive(archive / "stations", sites), sites)


def tidy(rows):
    """A tidy history from ``(time, station, pollutant, value)`` rows (naive times taken as CST)."""
    frame = pd.DataFrame(rows, columns=["time", "station", "pollutant", "value"])
    frame["time"] = pd.to_datetime(frame["time"]).dt.tz_localize("Asia/Shanghai")
    frame["area_id"] = "hohhot"
    return frame


def hourly(station, pollutant, start, values):
    """A tidy history of one station and pollutant from consecutive hourly ``values`` (NaN rows left out)."""
    t = pd.date_range(start, periods=len(values), freq="h")
    return tidy([(ti, station, pollutant, v) for ti, v in zip(t, values) if not np.isnan(v)])
