"""会商 Consultation: forecast map, per-area forecasts with uncertainty, drivers, model card, adjustments."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from forecast import areas as areas_mod
from forecast.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS
from ui.common import forecast_doc, page_start, t


def level_map(doc: dict) -> go.Figure:
    geoms = areas_mod.boundaries()
    table = areas_mod.load_areas().set_index("area_id")
    fig = go.Figure()
    for area in doc["areas"]:
        geom = geoms[area["area_id"]]
        polys = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
        for p in polys:
            x, y = p.exterior.xy
            fig.add_trace(go.Scatter(x=list(x), y=list(y), fill="toself", mode="lines",
                                     line=dict(color="white", width=0.6), fillcolor=LEVEL_COLOURS[area["level"]],
                                     name=table.loc[area["area_id"], "name_zh"], showlegend=False,
                                     hoverinfo="text", text=f"{table.loc[area['area_id'], 'name_zh']}："
                                                            f"{LEVEL_NAMES_ZH[area['level']]}"))
    fig.update_layout(height=430, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(visible=False),
                      yaxis=dict(visible=False, scaleanchor="x", scaleratio=1.3), plot_bgcolor="white")
    return fig


def fan_chart(area: dict, history: pd.Series) -> go.Figure:
    days = pd.to_datetime([d["date"] for d in area["days"]])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=days, y=[d["aqi"]["q90"] for d in area["days"]], line=dict(width=0),
                             showlegend=False))
    fig.add_trace(go.Scatter(x=days, y=[d["aqi"]["q10"] for d in area["days"]], fill="tonexty", line=dict(width=0),
                             fillcolor="rgba(70,130,180,0.3)", name="10–90%"))
    fig.add_trace(go.Scatter(x=days, y=[d["aqi"]["q50"] for d in area["days"]], name="中位数 median",
                             line=dict(color="steelblue")))
    fig.add_trace(go.Scatter(x=history.index, y=history.values, name="实况 observed", line=dict(color="black")))
    fig.add_hline(y=200, line=dict(color="red", dash="dot"))
    fig.update_layout(height=320, margin=dict(t=10, b=10))
    return fig


def render():
    start = page_start("consultation")
    if start is None:
        return
    cfg, m, inp, dates = start
    issued = st.select_slider(t("issue_date"), options=[d.date() for d in dates], value=dates[-1].date())
    stamp = (cfg["model"] / "model.json").stat().st_mtime
    doc = forecast_doc(str(cfg["data"]), str(cfg["model"]), str(issued), stamp)
    names = areas_mod.load_areas().set_index("area_id")["name_zh"]
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(level_map(doc), use_container_width=True)
    with right:
        counts = pd.Series([a["level"] for a in doc["areas"]]).value_counts()
        for lv in LEVELS[::-1]:
            if counts.get(lv):
                st.markdown(f"<span style='color:{LEVEL_COLOURS[lv]}'>■</span> {LEVEL_NAMES_ZH[lv]}：{counts[lv]}",
                            unsafe_allow_html=True)
        with st.expander(t("model_card")):
            card = m.card
            st.write({k: card.get(k) for k in ("name", "version", "training_period", "met_source", "verification")})
    rows = []
    for a in doc["areas"]:
        rec = {"地区 area": names.get(a["area_id"], a["area_id"]), t("level"): LEVEL_NAMES_ZH[a["level"]],
               **{f"P({k})": a["level_probabilities"][k] for k in LEVELS}}
        for d in a["days"]:
            rec[f"D{d['lead_day']}"] = f"{d['aqi']['q50']:.0f} ({d['aqi']['q10']:.0f}–{d['aqi']['q90']:.0f})" + \
                (" 沙尘" if d["dust"] else "")
        rows.append(rec)
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
    area_id = st.selectbox("地区 area", [a["area_id"] for a in doc["areas"]], format_func=lambda a: names.get(a, a))
    area = next(a for a in doc["areas"] if a["area_id"] == area_id)
    hist = inp.obs.daily.loc[area_id]["aqi"]
    hist = hist[(hist.index > pd.Timestamp(issued) - pd.Timedelta(days=14)) & (hist.index <= pd.Timestamp(issued))]
    st.plotly_chart(fan_chart(area, hist), use_container_width=True)
    st.subheader(t("drivers"))
    st.dataframe(pd.DataFrame([{"D": d["lead_day"], **{x["name_zh"]: x["effect"] for x in d["drivers"]}}
                               for d in area["days"]]), hide_index=True)
    st.subheader(t("adjust"))
    with st.form("adjust"):
        day = st.selectbox(t("lead_day"), [d["lead_day"] for d in area["days"]])
        value = st.number_input("AQI", min_value=0, max_value=500,
                                value=int(area["days"][day - 1]["aqi"]["q50"]))
        reason = st.text_input(t("reason"))
        participants = st.text_input("参会人员 participants")
        notes = st.text_area("会商纪要 notes")
        if st.form_submit_button(t("save")):
            if not reason.strip():
                st.error("订正必须说明理由 / an adjustment needs a reason")
            else:
                path = Path(cfg["data"]) / ".lantian" / "consultations.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                rec = {"saved_at": datetime.now(timezone.utc).isoformat(), "issue_date": str(issued),
                       "model_version": doc["model_version"], "area_id": area_id, "lead_day": int(day),
                       "model_aqi": area["days"][day - 1]["aqi"]["q50"], "consultation_aqi": int(value),
                       "reason": reason, "participants": participants, "notes": notes}
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                st.success("已保存 / saved")
