"""事后评估 Post-episode review: pick an episode, see its evaluation, download the report."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from response import evaluation as E
from ui.common import inputs, settings, t


@st.cache_data(show_spinner="评估中 / evaluating …")
def evaluate(data: str, start: str, end: str, model_dir: str | None, warnings: str | None) -> dict:
    return E.evaluate_episode(data, start, end, model_dir=model_dir, warnings=warnings, inputs=inputs(data))


def render():
    cfg = settings()
    st.header(t("review"))
    inp = inputs(str(cfg["data"]))
    eps = E.detect_episodes(inp.obs.daily)
    if eps.empty:
        st.info("没有重污染过程（AQI>200）/ no heavy episode in the data")
        return
    labels = [f"{r.start.date()} – {r.end.date()}（{r.heavy_area_days} 地区日，峰值 {r.peak_aqi:.0f}）"
              for r in eps.itertuples()]
    i = st.selectbox(t("episode"), range(len(eps)), format_func=lambda k: labels[k], index=len(eps) - 1)
    ep = eps.iloc[i]
    warnings = cfg["audit"] if cfg["audit"].exists() else None
    truth_warnings = Path(cfg["data"]) / "truth" / "warnings.csv"
    if warnings is None and truth_warnings.exists():
        warnings = truth_warnings
    model_dir = str(cfg["model"]) if (cfg["model"] / "model.json").exists() else None
    report = evaluate(str(cfg["data"]), str(ep["start"].date()), str(ep["end"].date()), model_dir,
                      str(warnings) if warnings else None)
    st.write(report["summary_zh"])
    st.dataframe(pd.DataFrame(report["warning_quality"]).T, use_container_width=True)
    if report["gaps"]:
        st.warning(f"数据缺口 / data gaps: {report['gaps']}")
    eff = report["effect"]
    if "pm25" in eff:
        st.metric("PM2.5 减排效果 µg/m³", f"{eff['pm25']['estimate']:.1f}",
                  help=f"90% 区间 {eff['pm25']['interval'][0]:.1f} … {eff['pm25']['interval'][1]:.1f}")
    out = Path(tempfile.mkdtemp(prefix="lantian-report-"))
    paths = E.write_report(report, out)
    st.download_button("下载报告 HTML / download report", open(paths["html"], "rb").read(),
                       file_name=Path(paths["html"]).name, mime="text/html")
    st.download_button("JSON", json.dumps(report, ensure_ascii=False, default=str), file_name="report.json")
