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


#: the archive's own area table (written to ``root/region/areas.csv``): the tests of the station reader, QC and
#: averaging do not depend on the shipped Inner Mongolia table
AREAS_CSV = """area_id,name_zh,short_zh,name_en,tier,parent_id,gb,seat_lon,seat_lat
hohhot,呼和浩特市,呼和浩特,Hohhot,city,,156150100,111.75,40.84
baotou,包头市,包头,Baotou,city,,156150200,109.84,40.66
"""


def areas() -> pd.DataFrame:
    """The archive's area table (:data:`AREAS_CSV`)."""
    import io

    return pd.read_csv(io.StringIO(AREAS_CSV), dtype={"gb": str})


def write_region(root):
    """``root/region/areas.csv``: the archive's own region."""
    (root / "region").mkdir(parents=True, exist_ok=True)
    (root / "region" / "areas.csv").write_text(AREAS_CSV, encoding="utf-8")


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
    write_region(root)
    (root / "stations").mkdir(parents=True)
    SITES.to_csv(root / "stations" / "sites.csv", index=False)
    for k, day in enumerate(pd.date_range("2024-01-01", "2024-01-04")):
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, hourly_values(k, rng), CODES)
    return root


def read_archive(archive):
    """``(history, removed, log, sites)`` of an archive written by :func:`write_archive`."""
    from forecast import cnemc

    sites = cnemc.read_station_list(archive / "stations" / "sites.csv", areas())
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


def write_constant_archive(root, pm25, days=("2024-01-01", "2024-01-03"), sites=SITES, others=None):
    """An archive of PM2.5 alone (plus ``others``, CNEMC type → value), one level per station.

    ``pm25`` maps station code → PM2.5 [µg m⁻³] (a code missing from it gets empty cells); ``sites`` is written
    as ``stations/sites.csv``. The hours alternate level + 1, level − 1 (+ 0.01 / − 0.01 for CO), so QC sees no
    stuck sensor and every complete natural day (hours ending 01:00 … 24:00) averages to the level exactly.
    Days ``days[0]`` … ``days[1]``; returns ``root``.
    """
    write_region(root)
    (root / "stations").mkdir(parents=True, exist_ok=True)
    sites.to_csv(root / "stations" / "sites.csv", index=False)
    codes = list(sites["监测点编码"])
    sign = np.where(np.arange(24) % 2 == 0, 1.0, -1.0)[:, None]
    levels = {"PM2.5": np.array([pm25.get(c, np.nan) for c in codes], dtype=float)}
    levels.update({typ: np.full(len(codes), float(v)) for typ, v in (others or {}).items()})
    for day in pd.date_range(*days):
        values = {typ: row[None, :] + sign * (0.01 if typ == "CO" else 1.0) for typ, row in levels.items()}
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, values, codes)
    return root
