"""Freshness and completeness of a forecast's inputs: how old the meteorology is, how many stations report, how
many lead days the forecast run covers — checked against limits the deployment sets (``config/cycle.yaml``).

Pure functions on what the inputs hold (no I/O): :func:`newest_run` and :func:`run_lead_days` read the per-run
drivers (:func:`forecast.meteorology.daily`'s ``by_lead``), :func:`station_reporting` a station archive's tidy
rows (:func:`forecast.cnemc.read_cnemc_file`), :func:`steps_lead_days` the steps a run's GRIB files hold
(:func:`forecast.gribread.run_steps`), :func:`assess` turns them into checks, each ``ok``, ``degraded`` or
``missing``, with the value, the limit and the reason as a code with parameters (:func:`reason`), rendered in the
user's language through the nomenclature (:func:`reason_text`, ``cycle_reasons`` of ``forecast/data/labels.yaml``)
only where it is shown: the records and the log keep the codes. :func:`fallback_run` lets an older forecast run
stand in for the issue date's (its lead days shifted by its age), so that stale meteorology gives a degraded
forecast whose age is stated rather than none.

Times: forecast runs are initialised in UTC (naive timestamps, as the GRIB readers give them); station hours are
China Standard Time (the end of the hour, as CNEMC files give them); the reference time of a check is the issue
time (16:00 CST of the issue date) or the time of the run when that is earlier.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .nomenclature import CST_OFFSET

#: the states of a check, best first
STATES = ("ok", "degraded", "missing")
#: the checks, in the order they are shown (codes of the nomenclature's ``cycle_checks``)
CHECKS = ("meteorology_age", "forecast_steps", "station_share", "station_age")
#: the lead days a full forecast has (lantian forecasts D + 1 … D + 7)
LEAD_DAYS = tuple(range(1, 8))


class FreshnessError(ValueError):
    """Limits that cannot be used (a negative age, a share outside 0 … 1); the message names the value."""


@dataclass(frozen=True)
class Limits:
    """How fresh and complete the inputs must be for a forecast that is not degraded.

    Attributes
    ----------
    meteorology_max_age_hours : float
        The newest forecast run may be this old at the reference time [h] (default 24: the issue date's 00 UTC run
        is 8 h old at 16:00 CST).
    meteorology_fallback_hours : float
        An older run may stand in (degraded, its age stated) up to this age [h]; older: no forecast meteorology.
    forecast_lead_days : int
        Lead days (of 1 … 7) the run must cover with meteorology [d].
    station_min_share : float
        Share of the listed stations that must report in the last complete hour [1].
    station_max_age_hours : float
        The station archive's last hour may lag the reference hour by this much [h].
    """

    meteorology_max_age_hours: float = 24.0
    meteorology_fallback_hours: float = 96.0
    forecast_lead_days: int = 7
    station_min_share: float = 0.75
    station_max_age_hours: float = 3.0

    def __post_init__(self):
        for name in ("meteorology_max_age_hours", "meteorology_fallback_hours", "station_max_age_hours"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v) or v < 0:
                raise FreshnessError(f"limit {name}: {v!r} is not an age in hours (a number ≥ 0)")
        if self.meteorology_fallback_hours < self.meteorology_max_age_hours:
            raise FreshnessError(f"limit meteorology_fallback_hours {self.meteorology_fallback_hours} is below "
                                 f"meteorology_max_age_hours {self.meteorology_max_age_hours}")
        s = self.station_min_share
        if not isinstance(s, (int, float)) or isinstance(s, bool) or not 0 <= s <= 1:
            raise FreshnessError(f"limit station_min_share: {s!r} is not a share in 0 … 1")
        k = self.forecast_lead_days
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= len(LEAD_DAYS):
            raise FreshnessError(f"limit forecast_lead_days: {k!r} is not a whole number in 0 … {len(LEAD_DAYS)}")

    def as_dict(self) -> dict:
        return asdict(self)


def reason(code: str, **params) -> dict:
    """A reason as the records keep it: ``{"code": code, "params": params}`` (a code of the nomenclature's
    ``cycle_reasons``; the parameters JSON-able: numbers, text, lists, nested reasons)."""
    return {"code": code, "params": params}


def reason_text(why, lang: str = "zh") -> str:
    """A reason (:func:`reason`) in ``lang``: the nomenclature's sentence with its parameters filled (a list joined
    with the language's separator, a nested reason rendered first). A plain text (a record written before the
    codes) is returned as it is; ``None`` gives ``""``.

    Raises
    ------
    forecast.labels.LabelError
        An unknown code or language, or a parameter the sentence needs that the reason lacks.
    """
    from . import labels

    if why is None:
        return ""
    if isinstance(why, str):
        return why
    params = {}
    for key, value in (why.get("params") or {}).items():
        if isinstance(value, dict) and "code" in value:
            value = reason_text(value, lang)
        elif isinstance(value, (list, tuple)):
            value = labels.phrase("day_sep", lang).join(str(v) for v in value)
        params[key] = value
    text = labels.label("cycle_reasons", why["code"], lang)
    try:
        return text.format(**params)
    except (KeyError, IndexError) as exc:
        raise labels.LabelError(f"cycle reason {why['code']!r} ({lang}) needs the parameter {exc}; given: "
                                f"{', '.join(params) or 'none'}") from None


def issue_time_utc(issued, issue_hour_cst: int = 16) -> pd.Timestamp:
    """The issue time of issue date ``issued`` as naive UTC (16:00 CST = 08:00 UTC)."""
    return pd.Timestamp(issued).normalize() + pd.Timedelta(hours=issue_hour_cst) - CST_OFFSET


def runs_of(met_lead: pd.DataFrame | None, run_hour_utc: int = 0) -> pd.DatetimeIndex:
    """The initialisation times [UTC] of the forecast runs in ``met_lead`` at ``run_hour_utc``, sorted."""
    if met_lead is None or not len(met_lead):
        return pd.DatetimeIndex([])
    init = pd.DatetimeIndex(met_lead.index.get_level_values("init_time")).unique()
    return init[init.hour == run_hour_utc].sort_values()


def newest_run(met_lead: pd.DataFrame | None, at, run_hour_utc: int = 0) -> pd.Timestamp | None:
    """The newest run initialised at or before ``at`` (naive UTC), or ``None``."""
    runs = runs_of(met_lead, run_hour_utc)
    runs = runs[runs <= pd.Timestamp(at)]
    return runs[-1] if len(runs) else None


def run_lead_days(met_lead: pd.DataFrame | None, init, issued) -> list[int]:
    """The lead days of issue date ``issued`` (1 … 7) a run initialised at ``init`` gives meteorology for (any
    variable at any area) in the processed meteorology: its own lead days shifted by its age in days. What the
    run's GRIB files hold is :func:`steps_lead_days`'s (the cycle's check); this is the fallback when they cannot
    be read."""
    if met_lead is None or not len(met_lead) or init is None:
        return []
    run = met_lead.xs(pd.Timestamp(init), level="init_time")
    values = run.select_dtypes("number")
    have = values.notna().any(axis=1).groupby(level="lead_day").any()
    age_days = _age_days(init, issued)
    return sorted(int(k) - age_days for k, v in have.items() if v and int(k) - age_days in LEAD_DAYS)


def _age_days(init, issued) -> int:
    """How many CST days the run initialised at ``init`` [UTC] is older than issue date ``issued``."""
    return int((pd.Timestamp(issued).normalize() - (pd.Timestamp(init) + CST_OFFSET).normalize()).days)


def steps_lead_days(init, steps: dict, issued) -> dict:
    """The lead days of issue date ``issued`` that a forecast run's GRIB files cover, from their steps.

    A CST day is covered by a parameter when one of its steps is valid in it (the valid time ``init + step`` in
    CST, as :func:`forecast.drivers.lead_day_drivers` forms days); a lead day is covered when **every** parameter
    of the run covers it (a day with the temperature but without the boundary layer is not a day of meteorology).
    The run's lead days are shifted by its age in days (an older run standing in, :func:`fallback_run`).

    Parameters
    ----------
    init : datetime-like
        The run's initialisation [UTC].
    steps : dict
        Parameter (e.g. ``"2t"``, ``"t850"``) → the steps its messages of this run hold [h]
        (:func:`forecast.gribread.run_steps`).
    issued : datetime-like
        The issue date.

    Returns
    -------
    dict
        ``lead_days`` (covered, of 1 … 7), ``missing_steps`` (steps [h] some parameter lacks that another has,
        sorted) and ``parameters`` (how many the run has).
    """
    init = pd.Timestamp(init)
    age = _age_days(init, issued)
    init_day = (init + CST_OFFSET).normalize()
    covered = None
    for hours in steps.values():
        days = {int(((init + pd.Timedelta(hours=float(h)) + CST_OFFSET).normalize() - init_day).days) - age
                for h in hours}
        covered = days if covered is None else covered & days
    every = set().union(*map(set, steps.values())) if steps else set()
    missing = sorted({int(h) if float(h).is_integer() else float(h) for v in steps.values() for h in every - set(v)})
    return {"lead_days": sorted(k for k in (covered or ()) if k in LEAD_DAYS), "missing_steps": missing,
            "parameters": len(steps)}


def fallback_run(met_lead: pd.DataFrame, init, issued) -> pd.DataFrame:
    """``met_lead`` with the run initialised at ``init`` standing in for issue date ``issued``'s run: its rows
    copied under the issue date's initialisation (same hour of day), lead days reduced by the run's age in days
    (lead days that fall before the issue day are dropped). Other runs are kept as they are.

    The forecast then reads the older run's meteorology of each target day — the same valid days, from an older
    forecast — and the document says how old it is (the cycle's ``degraded`` record)."""
    init = pd.Timestamp(init)
    age_days = _age_days(init, issued)
    if age_days <= 0:
        return met_lead
    run = met_lead.xs(init, level="init_time", drop_level=False).reset_index()
    run["init_time"] = run["init_time"] + pd.Timedelta(days=age_days)
    run["lead_day"] = run["lead_day"] - age_days
    run = run[run["lead_day"] >= 0].set_index(list(met_lead.index.names))
    keep = met_lead[met_lead.index.get_level_values("init_time") != run.index.get_level_values("init_time")[0]] \
        if len(run) else met_lead
    return pd.concat([keep, run[met_lead.columns]]).sort_index()


def station_reporting(rows: pd.DataFrame | None, stations, at_cst) -> dict:
    """Which of ``stations`` report in the last complete hour before ``at_cst`` and how old the archive is.

    Parameters
    ----------
    rows : DataFrame or None
        Tidy station rows (``time`` — the end of the hour, CST —, ``station``, ``pollutant``, ``value``).
    stations : iterable of str
        The listed stations (``sites.csv``).
    at_cst : datetime-like
        Reference time, CST (naive).

    Returns
    -------
    dict
        ``hour`` (the last complete hour, CST, ISO), ``last_hour`` (the newest hour with a value at or before it,
        or ``None``), ``age_hours`` [h] (``None`` without any value), ``reporting``, ``listed`` and ``share`` [1]
        (stations with a value in ``hour``).
    """
    stations = sorted(set(stations))
    hour = pd.Timestamp(at_cst).floor("h")
    out = {"hour": hour.isoformat(), "last_hour": None, "age_hours": None, "reporting": 0,
           "listed": len(stations), "share": 0.0}
    if rows is None or not len(rows):
        return out
    time = pd.to_datetime(rows["time"])
    if time.dt.tz is not None:  # CNEMC rows carry +08:00
        time = time.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    rows = rows.assign(time=time)
    r = rows[(rows["time"] <= hour) & rows["value"].notna() & rows["station"].isin(stations)]
    if not len(r):
        return out
    last = pd.Timestamp(r["time"].max())
    now = set(r.loc[r["time"] == hour, "station"])
    out.update(last_hour=last.isoformat(), age_hours=float((hour - last) / pd.Timedelta(hours=1)),
               reporting=len(now), share=len(now) / len(stations) if stations else 0.0)
    return out


def _check(code, state, value, limit, why) -> dict:
    return {"check": code, "state": state, "value": value, "limit": limit, "reason": why}


def assess(*, met_run, met_reference, lead_days: list[int], stations: dict, limits: Limits,
           missing_steps=()) -> list[dict]:
    """The freshness checks of a forecast's inputs.

    Parameters
    ----------
    met_run : Timestamp or None
        The newest forecast run at the reference time [UTC], ``None`` when there is none.
    met_reference : Timestamp
        The reference time [UTC] (the issue time, or the run's time when earlier).
    lead_days : list of int
        The lead days the run used covers (:func:`steps_lead_days`, else :func:`run_lead_days`).
    stations : dict
        :func:`station_reporting`'s result.
    limits : Limits
    missing_steps : sequence of int, optional
        Steps [h] some parameter of the run lacks (:func:`steps_lead_days`): named in the lead-day check.

    Returns
    -------
    list of dict
        One per :data:`CHECKS`: ``check``, ``state`` (:data:`STATES`), ``value``, ``limit``, ``reason``
        (:func:`reason`; :func:`reason_text` renders it).
    """
    out = []
    if met_run is None:
        out.append(_check("meteorology_age", "missing", None, limits.meteorology_max_age_hours,
                          reason("met_run_none")))
    else:
        age = float((pd.Timestamp(met_reference) - pd.Timestamp(met_run)) / pd.Timedelta(hours=1))
        if age <= limits.meteorology_max_age_hours:
            state, code = "ok", "met_run_ok"
        elif age <= limits.meteorology_fallback_hours:
            state, code = "degraded", "met_run_stale"
        else:
            state, code = "missing", "met_run_too_old"
        out.append(_check("meteorology_age", state, round(age, 1), limits.meteorology_max_age_hours,
                          reason(code, run=f"{pd.Timestamp(met_run):%Y-%m-%d %H}", age=round(age, 1),
                                 limit=limits.meteorology_max_age_hours,
                                 fallback=limits.meteorology_fallback_hours)))
    n = len(lead_days)
    missing = [k for k in LEAD_DAYS if k not in lead_days]
    state = "ok" if n >= limits.forecast_lead_days else ("degraded" if n else "missing")
    common = dict(n=n, total=len(LEAD_DAYS), required=limits.forecast_lead_days)
    if missing_steps and met_run is not None:
        why = reason("lead_days_gap_steps" if missing else "lead_days_all_steps", missing=missing,
                     steps=list(missing_steps), run=f"{pd.Timestamp(met_run):%Y-%m-%d %H}", **common)
    elif missing:
        why = reason("lead_days_gap", missing=missing, **common)
    else:
        why = reason("lead_days_all", **common)
    out.append(_check("forecast_steps", state, n, limits.forecast_lead_days, why))
    share, hour = stations["share"], pd.Timestamp(stations["hour"])
    state = "ok" if share >= limits.station_min_share else ("degraded" if stations["reporting"] else "missing")
    out.append(_check("station_share", state, round(share, 3), limits.station_min_share,
                      reason("station_share", hour=f"{hour:%m-%d %H}", reporting=stations["reporting"],
                             listed=stations["listed"], share=share, required=limits.station_min_share)))
    age = stations["age_hours"]
    if age is None:
        out.append(_check("station_age", "missing", None, limits.station_max_age_hours, reason("station_none")))
    else:
        state = "ok" if age <= limits.station_max_age_hours else "degraded"
        out.append(_check("station_age", state, age, limits.station_max_age_hours,
                          reason("station_age", last=f"{pd.Timestamp(stations['last_hour']):%m-%d %H}", age=age,
                                 limit=limits.station_max_age_hours)))
    return out


def worst(checks: list[dict]) -> str:
    """The worst state of ``checks`` (``ok`` when there are none)."""
    return max((c["state"] for c in checks), key=STATES.index, default="ok")
