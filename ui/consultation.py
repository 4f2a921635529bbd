"""会商 Consultation: forecast map, per-area forecasts with uncertainty, drivers and driver maps, model card and
verification, and the consultation's own adjusted forecast (which then drives the proposed warnings)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from forecast import areas as areas_mod
from forecast import consultation as C
from forecast import meteorology
from forecast.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS
from ui.common import adjusted_doc, forecast_doc, page_start, t

MAP_VARS = {"blh": ("边界层高度", "boundary-layer height", "m", "Viridis"),
            "wind_speed": ("10米风速", "10-m wind speed", "m/s", "Blues"),
            "inversion": ("逆温强度 T850−T2m", "inversion T850−T2m", "K", "RdBu_r"),
            "relative_humidity": ("相对湿度", "relative humidity", "%", "YlGnBu")}


def _outline(fig: go.Figure, geoms, ids, colours=None, texts=None) -> None:
    for i, area_id in enumerate(ids):
        geom = geoms[area_id]
        for p in [geom] if geom.geom_type == "Polygon" else list(geom.geoms):
            x, y = p.exterior.xy
            if colours is None:
                fig.add_trace(go.Scatter(x=list(x), y=list(y), mode="lines", line=dict(color="black", width=0.7),
                                         showlegend=False, hoverinfo="skip"))
            else:
                fig.add_trace(go.Scatter(x=list(x), y=list(y), fill="toself", mode="lines",
                                         line=dict(color="white", width=0.6), fillcolor=colours[i],
                                         showlegend=False, hoverinfo="text", text=texts[i]))


def level_map(doc: dict, lead_day: int | None) -> go.Figure:
    """Areas coloured by warning level: the area's level (``lead_day`` None) or the level covering that day."""
    geoms = areas_mod.boundaries()
    names = areas_mod.load_areas().set_index("area_id")["name_zh"]
    ids, colours, texts = [], [], []
    for area in doc["areas"]:
        level = area["level"]
        if lead_day is not None and lead_day not in (area.get("trigger_days") or []):
            level = "none"
        day = next((d for d in area["days"] if d["lead_day"] == (lead_day or 1)), area["days"][0])
        ids.append(area["area_id"])
        colours.append(LEVEL_COLOURS[level])
        texts.append(f"{names.get(area['area_id'], area['area_id'])}：{LEVEL_NAMES_ZH[level]}，"
                     f"AQI {day['aqi']['q50']:.0f}（{day['aqi']['q10']:.0f}–{day['aqi']['q90']:.0f}）"
                     + ("，会商订正" if area.get("adjusted") else ""))
    fig = go.Figure()
    _outline(fig, geoms, ids, colours, texts)
    fig.update_layout(height=430, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(visible=False),
                      yaxis=dict(visible=False, scaleanchor="x", scaleratio=1.3), plot_bgcolor="white")
    return fig


@st.cache_data(show_spinner="读取气象场 / reading the GRIB fields …", max_entries=64)
def field_slice(data: str, issued: str, var: str, valid_time: str | None):
    """(kind, valid times, lat, lon, values, u, v) of one field at one time (the first time when None)."""
    ds = meteorology.map_fields(data, issued)
    times = [str(pd.Timestamp(v)) for v in ds["valid_time"].values]
    if var not in ds:
        return ds.attrs["kind"], times, None, None, None, None, None
    when = valid_time or times[0]
    sl = ds.sel(valid_time=pd.Timestamp(when))
    u = sl["wind_u"].values[::2, ::2] if "wind_u" in ds else None
    v = sl["wind_v"].values[::2, ::2] if "wind_v" in ds else None
    return (ds.attrs["kind"], times, ds["lat"].values, ds["lon"].values, sl[var].values, u, v)


