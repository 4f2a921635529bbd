"""会商 Consultation: forecast map, per-area forecasts with uncertainty, drivers and driver maps, model card and
verification, and the consultation's own adjusted forecast (which then drives the proposed warnings)."""
from __future__ import annotations

import streamlit as st

from forecast import consultation as C
from forecast import decision, forecasting, products
from forecast.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH
from response import figures
from ui.common import adjusted_doc, allowed, current_account, forecast_doc, page_start, region, t


@st.cache_data(show_spinner="读取气象场 / reading the GRIB fields …", max_entries=64)
def field_slice(data: str, issued: str, var: str, valid_time: str | None) -> products.MapField:
    """One field of the maps at one time (the first time when None): :func:`forecast.products.map_field`."""
    return products.map_field(data, issued, var, valid_time)


def render():
    start = page_start("consultation")
    if start is None:
        return
    cfg, m, inp, dates = start
    issued = st.select_slider(t("issue_date"), options=[d.date() for d in dates], value=dates[-1].date())
    setting = decision.settings_path(cfg["data"])  # a new threshold setting re-decides the levels
    stamp = (cfg["model"] / "model.json").stat().st_mtime + (setting.stat().st_mtime if setting.exists() else 0)
    model_doc = forecast_doc(str(cfg["data"]), str(cfg["model"]), str(issued), stamp)
    doc, adjustments = adjusted_doc(cfg["data"], model_doc)
    if len(adjustments):
        use = st.toggle(t("show_adjusted"), value=True)
        doc = doc if use else model_doc
    reg = region(str(cfg["data"]))
    names = products.area_names(reg.areas)
    left, right = st.columns([3, 2])
    with left:
        lead_opts = [None] + list(range(1, 8))
        lead = st.radio(t("lead_day"), lead_opts, horizontal=True,
                        format_func=lambda k: t("all_leads") if k is None else f"D{k}")
        st.plotly_chart(figures.level_map(doc, lead, names=names, geoms=reg.boundaries), width="stretch")
    with right:
        for lv, n in products.level_counts(doc).items():
            st.markdown(f"<span style='color:{LEVEL_COLOURS[lv]}'>■</span> {LEVEL_NAMES_ZH[lv]}：{n}",
                        unsafe_allow_html=True)
        card = m.card
        st.caption(f"{t('model_card')}: {card.get('name')} {card.get('version')}，"
                   f"{card.get('training_period', ['?', '?'])[0]} – {card.get('training_period', ['?', '?'])[1]}")
        ver = card.get("verification")
        if ver:
            st.markdown(f"**{t('verification')}** {ver['period'][0]} – {ver['period'][1]}（AQI>200）")
            st.dataframe(products.verification_table(card), hide_index=True)
            if ver.get("reliability"):
                with st.expander(t("reliability")):
                    st.plotly_chart(figures.reliability_diagram(ver["reliability"]), width="stretch")
        else:
            st.caption(t("no_verification"))
        with st.expander(t("model_card")):
            st.json({k: card.get(k) for k in ("name", "version", "training_period", "met_variables", "met_source",
                                              "met_source_note", "imbalance", "verification")})
    st.dataframe(products.area_table(doc, names, level_label=t("level")), hide_index=True, width="stretch")
    st.subheader(t("decision"))
    st.caption(products.thresholds_caption(doc))
    st.dataframe(products.decision_table(doc, names, level_label=t("level")), hide_index=True, width="stretch")
    render_thresholds(cfg, doc)
    area_id = st.selectbox("地区 area", [a["area_id"] for a in doc["areas"]], format_func=lambda a: names.get(a, a))
    area = next(a for a in doc["areas"] if a["area_id"] == area_id)
    hist = products.recent_observations(inp.obs.daily, area_id, issued)
    st.plotly_chart(figures.fan_chart(area, hist), width="stretch")
    st.subheader(t("drivers"))
    st.dataframe(products.driver_table(area), hide_index=True)
    render_driver_maps(cfg, issued)
    render_adjustment(cfg, model_doc, area_id, adjustments)


