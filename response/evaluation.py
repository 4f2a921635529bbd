"""Post-episode evaluation: the timeline, forecast and warning quality, and the weather-normalised effect of the
emergency measures — one report as JSON, HTML (offline plotly) and a Chinese summary paragraph.

Inputs: the data directory (observations, meteorology), the forecast archive of a model (every forecast issued
before and during the episode), and the warnings that were in force — from the audit store (issued / upgraded /
downgraded events until lifted) or from a CSV ``area_id, date, level[, issued]`` (the demo world's
``truth/warnings.csv`` is such a record of what its authorities issued).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import areas as areas_mod
from forecast import consultation
from response import counterfactual as CF
from forecast import forecasting as FC
from forecast.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVEL_RANK, warning_level

HEAVY = 200


class EvaluationError(ValueError):
    """An episode that cannot be evaluated (bad window, unknown area, no data)."""


def parse_episode(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = (pd.Timestamp(x) for x in str(text).split(":"))
    except ValueError:
        raise EvaluationError(f"episode {text!r}: expected START:END (YYYY-MM-DD:YYYY-MM-DD)") from None
    if end < start:
        raise EvaluationError(f"episode {text!r}: end before start")
    return start.normalize(), end.normalize()


def detect_episodes(obs_daily: pd.DataFrame, *, threshold: float = HEAVY, gap_days: int = 1) -> pd.DataFrame:
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


def warnings_from_store(store) -> pd.DataFrame:
    """Days each area had a warning in force, from the audit events (issued/upgraded/downgraded … lifted)."""
    rows = []
    events = store.events()
    by_area: dict = {}
    for e in events:
        by_area.setdefault(e["area_id"], []).append(e)
    for area, evs in by_area.items():
        current, since, issued = "none", None, None
        for e in evs + [None]:
            if e is not None and e["action"] not in ("issued", "upgraded", "downgraded", "lifted", "cancelled"):
                continue
            start = pd.Timestamp(e["valid_from"] or e["recorded_at"][:10]).normalize() if e is not None else None
            if current != "none" and since is not None:
                stop = start - pd.Timedelta(days=1) if start is not None else since
                for d in pd.date_range(since, max(stop, since)):
                    rows.append({"area_id": area, "date": d, "level": current, "issued": issued})
            if e is None:
                break
            current = "none" if e["action"] in ("lifted", "cancelled") else e["level"]
            since = start
            issued = e["recorded_at"][:10] if e["action"] == "issued" else issued
    return pd.DataFrame(rows, columns=["area_id", "date", "level", "issued"])


def read_warnings(source) -> pd.DataFrame:
    if source is None:
        return pd.DataFrame(columns=["area_id", "date", "level", "issued"])
    if hasattr(source, "events"):
        return warnings_from_store(source)
    path = Path(source)
    if path.suffix == ".db" or path.name.endswith(".sqlite"):
        from . import audit

        with audit.open_store(path) as store:
            return warnings_from_store(store)
    try:
        w = pd.read_csv(path, parse_dates=["date"])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise EvaluationError(f"{path}: cannot read the warnings ({exc})") from None
    if not {"area_id", "date", "level"} <= set(w.columns):
        raise EvaluationError(f"{path}: warnings need columns area_id, date, level")
    return w


def _forecast_quality(archive: pd.DataFrame, obs: pd.DataFrame, area: str, start, end) -> dict:
    """Onset/peak timing, peak error, first-forecast lead and accuracy by lead day for one area."""
    o = obs.loc[area]["aqi"] if area in obs.index.get_level_values(0) else pd.Series(dtype=float)
    o = o[(o.index >= start) & (o.index <= end)]
    a = archive[archive["area_id"] == area] if len(archive) else archive
    out = {"observed_peak_aqi": float(o.max()) if len(o) else None,
           "observed_peak_date": str(o.idxmax().date()) if len(o) and o.notna().any() else None}
    heavy_days = list(o[o > HEAVY].index)
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
        fc_heavy = list(d1[d1 > HEAVY].index)
        if heavy_days and fc_heavy:
            out["onset_timing_error_h"] = float((fc_heavy[0] - heavy_days[0]).days * 24)
    if heavy_days:
        first = heavy_days[0]
        event = a["event_gt200"].astype(bool) if "event_gt200" in a else False
        hit = a[(a["target_date"] == first) & ((a["aqi_q50"] > HEAVY) | event)]
        out["first_heavy_day_forecast_days_ahead"] = int(hit["lead"].max()) if len(hit) else 0
    acc = []
    for lead, g in a.groupby("lead"):
        g = g[(g["target_date"] >= start) & (g["target_date"] <= end)]
        y = o.reindex(g["target_date"]).to_numpy(float)
        ok = np.isfinite(y)
        if ok.any():
            from forecast.verification import category_accuracy

            acc.append({"lead_day": int(lead), "n": int(ok.sum()),
                        "category_accuracy": category_accuracy(g["aqi_q50"].to_numpy(float)[ok], y[ok]),
                        "heavy_hit_rate": float(np.mean((g["aqi_q50"].to_numpy(float)[ok] > HEAVY) == (y[ok] > HEAVY)))})
    out["by_lead"] = acc
    return out


def _warning_quality(w: pd.DataFrame, obs: pd.DataFrame, area: str, start, end, rules: str) -> dict:
    o = obs.loc[area]["aqi"] if area in obs.index.get_level_values(0) else pd.Series(dtype=float)
    o = o[(o.index >= start) & (o.index <= end)]
    ww = w[(w["area_id"] == area) & (w["date"] >= start) & (w["date"] <= end)] if len(w) else w
    heavy = o[o > HEAVY]
    warned = set(pd.to_datetime(ww["date"])) if len(ww) else set()
    implied = warning_level(o.fillna(0).to_numpy(float), rules=rules) if len(o) else "none"
    issued_level = max(ww["level"], key=lambda lv: LEVEL_RANK[lv]) if len(ww) else "none"
    res = {"observed_implied_level": implied, "issued_level": issued_level,
           "level_matched": implied == issued_level, "warned_days": len(warned),
           "heavy_days": int(len(heavy)), "heavy_days_warned": int(sum(d in warned for d in heavy.index))}
    if len(heavy) and len(ww):
        res["outcome"] = "hit"
        if "issued" in ww and ww["issued"].notna().any():
            issued = pd.to_datetime(ww["issued"]).min()
            res["lead_time_h"] = float((heavy.index[0] - issued).total_seconds() / 3600 - 16)  # issued at 16:00
    elif len(heavy):
        res["outcome"] = "miss"
    elif len(ww):
        res["outcome"] = "false_alarm"
    else:
        res["outcome"] = "correct_negative"
    return res


DECISION_FORECASTS = "forecasts/decision_forecasts.csv"


def read_decision_forecasts(source) -> pd.DataFrame:
    """The forecasts the warnings were decided on: CSV ``area_id, issue_date, target_date, lead_day, aqi`` →
    one row per (area_id, date) with the shortest-lead forecast ``aqi`` of that day and ``aqi_lead<k>`` for the
    longer leads (the warnings are decided on forecasts issued one and two days ahead)."""
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


def evaluate_episode(data, start, end, *, areas: list[str] | None = None, model_dir=None, warnings=None,
                     cache=None, inputs: FC.Inputs | None = None, activated_cuts: dict | None = None,
                     rounds: int = 200, decisions=None) -> dict:
    """Evaluate one episode; returns the report (JSON-able).

    ``decisions``: the forecasts the warnings were decided on (CSV, see :func:`read_decision_forecasts`; default
    ``<data>/forecasts/decision_forecasts.csv`` when present; ``False``: do not use them). The emission-cut effect is conditioned on them —
    without them, days with measures are selected on the counterfactual's own error and the effect is biased
    towards zero (the report says so).
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    inputs = inputs or FC.load_inputs(data, cache=cache)
    obs = inputs.obs.daily
    known = set(areas_mod.load_areas()["area_id"])
    if areas:
        bad = [a for a in areas if a not in known]
        if bad:
            raise EvaluationError(f"unknown area(s) {bad}; allowed: {', '.join(sorted(known))}")
    else:
        win = obs.reset_index()
        win = win[(win["date"] >= start) & (win["date"] <= end)]
        areas = sorted(win.loc[win["aqi"] > HEAVY, "area_id"].unique()) or sorted(win["area_id"].unique())
    w = read_warnings(warnings)
    w = w.assign(date=pd.to_datetime(w["date"])) if len(w) else w
    archive = pd.DataFrame()
    if model_dir is not None:
        from forecast.model import Forecaster

        version = Forecaster.load(model_dir).version
        archive = FC.archived_forecasts(data, cache=cache, model_version=version)
        if len(archive):
            archive = archive[(archive["issue_date"] >= start - pd.Timedelta(days=7)) &
                              (archive["issue_date"] <= end)]
    rules = "MEE-2024" if start >= pd.Timestamp("2024-04-25") else "MEE-2019"
    # gaps: area-days of the window without a valid observation
    days = pd.date_range(start, end)
    gaps = {a: [str(d.date()) for d in days if not np.isfinite(obs["aqi"].get((a, d), np.nan))] for a in areas}
    # timeline
    timeline = []
    for a in areas:
        for d in days:
            rec = {"area_id": a, "date": str(d.date()), "aqi": _get(obs, a, d, "aqi"),
                   "pm25": _get(obs, a, d, "pm25_24h")}
            lv = w[(w["area_id"] == a) & (w["date"] == d)]["level"] if len(w) else []
            rec["warning"] = lv.iloc[0] if len(lv) else "none"
            if len(archive):
                f = archive[(archive["area_id"] == a) & (pd.to_datetime(archive["target_date"]) == d)]
                for lead in (1, 2, 3):
                    g = f[f["lead"] == lead]
                    if len(g):
                        r = g.iloc[-1]
                        rec[f"fc_lead{lead}"] = {"q10": float(r["aqi_q10"]), "q50": float(r["aqi_q50"]),
                                                 "q90": float(r["aqi_q90"])}
            timeline.append(rec)
    rolling = inputs.obs.rolling
    roll = rolling[(rolling.index >= pd.Timestamp(start).tz_localize("Asia/Shanghai")) &
                   (rolling.index < (pd.Timestamp(end) + pd.Timedelta(days=1)).tz_localize("Asia/Shanghai"))]
    rolling_24h = {a: [[str(t), None if not np.isfinite(v) else float(v)] for t, v in roll[a].items()]
                   for a in areas if a in roll.columns}
    fq = {a: _forecast_quality(archive, obs, a, start, end) for a in areas}
    wq = {a: _warning_quality(w, obs, a, start, end, rules) for a in areas}
    # emission-cut effect: dynamic counterfactual on every day outside the window, conditioned on the
    # forecasts the warnings were decided on (forecast/counterfactual.py)
    if decisions is None and (Path(data) / DECISION_FORECASTS).exists():
        decisions = Path(data) / DECISION_FORECASTS
    dec = read_decision_forecasts(decisions) if decisions not in (None, False) else None
    table = CF.design(obs, inputs.met_daily, warnings=w if len(w) else None, decisions=dec)
    window = {(a, d) for a in table["area_id"].unique() for d in pd.date_range(start - pd.Timedelta(days=3),
                                                                              end + pd.Timedelta(days=3))}
    effect = {"note": "no days with measures in force in this episode"}
    model_info = None
    in_ep = (table["area_id"].isin(areas) & (table["date"] >= start) & (table["date"] <= end)).to_numpy()
    treated = in_ep & (table["share"].to_numpy() > 0)
    try:
        if treated.any():
            cfm = CF.fit(table, window, rounds=rounds)
            model_info = cfm.info
            effect = {"pm25": CF.effect(cfm, table, treated, target="pm25"),
                      "aqi": CF.effect(cfm, table, treated, target="aqi"), "area_days": int(treated.sum()),
                      "conditioned_on_decision_forecasts": str(decisions) if dec is not None else None}
            if dec is None:
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
                                                   target="pm25") for a in sorted(table.loc[treated, "area_id"].unique())}
        elif in_ep.any():  # no measures: the same estimator should find nothing (a placebo check)
            cfm = CF.fit(table, window, rounds=rounds)
            model_info = cfm.info
            effect["placebo_pm25"] = CF.effect(cfm, table, in_ep, target="pm25", placebo=True)
    except CF.CounterfactualError as exc:
        effect = {"note": str(exc)}
    report = {"episode": {"start": str(start.date()), "end": str(end.date()), "areas": areas, "rules": rules},
              "gaps": {a: g for a, g in gaps.items() if g}, "timeline": timeline, "rolling_24h": rolling_24h,
              "forecast_quality": fq, "warning_quality": wq, "effect": effect, "counterfactual_model": model_info,
              "warnings_used": int(len(w)), "forecasts_used": int(archive["issue_date"].nunique()) if len(archive)
              else 0}
    if activated_cuts:
        report["activated_cuts_td"] = activated_cuts
    records, _ = consultation.load(data)
    records = records[records["area_id"].isin(areas)]
    cons = consultation.score(records, obs, start=start - pd.Timedelta(days=7), end=end)
    report["consultation"] = cons.to_dict("records")
    report["summary_zh"] = summary_zh(report)
    return report


