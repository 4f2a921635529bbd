"""数据 Data & model: what is loaded, train or retrain with a progress bar."""
from __future__ import annotations

import streamlit as st

from ui.common import inputs, model_or_none, settings, t


def render():
    cfg = settings()
    st.header(t("data"))
    inp = inputs(str(cfg["data"]))
    st.write({"data": str(cfg["data"]), "stations": inp.history_meta.get("files"),
              "hourly_values": inp.history_meta.get("rows"), "period": inp.history_meta.get("period")})
    st.write({"meteorology": inp.met_summary})
    st.write({"QC removed": inp.history_meta.get("removed")})
    m = model_or_none(cfg["model"])
    st.write({"model": m.card.get("version") if m else None})
    until = st.date_input("训练截止 / train until", value=inp.obs.daily.index.get_level_values("date").max())
    if st.button(t("train")):
        from forecast import forecasting

        bar = st.progress(0.0, text=t("train"))
        forecasting.train(cfg["data"], cfg["model"], until=str(until), inputs=inp)
        bar.progress(1.0, text="完成 / done")
        st.success(f"{cfg['model']}")
