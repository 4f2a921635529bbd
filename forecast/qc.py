"""Quality control of hourly station values: what is removed, and why.

Checks, in order, on the tidy ``history`` table of :mod:`forecast.cnemc`: duplicate (time, station, pollutant)
rows, negative values, values above a pollutant's plausible hourly maximum, stuck sensors (a run of identical
values), and PM2.5 above PM10 in the same station-hour. Every removed value is returned with its reason
(:data:`QC_REASONS`); nothing is dropped silently. Any subset of the species may be present: the PM2.5 ≤ PM10 check
needs both in the same station-hour and is not applied where PM10 is missing (an archive of PM2.5 alone passes
it untouched; :func:`checks_not_applied` says so for the history report). The limits are data (``forecast/data/qc_limits.csv``, lantian
defaults), loaded by :func:`load_qc_limits` with a ``path=`` override.

References
----------
.. [1] HJ 817-2018 Technical Specifications for Operation and Quality Control of Ambient Air Quality Continuous
   Automated Monitoring System for PM10 and PM2.5: the practice of flagging repeated identical values, cited by the
   shipped limits table (the run lengths and maxima themselves are lantian defaults).
.. [2] HJ 663-2013 Technical Regulation for Ambient Air Quality Assessment (on trial), clause 6: only valid
   hourly values enter the 24-h and 8-h means (:mod:`forecast.averaging`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .tables import read_commented_csv
from .cnemc import StationDataError
from .nomenclature import SPECIES

DATA_DIR = Path(__file__).parent / "data"
#: the reasons a value can be removed (the reader's ``non_numeric`` and the checks of :func:`quality_control`)
QC_REASONS = ("non_numeric", "duplicate", "negative", "implausible", "stuck", "pm25_gt_pm10")


def load_qc_limits(path: str | Path | None = None) -> pd.DataFrame:
    """Quality-control limits per pollutant.

    Parameters
    ----------
    path : path-like, optional
        CSV ``pollutant,max_hourly,stuck_hours`` (``#`` lines are comments); default the shipped
        ``forecast/data/qc_limits.csv``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``pollutant``: ``max_hourly`` (largest plausible 1-h value) [µg m⁻³; mg m⁻³ for CO] and
        ``stuck_hours`` (run of identical values that marks a stuck sensor) [h].

    Raises
    ------
    StationDataError
        The table lacks a row for one of the species.
    """
    table = read_commented_csv(path or DATA_DIR / "qc_limits.csv").set_index("pollutant")
    missing = set(SPECIES) - set(table.index)
    if missing:
        raise StationDataError(f"QC limits table {path}: no row for {sorted(missing)}")
    return table


def quality_control(history: pd.DataFrame, *, limits: pd.DataFrame | None = None,
                    pm_tolerance: float = 5.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove bad hourly values and record each removal with its reason.

    Checks, in order: duplicate (time, station, pollutant) rows (the first is kept); negative values; values above
    the pollutant's ``max_hourly``; stuck sensors (identical values on at least ``stuck_hours`` consecutive hours);
    PM2.5 above PM10 + ``pm_tolerance`` in the same station-hour (both values removed; station-hours without a
    PM10 value are not checked).

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values (``time, station, pollutant, value``, :data:`forecast.cnemc.HISTORY_COLUMNS`).
    limits : pandas.DataFrame, optional
        From :func:`load_qc_limits` (default: the shipped table).
    pm_tolerance : float
        Allowance for instrument noise in the PM2.5 ≤ PM10 check. [µg m⁻³]

    Returns
    -------
    clean : pandas.DataFrame
        ``history`` without the removed values.
    removed : pandas.DataFrame
        ``time, station, pollutant, value, raw, reason, source`` with ``reason`` in :data:`QC_REASONS`.
    """
    limits = load_qc_limits() if limits is None else limits
    h = history.sort_values(["station", "pollutant", "time"], kind="stable").reset_index(drop=True)
    reason = pd.Series(pd.NA, index=h.index, dtype="string")

    dup = h.duplicated(["time", "station", "pollutant"], keep="first")
    reason[dup] = "duplicate"
    value = h["value"].to_numpy(float)
    reason[(value < 0) & reason.isna().to_numpy()] = "negative"
    max_hourly = h["pollutant"].map(limits["max_hourly"]).to_numpy(float)
    reason[(value > max_hourly) & reason.isna().to_numpy()] = "implausible"

    live = reason.isna().to_numpy()
    idx = np.flatnonzero(live)
    if len(idx):
        sub = h.iloc[idx]
        v = sub["value"].to_numpy(float)
        t = _time_ns(sub["time"])
        series = _codes(sub["station"]) * 16 + _codes(sub["pollutant"])
        key_change = series != np.roll(series, 1)
        step = np.diff(t, prepend=t[:1]) != 3_600_000_000_000
        new_run = key_change | step | (v != np.roll(v, 1))
        new_run[0] = True
        run_id = np.cumsum(new_run)
        run_len = np.bincount(run_id)[run_id]
        stuck_hours = sub["pollutant"].map(limits["stuck_hours"]).to_numpy(float)
        stuck = run_len >= stuck_hours
        reason.iloc[idx[stuck]] = "stuck"

    live = reason.isna().to_numpy()
    pollutant = h["pollutant"].to_numpy(dtype=object)
    is25, is10 = live & (pollutant == "pm25"), live & (pollutant == "pm10")
    if is25.any() and is10.any():
        key = _codes(h["station"]).astype(np.int64) * (1 << 40) + _time_ns(h["time"]) // 3_600_000_000_000
        pm10 = pd.Series(value[is10], index=key[is10])
        paired = pm10.reindex(key[is25]).to_numpy()
        bad_keys = key[is25][value[is25] > paired + pm_tolerance]
        if len(bad_keys):
            hit = np.isin(key, bad_keys) & (is25 | is10)
            reason[hit] = "pm25_gt_pm10"

    drop = reason.notna().to_numpy()
    removed = h.loc[drop, ["time", "station", "pollutant", "value"]].copy()
    removed["raw"] = h.loc[drop, "value"].map(repr).astype("string")
    removed["reason"] = reason[drop]
    removed["source"] = "qc"
    return h.loc[~drop].reset_index(drop=True), removed.reset_index(drop=True)


def checks_not_applied(history: pd.DataFrame) -> list[str]:
    """The checks of :func:`quality_control` that the species of ``history`` leave nothing to apply to.

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values (column ``pollutant``).

    Returns
    -------
    list of str
        e.g. ``["pm25_gt_pm10 (no PM10 values)"]``; empty when every check applies.
    """
    present = set(history["pollutant"].dropna().unique()) if len(history) else set()
    missing = [name for sp, name in (("pm25", "PM2.5"), ("pm10", "PM10")) if sp not in present]
    return [f"pm25_gt_pm10 (no {' or '.join(missing)} values)"] if missing else []


def _time_ns(times: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of a tz-aware or naive datetime Series, without object arrays."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _codes(values: pd.Series) -> np.ndarray:
    return pd.Categorical(values).codes.astype(np.int64)


def qc_summary(removed: pd.DataFrame) -> pd.DataFrame:
    """Counts of removed values per reason and pollutant.

    Parameters
    ----------
    removed : pandas.DataFrame
        Removals from :func:`quality_control` and/or the reader (columns ``reason``, ``pollutant``).

    Returns
    -------
    pandas.DataFrame
        ``reason, pollutant, count``.
    """
    if removed.empty:
        return pd.DataFrame(columns=["reason", "pollutant", "count"])
    return removed.groupby(["reason", "pollutant"]).size().rename("count").reset_index()