def _get(obs, a, d, col):
    try:
        v = obs.loc[(a, d), col]
    except KeyError:
        return None
    return None if not np.isfinite(v) else float(v)


def summary_zh(report: dict) -> str:
    """A plain-language paragraph in Chinese for the post-episode review document."""
    ep = report["episode"]
    names = areas_mod.load_areas().set_index("area_id")["name_zh"]
    area_text = "、".join(names.get(a, a) for a in ep["areas"][:6]) + ("等" if len(ep["areas"]) > 6 else "")
    wq = report["warning_quality"]
    hits = sum(v["outcome"] == "hit" for v in wq.values())
    misses = sum(v["outcome"] == "miss" for v in wq.values())
    fas = sum(v["outcome"] == "false_alarm" for v in wq.values())
    heavy = sum(v["heavy_days"] for v in wq.values())
    parts = [f"{ep['start']}至{ep['end']}，{area_text}出现污染过程，共{heavy}个地区日达到重度及以上污染（AQI>200）。"]
    parts.append(f"预警方面：命中{hits}个地区，漏报{misses}个，空报{fas}个。")
    leads = [v["lead_time_h"] for v in wq.values() if v.get("lead_time_h") is not None]
    if leads:
        parts.append(f"预警平均提前{np.mean(leads):.0f}小时发布（要求≥24小时）。")
    fq = report["forecast_quality"]
    ahead = [v.get("first_heavy_day_forecast_days_ahead") for v in fq.values()
             if v.get("first_heavy_day_forecast_days_ahead") is not None]
    if ahead:
        parts.append(f"模型最早提前{max(ahead)}天预报出首个重污染日。")
    eff = report["effect"].get("pm25")
    if eff and eff.get("estimate") is not None:
        lo, hi = eff["interval"]
        rel = f"（约{-eff['relative']:.0%}）" if eff.get("relative") else ""
        sign = "降低" if eff["estimate"] < 0 else "升高"
        parts.append(f"经气象条件归一化的反事实模型估算，应急减排措施使预警期间PM2.5日均浓度{sign}"
                     f"{abs(eff['estimate']):.1f} µg/m³{rel}，{eff['level']:.0%}置信区间为{lo:.1f}至{hi:.1f} µg/m³"
                     f"（共{eff['n_days']}个地区日）。")
        if lo <= 0 <= hi:
            parts.append("该区间包含0，减排效果在统计上尚不显著。")
        if report["effect"].get("caveat_history"):
            parts.append("注意：反事实模型训练数据不足两个采暖季，减排效果估算仅供参考。")
    elif "placebo_pm25" in report["effect"]:
        parts.append("本次过程未启动应急减排措施。")
    if report.get("gaps"):
        parts.append("注意：部分地区存在监测数据缺失日（见数据缺口），相关评估结果仅供参考。")
    return "".join(parts)


