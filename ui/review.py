"""事后评估 Post-episode review: pick an episode, see its timeline, scores and emission-cut effect, download the
report."""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

import pandas as pd

from forecast import labels, modelcard
from forecast.consultation import store_path as consultation_store
from response import episodes, evaluation, figures
from response import report as R
from ui.common import (L, audit_path, cache_note, data_ready, inputs, inputs_key, lang, model_stamp, region,
                       session_start, settings, show_table, t, unit_names)

#: the warning-quality columns and how each is shown: a level, an outcome, a yes/no, a number of decimals
_WARNING_COLUMNS = {"observed_implied_level": "level", "issued_level": "level", "outcome": "outcome",
                    "level_matched": "bool", "warned_days": 0, "heavy_days": 0, "heavy_days_warned": 0,
                    "lead_time_h": 0}
_FORECAST_COLUMNS = {"observed_peak_aqi": 0, "observed_heavy_days": "dates", "forecasts": 0, "peak_aqi_error": 0,
                     "peak_timing_error_h": 0, "onset_timing_error_h": 0, "first_heavy_day_forecast_days_ahead": 0}


def _cell(value, how):
    if isinstance(how, int):
        return labels.number(value, how)
    if value is None or (isinstance(value, float) and value != value):
        return labels.EMPTY
    if how == "level":
        return L("levels", value, default=str(value))
    if how == "outcome":
        return L("outcomes", value, default=str(value))
    if how == "bool":
        return ("是" if value else "否") if lang() == "zh" else ("yes" if value else "no")
    if how == "dates":
        return t("list_sep").join(labels.date_zh(d) if lang() == "zh" else str(d) for d in value) or labels.EMPTY
    return str(value)


#: the evaluation's English notes in Chinese
_NOTES_ZH = {"no days with measures in force in this episode": "本过程没有实施应急措施的日子，无法估计减排效果"}


def _in_language(text: str) -> str:
    """A note of the evaluation in the page language: a ``"中文 / English"`` text split, a known English note
    translated."""
    text = str(text)
    if " / " in text:
        zh, en = text.split(" / ", 1)
        return en if lang() == "en" else zh
    return _NOTES_ZH.get(text, text) if lang() == "zh" else text


def quality_table(per_area: dict, shown: dict, names: dict) -> pd.DataFrame:
    """A per-area quality table of the report (``warning_quality`` / ``forecast_quality``) in words: area names,
    the nomenclature's headers, levels and outcomes named, numbers rounded; nested values left out."""
    rows = []
    for area_id, q in per_area.items():
        row = {labels.column("area", lang()): names.get(area_id, area_id)}
        for code, how in shown.items():
            if code in q or how != "dates":
                row[labels.column(code, lang())] = _cell(q.get(code), how)
        rows.append(row)
    return pd.DataFrame(rows)


@st.cache_data(show_spinner="评估中 / evaluating …", max_entries=16)
def evaluate(data: str, start: str, end: str, model_dir: str | None, warnings: str | None,
             stamp: float) -> tuple[dict, str | None]:
    """The episode's evaluation: from the page cache on disk when kept (the demo preparation keeps the first
    episode's; :mod:`lantian.pagecache`), else computed and kept there."""
    from lantian import pagecache

    return pagecache.episode_review(data, start, end, model_dir=model_dir, warnings=warnings, inputs=inputs(data),
                                    inputs_key=inputs_key(data))


@st.cache_data(show_spinner=False, max_entries=4)
def _episodes(data: str, key: str):
    return episodes.detect_episodes(inputs(data).obs.daily)


def timeline_areas(report: dict) -> list[str]:
    """The episode's areas, the highest observed peak first (the forecast quality's ``observed_peak_aqi``)."""
    areas = list(dict.fromkeys(rec["area_id"] for rec in report["timeline"]))
    peak = {a: (report.get("forecast_quality", {}).get(a) or {}).get("observed_peak_aqi") for a in areas}
    return sorted(areas, key=lambda a: -(peak[a] if isinstance(peak[a], (int, float)) and peak[a] == peak[a] else -1))


@st.fragment
def timeline_part(report: dict, names: dict) -> None:
    """One area's timeline at a time (:func:`response.figures.episode_timeline`), the area with the highest
    observed peak first: all of them at once (20 charts on the demo) took the browser seconds to draw. A fragment:
    another area redraws this chart only."""
    areas = timeline_areas(report)
    if not areas:
        return
    area = st.selectbox(t("timeline_area"), areas, format_func=lambda a: names.get(a, a), key="review_area")
    st.plotly_chart(figures.episode_timeline(report, area, names=names, lang=lang()), width="stretch")


def _stamp(*paths) -> float:
    return sum(Path(p).stat().st_mtime for p in paths if p is not None and Path(p).exists())


