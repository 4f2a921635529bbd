"""What the pages and briefings show of a forecast: the issue dates a forecast can be made for, the level that
covers a lead day, the tables per area (headers, levels and numbers as a user reads them: :mod:`forecast.labels`,
Chinese by default, ``lang="en"``), the drivers in AQI points with a one-sentence reading
(:func:`driver_effects_aqi`, :func:`driver_reading`), the recent observations beside a forecast, the dates a
verification can use, and the gridded fields of the consultation's maps with their China Standard Time labels.

The forecast document is :func:`forecast.forecasting.forecast_json`'s (``areas`` → ``level``, ``trigger_days``,
``level_probabilities``, ``days`` → ``lead_day``, ``date``, ``aqi`` quantiles, ``p_aqi_gt``, ``dust``,
``drivers``). Nothing here draws (figures are :mod:`response.figures`) or imports Streamlit.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from .labels import EMPTY, column, columns, label, number
from .levels import LEVELS
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

def area_names(areas: pd.DataFrame | None = None, lang: str = "zh") -> dict[str, str]:
    """Area id → name in ``lang`` (``name_zh`` / ``name_en``; default table: the shipped one,
    :func:`forecast.areas.load_areas`)."""
    if areas is None:
        from .areas import load_areas

        areas = load_areas()
    col = "name_en" if lang == "en" and "name_en" in areas.columns else "name_zh"
    return dict(zip(areas["area_id"], areas[col].fillna(areas["name_zh"])))


def level_counts(doc: dict) -> dict[str, int]:
    """Number of areas per level, worst level first, levels without areas left out."""
    levels = [a["level"] for a in doc["areas"]]
    return {lv: levels.count(lv) for lv in LEVELS[::-1] if levels.count(lv)}


def _level_cell(area: dict, lang: str) -> str:
    return label("levels", area["level"], lang) + (" ✎" if area.get("adjusted") else "")


def _name(names: dict, area_id: str) -> str:
    from .labels import area_label

    return area_label(area_id, names)


def area_table(doc: dict, names: dict, *, lang: str = "zh") -> pd.DataFrame:
    """One row per area: its level (✎ when the consultation adjusted it), the level probabilities [%], and per
    lead day the AQI median (10–90 %) with 沙尘/dust for dust and ✎ for adjusted days, and P(AQI > 200) [%].

    ``names``: area id → name (:func:`area_names`); an area without a name raises
    :class:`forecast.labels.LabelError`."""
    heavy = str(HEAVY_AQI)
    dust = label("columns", "dust", lang)
    rows = []
    for a in doc["areas"]:
        rec = {column("area", lang): _name(names, a["area_id"]), column("level", lang): _level_cell(a, lang),
               **{f"P({label('levels_short', k, lang)})": number(a["level_probabilities"][k], percent=True)
                  for k in LEVELS}}
        for d in a["days"]:
            rec[f"D{d['lead_day']}"] = f"{d['aqi']['q50']:.0f} ({d['aqi']['q10']:.0f}–{d['aqi']['q90']:.0f})" + \
                (f" {dust}" if d["dust"] else "") + (" ✎" if d.get("adjusted") else "")
            rec[f"P{d['lead_day']}>{heavy}"] = number(d["p_aqi_gt"][heavy], percent=True)
        rows.append(rec)
    return pd.DataFrame(rows)


def decision_table(doc: dict, names: dict, *, lang: str = "zh") -> pd.DataFrame:
    """One row per area: the probabilities of reaching each level [%] (compared with the thresholds in
    ``doc["decision"]``), the proposed level and the level the median forecast alone implies (the consultation sees
    why a level is proposed)."""
    rows = []
    for a in doc["areas"]:
        p = a.get("p_at_least") or {}
        rows.append({column("area", lang): _name(names, a["area_id"]),
                     **{f"P(≥{label('levels_short', k, lang)})": number(p.get(k), percent=True)
                        for k in ("yellow", "orange", "red")},
                     column("level", lang): _level_cell(a, lang),
                     column("median_level", lang): label("levels", a.get("level_median") or "none", lang)})
    return pd.DataFrame(rows)


def consequence_table(record: pd.DataFrame, thresholds, *, lang: str = "zh") -> pd.DataFrame:
    """What ``thresholds`` would have done on a level record (:func:`forecast.decision.consequences`): one row per
    level "≥ L" and one for "any warning", with hits, misses, false alarms."""
    from . import decision

    c = decision.consequences(record, thresholds)
    cols = columns(["event", "hits", "misses", "false_alarms"], lang)
    any_warning = "任一级别预警" if lang == "zh" else "any warning"
    rows = [{cols["event"]: any_warning, cols["hits"]: c["hits"], cols["misses"]: c["misses"],
             cols["false_alarms"]: c["false_alarms"]}]
    for k, v in c["by_level"].items():
        rows.append({cols["event"]: f"≥{label('levels', k, lang)}", cols["hits"]: v["hits"],
                     cols["misses"]: v["misses"], cols["false_alarms"]: v["false_alarms"]})
    return pd.DataFrame(rows)


def thresholds_caption(doc: dict, lang: str = "zh") -> str:
    """The thresholds a forecast document was decided with, in words."""
    dec = doc.get("decision") or {}
    t = dec.get("thresholds") or {}
    if not t:
        return ""
    parts = ("，" if lang == "zh" else ", ").join(f"{label('levels_short', k, lang)} {number(t[k], percent=True)}"
                                                 for k in ("yellow", "orange", "red") if k in t)
    source = _threshold_source(dec.get("source", ""), lang)
    if lang == "zh":
        return f"建议级别：达到某级别的概率 P(≥级别) 不低于该级别阈值（{parts}）时取最高的级别；阈值来源：{source}"
    return (f"Proposed level: the highest level whose probability P(≥ level) reaches its threshold ({parts}); "
            f"thresholds from: {source}")


def _threshold_source(source: str, lang: str) -> str:
    """The source of the thresholds (:attr:`forecast.decision.Thresholds.source`) in words."""
    if lang == "en" or not source:
        return source
    m = re.match(r"consultation setting of (\S+) by (.*)$", source)
    if m:
        return f"会商设定（{m.group(1)[:10]}，设定人 {m.group(2)}）"
    return {"shipped defaults": "系统默认设定", "given": "本次指定", "trial": "试算"}.get(source, f"文件 {source}")


def _log_mean(a: float, b: float) -> float:
    """The logarithmic mean of two positive numbers, (a − b) / (ln a − ln b); ``a`` when they are equal."""
    if abs(a - b) <= 1e-9 * max(a, b):
        return a
    return (a - b) / (np.log(a) - np.log(b))


def driver_effects_aqi(area: dict, *, lang: str = "zh") -> pd.DataFrame:
    """The drivers of an area's forecast as AQI points per lead day: an exact additive split of the model's median.

    The model forecasts log(1 + AQI); its median's contributions ``c_j`` (one per driver family, summed over the
    family's features: :meth:`forecast.model.Forecaster.contributions`) add up with the baseline ``b`` (the value
    with every driver at its training mean) to ``ln(1 + M)``. The document carries the top families per day as
    ``effect = expm1(c_j)`` and the baseline as ``baseline_aqi = B = expm1(b)``. The AQI points of family ``j``
    are its share of ``M − B`` in proportion to its log contribution:

        a_j = c_j · (M − B) / (ln(1 + M) − ln(1 + B)) = c_j · L(1 + M, 1 + B)

    where ``L`` is the logarithmic mean (the "LMDI" decomposition of a multiplicative model, Ang 2005), so the
    points of all families, the unlisted ones summed as ``other``, add up exactly to ``M − B``; a family that
    raises the median (c > 0) gets positive points; the split does not blow up when the contributions cancel
    (``L → 1 + M``). ``M`` is the document's median; for a day the consultation adjusted, the model's median
    before the adjustment (the drivers explain the model). A document without ``baseline_aqi`` (written before
    it was carried) is read as if the unlisted families contributed nothing: ``B = (1 + M)·exp(−Σ c_j) − 1``.

    Parameters
    ----------
    area : dict
        One area of a forecast document (:func:`forecast.forecasting.forecast_json`).
    lang : {"zh", "en"}
        Language of the ``name`` column (:mod:`forecast.labels`).

    Returns
    -------
    DataFrame
        One row per lead day and family (the day's listed families in their order, then ``other`` when the
        baseline is known): ``lead_day``, ``date``, ``family``, ``name``, ``aqi`` (signed points [1]),
        ``median_aqi`` (M) and ``baseline_aqi`` (B). Empty (those columns) when no day has drivers.

    References
    ----------
    B. W. Ang (2005), The LMDI approach to decomposition analysis: a practical guide. Energy Policy 33(7),
    867–871. doi:10.1016/j.enpol.2003.10.010
    """
    rows = []
    for d in sorted(area["days"], key=lambda d: d["lead_day"]):
        drivers = d.get("drivers") or []
        if not drivers:
            continue
        median = float(((d.get("adjusted") or {}).get("model_aqi") or d["aqi"])["q50"])
        c = np.log1p(np.array([float(x["effect"]) for x in drivers]))
        known = d.get("baseline_aqi") is not None
        base = float(d["baseline_aqi"]) if known else (1 + median) * np.exp(-c.sum()) - 1
        total = np.log1p(median) - np.log1p(base)
        scale = _log_mean(1 + median, 1 + base)
        logs: dict[str, float] = {}
        for x, cj in zip(drivers, c):
            logs[x["family"]] = logs.get(x["family"], 0.0) + float(cj)
        if known:  # the unlisted families (and the rounding of M and B): the rest of ln(1 + M) − ln(1 + B)
            logs["other"] = logs.get("other", 0.0) + float(total - c.sum())
        for fam, cj in logs.items():
            rows.append({"lead_day": int(d["lead_day"]), "date": d["date"], "family": fam,
                         "name": label("families", fam, lang, default=fam), "aqi": float(cj * scale),
                         "median_aqi": median, "baseline_aqi": float(base)})
    return pd.DataFrame(rows, columns=["lead_day", "date", "family", "name", "aqi", "median_aqi", "baseline_aqi"])


#: AQI points below which a driver is not worth a sentence [1]
READING_MIN_AQI = 5


def driver_reading(area: dict, lang: str = "zh", *, lead_day: int | None = None, top: int = 2) -> str:
    """One sentence on the largest drivers of an area's forecast on one day, in AQI points
    (:func:`driver_effects_aqi`), e.g. ``"12月31日（第3天）：通风扩散条件差，使AQI升高约25；降水清除或空气干燥，使AQI
    降低约10。"``.

    Parameters
    ----------
    area : dict
        One area of a forecast document.
    lang : {"zh", "en"}
    lead_day : int, optional
        The day to read; default the day with the highest median AQI.
    top : int
        How many families at most (the largest by absolute points, ``other`` left out, those below
        :data:`READING_MIN_AQI` points left out).

    Returns
    -------
    str
        The sentence; empty when the forecast carries no drivers.
    """
    effects = driver_effects_aqi(area, lang=lang)
    if effects.empty:
        return ""
    if lead_day is None:
        lead_day = int(effects.sort_values(["median_aqi", "lead_day"], ascending=[False, True])["lead_day"].iloc[0])
    day = effects[(effects["lead_day"] == lead_day) & (effects["family"] != "other")]
    if day.empty:
        return ""
    day = day.reindex(day["aqi"].abs().sort_values(ascending=False).index)
    day = day[day["aqi"].abs() >= READING_MIN_AQI].head(top)
    date = pd.Timestamp(effects.loc[effects["lead_day"] == lead_day, "date"].iloc[0])
    if lang == "zh":
        when = f"{date.month}月{date.day}日（第{lead_day}天）"
        parts = [f"{label('families', r.family, 'zh', field='up' if r.aqi > 0 else 'down', default=r.name)}，"
                 f"使AQI{'升高' if r.aqi > 0 else '降低'}约{abs(r.aqi):.0f}" for r in day.itertuples()]
        return f"{when}：" + ("；".join(parts) if parts else "各气象因子影响均较小") + "。"
    when = f"{date.day} {date:%b} (day {lead_day})"
    parts = [f"about {r.aqi:+.0f} AQI from "
             f"{label('families', r.family, 'en', field='up' if r.aqi > 0 else 'down', default=r.name)}"
             for r in day.itertuples()]
    return f"{when}: " + ("; ".join(parts) if parts else "no driver moves the AQI much") + "."


def driver_table(area: dict, *, lang: str = "zh") -> pd.DataFrame:
    """The drivers of an area's forecast as a table: one row per lead day, one column per family, AQI points
    (integers, :func:`driver_effects_aqi`); a family not among a day's top drivers is empty (``—``)."""
    eff = driver_effects_aqi(area, lang=lang)
    if eff.empty:
        return pd.DataFrame()
    wide = eff.pivot_table(index="lead_day", columns="name", values="aqi", sort=False)
    shown = wide.apply(lambda col: col.map(lambda v: EMPTY if pd.isna(v) else f"{v:+.0f}"))
    shown.insert(0, column("lead_day", lang), [f"D{k}" for k in wide.index])
    shown.columns.name = None
    return shown.reset_index(drop=True)