def season_summary(reports: list[dict]) -> dict:
    """Totals over many episodes: hits, misses, false alarms, mean lead time, mean effect."""
    outcomes = [v["outcome"] for r in reports for v in r["warning_quality"].values()]
    leads = [v["lead_time_h"] for r in reports for v in r["warning_quality"].values() if v.get("lead_time_h")]
    effects = [r["effect"]["pm25"]["estimate"] for r in reports
               if isinstance(r["effect"].get("pm25"), dict) and r["effect"]["pm25"].get("estimate") is not None]
    return {"episodes": len(reports), "hits": outcomes.count("hit"), "misses": outcomes.count("miss"),
            "false_alarms": outcomes.count("false_alarm"), "correct_negatives": outcomes.count("correct_negative"),
            "mean_lead_time_h": float(np.mean(leads)) if leads else None,
            "mean_pm25_effect": float(np.mean(effects)) if effects else None}


# ---- rendering ------------------------------------------------------------------------------------------------

def _consultation_html(rows: list[dict]) -> str:
    """Model vs consultation on the adjusted cases (empty when the consultation adjusted nothing)."""
    if not rows:
        return ""
    t = pd.DataFrame(rows).rename(columns={"model": "预报", "lead_day": "时效(天)", "n": "订正次数", "mae": "平均绝对误差",
                                           "bias": "偏差", "hits": "命中", "misses": "漏报", "false_alarms": "空报"})
    t["预报"] = t["预报"].map({"lantian": "模型", "consultation": "会商订正"})
    return ("<h2>会商订正与模型对比（AQI，同一批订正样本）</h2>" +
            t.drop(columns=["ts"]).to_html(index=False, float_format=lambda v: f"{v:.1f}"))