def driver_map(lat, lon, values, var: str, u=None, v=None) -> go.Figure:
    zh, en, unit, scale = MAP_VARS[var]
    fig = go.Figure(go.Heatmap(x=lon, y=lat, z=values, colorscale=scale, colorbar=dict(title=unit),
                               zmid=0 if var == "inversion" else None, hovertemplate="%{x:.1f}°E %{y:.1f}°N: %{z:.1f}"))
    geoms = areas_mod.boundaries()
    _outline(fig, geoms, [a for a in areas_mod.load_areas()["area_id"] if a in geoms
                          and areas_mod.load_areas().set_index("area_id").loc[a, "tier"] == "city"])
    if var == "wind_speed" and u is not None:
        la, lo = np.meshgrid(lat[::2], lon[::2], indexing="ij")
        scale_deg = 0.08
        xs, ys = [], []
        for y0, x0, du, dv in zip(la.ravel(), lo.ravel(), u.ravel(), v.ravel()):
            xs += [x0, x0 + du * scale_deg, None]
            ys += [y0, y0 + dv * scale_deg, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=1), showlegend=False,
                                 hoverinfo="skip"))
    fig.update_layout(height=430, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(range=[lon.min(), lon.max()]),
                      yaxis=dict(range=[lat.min(), lat.max()], scaleanchor="x", scaleratio=1.3))
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
    adj = [d for d in area["days"] if d.get("adjusted")]
    if adj:
        fig.add_trace(go.Scatter(x=pd.to_datetime([d["date"] for d in adj]),
                                 y=[d["adjusted"]["model_aqi"]["q50"] for d in adj], mode="markers",
                                 marker=dict(symbol="x", color="grey", size=9), name="模型原值 model"))
    fig.add_trace(go.Scatter(x=history.index, y=history.values, name="实况 observed", line=dict(color="black")))
    fig.add_hline(y=200, line=dict(color="red", dash="dot"))
    fig.update_layout(height=320, margin=dict(t=10, b=10))
    return fig


def forecast_rows(doc: dict, names) -> pd.DataFrame:
    rows = []
    for a in doc["areas"]:
        rec = {"地区 area": names.get(a["area_id"], a["area_id"]), t("level"): LEVEL_NAMES_ZH[a["level"]]
               + (" ✎" if a.get("adjusted") else ""), **{f"P({k})": a["level_probabilities"][k] for k in LEVELS}}
        for d in a["days"]:
            rec[f"D{d['lead_day']}"] = f"{d['aqi']['q50']:.0f} ({d['aqi']['q10']:.0f}–{d['aqi']['q90']:.0f})" + \
                (" 沙尘" if d["dust"] else "") + (" ✎" if d.get("adjusted") else "")
            rec[f"P{d['lead_day']}>200"] = round(float(d["p_aqi_gt"]["200"]), 2)
        rows.append(rec)
    return pd.DataFrame(rows)


def render():
    start = page_start("consultation")
    if start is None:
        return
    cfg, m, inp, dates = start
    issued = st.select_slider(t("issue_date"), options=[d.date() for d in dates], value=dates[-1].date())
    stamp = (cfg["model"] / "model.json").stat().st_mtime
    model_doc = forecast_doc(str(cfg["data"]), str(cfg["model"]), str(issued), stamp)
    doc, adjustments = adjusted_doc(cfg["data"], model_doc)
    if len(adjustments):
        use = st.toggle(t("show_adjusted"), value=True)
        doc = doc if use else model_doc
    names = areas_mod.load_areas().set_index("area_id")["name_zh"]
    left, right = st.columns([3, 2])
    with left:
        lead_opts = [None] + list(range(1, 8))
        lead = st.radio(t("lead_day"), lead_opts, horizontal=True,
                        format_func=lambda k: t("all_leads") if k is None else f"D{k}")
        st.plotly_chart(level_map(doc, lead), width="stretch")
    with right:
        counts = pd.Series([a["level"] for a in doc["areas"]]).value_counts()
        for lv in LEVELS[::-1]:
            if counts.get(lv):
                st.markdown(f"<span style='color:{LEVEL_COLOURS[lv]}'>■</span> {LEVEL_NAMES_ZH[lv]}：{counts[lv]}",
                            unsafe_allow_html=True)
        card = m.card
        st.caption(f"{t('model_card')}: {card.get('name')} {card.get('version')}，"
                   f"{card.get('training_period', ['?', '?'])[0]} – {card.get('training_period', ['?', '?'])[1]}")
        ver = card.get("verification")
        if ver:
            st.markdown(f"**{t('verification')}** {ver['period'][0]} – {ver['period'][1]}（AQI>200）")
            st.dataframe(pd.DataFrame(ver["aqi_gt200"]).round(2), hide_index=True)
        else:
            st.caption(t("no_verification"))
        with st.expander(t("model_card")):
            st.json({k: card.get(k) for k in ("name", "version", "training_period", "met_variables", "met_source",
                                              "met_source_note", "imbalance", "verification")})
    st.dataframe(forecast_rows(doc, names), hide_index=True, width="stretch")
    area_id = st.selectbox("地区 area", [a["area_id"] for a in doc["areas"]], format_func=lambda a: names.get(a, a))
    area = next(a for a in doc["areas"] if a["area_id"] == area_id)
    hist = inp.obs.daily.loc[area_id]["aqi"]
    hist = hist[(hist.index > pd.Timestamp(issued) - pd.Timedelta(days=14)) & (hist.index <= pd.Timestamp(issued))]
    st.plotly_chart(fan_chart(area, hist), width="stretch")
    st.subheader(t("drivers"))
    st.dataframe(pd.DataFrame([{"D": d["lead_day"], **{x["name_zh"]: x["effect"] for x in d["drivers"]}}
                               for d in area["days"]]), hide_index=True)
    render_driver_maps(cfg, issued)
    render_adjustment(cfg, model_doc, area_id, adjustments)


