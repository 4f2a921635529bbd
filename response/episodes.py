"""Heavy-pollution episodes and their records: the window (given, or detected from the observed daily AQI), the
areas, the warnings that were in force, the forecasts issued before and during it, the forecasts the warnings were
decided on, and the episode's timeline of observations, warnings and forecasts.

Records of a data directory ``DIR``
    The warnings record (:func:`warnings_record`): the audit store when it exists and holds warning decisions
    (issued / upgraded / downgraded / lifted / cancelled events), else ``DIR/warnings/issued.csv``
    (:data:`ISSUED_WARNINGS`) when present, else none. The CSV has one row per area and day a warning was in
    force: ``area_id, date, level[, issued]`` — ``level`` one of yellow / orange / red, ``issued`` the issue date
    of the warning that governs the day (for the lead time).

    The decision forecasts (:func:`decision_forecasts_record`): ``DIR/forecasts/decision_forecasts.csv``
    (:data:`DECISION_FORECASTS`), one row per forecast the warnings were decided on:
    ``area_id, issue_date, target_date, lead_day, aqi``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.nomenclature import HEAVY_AQI, TZ, DateError, parse_day

#: the issued-warnings record of a data directory (relative to it)
ISSUED_WARNINGS = "warnings/issued.csv"
#: the forecasts the warnings were decided on (relative to the data directory)
DECISION_FORECASTS = "forecasts/decision_forecasts.csv"
WARNING_COLUMNS = ["area_id", "date", "level", "issued"]


class EvaluationError(ValueError):
    """An episode that cannot be evaluated (bad window, unknown area, no data)."""


# ---- the window --------------------------------------------------------------------------------------------------

def parse_episode(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``"START:END"`` (``YYYY-MM-DD:YYYY-MM-DD``) → the first and last day.

    Raises
    ------
    EvaluationError
        Not two dates separated by a colon, or the end before the start.
    """
    parts = str(text).split(":")
    try:
        if len(parts) != 2:
            raise DateError("not two dates")
        start, end = parse_day(parts[0], "START"), parse_day(parts[1], "END")
    except DateError:
        raise EvaluationError(f"episode {text!r}: expected START:END (YYYY-MM-DD:YYYY-MM-DD)") from None
    if end < start:
        raise EvaluationError(f"episode {text!r}: end before start (END {end.date()} < START {start.date()})")
    return start, end


def check_window(obs_daily: pd.DataFrame, start, end, *, what: str = "episode") -> None:
    """Refuse a window that does not lie within the days with an observed AQI (the message names the data's first
    and last day).

    Raises
    ------
    EvaluationError
        A window starting before the first observed day or ending after the last, or no observed day at all.
    """
    if "aqi" in obs_daily.columns:  # a day of a few hours (the 24:00 value before the first file) has no AQI
        obs_daily = obs_daily[obs_daily["aqi"].notna()]
    days = obs_daily.index.get_level_values("date") if "date" in obs_daily.index.names else obs_daily["date"]
    if not len(days):
        raise EvaluationError("the station data hold no observed day")
    first, last = pd.Timestamp(days.min()).normalize(), pd.Timestamp(days.max()).normalize()
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if start < first or end > last:
        raise EvaluationError(f"{what} {start.date()}:{end.date()} lies outside the data: the station data cover "
                              f"{first.date()} … {last.date()}")


def detect_episodes(obs_daily: pd.DataFrame, *, threshold: float = HEAVY_AQI, gap_days: int = 1) -> pd.DataFrame:
    """Episodes from observed daily AQI: runs of days with AQI > threshold in any area, merged across areas when
    they overlap or are at most ``gap_days`` apart. Columns: start, end, areas, heavy_area_days, peak_aqi."""
    d = obs_daily.reset_index()
    heavy = d[d["aqi"] > threshold].sort_values("date")
    if heavy.empty:
        return pd.DataFrame(columns=["start", "end", "areas", "heavy_area_days", "peak_aqi"])
    days = heavy.groupby("date")
    rows, cur = [], None
    for date, g in days:
        if cur and (date - cur["end"]).days <= gap_days + 1:
            cur["end"] = date
            cur["areas"] |= set(g["area_id"])
            cur["n"] += len(g)
            cur["peak"] = max(cur["peak"], float(g["aqi"].max()))
        else:
            if cur:
                rows.append(cur)
            cur = {"start": date, "end": date, "areas": set(g["area_id"]), "n": len(g), "peak": float(g["aqi"].max())}
    rows.append(cur)
    return pd.DataFrame([{"start": r["start"], "end": r["end"], "areas": sorted(r["areas"]),
                          "heavy_area_days": r["n"], "peak_aqi": r["peak"]} for r in rows])


