"""The post-episode report as people read it: the Chinese summary paragraph, the season's totals, the tables the
review page shows, and the files (JSON, self-contained HTML with offline plotly, the summary as text)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import areas as areas_mod
from response.counterfactual import flag_text


def area_names(report: dict | None = None, names=None) -> pd.Series:
    """Area id → Chinese name: ``names``, else those a report carries (``report["episode"]["names"]``, the
    region's: :func:`response.evaluation.evaluate_episode` writes them), else the shipped area table's."""
    if names is not None:
        return names
    if report is not None and report.get("episode", {}).get("names"):
        return pd.Series(report["episode"]["names"], dtype=object)
    return areas_mod.load_areas().set_index("area_id")["name_zh"]


def summary(report: dict, names=None, lang: str = "zh") -> str:
    """A plain-language paragraph for the post-episode review document, in ``lang`` (the nomenclature's
    ``phrases``: ``summary_*``).

    ``names``: area id → name in ``lang`` (default: the names the report carries, ``report["episode"]["names"]``,
    else the shipped area table's ``name_zh``).
    """
    from forecast import labels

    P = labels.phrase
    ep = report["episode"]
    names = area_names(report, names)
    sep = "、" if lang == "zh" else ", "
    area_text = sep.join(names.get(a, a) for a in ep["areas"][:6]) + \
        (P("summary_areas_more", lang) if len(ep["areas"]) > 6 else "")
    wq = report["warning_quality"]
    hits = sum(v["outcome"] == "hit" for v in wq.values())
    misses = sum(v["outcome"] == "miss" for v in wq.values())
    fas = sum(v["outcome"] == "false_alarm" for v in wq.values())
    heavy = sum(v["heavy_days"] for v in wq.values())
    parts = [P("summary_episode", lang, start=ep["start"], end=ep["end"], areas=area_text, heavy=heavy),
             P("summary_warnings", lang, hits=hits, misses=misses, fas=fas)]
    leads = [v["lead_time_h"] for v in wq.values() if v.get("lead_time_h") is not None and not v.get("carried_over")]
    carried = sum(bool(v.get("carried_over")) for v in wq.values())
    if leads:
        parts.append(P("summary_lead", lang, lead=f"{np.mean(leads):.0f}"))
    if carried:  # in force since an earlier episode: no lead time of this one
        parts.append(P("summary_carried_over", lang, n=carried))
    fq = report["forecast_quality"]
    ahead = [v.get("first_heavy_day_forecast_days_ahead") for v in fq.values()
             if v.get("first_heavy_day_forecast_days_ahead") is not None]
    if ahead:
        parts.append(P("summary_ahead", lang, days=max(ahead)))
    eff = report["effect"].get("pm25")
    if eff and eff.get("estimable") is False:
        parts.append(P("summary_not_estimable", lang, title=labels.label("effect_flags", "not_estimable", lang),
                       reasons=("；" if lang == "zh" else "; ").join(flag_text(r, lang) for r in eff.get("reasons", []))))
    elif eff and eff.get("estimate") is not None:
        lo, hi = eff["interval"]
        failed = [f for f in _flags(eff) if f["code"] == "implausible_sign"]
        if failed:  # a rise is a failure of the estimate, never reported as a finding
            parts.append(P("summary_effect_failed", lang, n=eff["n_days"], flag=flag_text(failed[0], lang)))
        else:
            rel = P("summary_relative", lang, share=f"{-eff['relative']:.0%}") if eff.get("relative") else ""
            parts.append(P("summary_effect", lang, sign=P("summary_lower", lang), value=f"{abs(eff['estimate']):.1f}",
                           rel=rel, level=f"{eff['level']:.0%}", lo=f"{lo:.1f}", hi=f"{hi:.1f}", n=eff["n_days"]))
            if lo <= 0 <= hi:
                parts.append(P("summary_not_significant", lang))
            for f in _flags(eff):
                parts.append(P("summary_flag", lang, flag=flag_text(f, lang)))
        if report["effect"].get("caveat_history"):
            parts.append(P("summary_short_history", lang))
    if eff and report["effect"].get("anchors"):
        parts.append(P("summary_anchors", lang, title=labels.label("effect_flags", "anchors", lang),
                       anchors=("；" if lang == "zh" else "; ").join(a.get(lang) or a["zh"]
                                                                     for a in report["effect"]["anchors"])))
    if not eff and "placebo_pm25" in report["effect"]:
        parts.append(P("summary_no_measures", lang))
    if report.get("gaps"):
        parts.append(P("summary_gaps", lang))
    return "".join(parts).strip()


def summary_zh(report: dict, names=None) -> str:
    """The Chinese paragraph of :func:`summary` (what the report files and ``report["summary_zh"]`` carry)."""
    return summary(report, names, "zh")


def _flags(estimate: dict) -> list[dict]:
    """The flags of an estimate; a rise without flags (a report of an older version) is flagged here too."""
    if "flags" in estimate or estimate.get("estimate") is None:
        return estimate.get("flags", [])
    est = float(estimate["estimate"])
    return [{"code": "implausible_sign", "values": {"estimate": round(est, 1)}}] if est > 0 else []


def _zh(code: str) -> str:
    from forecast import labels

    return labels.label("effect_flags", code, "zh")


def effect_flags(report: dict, lang: str = "zh") -> dict:
    """What the review shows about the effect's honesty, in ``lang``: ``not_estimable`` (the reasons' messages;
    empty when estimable), ``flags`` (messages of the PM2.5 estimate's flags: implausible sign, outside the
    published anchors) and ``anchors`` (the published effects as context)."""
    eff = report.get("effect", {})
    pm = eff.get("pm25") or {}
    ne = [flag_text(r, lang) for r in pm.get("reasons", [])] if pm.get("estimable") is False else []
    return {"not_estimable": ne, "flags": [flag_text(f, lang) for f in _flags(pm)],
            "anchors": [a[lang] for a in eff.get("anchors", [])] if pm else []}


def estimate_failed(report: dict) -> bool:
    """Whether the PM2.5 estimate failed (an implausible sign): its number is then not shown as an effect."""
    pm = report.get("effect", {}).get("pm25") or {}
    return any(f["code"] == "implausible_sign" for f in _flags(pm))


def season_summary(reports: list[dict]) -> dict:
    """Totals over many episodes: hits, misses, false alarms, mean lead time (warnings not carried over from an
    earlier episode), mean effect (over the plausible estimates), and the episodes whose effect was not estimable or whose estimate failed (implausible sign)."""
    outcomes = [v["outcome"] for r in reports for v in r["warning_quality"].values()]
    leads = [v["lead_time_h"] for r in reports for v in r["warning_quality"].values()
             if v.get("lead_time_h") and not v.get("carried_over")]
    pm = [r["effect"]["pm25"] for r in reports if isinstance(r["effect"].get("pm25"), dict)]
    effects = [e["estimate"] for e in pm if e.get("estimate") is not None and not
               any(f["code"] == "implausible_sign" for f in _flags(e))]
    return {"episodes": len(reports), "hits": outcomes.count("hit"), "misses": outcomes.count("miss"),
            "false_alarms": outcomes.count("false_alarm"), "correct_negatives": outcomes.count("correct_negative"),
            "mean_lead_time_h": float(np.mean(leads)) if leads else None,
            "mean_pm25_effect": float(np.mean(effects)) if effects else None,
            "effect_not_estimable": sum(e.get("estimable") is False for e in pm),
            "effect_failed": sum(e.get("estimate") is not None and
                                 any(f["code"] == "implausible_sign" for f in _flags(e)) for e in pm)}


# ---- what the review page shows ------------------------------------------------------------------------------

def episode_labels(episodes: pd.DataFrame, lang: str = "zh") -> list[str]:
    """One line per detected episode (:func:`response.episodes.detect_episodes`): dates, heavy area-days, peak."""
    from forecast import labels

    return [labels.phrase("episode_line", lang, start=r.start.date(), end=r.end.date(), n=r.heavy_area_days,
                          peak=f"{r.peak_aqi:.0f}") for r in episodes.itertuples()]


def warning_quality_table(report: dict) -> pd.DataFrame:
    """The warning quality, one row per area."""
    return pd.DataFrame(report["warning_quality"]).T


def forecast_quality_table(report: dict) -> pd.DataFrame:
    """The forecast quality, one row per area."""
    return pd.DataFrame(report["forecast_quality"]).T


def consultation_table(report: dict) -> pd.DataFrame:
    """Model vs consultation on the adjusted cases (scores rounded to 0.01; empty without adjustments)."""
    return pd.DataFrame(report.get("consultation") or []).round(2)


# ---- files -------------------------------------------------------------------------------------------------------

def _consultation_html(rows: list[dict]) -> str:
    """Model vs consultation on the adjusted cases (empty when the consultation adjusted nothing)."""
    if not rows:
        return ""
    t = pd.DataFrame(rows).rename(columns={"model": "预报", "lead_day": "时效(天)", "n": "订正次数", "mae": "平均绝对误差",
                                           "bias": "偏差", "hits": "命中", "misses": "漏报", "false_alarms": "空报"})
    t["预报"] = t["预报"].map({"lantian": "模型", "consultation": "会商订正"})
    return ("<h2>会商订正与模型对比（AQI，同一批订正样本）</h2>" +
            t.drop(columns=["ts"]).to_html(index=False, float_format=lambda v: f"{v:.1f}"))


def _effect_flags_html(report: dict) -> str:
    """The effect's honesty flags (:func:`effect_flags`) as a list, the published anchors below it."""
    f = effect_flags(report, "zh")
    items = ([f"<li><b>{_zh('not_estimable')}</b>：{m}</li>" for m in f["not_estimable"]] +
             [f"<li><b>{m}</b></li>" for m in f["flags"]])
    anchors = "".join(f"<li>{a}</li>" for a in f["anchors"])
    if not items and not anchors:
        return ""
    return (f"<h2>减排效果评估说明</h2><ul>{''.join(items)}</ul>" +
            (f"<p>{_zh('anchors')}：</p><ul>{anchors}</ul>" if anchors else ""))


def report_stem(report: dict) -> str:
    """The report files' name without suffix: ``episode_<start>_<end>``."""
    ep = report["episode"]
    return f"episode_{ep['start']}_{ep['end']}"


def html(report: dict, *, names=None) -> str:
    """The report as a self-contained HTML page (plotly embedded: works offline); ``names`` as for
    :func:`summary_zh`."""
    from . import figures

    figs = figures.report_figures(report, names=area_names(report, names))
    body = "".join(f.to_html(full_html=False, include_plotlyjs=("inline" if i == 0 else False))
                   for i, f in enumerate(figs))
    ep = report["episode"]
    data = json.dumps({k: report[k] for k in ("warning_quality", "gaps")}, ensure_ascii=False, indent=1)
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>重污染过程评估 "
            f"{ep['start']}–{ep['end']}</title></head><body style='font-family:sans-serif;max-width:1100px;"
            f"margin:auto'><h1>重污染过程评估：{ep['start']} 至 {ep['end']}</h1><p>{report['summary_zh']}</p>"
            f"{_effect_flags_html(report)}{body}{_consultation_html(report.get('consultation') or [])}"
            f"<h2>数据</h2><pre>{data}"
            f"</pre></body></html>")


def render_html(report: dict, path: str | Path, *, names=None) -> Path:
    """Write :func:`html` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html(report, names=names), encoding="utf-8")
    return path


def write_report(report: dict, out: str | Path, *, names=None) -> dict:
    """``<out>/episode_<start>_<end>.json``, ``.html`` and ``_summary_zh.txt``; returns the JSON and HTML paths.
    ``names`` as for :func:`summary_zh`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = report_stem(report)
    (out / f"{stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    render_html(report, out / f"{stem}.html", names=names)
    (out / f"{stem}_summary_zh.txt").write_text(report["summary_zh"] + "\n", encoding="utf-8")
    return {"json": str(out / f"{stem}.json"), "html": str(out / f"{stem}.html")}
