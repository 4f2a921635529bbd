"""lantian 蓝天 — the Streamlit app: routing only; the pages in ui/ lay out widgets and call the library.

Run with ``make run`` (or ``streamlit run app.py``). Settings come from the environment: ``LANTIAN_DATA`` (data
directory, default ``demo``), ``LANTIAN_MODEL`` (default ``models/demo``), ``LANTIAN_AUDIT``, ``LANTIAN_ACCOUNTS``.
"""
import streamlit as st

from ui import consultation, data, duty, review
from ui.common import t

st.set_page_config(page_title="lantian 蓝天", layout="wide")
st.sidebar.radio("语言 / Language", ["zh", "en"], key="lang", format_func=lambda v: "中文" if v == "zh" else "English",
                 horizontal=True)
st.title(t("title"))
pages = [st.Page(consultation.render, title=t("consultation"), url_path="consultation", default=True),
         st.Page(duty.render, title=t("duty"), url_path="duty"),
         st.Page(review.render, title=t("review"), url_path="review"),
         st.Page(data.render, title=t("data"), url_path="data")]
st.navigation(pages).run()