def episode_areas(obs_daily: pd.DataFrame, start, end, areas: list[str] | None = None, *, known=None,
                  threshold: float = HEAVY_AQI) -> list[str]:
    """The areas of an episode: ``areas`` when given (checked against ``known``), else those with a day of AQI >
    ``threshold`` in the window, else every observed area.

    Raises
    ------
    EvaluationError
        An area of ``areas`` that is not in ``known``.
    """
    if areas:
        if known is not None:
            known = set(known)
            bad = [a for a in areas if a not in known]
            if bad:
                raise EvaluationError(f"unknown area(s) {bad}; allowed: {', '.join(sorted(known))}")
        return areas
    win = obs_daily.reset_index()
    win = win[(win["date"] >= start) & (win["date"] <= end)]
    return sorted(win.loc[win["aqi"] > threshold, "area_id"].unique()) or sorted(win["area_id"].unique())


def quiet_windows(warnings: pd.DataFrame, start, end, *, days: int = 4, n: int = 4, margin: int = 3,
                  months=(11, 12, 1, 2), areas: list[str] | None = None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Up to ``n`` windows of ``days`` days between ``start`` and ``end`` with no warning in force (± ``margin``
    days) in any area — or in any of ``areas`` —, starting in ``months``, at least three weeks apart: periods for a
    placebo estimate of the emission-cut effect (without measures it should be compatible with zero)."""
    if areas is not None and len(warnings):
        warnings = warnings[warnings["area_id"].isin(areas)]
    warned = set(pd.to_datetime(warnings["date"]).dt.normalize()) if len(warnings) else set()
    out, d = [], pd.Timestamp(start).normalize() + pd.Timedelta(days=margin)
    end = pd.Timestamp(end).normalize()
    while d + pd.Timedelta(days=days - 1 + margin) <= end and len(out) < n:
        span = pd.date_range(d - pd.Timedelta(days=margin), d + pd.Timedelta(days=days - 1 + margin))
        if d.month in months and not warned.intersection(span):
            out.append((d, d + pd.Timedelta(days=days - 1)))
            d += pd.Timedelta(days=21)
        else:
            d += pd.Timedelta(days=1)
    return out


# ---- the warnings record -----------------------------------------------------------------------------------------

def warnings_from_store(store) -> pd.DataFrame:
    """Days each area had a warning in force, from the audit store's decisions (:mod:`response.lifecycle` owns how
    events become periods)."""
    from . import lifecycle

    return lifecycle.periods_in_force(store.events())[WARNING_COLUMNS]


def read_warnings(source) -> pd.DataFrame:
    """The warnings in force per area and day (``area_id, date, level[, issued]``, ``date`` as timestamps).

    ``source``: an open audit store, an audit database (``.db``, ``.sqlite``), a CSV in the record format (module
    docstring), or ``None`` (no warnings: an empty table).

    Raises
    ------
    EvaluationError
        An unreadable CSV, or one without the columns area_id, date, level.
    """
    if source is None:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    if hasattr(source, "events"):
        w = warnings_from_store(source)
    else:
        path = Path(source)
        if path.suffix == ".db" or path.name.endswith(".sqlite"):
            from . import audit

            with audit.open_store(path) as store:
                w = warnings_from_store(store)
        else:
            try:
                w = pd.read_csv(path, parse_dates=["date"])
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise EvaluationError(f"{path}: cannot read the warnings ({exc})") from None
            if not {"area_id", "date", "level"} <= set(w.columns):
                raise EvaluationError(f"{path}: warnings need columns area_id, date, level")
    return w.assign(date=pd.to_datetime(w["date"])) if len(w) else w


def _has_decisions(audit_path: Path) -> bool:
    from . import audit, lifecycle

    with audit.open_store(audit_path) as store:
        return any(e["action"] in lifecycle.DECISIONS for e in store.events())


def warnings_record(data, audit=None) -> Path | None:
    """The warnings record to evaluate a data directory's episodes against.

    The audit store ``audit`` when it exists and holds warning decisions; else ``<data>/warnings/issued.csv``
    (:data:`ISSUED_WARNINGS`) when it exists; else ``None`` (no warnings were issued that lantian knows of).
    """
    if audit is not None and Path(audit).exists() and _has_decisions(Path(audit)):
        return Path(audit)
    issued = Path(data) / ISSUED_WARNINGS
    return issued if issued.exists() else None


# ---- forecasts ---------------------------------------------------------------------------------------------------

def decision_forecasts_record(data) -> Path | None:
    """``<data>/forecasts/decision_forecasts.csv`` (:data:`DECISION_FORECASTS`) when it exists, else ``None``."""
    path = Path(data) / DECISION_FORECASTS
    return path if path.exists() else None


def read_decision_forecasts(source) -> pd.DataFrame:
    """The forecasts the warnings were decided on: CSV ``area_id, issue_date, target_date, lead_day, aqi`` →
    one row per (area_id, date) with the shortest-lead forecast ``aqi`` of that day and ``aqi_lead<k>`` for the
    longer leads (the warnings are decided on forecasts issued one and two days ahead).

    Raises
    ------
    EvaluationError
        An unreadable file or missing columns.
    """
    path = Path(source)
    try:
        frame = pd.read_csv(path, parse_dates=["issue_date", "target_date"])
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"{path}: cannot read the decision forecasts ({exc})") from None
    missing = {"area_id", "target_date", "lead_day", "aqi"} - set(frame.columns)
    if missing:
        raise EvaluationError(f"{path}: missing column(s) {sorted(missing)}; needed: area_id, issue_date, "
                              "target_date, lead_day, aqi")
    frame = frame[pd.to_numeric(frame["aqi"], errors="coerce").between(0, 1000)]
    frame = frame.sort_values("lead_day").drop_duplicates(["area_id", "target_date", "lead_day"], keep="last")
    wide = frame.pivot(index=["area_id", "target_date"], columns="lead_day", values="aqi")
    first = wide.bfill(axis=1).iloc[:, 0]
    out = pd.DataFrame({"aqi": first})
    for lead in wide.columns[1:]:
        out[f"aqi_lead{int(lead)}"] = wide[lead]
    return out.rename_axis(["area_id", "date"]).reset_index()


def episode_forecasts(data, model_dir, start, end, *, cache=None, days_before: int = 7) -> pd.DataFrame:
    """The archived forecasts of the model in ``model_dir`` issued from ``days_before`` days before ``start`` to
    ``end`` (empty without a model), each issue date's under the model version that produced it then.

    The archive records which version produced each forecast; of a versioned folder every version counts (a past
    issue date is read under the version promoted then, not under today's), and of two versions' forecasts of one
    date the first archived is the one the duty team had (:func:`forecast.archive.as_issued`)."""
    if model_dir is None:
        return pd.DataFrame()
    from forecast import archive as forecast_archive
    from forecast import registry

    archive = forecast_archive.archived_forecasts(data, cache=cache, model_version=registry.model_versions(model_dir))
    if len(archive):
        archive = archive[(archive["issue_date"] >= pd.Timestamp(start) - pd.Timedelta(days=days_before)) &
                          (archive["issue_date"] <= pd.Timestamp(end))]
        archive = forecast_archive.as_issued(archive)
    return archive


# ---- the episode's record ----------------------------------------------------------------------------------------

def _value(obs_daily, area, day, col):
    try:
        v = obs_daily.loc[(area, day), col]
    except KeyError:
        return None
    return None if not np.isfinite(v) else float(v)


def data_gaps(obs_daily: pd.DataFrame, areas, start, end) -> dict[str, list[str]]:
    """Per area, the days of the window without a valid observed daily AQI (areas without gaps left out)."""
    days = pd.date_range(start, end)
    gaps = {a: [str(d.date()) for d in days if not np.isfinite(obs_daily["aqi"].get((a, d), np.nan))]
            for a in areas}
    return {a: g for a, g in gaps.items() if g}


def timeline(obs_daily: pd.DataFrame, warnings: pd.DataFrame, archive: pd.DataFrame, areas, start,
             end) -> list[dict]:
    """One record per area and day: observed ``aqi`` [1] and ``pm25`` [µg m⁻³], the ``warning`` level in force,
    and ``fc_lead<k>`` (``q10, q50, q90`` of the latest archived forecast ``k`` = 1–3 days ahead)."""
    out = []
    for a in areas:
        for d in pd.date_range(start, end):
            rec = {"area_id": a, "date": str(d.date()), "aqi": _value(obs_daily, a, d, "aqi"),
                   "pm25": _value(obs_daily, a, d, "pm25_24h")}
            lv = warnings[(warnings["area_id"] == a) & (warnings["date"] == d)]["level"] if len(warnings) else []
            rec["warning"] = lv.iloc[0] if len(lv) else "none"
            if len(archive):
                f = archive[(archive["area_id"] == a) & (pd.to_datetime(archive["target_date"]) == d)]
                for lead in (1, 2, 3):
                    g = f[f["lead"] == lead]
                    if len(g):
                        r = g.iloc[-1]
                        rec[f"fc_lead{lead}"] = {"q10": float(r["aqi_q10"]), "q50": float(r["aqi_q50"]),
                                                 "q90": float(r["aqi_q90"])}
            out.append(rec)
    return out


def rolling_24h(rolling: pd.DataFrame, areas, start, end) -> dict[str, list]:
    """Per area, ``[time, AQI]`` pairs of the rolling 24-h AQI over the window's China Standard Time days."""
    lo = pd.Timestamp(start).tz_localize(TZ)
    hi = (pd.Timestamp(end) + pd.Timedelta(days=1)).tz_localize(TZ)
    roll = rolling[(rolling.index >= lo) & (rolling.index < hi)]
    return {a: [[str(t), None if not np.isfinite(v) else float(v)] for t, v in roll[a].items()]
            for a in areas if a in roll.columns}
