"""会商 Consultation: forecast map, per-area forecasts with uncertainty, drivers and driver maps, model card and
verification, and the consultation's own adjusted forecast (which then drives the proposed warnings)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from forecast import consultation as C
from forecast import decision, forecasting, labels, products
from response import charts, figures
from ui.briefing import briefing_download
from ui.common import (L, adjusted_doc, allowed, audit_path, current_account, forecast_doc, issue_date_slider, lang,
                       level_chip, map_geoms, model_stamp, page_start, region, show_table, t, unit_names)


@st.cache_data(show_spinner="读取气象场 / reading the GRIB fields …", max_entries=64)
def field_slice(data: str, issued: str, var: str, valid_time: str | None) -> products.MapField:
    """One field of the maps at one time (the first time when None): :func:`forecast.products.map_field`."""
    return products.map_field(data, issued, var, valid_time)


# the first screen's charts are SVG images (response.charts: no chart library for the browser to fetch and start on
# the first visit); each is drawn once per forecast, day, area and language

@st.cache_data(show_spinner=False, max_entries=256)
def level_map_svg(doc: dict, lead: int | None, names: dict, _geoms, data: str, language: str) -> str:
    """The levels of day ``lead`` (None: the level in force) on the leagues/cities of ``data``'s region (``_geoms``,
    not hashed: the region's outlines, keyed by ``data``)."""
    areas = region(data).areas
    cities = areas.loc[areas["tier"] == "city", "area_id"].tolist()
    return charts.level_map(charts.day_levels(doc, lead), _geoms, names, language, cities=cities, fmt="svg")


@st.cache_data(show_spinner=False, max_entries=256)
def fan_chart_svg(area: dict, hist: pd.Series, language: str) -> str:
    return charts.fan_chart(area, hist, language)


@st.cache_data(show_spinner=False, max_entries=256)
def driver_bars_svg(effects: pd.DataFrame, language: str) -> str:
    return charts.driver_bars(effects, language)


@st.cache_data(show_spinner=False, max_entries=16)
def reliability_svg(rows: list, language: str) -> str:
    return charts.reliability(rows, lang=language)


def render():
    start = page_start("consultation")
    if start is None:
        return
    cfg, m, inp, dates = start
    issued = issue_date_slider(dates)  # ?issued=YYYY-MM-DD in a shared link
    setting = decision.settings_path(cfg["data"])  # a new threshold setting re-decides the levels
    stamp = model_stamp(cfg["model"]) + (setting.stat().st_mtime if setting.exists() else 0)
    model_doc = forecast_doc(str(cfg["data"]), str(cfg["model"]), str(issued), stamp)
    doc, adjustments = adjusted_doc(cfg["data"], model_doc)
    if len(adjustments):
        use = st.toggle(t("show_adjusted"), value=True)
        doc = doc if use else model_doc
    names = unit_names(cfg["data"])
    left, right = st.columns([3, 2])
    with left:
        level_map(doc, names, str(cfg["data"]))
    with right:
        chips = [level_chip(lv, f"{L('levels', lv)}{t('colon')}{n}") for lv, n in products.level_counts(doc).items()]
        st.markdown(" ".join(chips), unsafe_allow_html=True)
        render_model_card(m.card)
    show_table(products.area_table(doc, names, lang=lang()), level_columns=[labels.column("level", lang())])
    st.subheader(t("decision"))
    st.caption(products.thresholds_caption(doc, lang()))
    show_table(products.decision_table(doc, names, lang=lang()),
               level_columns=[labels.column("level", lang()), labels.column("median_level", lang())])
    render_thresholds(cfg, doc)
    briefing_download(cfg, doc, inputs=inp, audit=audit_path(cfg))  # 会商材料: the document the session works from
    area_part(cfg, doc, model_doc, adjustments, names, inp.obs.daily, issued)
    render_driver_maps(cfg, issued)


# the parts an officer changes often are fragments: another lead day, area, field or time reruns that part only
# (st.fragment), not the page with its tables and map

@st.fragment
def level_map(doc: dict, names: dict, data: str) -> None:
    """The level map of the chosen lead day (all days: the level in force)."""
    lead = st.radio(t("lead_day"), [None] + list(range(1, 8)), horizontal=True,
                    format_func=lambda k: t("all_leads") if k is None else f"D{k}")
    try:
        st.image(level_map_svg(doc, lead, names, map_geoms(data), data, lang()), width="stretch")
    except ValueError:  # no area of the forecast has a boundary
        st.info(t("no_map"))


@st.fragment
def area_part(cfg, doc: dict, model_doc: dict, adjustments, names: dict, obs_daily, issued) -> None:
    """The chosen area: its fan chart with the recent observations, its drivers, the consultation's adjustment."""
    area_id = st.selectbox(t("area"), [a["area_id"] for a in doc["areas"]], format_func=lambda a: names[a])
    area = next(a for a in doc["areas"] if a["area_id"] == area_id)
    hist = products.recent_observations(obs_daily, area_id, issued)
    st.image(fan_chart_svg(area, hist, lang()), width="stretch")
    render_drivers(area)
    render_adjustment(cfg, model_doc, area_id, adjustments, names)


