"""Freshness and completeness of a forecast's inputs: how old the meteorology is, how many stations report, how
many lead days the forecast run covers — checked against limits the deployment sets (``config/cycle.yaml``).

Pure functions on what the inputs hold (no I/O): :func:`newest_run` and :func:`run_lead_days` read the per-run
drivers (:func:`forecast.meteorology.daily`'s ``by_lead``), :func:`station_reporting` a station archive's tidy
rows (:func:`forecast.cnemc.read_cnemc_file`), :func:`assess` turns them into checks, each ``ok``, ``degraded``
or ``missing``, with the value, the limit and a sentence in Chinese and English. :func:`fallback_run` lets an
older forecast run stand in for the issue date's (its lead days shifted by its age), so that stale meteorology
gives a degraded forecast whose age is stated rather than none.

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
    variable at any area): its own lead days shifted by its age in days."""
    if met_lead is None or not len(met_lead) or init is None:
        return []
    run = met_lead.xs(pd.Timestamp(init), level="init_time")
    values = run.select_dtypes("number")
    have = values.notna().any(axis=1).groupby(level="lead_day").any()
    age_days = int((pd.Timestamp(issued).normalize() - (pd.Timestamp(init) + CST_OFFSET).normalize()).days)
    return sorted(int(k) - age_days for k, v in have.items() if v and int(k) - age_days in LEAD_DAYS)


def fallback_run(met_lead: pd.DataFrame, init, issued) -> pd.DataFrame:
    """``met_lead`` with the run initialised at ``init`` standing in for issue date ``issued``'s run: its rows
    copied under the issue date's initialisation (same hour of day), lead days reduced by the run's age in days
    (lead days that fall before the issue day are dropped). Other runs are kept as they are.

    The forecast then reads the older run's meteorology of each target day — the same valid days, from an older
    forecast — and the document says how old it is (the cycle's ``degraded`` record)."""
    init = pd.Timestamp(init)
    age_days = int((pd.Timestamp(issued).normalize() - (init + CST_OFFSET).normalize()).days)
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


def _check(code, state, value, limit, zh, en) -> dict:
    return {"check": code, "state": state, "value": value, "limit": limit, "zh": zh, "en": en}


def assess(*, met_run, met_reference, lead_days: list[int], stations: dict, limits: Limits) -> list[dict]:
    """The freshness checks of a forecast's inputs.

    Parameters
    ----------
    met_run : Timestamp or None
        The newest forecast run at the reference time [UTC], ``None`` when there is none.
    met_reference : Timestamp
        The reference time [UTC] (the issue time, or the run's time when earlier).
    lead_days : list of int
        The lead days the run used covers (:func:`run_lead_days`).
    stations : dict
        :func:`station_reporting`'s result.
    limits : Limits

    Returns
    -------
    list of dict
        One per :data:`CHECKS`: ``check``, ``state`` (:data:`STATES`), ``value``, ``limit``, ``zh``, ``en``.
    """
    out = []
    if met_run is None:
        out.append(_check("meteorology_age", "missing", None, limits.meteorology_max_age_hours,
                          "没有可用的气象预报场", "no forecast run"))
    else:
        age = float((pd.Timestamp(met_reference) - pd.Timestamp(met_run)) / pd.Timedelta(hours=1))
        run = f"{pd.Timestamp(met_run):%Y-%m-%d %H} UTC"
        if age <= limits.meteorology_max_age_hours:
            state = "ok"
        elif age <= limits.meteorology_fallback_hours:
            state = "degraded"
        else:
            state = "missing"
        zh = f"最新气象预报场 {run}，时效 {age:.0f} 小时（限值 {limits.meteorology_max_age_hours:g} 小时）"
        en = f"newest forecast run {run}, {age:.0f} h old (limit {limits.meteorology_max_age_hours:g} h)"
        if state == "degraded":
            zh += "：沿用较早的预报场"
            en += ": an older run stands in"
        elif state == "missing":
            zh += f"：超过可沿用的 {limits.meteorology_fallback_hours:g} 小时"
            en += f": older than the {limits.meteorology_fallback_hours:g} h an older run may stand in"
        out.append(_check("meteorology_age", state, round(age, 1), limits.meteorology_max_age_hours, zh, en))
    n = len(lead_days)
    missing = [k for k in LEAD_DAYS if k not in lead_days]
    state = "ok" if n >= limits.forecast_lead_days else ("degraded" if n else "missing")
    gap_zh = f"，缺第 {'、'.join(map(str, missing))} 天" if missing else ""
    gap_en = f", lead day(s) {', '.join(map(str, missing))} missing" if missing else ""
    out.append(_check("forecast_steps", state, n, limits.forecast_lead_days,
                      f"预报场覆盖 {n}/{len(LEAD_DAYS)} 个预报日{gap_zh}（要求 {limits.forecast_lead_days}）",
                      f"the run covers {n}/{len(LEAD_DAYS)} lead days{gap_en} (required {limits.forecast_lead_days})"))
    share, hour = stations["share"], pd.Timestamp(stations["hour"])
    state = "ok" if share >= limits.station_min_share else ("degraded" if stations["reporting"] else "missing")
    out.append(_check("station_share", state, round(share, 3), limits.station_min_share,
                      f"{hour:%m-%d %H}时 {stations['reporting']}/{stations['listed']} 个站点有数据（{share:.0%}，"
                      f"要求 ≥ {limits.station_min_share:.0%}）",
                      f"{stations['reporting']}/{stations['listed']} stations report at {hour:%m-%d %H}:00 CST "
                      f"({share:.0%}, required ≥ {limits.station_min_share:.0%})"))
    age = stations["age_hours"]
    if age is None:
        out.append(_check("station_age", "missing", None, limits.station_max_age_hours,
                          "站点数据中没有发布时刻之前的观测", "no station value before the reference time"))
    else:
        state = "ok" if age <= limits.station_max_age_hours else "degraded"
        last = pd.Timestamp(stations["last_hour"])
        out.append(_check("station_age", state, age, limits.station_max_age_hours,
                          f"站点数据截至 {last:%m-%d %H}时（滞后 {age:.0f} 小时，限值 {limits.station_max_age_hours:g}）",
                          f"station data up to {last:%m-%d %H}:00 CST ({age:.0f} h behind, limit "
                          f"{limits.station_max_age_hours:g} h)"))
    return out


def worst(checks: list[dict]) -> str:
    """The worst state of ``checks`` (``ok`` when there are none)."""
    return max((c["state"] for c in checks), key=STATES.index, default="ok")