def render_driver_maps(cfg, issued) -> None:
    st.subheader(t("driver_maps"))
    var = st.radio(t("field"), list(MAP_VARS), horizontal=True,
                   format_func=lambda v: MAP_VARS[v][0] if st.session_state.get("lang") != "en" else MAP_VARS[v][1])
    try:
        kind, times, *_ = field_slice(str(cfg["data"]), str(issued), var, None)
    except (ValueError, OSError) as exc:
        st.info(f"{t('no_fields')}: {exc}")
        return
    labels = {tm: (pd.Timestamp(tm) + pd.Timedelta(hours=8)).strftime("%m-%d %H:00") for tm in times}
    when = st.select_slider(t("valid_time"), options=times, value=times[min(len(times) - 1, 3)],
                            format_func=lambda tm: labels[tm])
    kind, _, lat, lon, values, u, v = field_slice(str(cfg["data"]), str(issued), var, when)
    if values is None:
        st.info(f"{t('no_fields')}: {var}")
        return
    st.caption(f"{t('source')}: {'预报场 forecast run' if kind == 'forecast' else '再分析 analysis'}，"
               f"{labels[when]}（北京时 CST）")
    st.plotly_chart(driver_map(lat, lon, values, var, u, v), width="stretch")


def render_adjustment(cfg, model_doc: dict, area_id: str, adjustments: pd.DataFrame) -> None:
    st.subheader(t("adjust"))
    area = next(a for a in model_doc["areas"] if a["area_id"] == area_id)
    st.caption(t("model_values") + "：" + "，".join(f"D{d['lead_day']} {d['aqi']['q50']:.0f}" for d in area["days"]))
    with st.form("adjust"):
        day = st.selectbox(t("lead_day"), [d["lead_day"] for d in area["days"]], key="adjust_day")
        value = st.number_input("AQI", min_value=0, max_value=C.MAX_AQI, value=None, step=5, key="adjust_aqi",
                                placeholder=t("consultation_aqi"))
        reason = st.text_input(t("reason"))
        participants = st.text_input(t("participants"))
        notes = st.text_area(t("notes"))
        if st.form_submit_button(t("save")):
            try:
                if value is None:
                    raise C.ConsultationError(t("consultation_aqi"))
                rec = C.make_record(model_doc, area_id, day, value, reason, participants=participants, notes=notes)
            except C.ConsultationError as exc:
                st.error(str(exc))
            else:
                C.append(cfg["data"], rec)
                st.toast(t("saved"))
                st.rerun()
    if len(adjustments):
        st.dataframe(adjustments[["saved_at", "area_id", "lead_day", "model_aqi", "consultation_aqi", "reason",
                                  "participants"]], hide_index=True, width="stretch")