def render_model_card(card: dict) -> None:
    """The model's name, training period and verification in words (no codes, no Python lists)."""
    period = card.get("training_period")
    st.caption(t("model_card") + t("colon") + t("model_line").format(
        name=card.get("name", ""), version=card.get("version", ""),
        period=labels.period(*period, lang()) if period else labels.EMPTY, rows=card.get("rows", labels.EMPTY)))
    ver = card.get("verification")
    if ver:
        st.markdown(f"**{t('verification')}** {labels.period(*ver['period'], lang())}"
                    + labels.phrase("paren", lang(), text="AQI>200"))
        show_table(products.verification_table(card, lang=lang()), width="content")
        if ver.get("reliability"):
            with st.expander(t("reliability")):
                st.image(reliability_svg(ver["reliability"], lang()), width=480)
    else:
        st.caption(t("no_verification"))
    with st.expander(t("model_card")):
        rows = [(t("model_card"), f"{card.get('name', '')} {card.get('version', '')}"),
                (t("period"), labels.period(*period, lang()) if period else labels.EMPTY),
                (t("meteorology"), L("met_sources", card.get("met_source"), default=labels.EMPTY)),
                ("AQI>200" if lang() == "en" else "重污染样本", labels.number(card.get("heavy_rows")))]
        if lang() == "en":
            rows += [("Meteorology note", card.get("met_source_note") or labels.EMPTY),
                     ("Imbalance", card.get("imbalance") or labels.EMPTY)]
        show_table(pd.DataFrame(rows, columns=[labels.column("item", lang()), labels.column("value", lang())]))


def render_drivers(area: dict) -> None:
    """The chosen area's drivers: a signed bar per family and lead day in AQI points, and the reading of the
    largest ones (:func:`forecast.products.driver_effects_aqi`, :func:`forecast.products.driver_reading`)."""
    st.subheader(t("drivers"))
    effects = products.driver_effects_aqi(area, lang=lang())
    if effects.empty:
        st.caption(t("no_drivers"))
        return
    st.markdown(products.driver_reading(area, lang()))
    st.image(driver_bars_svg(effects, lang()), width="stretch")
    st.caption(t("driver_note").format(base=labels.number(effects["baseline_aqi"].iloc[0])))
    show_table(products.driver_table(area, lang=lang()), width="content")


def render_thresholds(cfg, doc: dict) -> None:
    """Try other thresholds on the model's level record (what they would have done), and set them for the
    consultation (signed, with a reason; the forecast is then re-decided with them)."""
    record, what = forecasting.level_record(cfg["model"])
    current = (doc.get("decision") or {}).get("thresholds") or decision.load_thresholds().as_dict()
    with st.expander(t("thresholds")):
        if record.empty:
            st.info(t("no_record"))
        cols = st.columns(3)
        values = {k: cols[i].slider(f"{t('threshold')} {L('levels', k)}", 0.05, 1.0, float(current[k]), 0.05,
                                    key=f"thr_{k}") for i, k in enumerate(decision.WARNING_LEVELS)}
        try:
            trial = decision.Thresholds(**values, source="trial")
        except decision.DecisionError as exc:
            st.error(str(exc))
            return
        if not record.empty:
            st.caption(t("record_of").format(what=L("records", what, default=what), n=len(record)))
            show_table(products.consequence_table(record, trial, lang=lang()), width="content")
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


@st.fragment
def render_driver_maps(cfg, issued) -> None:
    """The GRIB fields of the issue day's forecast run as maps, one field at one time."""
    st.subheader(t("driver_maps"))
    # the fields are read from the GRIB files on request: reading them takes seconds (cfgrib's index of each file)
    if not st.toggle(t("show_maps"), key="show_maps"):
        return
    fields = figures.MAP_VARS
    var = st.radio(t("field"), list(fields), horizontal=True,
                   format_func=lambda v: fields[v][0] if lang() == "zh" else fields[v][1])
    try:
        times = field_slice(str(cfg["data"]), str(issued), var, None).times
    except (ValueError, OSError) as exc:
        st.info(f"{t('no_fields')}: {exc}")
        return
    labels_ = products.valid_time_labels(times)
    when = st.select_slider(t("valid_time"), options=times, value=times[min(len(times) - 1, 3)],
                            format_func=lambda tm: labels_[tm])
    field = field_slice(str(cfg["data"]), str(issued), var, when)
    if field.values is None:
        st.info(f"{t('no_fields')}: {var}")
        return
    st.caption(f"{t('source')}{t('colon')}{L('met_sources', field.kind)}{t('list_sep')}{labels_[when]}"
               + labels.phrase("paren", lang(), text=t("cst")))
    reg = region(str(cfg["data"]))
    st.plotly_chart(figures.driver_map(field.lat, field.lon, field.values, var, field.wind_u, field.wind_v,
                                       geoms=map_geoms(str(cfg["data"])), areas=reg.areas), width="stretch")


def render_adjustment(cfg, model_doc: dict, area_id: str, adjustments, names: dict) -> None:
    st.subheader(t("adjust"))
    area = next(a for a in model_doc["areas"] if a["area_id"] == area_id)
    sep = "，" if lang() == "zh" else ", "
    st.caption(t("model_values") + t("colon")
               + sep.join(f"D{d['lead_day']} {d['aqi']['q50']:.0f}" for d in area["days"]))
    ok, why = allowed("adjust")
    if not ok:
        st.caption(why)
        if len(adjustments):
            show_table(products.adjustment_table(adjustments, names, lang=lang()))
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
        show_table(products.adjustment_table(adjustments, names, lang=lang()))