def render():
    cfg = settings()
    st.header(t("review"))
    session_start(cfg)
    if not data_ready(cfg):
        return
    eps = _episodes(str(cfg["data"]), inputs_key(str(cfg["data"])))
    if eps.empty:
        st.info(t("episode_none"))
        return
    ep_labels = R.episode_labels(eps, lang())
    # the review opens on the most significant episode (peak × duration), not the last one
    # … among those after the model's training period (forecast unseen, archived, warnings decided) when any
    default = evaluation.most_significant_episode(eps, after=modelcard.last_training_day(settings()["model"]))
    i = st.selectbox(t("episode"), range(len(eps)), format_func=lambda k: ep_labels[k],
                     index=default if default is not None else len(eps) - 1)
    ep = eps.iloc[i]
    warnings = episodes.warnings_record(cfg["data"], audit_path(cfg))
    if warnings is not None:
        st.caption(f"{t('warnings_from')}`{warnings}`")
    else:
        st.caption(t("no_warnings_record").format(path=f"`{episodes.ISSUED_WARNINGS}`"))
    model_dir = str(cfg["model"]) if model_stamp(cfg["model"]) is not None else None
    cons = consultation_store(cfg["data"])
    report, note = evaluate(str(cfg["data"]), str(ep["start"].date()), str(ep["end"].date()), model_dir,
                            str(warnings) if warnings else None, _stamp(warnings, cons) + (model_stamp(cfg["model"]) or 0))
    cache_note(note)
    names = unit_names(cfg["data"])
    st.write(report["summary_zh"] if lang() == "zh" else R.summary(report, names, lang()))
    if report["gaps"]:
        gaps = report["gaps"]
        if isinstance(gaps, dict):  # area id → missing days
            gaps = t("semicolon").join(f"{names.get(a, a)}{t('colon')}{_cell(days, 'dates')}"
                                       for a, days in gaps.items())
        st.warning(f"{t('data_gaps')}{t('colon')}{gaps}")
    eff = report["effect"]
    cols = st.columns(3)
    honesty = R.effect_flags(report, lang())
    failed = R.estimate_failed(report)
    for col, key, label in zip(cols, ("pm25", "aqi"), ("PM2.5 µg/m³", "AQI")):
        if key in eff and (eff[key].get("estimable") is False or (failed and key == "pm25")):
            col.metric(f"{t('effect')} {label}", L("effect_flags", "failed" if failed else "not_estimable_short"))
        elif key in eff and eff[key].get("estimate") is not None and not failed:
            col.metric(f"{t('effect')} {label}", f"{eff[key]['estimate']:.1f}",
                       help=t("interval").format(lo=f"{eff[key]['interval'][0]:.1f}",
                                                 hi=f"{eff[key]['interval'][1]:.1f}"))
    if "area_days" in eff:
        cols[2].metric(t("warned_area_days"), eff["area_days"])
    if "note" in eff:
        st.caption(_in_language(eff["note"]))
    for message in honesty["not_estimable"]:
        st.error(f"{L('effect_flags', 'not_estimable')}{t('colon')}{message}")
    for message in honesty["flags"]:
        (st.error if failed else st.warning)(message)
    if honesty["anchors"]:
        st.caption(f"{L('effect_flags', 'anchors')}{t('colon')}" + t("semicolon").join(honesty["anchors"]))
    for key in ("caveat", "caveat_history"):
        if eff.get(key):
            st.warning(_in_language(eff[key]))
    timeline_part(report, names)
    st.plotly_chart(figures.warning_outcomes(report, lang()), width="stretch")
    effect = figures.effect_bars(report, names=names, lang=lang())
    if effect is not None:
        st.plotly_chart(effect, width="stretch")
    level_cols = [labels.column(c, lang()) for c in ("observed_implied_level", "issued_level")]
    st.subheader(t("warning_quality"))
    show_table(quality_table(report["warning_quality"], _WARNING_COLUMNS, names), level_columns=level_cols)
    st.subheader(t("forecast_quality"))
    show_table(quality_table(report["forecast_quality"], _FORECAST_COLUMNS, names))
    if report.get("consultation"):
        from forecast import products

        st.subheader(t("model_vs_consultation"))
        show_table(products.scores_table(report["consultation"], lang=lang()), width="content")
    c1, c2 = st.columns(2)
    # the files are made when a button is clicked: the HTML report inlines plotly (offline), about 1 s to write
    c1.download_button(t("download_report"), lambda: R.html(report).encode("utf-8"),
                       file_name=f"{R.report_stem(report)}.html", mime="text/html")
    c2.download_button(t("download_json"), lambda: json.dumps(report, ensure_ascii=False, default=str),
                       file_name="report.json", mime="application/json")
