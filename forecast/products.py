"""What the pages and briefings show of a forecast: the issue dates a forecast can be made for, the level that
covers a lead day, the tables per area, the recent observations beside a forecast, the dates a verification can
use, and the gridded fields of the consultation's maps with their China Standard Time labels.

The forecast document is :func:`forecast.forecasting.forecast_json`'s (``areas`` → ``level``, ``trigger_days``,
``level_probabilities``, ``days`` → ``lead_day``, ``date``, ``aqi`` quantiles, ``p_aqi_gt``, ``dust``,
``drivers``). Nothing here draws (figures are :mod:`response.figures`) or imports Streamlit.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .levels import LEVEL_NAMES_ZH, LEVELS
from .nomenclature import HEAVY_AQI, utc_to_cst

#: decimals of the scores and probabilities in the tables shown
TABLE_DECIMALS = 2


# ---- dates ---------------------------------------------------------------------------------------------------

def issue_dates(obs_daily: pd.DataFrame, met_lead: pd.DataFrame | None = None) -> list[pd.Timestamp]:
    """Dates a forecast can be issued on: those with an observed day before them and a forecast run of the day.

    Parameters
    ----------
    obs_daily : DataFrame
        Observed daily values indexed by ``(area_id, date)``.
    met_lead : DataFrame, optional
        Forecast-run drivers with an index level ``init_time`` (``Inputs.met_lead``); without runs (``None`` or
        empty) every observed day counts as a run.

    Returns
    -------
    list of Timestamp
        Sorted; when no date qualifies, the observed days themselves.
    """
    days = obs_daily.index.get_level_values("date")
    runs = pd.to_datetime(met_lead.index.get_level_values("init_time")).normalize().unique() \
        if met_lead is not None and len(met_lead) else days.unique()
    usable = sorted(set(runs) & set(days + pd.Timedelta(days=1)))
    return usable or sorted(days.unique())


def observed_period(obs_daily: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last observed day."""
    days = obs_daily.index.get_level_values("date")
    return days.min(), days.max()


def verifiable_dates(dates, card: dict, *, first_observed=None) -> list[pd.Timestamp]:
    """The issue ``dates`` after the model's training period (``card["training_period"][1]``): a verification
    there is out of sample. A card without a training period counts from ``first_observed`` (else every date)."""
    period = card.get("training_period")
    end = period[1] if period else first_observed
    end = None if end is None else pd.Timestamp(end)
    return [pd.Timestamp(d) for d in dates if end is None or pd.Timestamp(d) > end]


def valid_time_labels(times_utc) -> dict[str, str]:
    """``"MM-DD HH:00"`` in China Standard Time for each naive-UTC valid time (keys as given)."""
    return {tm: utc_to_cst(pd.Timestamp(tm)).strftime("%m-%d %H:00") for tm in times_utc}


# ---- one area's forecast -------------------------------------------------------------------------------------

def level_on_day(area: dict, lead_day: int | None) -> str:
    """The warning level covering ``lead_day`` of an area's forecast: the area's level when the day is one of its
    ``trigger_days``, else ``"none"``; ``lead_day=None`` gives the area's level."""
    if lead_day is None or lead_day in (area.get("trigger_days") or []):
        return area["level"]
    return "none"


def day_of(area: dict, lead_day: int | None) -> dict:
    """The forecast day of ``lead_day`` (day 1 when ``None``; the first day when the lead is not forecast)."""
    want = lead_day or 1
    return next((d for d in area["days"] if d["lead_day"] == want), area["days"][0])


def recent_observations(obs_daily: pd.DataFrame, area_id: str, issued, *, days: int = 14) -> pd.Series:
    """Observed daily AQI of an area over the ``days`` days up to and including ``issued``."""
    hist = obs_daily.loc[area_id]["aqi"]
    issued = pd.Timestamp(issued)
    return hist[(hist.index > issued - pd.Timedelta(days=days)) & (hist.index <= issued)]


# ---- tables --------------------------------------------------------------------------------------------------

def area_names(areas: pd.DataFrame | None = None) -> dict[str, str]:
    """Area id → Chinese name (default: the shipped area table, :func:`forecast.areas.load_areas`)."""
    if areas is None:
        from .areas import load_areas

        areas = load_areas()
    return dict(zip(areas["area_id"], areas["name_zh"]))


def level_counts(doc: dict) -> dict[str, int]:
    """Number of areas per level, worst level first, levels without areas left out."""
    levels = [a["level"] for a in doc["areas"]]
    return {lv: levels.count(lv) for lv in LEVELS[::-1] if levels.count(lv)}


def area_table(doc: dict, names: dict, *, level_label: str = "预警级别") -> pd.DataFrame:
    """One row per area: its level (✎ when the consultation adjusted it), the level probabilities, and per lead
    day the AQI median (10–90 %) with 沙尘 for dust and ✎ for adjusted days, and P(AQI > 200)."""
    heavy = str(HEAVY_AQI)
    rows = []
    for a in doc["areas"]:
        rec = {"地区 area": names.get(a["area_id"], a["area_id"]), level_label: LEVEL_NAMES_ZH[a["level"]]
               + (" ✎" if a.get("adjusted") else ""), **{f"P({k})": a["level_probabilities"][k] for k in LEVELS}}
        for d in a["days"]:
            rec[f"D{d['lead_day']}"] = f"{d['aqi']['q50']:.0f} ({d['aqi']['q10']:.0f}–{d['aqi']['q90']:.0f})" + \
                (" 沙尘" if d["dust"] else "") + (" ✎" if d.get("adjusted") else "")
            rec[f"P{d['lead_day']}>{heavy}"] = round(float(d["p_aqi_gt"][heavy]), TABLE_DECIMALS)
        rows.append(rec)
    return pd.DataFrame(rows)


