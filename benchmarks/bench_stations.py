"""One year of CNEMC hourly archive for 60 stations: read, QC, area daily AQI.

Baseline: a plain ``pandas.read_csv`` of every file (parsing only), in the same run.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import averaging, cnemc, qc
from simulate.cnemc import write_cnemc_day
from forecast.areas import load_areas

from ._util import header, max_rss_mib, timed


def make_archive(root: Path, n_stations: int = 60, days: int = 365, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    areas = load_areas()
    cities = areas[areas["tier"] == "city"]["name_zh"].tolist()
    codes = [f"{1001 + i}A" for i in range(n_stations)]
    sites = pd.DataFrame({"监测点编码": codes, "监测点名称": [f"站{i}" for i in range(n_stations)],
                          "城市": [cities[i % len(cities)] for i in range(n_stations)],
                          "经度": rng.uniform(105, 120, n_stations), "纬度": rng.uniform(39, 45, n_stations)})
    (root / "stations").mkdir(parents=True, exist_ok=True)
    sites.to_csv(root / "stations" / "sites.csv", index=False)
    for day in pd.date_range("2024-01-01", periods=days):
        pm25 = rng.gamma(2.0, 25.0, (24, n_stations)).round()
        vals = {"AQI": pm25, "PM2.5": pm25, "PM2.5_24h": pm25, "PM10": (pm25 * 1.7).round(),
                "PM10_24h": pm25, "SO2": rng.uniform(5, 40, (24, n_stations)).round(),
                "SO2_24h": pm25, "NO2": rng.uniform(10, 70, (24, n_stations)).round(), "NO2_24h": pm25,
                "O3": rng.uniform(5, 160, (24, n_stations)).round(), "O3_24h": pm25, "O3_8h": pm25,
                "O3_8h_24h": pm25, "CO": rng.uniform(0.3, 2.5, (24, n_stations)), "CO_24h": pm25}
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, vals, codes)
    return sites


def run():
    header("station history: 1 year x 60 stations (CNEMC archive)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_archive(root)
        files = cnemc.archive_files(root / "stations")
        sites = cnemc.read_station_list(root / "stations" / "sites.csv")
        r = {}
        with timed(r, "baseline_read_csv"):
            n_raw = sum(len(pd.read_csv(f)) for f in files)
        with timed(r, "read"):
            history, removed, log = cnemc.read_cnemc_archive(files, sites)
        with timed(r, "qc"):
            clean, removed_qc = qc.quality_control(history)
        with timed(r, "area_daily"):
            daily = averaging.area_daily(clean, sites)
        with timed(r, "area_rolling_24h"):
            rolling = averaging.area_rolling_24h(clean, sites)
        rows = len(history)
        print(f"files {len(files)}, CSV rows {n_raw}, hourly values {rows}")
        print(f"baseline pandas.read_csv only : {r['baseline_read_csv']:7.2f} s")
        print(f"lantian read_cnemc_archive    : {r['read']:7.2f} s  {rows / r['read']:,.0f} values/s  "
              f"ratio to baseline {r['read'] / r['baseline_read_csv']:.2f}x")
        print(f"quality_control               : {r['qc']:7.2f} s  ({len(removed_qc)} removed)")
        print(f"area daily AQI                : {r['area_daily']:7.2f} s  ({len(daily)} area-days)")
        print(f"area rolling-24h AQI          : {r['area_rolling_24h']:7.2f} s  ({len(rolling)} area-hours)")
        print(f"max RSS so far {max_rss_mib():.0f} MiB")
        return r


if __name__ == "__main__":
    run()
