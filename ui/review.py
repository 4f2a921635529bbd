"""事后评估 Post-episode review: pick an episode, see its timeline, scores and emission-cut effect, download the
report."""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from forecast.consultation import store_path as consultation_store
from response import episodes, evaluation, figures
from response import report as R
from ui.common import audit_path, data_ready, inputs, region, session_start, settings, t


@st.cache_data(show_spinner="评估中 / evaluating …")
def evaluate(data: str, start: str, end: str, model_dir: str | None, warnings: str | None, stamp: float) -> dict:
    return evaluation.evaluate_episode(data, start, end, model_dir=model_dir, warnings=warnings, inputs=inputs(data))


def _stamp(*paths) -> float:
    return sum(Path(p).stat().st_mtime for p in paths if p is not None and Path(p).exists())


def render():
    cfg = settings()
    st.header(t("review"))
    session_start(cfg)
    if not data_ready(cfg):
        return
    inp = inputs(str(cfg["data"]))
    eps = episodes.detect_episodes(inp.obs.daily)
    if eps.empty:
        st.info("没有重污染过程（AQI>200）/ no heavy episode in the data")
        return
    labels = R.episode_labels(eps)
    # the review opens on the most significant episode (peak × duration), not the last one
    default = evaluation.most_significant_episode(eps)
    i = st.selectbox(t("episode"), range(len(eps)), format_func=lambda k: labels[k],
                     index=default if default is not None else len(eps) - 1)
    ep = eps.iloc[i]
    warnings = episodes.warnings_record(cfg["data"], audit_path(cfg))
    if warnings is not None:
        st.caption(f"预警记录 / warnings from: `{warnings}`")
    else:
        st.caption(f"没有预警记录 / no warnings record (audit store or `{episodes.ISSUED_WARNINGS}`)")
    model_dir = str(cfg["model"]) if (cfg["model"] / "model.json").exists() else None
    cons = consultation_store(cfg["data"])
    report = evaluate(str(cfg["data"]), str(ep["start"].date()), str(ep["end"].date()), model_dir,
                      str(warnings) if warnings else None, _stamp(warnings, cons))
    st.write(report["summary_zh"])
    if report["gaps"]:
        st.warning(f"数据缺口 / data gaps: {report['gaps']}")
    eff = report["effect"]
    cols = st.columns(3)
    for col, key, label in zip(cols, ("pm25", "aqi"), ("PM2.5 µg/m³", "AQI")):
        if key in eff and eff[key].get("estimate") is not None:
            col.metric(f"减排效果 effect {label}", f"{eff[key]['estimate']:.1f}",
                       help=f"90% 区间 {eff[key]['interval'][0]:.1f} … {eff[key]['interval'][1]:.1f}")
    if "area_days" in eff:
        cols[2].metric("预警地区日 warned area-days", eff["area_days"])
    if "note" in eff:
        st.caption(eff["note"])
    for key in ("caveat", "caveat_history"):
        if eff.get(key):
            st.warning(eff[key])
    for fig in figures.report_figures(report, names=region(str(cfg["data"])).names()):
        st.plotly_chart(fig, width="stretch")
    st.subheader("预警评估 / warning quality")
    st.dataframe(R.warning_quality_table(report), width="stretch")
    st.subheader("预报评估 / forecast quality")
    st.dataframe(R.forecast_quality_table(report), width="stretch")
    if report.get("consultation"):
        st.subheader("模型 vs 会商订正 / model vs consultation")
        st.dataframe(R.consultation_table(report), hide_index=True)
    c1, c2 = st.columns(2)
    c1.download_button("下载报告 HTML / download report", R.html(report).encode("utf-8"),
                       file_name=f"{R.report_stem(report)}.html", mime="text/html")
    c2.download_button("JSON", json.dumps(report, ensure_ascii=False, default=str), file_name="report.json")
