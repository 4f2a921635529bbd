"""What only the demo world knows, read back: the concentrations without the cuts, and so the cuts' true effect.

Used to check the emission-cut estimator (:mod:`response.counterfactual`) against the truth on simulated episodes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import SimulationError

#: estimator target → column stem in ``truth/area_daily.csv``
COLUMNS = {"pm25": "pm25_24h", "aqi": "aqi"}


def read_area_daily(data: str | Path) -> pd.DataFrame:
    """``truth/area_daily.csv`` of a simulated world, indexed by (area_id, date)."""
    path = Path(data) / "truth" / "area_daily.csv"
    if not path.exists():
        raise SimulationError(f"{path}: no simulator truth here (only simulated worlds have truth/)")
    table = pd.read_csv(path, parse_dates=["date"])
    need = {f"{c}_{k}" for c in COLUMNS.values() for k in ("actual", "counterfactual")} | {"area_id", "date"}
    missing = sorted(need - set(table.columns))
    if missing:
        raise SimulationError(f"{path}: missing columns {', '.join(missing)}")
    return table.set_index(["area_id", "date"]).sort_index()


def true_effect(truth: pd.DataFrame, rows, target: str = "pm25") -> float:
    """Mean true effect (actual − no-cut value) over ``rows``: ``[area_id, date]`` pairs, as the estimator's
    ``effect(...)["rows"]`` lists them. [µg/m³ for ``pm25``, 1 for ``aqi``]"""
    if target not in COLUMNS:
        raise SimulationError(f"unknown target {target!r}; allowed: {', '.join(COLUMNS)}")
    if not len(rows):
        raise SimulationError("no area-days to take the true effect over")
    key = pd.MultiIndex.from_tuples([(a, pd.Timestamp(d)) for a, d in rows])
    part = truth.reindex(key)
    c = COLUMNS[target]
    diff = (part[f"{c}_actual"] - part[f"{c}_counterfactual"]).to_numpy(float)
    if not np.isfinite(diff).all():
        bad = [f"{a} {pd.Timestamp(d).date()}" for (a, d), ok in zip(key, np.isfinite(diff)) if not ok]
        raise SimulationError(f"no truth for {len(bad)} area-days, e.g. {', '.join(bad[:3])}")
    return float(diff.mean())
