"""Writing station data in the CNEMC archive layout (``china_sites_YYYYMMDD.csv``), as the real archive has it.

Only the demo world (and the tests) write CNEMC files; the library reads them (:mod:`forecast.stations`).
:func:`write_cnemc_day` writes one day from given values; :func:`cnemc_derived` and :func:`write_cnemc` give a
whole simulated archive the derived rows CNEMC publishes (rolling 24-h means, O3 8-h, real-time AQI).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.aqi import iaqi
from forecast.nomenclature import utc_to_cst

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


def cnemc_derived(hourly: dict) -> dict:
    """CNEMC's derived rows: rolling 24-h means, O3 8-h, and the real-time AQI."""
    frames = {sp: pd.DataFrame(v) for sp, v in hourly.items()}
    r24 = {sp: frames[sp].rolling(24, min_periods=20).mean().to_numpy() for sp in frames}
    o3_8 = frames["o3"].rolling(8, min_periods=6).mean()
    with np.errstate(invalid="ignore"):
        sub = [iaqi("pm25_24h", np.clip(hourly["pm25"], 0, None)), iaqi("pm10_24h", np.clip(hourly["pm10"], 0, 1e4)),
               iaqi("so2_1h", np.clip(hourly["so2"], 0, 800)), iaqi("no2_1h", np.clip(hourly["no2"], 0, None)),
               iaqi("co_1h", np.clip(hourly["co"], 0, None)), iaqi("o3_1h", np.clip(hourly["o3"], 0, None))]
    stack = np.stack(sub)
    aqi = np.where(np.all(np.isnan(stack), axis=0), np.nan, np.nanmax(np.where(np.isnan(stack), -1, stack), axis=0))
    return {"AQI": aqi, "PM2.5": hourly["pm25"], "PM2.5_24h": r24["pm25"], "PM10": hourly["pm10"],
            "PM10_24h": r24["pm10"], "SO2": hourly["so2"], "SO2_24h": r24["so2"], "NO2": hourly["no2"],
            "NO2_24h": r24["no2"], "O3": hourly["o3"],
            "O3_24h": frames["o3"].rolling(24, min_periods=20).max().to_numpy(), "O3_8h": o3_8.to_numpy(),
            "O3_8h_24h": o3_8.rolling(24, min_periods=14).max().to_numpy(),
            "CO": hourly["co"], "CO_24h": r24["co"]}


def write_cnemc(out_dir: Path, values: dict, times_utc: pd.DatetimeIndex, codes, first_day, last_day):
    """One ``china_sites_YYYYMMDD.csv`` per CST day: hour h holds the hour ending at h (h = 0 … 23)."""
    local = utc_to_cst(times_utc)
    cols = ["date", "hour", "type", *codes]
    for day in pd.date_range(first_day, last_day, freq="D"):
        sel = np.flatnonzero((local >= day) & (local < day + pd.Timedelta(days=1)))
        if len(sel) < 24:
            continue
        blocks = [_cnemc_text(values[typ][sel], 3 if typ.startswith("CO") else 0) for typ in CNEMC_TYPE_ORDER]
        data = np.stack(blocks, axis=1).reshape(24 * len(CNEMC_TYPE_ORDER), -1)
        lead = np.column_stack([np.full(len(data), day.strftime("%Y%m%d")),
                                np.repeat(np.arange(24), len(CNEMC_TYPE_ORDER)).astype(str),
                                np.tile(CNEMC_TYPE_ORDER, 24)])
        rows = np.concatenate([lead, data], axis=1)
        text = ",".join(cols) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
        (out_dir / f"china_sites_{day:%Y%m%d}.csv").write_text(text, encoding="utf-8")


def _cnemc_text(values: np.ndarray, decimals: int) -> np.ndarray:
    """Values as CNEMC writes them: integers (CO with up to 3 decimals), empty where missing."""
    out = np.full(values.shape, "", dtype=object)
    ok = np.isfinite(values)
    if decimals == 0:
        out[ok] = np.round(values[ok]).astype(np.int64).astype(str)
    else:
        out[ok] = [f"{v:.10g}" for v in np.round(values[ok], decimals)]
    return out
