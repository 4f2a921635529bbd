"""数据 Data & model: what is loaded, train or retrain with a progress bar, run a forecast or a verification."""
from __future__ import annotations

import streamlit as st

from forecast import archive, forecasting, products
from ui.common import allowed, data_ready, session_start, inputs, model_or_none, settings, t


def render():
    cfg = settings()
    st.header(t("data"))
    session_start(cfg)
    if not data_ready(cfg):
        return
    inp = inputs(str(cfg["data"]))
    meta = inp.history_meta
    c1, c2, c3 = st.columns(3)
    c1.metric("站点文件 station files", meta.get("files"))
    c2.metric("小时数据 hourly values", meta.get("rows"))
    period = meta.get("period") or ["?", "?"]
    c3.metric("时段 period", f"{str(period[0])[:10]} – {str(period[1])[:10]}")
    st.markdown(f"**数据目录 data**: `{cfg['data']}`")
    with st.expander("质量控制 QC"):
        st.json(meta.get("removed") or {})
    with st.expander("气象数据 meteorology"):
        st.json(inp.met_summary)
    m = model_or_none(cfg["model"])
    st.subheader(t("model_card"))
    if m is not None:
        card = m.card
        st.write(f"{card.get('name')} {card.get('version')}，{card.get('training_period')}，"
                 f"{card.get('rows')} rows")
    else:
        st.info(t("no_model"))
    first, last = products.observed_period(inp.obs.daily)
    until = st.date_input("训练截止 / train until", value=last.date(), min_value=first.date(), max_value=last.date())
    ok, why = allowed("train")  # training replaces the production model: admins only
    if not ok:
        st.caption(why)
    if st.button(t("train"), disabled=not ok):
        bar = st.progress(0.0, text=t("train"))
        model = forecasting.train(cfg["data"], cfg["model"], until=str(until), inputs=inp,
                                  progress=lambda done, total: bar.progress(done / total,
                                                                            text=f"{t('train')} {done}/{total}"))
        bar.progress(1.0, text="完成 / done")
        st.success(f"{model.card['version']} → {cfg['model']}")
        m = model
    if m is None:
        return
    st.subheader(t("forecast_run"))
    issuable = products.issue_dates(inp.obs.daily, inp.met_lead)
    issued = st.selectbox(t("issue_date"), [d.date() for d in issuable][::-1], key="data_issue")
    if st.button(t("forecast_run")):
        with st.spinner(t("forecast_run")):
            table = forecasting.run_forecast(cfg["data"], cfg["model"], str(issued), inputs=inp)
        st.dataframe(products.day_one_table(table), hide_index=True, width="stretch")
        st.caption(f"已存档 / archived: {archive.archive_dir(cfg['data']) / table['model_version'].iloc[0]}")
    st.subheader(t("verify_run"))
    after = [d.date() for d in products.verifiable_dates(issuable, m.card, first_observed=first)]
    if not after:
        st.caption("训练期之后没有可检验的日期 / no issue dates after the training period")
        return
    start, end = st.select_slider(t("verify_run"), options=after, value=(after[0], after[-1]))
    if st.button(t("verify_run"), key="verify"):
        with st.spinner(t("verify_run")):
            res = forecasting.run_verify(cfg["data"], cfg["model"], str(start), str(end), inputs=inp)
        st.code(res["table"])
        if res.get("consultation"):
            st.markdown("**模型 vs 会商订正 / model vs consultation**")
            st.dataframe(products.scores_table(res["consultation"]), hide_index=True)
