"""How an episode went: the forecasts' quality, the warnings' quality, the consultation against the model, and
the weather-normalised effect of the emergency measures (:mod:`response.counterfactual`).

Every function takes the episode's tables (observed daily values indexed by ``(area_id, date)``, the warnings in
force, the archived forecasts) and returns a JSON-able dict; none reads files.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import consultation
from forecast.features import ISSUE_HOUR, LEADS
from forecast.levels import LEVEL_RANK, warning_level
from forecast.nomenclature import HEAVY_AQI
from forecast.verification import category_accuracy
from response import causes
from response import counterfactual as CF

#: days around the episode left out of the counterfactual's training [d]
WINDOW_MARGIN_DAYS = 3
#: consultation records issued up to this many days before the episode are scored with it [d]
CONSULTATION_DAYS_BEFORE = 7

#: a lead time longer than the forecast horizon [h] cannot come from a forecast of the episode: the warning was
#: carried over from an earlier episode (maintained through a short clean spell), not issued ahead of this one
CARRIED_OVER_H = 24 * max(LEADS)


def _lead(res: dict, first_heavy, issued) -> None:
    """``lead_time_h`` [h] from the issue time to the first heavy day; ``carried_over`` when it exceeds the
    forecast horizon (:data:`CARRIED_OVER_H`)."""
    res["lead_time_h"] = float((first_heavy - issued).total_seconds() / 3600 - ISSUE_HOUR)
    if res["lead_time_h"] > CARRIED_OVER_H:
        res["carried_over"] = True



def _observed(obs_daily: pd.DataFrame, area: str, start, end) -> pd.Series:
    """Observed daily AQI of an area in the window (empty when the area has no observation)."""
    if area not in obs_daily.index.get_level_values(0):
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], name="date"))
    o = obs_daily.loc[area]["aqi"]
    return o[(o.index >= start) & (o.index <= end)]


def forecast_quality(archive: pd.DataFrame, obs_daily: pd.DataFrame, area: str, start, end) -> dict:
    """Onset/peak timing, peak error, first-forecast lead and accuracy by lead day for one area.

    Returns
    -------
    dict
        ``observed_peak_aqi`` [1], ``observed_peak_date``, ``observed_heavy_days``, ``forecasts`` (issue dates);
        with day-1 forecasts ``peak_aqi_error`` [1], ``peak_timing_error_h`` [h], ``onset_timing_error_h`` [h];
        ``first_heavy_day_forecast_days_ahead`` [d]; ``by_lead`` (``lead_day, n, category_accuracy,
        heavy_hit_rate``).
    """
    o = _observed(obs_daily, area, start, end)
    a = archive[archive["area_id"] == area] if len(archive) else archive
    out = {"observed_peak_aqi": float(o.max()) if len(o) else None,
           "observed_peak_date": str(o.idxmax().date()) if len(o) and o.notna().any() else None}
    heavy_days = list(o[o > HEAVY_AQI].index)
    out["observed_heavy_days"] = [str(d.date()) for d in heavy_days]
    if a.empty or o.empty:
        out["forecasts"] = 0
        return out
    a = a.assign(target_date=pd.to_datetime(a["target_date"]))
    out["forecasts"] = int(a["issue_date"].nunique())
    d1 = a[a["lead"] == 1].set_index("target_date")["aqi_q50"]
    d1 = d1[(d1.index >= start) & (d1.index <= end)]
    if len(d1):
        out["peak_aqi_error"] = float(d1.max() - o.max())
        out["peak_timing_error_h"] = float((d1.idxmax() - o.idxmax()).days * 24)
        fc_heavy = list(d1[d1 > HEAVY_AQI].index)
        if heavy_days and fc_heavy:
            out["onset_timing_error_h"] = float((fc_heavy[0] - heavy_days[0]).days * 24)
    if heavy_days:
        first = heavy_days[0]
        event = a["event_gt200"].astype(bool) if "event_gt200" in a else False
        hit = a[(a["target_date"] == first) & ((a["aqi_q50"] > HEAVY_AQI) | event)]
        out["first_heavy_day_forecast_days_ahead"] = int(hit["lead"].max()) if len(hit) else 0
    acc = []
    for lead, g in a.groupby("lead"):
        g = g[(g["target_date"] >= start) & (g["target_date"] <= end)]
        y = o.reindex(g["target_date"]).to_numpy(float)
        ok = np.isfinite(y)
        if ok.any():
            f = g["aqi_q50"].to_numpy(float)[ok]
            acc.append({"lead_day": int(lead), "n": int(ok.sum()), "category_accuracy": category_accuracy(f, y[ok]),
                        "heavy_hit_rate": float(np.mean((f > HEAVY_AQI) == (y[ok] > HEAVY_AQI)))})
    out["by_lead"] = acc
    return out


def _day_kind(primary, dust) -> str:
    """What an observed day calls for (:func:`response.causes.response_kind`): the first of tied primary
    pollutants decides; a day without one is graded on the AQI alone (a warning)."""
    first = str(primary).split(",")[0].strip() if isinstance(primary, str) and primary.strip() else None
    try:
        return causes.response_kind(first, dust=bool(dust) if pd.notna(dust) else False)
    except ValueError:
        return "warning"


def episode_kind(obs_daily: pd.DataFrame, area: str, start, end) -> str:
    """What an area's observed episode calls for: ``"advisory"`` when every heavy day (AQI > 200) of the window is
    dust-dominated (the observed ``dust`` flag, :func:`forecast.aqi.dust_dominated`) or O3-primary — a health
    advisory, not a colour warning (REFERENCE 1.4; :func:`response.causes.response_kind`) —, else ``"warning"``
    (also without a heavy day, or without the ``dust`` / ``primary_pollutant`` columns)."""
    if area not in obs_daily.index.get_level_values(0):
        return "warning"
    o = obs_daily.loc[area]
    o = o[(o.index >= start) & (o.index <= end) & (o["aqi"] > HEAVY_AQI)]
    if o.empty:
        return "warning"
    primary = o["primary_pollutant"] if "primary_pollutant" in o else pd.Series(None, index=o.index)
    dust = o["dust"] if "dust" in o else pd.Series(False, index=o.index)
    kinds = {_day_kind(p, d) for p, d in zip(primary, dust)}
    return "advisory" if kinds == {"health_advisory"} else "warning"


def warning_quality(warnings: pd.DataFrame, obs_daily: pd.DataFrame, area: str, start, end, rules: str, *,
                    advisories: pd.DataFrame | None = None) -> dict:
    """The warnings of one area against its observations: outcome, levels, warned and heavy days, lead time.

    An episode whose heavy days call for a health advisory (dust-dominated or O3-primary, :func:`episode_kind`) is
    scored as an advisory: a health advisory for the area on a day of the window (``advisories``: ``area_id,
    date[, issued]``, the days an advisory covered) is a ``hit``; without one the outcome is ``advisory_missed``
    — never a missed colour warning (``miss``); a colour warning issued for it is noted
    (``colour_warning_on_advisory``).

    Returns
    -------
    dict
        ``kind`` (``warning`` or ``advisory``), ``observed_implied_level`` (the level the observed AQI implies under
        ``rules``), ``issued_level`` (the highest in force), ``level_matched``, ``warned_days``, ``heavy_days``,
        ``heavy_days_warned``, ``outcome`` (``hit``, ``miss``, ``false_alarm``, ``correct_negative``; an advisory
        episode ``hit`` or ``advisory_missed``) and, for a hit with issue dates, ``lead_time_h`` [h]: from the
        issue time (:data:`forecast.features.ISSUE_HOUR` of the first issue date) to the start of the first heavy
        day, with ``carried_over`` when that is longer than the forecast horizon (the warning was in force from an
        earlier episode). An advisory episode also has ``advisory_days``.
    """
    o = _observed(obs_daily, area, start, end)
    w = warnings
    ww = w[(w["area_id"] == area) & (w["date"] >= start) & (w["date"] <= end)] if len(w) else w
    heavy = o[o > HEAVY_AQI]
    warned = set(pd.to_datetime(ww["date"])) if len(ww) else set()
    implied = warning_level(o.fillna(0).to_numpy(float), rules=rules) if len(o) else "none"
    issued_level = max(ww["level"], key=lambda lv: LEVEL_RANK[lv]) if len(ww) else "none"
    kind = episode_kind(obs_daily, area, start, end)
    res = {"kind": kind, "observed_implied_level": implied, "issued_level": issued_level,
           "level_matched": implied == issued_level, "warned_days": len(warned),
           "heavy_days": int(len(heavy)), "heavy_days_warned": int(sum(d in warned for d in heavy.index))}
    if kind == "advisory":
        a = advisories if advisories is not None else pd.DataFrame(columns=["area_id", "date"])
        aa = a[(a["area_id"] == area) & (pd.to_datetime(a["date"]) >= start) &
               (pd.to_datetime(a["date"]) <= end)] if len(a) else a
        res["advisory_days"] = int(pd.to_datetime(aa["date"]).nunique()) if len(aa) else 0
        res["level_matched"] = issued_level == "none"  # the right response to dust / O3 is no colour
        res["colour_warning_on_advisory"] = bool(len(ww))
        res["outcome"] = "hit" if len(aa) else "advisory_missed"
        if len(aa) and "issued" in aa and aa["issued"].notna().any():
            _lead(res, heavy.index[0], pd.to_datetime(aa["issued"]).min())
        return res
    if len(heavy) and len(ww):
        res["outcome"] = "hit"
        if "issued" in ww and ww["issued"].notna().any():
            _lead(res, heavy.index[0], pd.to_datetime(ww["issued"]).min())
    elif len(heavy):
        res["outcome"] = "miss"
    elif len(ww):
        res["outcome"] = "false_alarm"
    else:
        res["outcome"] = "correct_negative"
    return res


def consultation_quality(records: pd.DataFrame, obs_daily: pd.DataFrame, areas, start, end) -> list[dict]:
    """Model vs consultation on the adjusted cases of the episode's areas (:func:`forecast.consultation.score`),
    issue dates from :data:`CONSULTATION_DAYS_BEFORE` days before ``start`` to ``end``."""
    records = records[records["area_id"].isin(areas)]
    scores = consultation.score(records, obs_daily, start=pd.Timestamp(start) -
                                pd.Timedelta(days=CONSULTATION_DAYS_BEFORE), end=end)
    return scores.to_dict("records")


def measures_effect(obs_daily: pd.DataFrame, met_daily: pd.DataFrame, warnings: pd.DataFrame,
                    decisions: pd.DataFrame | None, areas, start, end, *, rounds: int = 200,
                    decisions_source=None, rules_of=None, calibrate=None) -> tuple[dict, dict | None]:
    """The emission-cut effect on the episode's warned area-days (observed − counterfactual).

    A dynamic counterfactual (:mod:`response.counterfactual`) is trained on every day outside the window
    (± :data:`WINDOW_MARGIN_DAYS`), conditioned on the ``decisions`` forecasts when given; without measures in
    the episode the same estimator gives a placebo estimate (compatible with zero when it works). ``calibrate``:
    passed to :func:`response.counterfactual.effect` (the counterfactual's bias on comparable untreated days).

    Returns
    -------
    (dict, dict or None)
        The effect (``pm25``, ``aqi``, ``area_days``, ``pm25_by_area``, caveats; or ``placebo_pm25``; or a
        ``note``) and the counterfactual model's info.
    """
    table = CF.design(obs_daily, met_daily, warnings=warnings if len(warnings) else None, decisions=decisions,
                      rules_of=rules_of)
    margin = pd.Timedelta(days=WINDOW_MARGIN_DAYS)
    window = {(a, d) for a in table["area_id"].unique() for d in pd.date_range(start - margin, end + margin)}
    effect = {"note": "no days with measures in force in this episode"}
    model_info = None
    in_ep = (table["area_id"].isin(areas) & (table["date"] >= start) & (table["date"] <= end)).to_numpy()
    treated = in_ep & (table["share"].to_numpy() > 0)
    try:
        if treated.any():
            cfm = CF.fit(table, window, rounds=rounds)
            model_info = cfm.info
            effect = {"pm25": CF.effect(cfm, table, treated, target="pm25", calibrate=calibrate),
                      "aqi": CF.effect(cfm, table, treated, target="aqi", calibrate=calibrate),
                      "area_days": int(treated.sum()),
                      "conditioned_on_decision_forecasts": str(decisions_source) if decisions is not None else None}
            if decisions is None:
                effect["caveat"] = ("没有预警决策所依据的预报，估计可能偏向于零 / no decision forecasts: warned days are "
                                    "selected on their pollution and the estimate may be biased towards zero")
            n = cfm.info["heating_seasons"]
            if n < CF.MIN_SEASONS:
                zh, en = ("1个", "one heating season") if n == 1 else ("不足一个", "less than one heating season")
                effect["caveat_history"] = (
                    f"反事实模型仅基于{zh}采暖季的数据，估计可靠性有限 / the counterfactual learned from {en} of "
                    f"history; on simulated worlds one season was not enough (estimates near zero where the truth "
                    f"was −16 to −22 µg/m³)")
            effect["pm25_by_area"] = {a: CF.effect(cfm, table, treated & (table["area_id"] == a).to_numpy(),
                                                   target="pm25", calibrate=calibrate)
                                      for a in sorted(table.loc[treated, "area_id"].unique())}
        elif in_ep.any():  # no measures: the same estimator should find nothing (a placebo check)
            cfm = CF.fit(table, window, rounds=rounds)
            model_info = cfm.info
            effect["placebo_pm25"] = CF.effect(cfm, table, in_ep, target="pm25", placebo=True, calibrate=calibrate)
    except CF.CounterfactualError as exc:
        effect = {"note": str(exc)}
    return effect, model_info
