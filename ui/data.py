"""数据 Data & model: what is loaded, train or retrain with a progress bar, run a forecast or a verification."""
from __future__ import annotations

import json

import streamlit as st

from forecast import archive, forecasting, labels, products, registry
from ui.common import (allowed, data_ready, inputs, lang, model_or_none, model_version_line, session_start, settings,
                       show_table, t, unit_names)


def render():
    cfg = settings()
    st.header(t("data"))
    session_start(cfg)
    if not data_ready(cfg):
        return
    inp = inputs(str(cfg["data"]))
    meta = inp.history_meta
    c1, c2, c3 = st.columns(3)
    c1.metric(t("station_files"), meta.get("files"))
    c2.metric(t("hourly_values"), f"{meta.get('rows') or 0:,}")
    period = meta.get("period")
    c3.metric(t("period"), labels.period(period[0], period[1], lang()) if period else labels.EMPTY)
    st.markdown(f"**{t('data_dir')}**{t('colon')}`{cfg['data']}`")
    with st.expander(t("qc")):
        st.json(meta.get("removed") or {})
    with st.expander(t("meteorology")):
        st.json(inp.met_summary)
    m = model_or_none(cfg["model"])
    st.subheader(t("model_card"))
    if m is not None:
        card = m.card
        tp = card.get("training_period")
        st.write(t("model_line").format(name=card.get("name", ""), version=card.get("version", ""),
                                        period=labels.period(*tp, lang()) if tp else labels.EMPTY,
                                        rows=card.get("rows", labels.EMPTY)))
        if model_version_line(cfg["model"], m):
            st.caption(model_version_line(cfg["model"], m))
    else:
        st.info(t("no_model"))
    first, last = products.observed_period(inp.obs.daily)
    until = st.date_input(t("train_until"), value=last.date(), min_value=first.date(), max_value=last.date())
    ok, why = allowed("train")  # training replaces the production model: admins only
    if not ok:
        st.caption(why)
    if st.button(t("train"), disabled=not ok):
        bar = st.progress(0.0, text=t("train"))
        model = forecasting.train(cfg["data"], cfg["model"], until=str(until), inputs=inp,
                                  progress=lambda done, total: bar.progress(done / total,
                                                                            text=f"{t('train')} {done}/{total}"))
        bar.progress(1.0, text=t("done"))
        st.success(f"{model.card['version']} → {model.directory or cfg['model']}")
        m = model_or_none(cfg["model"])  # a versioned folder keeps its promoted version (the new one is not)
    if m is None:
        return
    st.subheader(t("forecast_run"))
    issuable = products.issue_dates(inp.obs.daily, inp.met_lead)
    issued = st.selectbox(t("issue_date"), [d.date() for d in issuable][::-1], key="data_issue")
    if st.button(t("forecast_run")):
        with st.spinner(t("forecast_run")):
            table = forecasting.run_forecast(cfg["data"], cfg["model"], str(issued), inputs=inp)
        show_table(products.day_one_table(table, unit_names(cfg["data"]), lang=lang()),
                   level_columns=[labels.column("level", lang())])
        st.caption(f"{t('archived')}{t('colon')}`{archive.archive_dir(cfg['data']) / table['model_version'].iloc[0]}`")
    st.subheader(t("verify_run"))
    after = [d.date() for d in products.verifiable_dates(issuable, m.card, first_observed=first)]
    if not after:
        st.caption(t("no_verifiable"))
        return
    start, end = st.select_slider(t("verify_run"), options=after, value=(after[0], after[-1]))
    if st.button(t("verify_run"), key="verify"):
        with st.spinner(t("verify_run")):
            res = forecasting.run_verify(cfg["data"], cfg["model"], str(start), str(end), inputs=inp)
        card = json.loads((registry.resolve(cfg["model"]) / "model_card.json").read_text(encoding="utf-8"))
        if card.get("verification"):
            st.markdown(f"**{t('verification')}** {labels.period(*card['verification']['period'], lang())}"
                        + labels.phrase("paren", lang(), text="AQI>200"))
            show_table(products.verification_table(card, lang=lang()), width="content")
        if lang() == "en":
            for note in res.get("warnings") or []:
                st.warning(note)
        if res.get("consultation"):
            st.markdown(f"**{t('model_vs_consultation')}**")
            show_table(products.scores_table(res["consultation"], lang=lang()), width="content")