def day_one_table(table: pd.DataFrame, names: dict, *, lang: str = "zh") -> pd.DataFrame:
    """The day-1 rows of a forecast table (:func:`forecast.forecasting.run_forecast`), one per area: AQI quantiles
    as integers, P(AQI > 200) in %, dust, the level in words."""
    day1 = table[table["lead"] == 1].sort_values("area_id")
    yes, no = ("是", "") if lang == "zh" else ("yes", "")
    return pd.DataFrame({
        column("area", lang): [_name(names, a) for a in day1["area_id"]],
        column("target_date", lang): [str(pd.Timestamp(d).date()) for d in day1["target_date"]],
        **{column(c, lang): [number(v) for v in day1[c]] for c in ("aqi_q10", "aqi_q50", "aqi_q90")},
        column("p_aqi_gt200", lang): [number(v, percent=True) for v in day1["p_aqi_gt200"]],
        column("dust", lang): [yes if v else no for v in day1["dust"]],
        column("level", lang): [label("levels", v, lang) for v in day1["level"]]})


def verification_table(card: dict, *, lang: str = "zh") -> pd.DataFrame | None:
    """The model card's verification of AQI > 200 (scores to 0.01, the lead day as ``D1`` …), or ``None`` when the
    model is not verified."""
    ver = card.get("verification")
    if not ver:
        return None
    t = pd.DataFrame(ver["aqi_gt200"])
    out = pd.DataFrame({column("lead_day", lang): [f"D{int(k)}" for k in t["lead_day"]]})
    for c in ("ts", "pod", "far", "brier_skill_score"):
        if c in t:
            out[column(c, lang)] = [number(v, TABLE_DECIMALS) for v in t[c]]
    return out