def report_figures(report: dict) -> list:
    """The report's plotly figures: per-area timelines (observed, forecast fan, warnings), warning outcomes, effect."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = areas_mod.load_areas().set_index("area_id")["name_zh"]
    tl = pd.DataFrame(report["timeline"])
    figs = []
    for area, g in tl.groupby("area_id", sort=False):
        fig = go.Figure()
        dates = pd.to_datetime(g["date"])
        if "fc_lead1" in g:
            fc = g["fc_lead1"].apply(lambda v: v if isinstance(v, dict) else {"q10": None, "q50": None, "q90": None})
            fig.add_trace(go.Scatter(x=dates, y=[f["q90"] for f in fc], line=dict(width=0), showlegend=False))
            fig.add_trace(go.Scatter(x=dates, y=[f["q10"] for f in fc], fill="tonexty", line=dict(width=0),
                                     name="预报 10–90%", fillcolor="rgba(70,130,180,0.25)"))
            fig.add_trace(go.Scatter(x=dates, y=[f["q50"] for f in fc], name="预报中位数（提前1天）",
                                     line=dict(color="steelblue", dash="dash")))
        fig.add_trace(go.Scatter(x=dates, y=g["aqi"], name="实况日均AQI", mode="lines+markers",
                                 line=dict(color="black")))
        roll = report["rolling_24h"].get(area)
        if roll:
            fig.add_trace(go.Scatter(x=[pd.Timestamp(t).tz_localize(None) for t, _ in roll], y=[v for _, v in roll],
                                     name="滑动24小时AQI", line=dict(color="grey", width=1)))
        for d, lv in zip(dates, g["warning"]):
            if lv != "none":
                fig.add_vrect(x0=d - pd.Timedelta(hours=12), x1=d + pd.Timedelta(hours=12),
                              fillcolor=LEVEL_COLOURS[lv], opacity=0.25, line_width=0)
        fig.add_hline(y=HEAVY, line=dict(color="red", dash="dot"))
        fig.update_layout(title=f"{names.get(area, area)}：实况、预报与预警", height=320, margin=dict(t=40, b=20))
        figs.append(fig)
    wq = report["warning_quality"]
    skill = make_subplots(rows=1, cols=1)
    skill.add_trace(go.Bar(x=["命中", "漏报", "空报", "正确无预警"],
                           y=[sum(v["outcome"] == k for v in wq.values())
                              for k in ("hit", "miss", "false_alarm", "correct_negative")]))
    skill.update_layout(title="预警效果（地区数）", height=300)
    figs.append(skill)
    eff = dict(report["effect"].get("pm25_by_area") or {})
    whole = report["effect"].get("pm25") or report["effect"].get("placebo_pm25")
    if whole and whole.get("estimate") is not None:
        eff = {"全部 / all": whole, **eff}
    if eff:
        ef = go.Figure()
        keys = list(eff)
        est = [eff[k]["estimate"] for k in keys]
        lo = [eff[k]["estimate"] - eff[k]["interval"][0] for k in keys]
        hi = [eff[k]["interval"][1] - eff[k]["estimate"] for k in keys]
        ef.add_trace(go.Bar(x=[names.get(k, k) for k in keys], y=est,
                            error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo),
                            name="PM2.5 减排效果"))
        ef.update_layout(title="应急减排效果（实况 − 反事实，µg/m³，90%区间）", height=320)
        figs.append(ef)
    return figs


def render_html(report: dict, path: str | Path) -> Path:
    """The report as a self-contained HTML page (plotly embedded: works offline)."""
    figs = report_figures(report)
    body = "".join(f.to_html(full_html=False, include_plotlyjs=("inline" if i == 0 else False))
                   for i, f in enumerate(figs))
    ep = report["episode"]
    html = (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>重污染过程评估 "
            f"{ep['start']}–{ep['end']}</title></head><body style='font-family:sans-serif;max-width:1100px;"
            f"margin:auto'><h1>重污染过程评估：{ep['start']} 至 {ep['end']}</h1><p>{report['summary_zh']}</p>"
            f"{body}{_consultation_html(report.get('consultation') or [])}<h2>数据</h2><pre>{json.dumps({k: report[k] for k in ('warning_quality', 'gaps')}, ensure_ascii=False, indent=1)}"
            f"</pre></body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def write_report(report: dict, out: str | Path) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ep = report["episode"]
    stem = f"episode_{ep['start']}_{ep['end']}"
    (out / f"{stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    render_html(report, out / f"{stem}.html")
    (out / f"{stem}_summary_zh.txt").write_text(report["summary_zh"] + "\n", encoding="utf-8")
    return {"json": str(out / f"{stem}.json"), "html": str(out / f"{stem}.html")}


def evaluate(data, out, *, episode: str | None = None, season: str | None = None, areas=None, model_dir=None,
             warnings=None, cache=None, decisions=None, progress: bool = False) -> dict:
    """Evaluate one episode (``episode="START:END"``) or every detected one (inside ``season`` when given) and
    write each report to ``out`` (plus ``season_summary.json`` for several).

    Returns
    -------
    dict
        ``reports`` (the report dicts), ``paths`` (their files) and ``season_summary`` (``None`` for one episode).

    Raises
    ------
    EvaluationError
        A malformed window, or no episode found.
    """
    inputs = FC.load_inputs(data, cache=cache, progress=progress)
    if episode:
        windows = [parse_episode(episode)]
    else:
        eps = detect_episodes(inputs.obs.daily)
        if season:
            s, e = parse_episode(season)
            eps = eps[(eps["start"] >= s) & (eps["end"] <= e)]
        windows = list(zip(eps["start"], eps["end"]))
        if not windows:
            raise EvaluationError("no episode (daily AQI > 200) found; give --episode START:END")
    reports, paths = [], []
    for start, end in windows:
        report = evaluate_episode(data, start, end, areas=areas, model_dir=model_dir, warnings=warnings,
                                  cache=cache, inputs=inputs, decisions=decisions)
        paths.append(write_report(report, out))
        reports.append(report)
    summary = None
    if len(reports) > 1:
        summary = season_summary(reports)
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "season_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return {"reports": reports, "paths": paths, "season_summary": summary}
