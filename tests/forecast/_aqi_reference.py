"""The per-row table AQI as it was before vectorisation (lantian 3408eb7), kept as an independent reference.

:func:`aqi_reference` computes the IAQI columns with :func:`forecast.aqi.iaqi` and then the AQI, category, primary
and exceeding pollutants row by row in Python; the vectorised :func:`forecast.aqi.aqi` must give the same table.
The benchmark (``benchmarks/bench_aqi_cache.py``) times it as the baseline.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.aqi import POLLUTANT_NAMES, POLLUTANTS, AQIError, category, iaqi


def _base(key: str) -> str:
    return key.split("_")[0]


def aqi_reference(table: pd.DataFrame, *, standard: str = "HJ633-2012", date_column: str | None = None,
                  above_top: str = "cap") -> pd.DataFrame:
    keys = [k for k in POLLUTANTS if k in table.columns]
    if not keys:
        raise AQIError("no pollutant column in table")
    dates = None
    if standard == "auto":
        dates = table[date_column].to_numpy()
    out = pd.DataFrame(index=table.index)
    for key in keys:
        fb = None
        if key == "so2_1h" and "so2_24h" in table.columns:
            fb = table["so2_24h"].to_numpy(dtype=float)
        elif key == "o3_8h" and "o3_1h" in table.columns:
            fb = table["o3_1h"].to_numpy(dtype=float)
        out[f"iaqi_{key}"] = iaqi(key, table[key].to_numpy(dtype=float), standard=standard, dates=dates,
                                  above_top=above_top, fallback=fb)
    sub = out[[f"iaqi_{k}" for k in keys]].to_numpy()
    all_nan = np.all(np.isnan(sub), axis=1)
    total = np.where(all_nan, np.nan, np.nanmax(np.where(np.isnan(sub), -np.inf, sub), axis=1))
    out["aqi"] = total
    cats = category(total)
    cats.index = out.index
    out = pd.concat([out, cats], axis=1)
    names = np.array([POLLUTANT_NAMES[_base(k)] for k in keys], dtype=object)
    primary, exceeding = [], []
    for row, value in zip(sub, total):
        if np.isnan(value) or value <= 50:
            primary.append(None)
        else:
            primary.append(",".join(dict.fromkeys(names[row == value])))
        over = names[np.nan_to_num(row, nan=-1) > 100]
        exceeding.append(",".join(dict.fromkeys(over)) if len(over) else None)
    out["primary_pollutant"] = pd.array(primary, dtype="string")
    out["exceeding_pollutants"] = pd.array(exceeding, dtype="string")
    base = np.array([_base(k) for k in keys], dtype=object)
    species = [sp for sp in POLLUTANT_NAMES if sp in set(base)]
    used = np.column_stack([~np.isnan(sub[:, base == sp]).all(axis=1) for sp in species])
    label = np.array([POLLUTANT_NAMES[sp] for sp in species], dtype=object)
    code = used.astype(np.int64) @ (1 << np.arange(len(species), dtype=np.int64))
    names_of = {c: ",".join(label[(c >> np.arange(len(species))) & 1 == 1]) or None for c in np.unique(code)}
    out["aqi_pollutants"] = pd.array([names_of[c] for c in code], dtype="string")
    out["aqi_partial"] = (used.sum(axis=1) < len(POLLUTANT_NAMES)) & ~all_nan
    return out