def render_thresholds(cfg, doc: dict) -> None:
    """Try other thresholds on the model's level record (what they would have done), and set them for the
    consultation (signed, with a reason; the forecast is then re-decided with them)."""
    record, what = forecasting.level_record(cfg["model"])
    current = (doc.get("decision") or {}).get("thresholds") or decision.load_thresholds().as_dict()
    with st.expander(t("thresholds")):
        if record.empty:
            st.info(t("no_record"))
        cols = st.columns(3)
        values = {k: cols[i].slider(f"{t('threshold')} {LEVEL_NAMES_ZH[k]}", 0.05, 1.0, float(current[k]), 0.05,
                                    key=f"thr_{k}") for i, k in enumerate(decision.WARNING_LEVELS)}
        try:
            trial = decision.Thresholds(**values, source="trial")
        except decision.DecisionError as exc:
            st.error(str(exc))
            return
        if not record.empty:
            label = what if st.session_state.get("lang") == "en" else \
                {"verification": "检验期", "training (out of fold)": "训练期（交叉验证）"}.get(what, what)
            st.caption(t("record_of").format(what=label, n=len(record)))
            st.dataframe(products.consequence_table(record, trial), hide_index=True)
        ok, why = allowed("set_thresholds")
        if not ok:
            st.caption(why)
            return
        with st.form("thresholds"):
            reason = st.text_input(t("set_reason"))
            if st.form_submit_button(t("set_thresholds")):
                if not reason.strip():
                    st.error(t("need_signature"))
                    return
                acc = current_account()
                try:
                    decision.save_setting(trial, data=cfg["data"], by=f"{acc.name_zh} ({acc.user})", reason=reason)
                except (decision.DecisionError, OSError) as exc:  # a full disk: nothing half-written, say so
                    st.error(str(exc))
                    return
                st.toast(t("saved"))
                st.rerun()


def render_driver_maps(cfg, issued) -> None:
    st.subheader(t("driver_maps"))
    fields = figures.MAP_VARS
    var = st.radio(t("field"), list(fields), horizontal=True,
                   format_func=lambda v: fields[v][0] if st.session_state.get("lang") != "en" else fields[v][1])
    try:
        times = field_slice(str(cfg["data"]), str(issued), var, None).times
    except (ValueError, OSError) as exc:
        st.info(f"{t('no_fields')}: {exc}")
        return
    labels = products.valid_time_labels(times)
    when = st.select_slider(t("valid_time"), options=times, value=times[min(len(times) - 1, 3)],
                            format_func=lambda tm: labels[tm])
    field = field_slice(str(cfg["data"]), str(issued), var, when)
    if field.values is None:
        st.info(f"{t('no_fields')}: {var}")
        return
    st.caption(f"{t('source')}: {'预报场 forecast run' if field.kind == 'forecast' else '再分析 analysis'}，"
               f"{labels[when]}（北京时 CST）")
    reg = region(str(cfg["data"]))
    st.plotly_chart(figures.driver_map(field.lat, field.lon, field.values, var, field.wind_u, field.wind_v,
                                       geoms=reg.boundaries, areas=reg.areas), width="stretch")


def render_adjustment(cfg, model_doc: dict, area_id: str, adjustments) -> None:
    st.subheader(t("adjust"))
    area = next(a for a in model_doc["areas"] if a["area_id"] == area_id)
    st.caption(t("model_values") + "：" + "，".join(f"D{d['lead_day']} {d['aqi']['q50']:.0f}" for d in area["days"]))
    ok, why = allowed("adjust")
    if not ok:
        st.caption(why)
        if len(adjustments):
            st.dataframe(products.adjustment_table(adjustments), hide_index=True, width="stretch")
        return
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
                acc = current_account()
                rec = C.make_record(model_doc, area_id, day, value, reason, participants=participants, notes=notes,
                                    saved_by=f"{acc.name_zh} ({acc.user})")
                C.append(cfg["data"], rec)
            except C.ConsultationError as exc:  # invalid, or not written (a full disk): the file is as it was
                st.error(str(exc))
            else:
                st.toast(t("saved"))
                st.rerun()
    if len(adjustments):
        st.dataframe(products.adjustment_table(adjustments), hide_index=True, width="stretch")