def scores_table(rows: list[dict], *, lang: str = "zh") -> pd.DataFrame:
    """Score rows (model vs consultation, :func:`forecast.consultation.score`): the model named, scores to 0.01."""
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    out = pd.DataFrame(index=t.index)
    for c in t.columns:
        if c == "model":
            out[column(c, lang)] = [label("models", v, lang, default=str(v)) for v in t[c]]
        elif c == "lead_day":
            out[column(c, lang)] = [f"D{int(v)}" for v in t[c]]
        elif c in ("n", "hits", "misses", "false_alarms"):
            out[column(c, lang)] = [number(v) for v in t[c]]
        else:
            out[label("columns", c, lang, default=c)] = [number(v, TABLE_DECIMALS) for v in t[c]]
    return out


def adjustment_table(records: pd.DataFrame, names: dict, *, lang: str = "zh") -> pd.DataFrame:
    """The consultation's adjustment records as shown beside the forecast (names, ``D`` lead days, AQI integers)."""
    return pd.DataFrame({
        column("saved_at", lang): [str(v)[:16].replace("T", " ") for v in records["saved_at"]],
        column("area", lang): [_name(names, a) for a in records["area_id"]],
        column("lead_day", lang): [f"D{int(k)}" for k in records["lead_day"]],
        column("model_aqi", lang): [number(v) for v in records["model_aqi"]],
        column("consultation_aqi", lang): [number(v) for v in records["consultation_aqi"]],
        column("reason", lang): [str(v) if isinstance(v, str) else EMPTY for v in records["reason"]],
        column("participants", lang): [str(v) if isinstance(v, str) and v else EMPTY
                                       for v in records["participants"]]})


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