def decision_table(doc: dict, names: dict, *, level_label: str = "预警级别") -> pd.DataFrame:
    """One row per area: the probabilities of reaching each level (compared with the thresholds in
    ``doc["decision"]``), the proposed level and the level the median forecast alone implies (the consultation sees
    why a level is proposed)."""
    rows = []
    for a in doc["areas"]:
        p = a.get("p_at_least") or {}
        rows.append({"地区 area": names.get(a["area_id"], a["area_id"]),
                     **{f"P(≥{LEVEL_NAMES_ZH[k][:2]})": round(float(p.get(k, float("nan"))), TABLE_DECIMALS)
                        for k in ("yellow", "orange", "red")},
                     level_label: LEVEL_NAMES_ZH[a["level"]] + (" ✎" if a.get("adjusted") else ""),
                     "中位数预报 median": LEVEL_NAMES_ZH.get(a.get("level_median", "none"), "")})
    return pd.DataFrame(rows)


def consequence_table(record: pd.DataFrame, thresholds) -> pd.DataFrame:
    """What ``thresholds`` would have done on a level record (:func:`forecast.decision.consequences`): one row per
    level "≥ L" and one for "any warning", with hits, misses, false alarms."""
    from . import decision

    c = decision.consequences(record, thresholds)
    rows = [{"事件 event": "任一级别预警 any warning", "命中 hits": c["hits"], "漏报 misses": c["misses"],
             "空报 false alarms": c["false_alarms"]}]
    for k, v in c["by_level"].items():
        rows.append({"事件 event": f"≥{LEVEL_NAMES_ZH[k]}", "命中 hits": v["hits"], "漏报 misses": v["misses"],
                     "空报 false alarms": v["false_alarms"]})
    return pd.DataFrame(rows)


def thresholds_caption(doc: dict) -> str:
    """The thresholds a forecast document was decided with, in words (Chinese)."""
    dec = doc.get("decision") or {}
    t = dec.get("thresholds") or {}
    if not t:
        return ""
    parts = "，".join(f"{LEVEL_NAMES_ZH[k][:2]} {t[k]:.2f}" for k in ("yellow", "orange", "red") if k in t)
    return f"建议级别：达到某级别的概率 P(≥级别) 不低于该级别阈值（{parts}）时取最高的级别；阈值来源：{dec.get('source', '')}"


def driver_table(area: dict) -> pd.DataFrame:
    """The top meteorological drivers of an area's forecast: one row per lead day (``D``), their effects [1]."""
    return pd.DataFrame([{"D": d["lead_day"], **{x["name_zh"]: x["effect"] for x in d["drivers"]}}
                         for d in area["days"]])


def day_one_table(table: pd.DataFrame) -> pd.DataFrame:
    """The day-1 rows of a forecast table (:func:`forecast.forecasting.run_forecast`), one per area, with the
    quantiles and the probability rounded."""
    day1 = table[table["lead"] == 1].sort_values("area_id")
    shown = day1[["area_id", "target_date", "aqi_q10", "aqi_q50", "aqi_q90", "p_aqi_gt200", "dust", "level"]]
    return shown.round({c: TABLE_DECIMALS for c in ("aqi_q10", "aqi_q50", "aqi_q90", "p_aqi_gt200")})


def verification_table(card: dict) -> pd.DataFrame | None:
    """The model card's verification of AQI > 200 (rounded), or ``None`` when the model is not verified."""
    ver = card.get("verification")
    return pd.DataFrame(ver["aqi_gt200"]).round(TABLE_DECIMALS) if ver else None


def scores_table(rows: list[dict]) -> pd.DataFrame:
    """Score rows (e.g. model vs consultation, :func:`forecast.consultation.score`) as a rounded table."""
    return pd.DataFrame(rows).round(TABLE_DECIMALS)


def adjustment_table(records: pd.DataFrame) -> pd.DataFrame:
    """The consultation's adjustment records as shown beside the forecast."""
    return records[["saved_at", "area_id", "lead_day", "model_aqi", "consultation_aqi", "reason", "participants"]]


# ---- maps ----------------------------------------------------------------------------------------------------

class MapField(NamedTuple):
    """One field of the consultation's maps at one valid time."""

    kind: str  #: ``forecast`` (the issue day's run) or ``analysis``
    times: list  #: every valid time of the source, ``str`` naive UTC
    lat: np.ndarray | None  #: [degrees north]
    lon: np.ndarray | None  #: [degrees east]
    values: np.ndarray | None  #: (lat, lon), ``None`` when the source lacks the field
    wind_u: np.ndarray | None  #: [m/s], (lat, lon)
    wind_v: np.ndarray | None


def map_field(data, issued, var: str, valid_time: str | None = None, *, cache=None) -> MapField:
    """Field ``var`` of the consultation's maps (:func:`forecast.meteorology.map_fields`) at ``valid_time``
    (naive UTC; the first valid time when ``None``), with the 10-m wind."""
    from . import meteorology

    ds = meteorology.map_fields(data, issued, cache=cache)
    times = [str(pd.Timestamp(v)) for v in ds["valid_time"].values]
    if var not in ds:
        return MapField(ds.attrs["kind"], times, None, None, None, None, None)
    sl = ds.sel(valid_time=pd.Timestamp(valid_time or times[0]))
    u = sl["wind_u"].values if "wind_u" in ds else None
    v = sl["wind_v"].values if "wind_v" in ds else None
    return MapField(ds.attrs["kind"], times, ds["lat"].values, ds["lon"].values, sl[var].values, u, v)
