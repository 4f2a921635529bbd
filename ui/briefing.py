"""The consultation briefing (会商材料) on a page: one button makes the Word document of the forecast the page shows,
a download button hands it over (:mod:`response.briefing` builds and writes it; nothing here computes)."""
from __future__ import annotations

import io
import json

import streamlit as st

from response import briefing as BR

TEXT = {"make": ("生成会商材料（Word）", "Make the consultation briefing (Word)"),
        "download": ("下载会商材料", "Download the briefing"),
        "making": ("正在生成会商材料 …", "Making the briefing …"),
        "failed": ("会商材料未能生成：{msg}", "The briefing could not be made: {msg}")}


def _lang() -> str:
    return "en" if st.session_state.get("lang") == "en" else "zh"


def _text(key: str) -> str:
    return TEXT[key][1 if _lang() == "en" else 0]


@st.cache_data(show_spinner=False, max_entries=8)
def _briefing_bytes(doc_json: str, data: str, lang: str, audit: str | None, _inputs=None) -> bytes:
    """The briefing of a forecast document as Word bytes (cached per document, data, language and audit store)."""
    doc = json.loads(doc_json)
    observed = _inputs.obs.daily["aqi"] if _inputs is not None else None
    region = getattr(_inputs, "region", None)
    inp = BR.from_document(doc, data, region=region, inputs=_inputs, observed=observed, audit=audit,
                           consultation={"adjustments": sum(bool(a.get("adjusted")) for a in doc["areas"]),
                                         "areas": [a["area_id"] for a in doc["areas"] if a.get("adjusted")]})
    buf = BR.write_docx(BR.build_briefing(inp, lang), io.BytesIO())
    return buf.getvalue()


def briefing_download(cfg: dict, doc: dict, *, inputs=None, audit=None, key: str = "briefing") -> None:
    """A button that makes the briefing of ``doc`` (the forecast the page shows, adjusted or not) and then a
    ``st.download_button`` for the ``.docx``.

    Parameters
    ----------
    cfg : dict
        The app's settings (``cfg["data"]``: the data directory).
    doc : dict
        The forecast document shown (:func:`forecast.forecasting.forecast_json`, with the consultation's
        adjustments when the page applies them).
    inputs : forecast.forecasting.Inputs, optional
        The page's inputs (their observed daily AQI verifies the previous days' forecasts; read when absent).
    audit : path-like, optional
        The audit store to read the warnings in force from (never written; ignored when it does not exist).
    """
    lang = _lang()
    state_key = f"{key}_{doc['issue_date']}_{lang}"
    if st.button(_text("make"), key=f"{key}_make"):
        with st.spinner(_text("making")):
            try:
                st.session_state[state_key] = _briefing_bytes(
                    json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str), str(cfg["data"]), lang,
                    str(audit) if audit else None, _inputs=inputs)
            except (ValueError, OSError) as exc:  # unreadable archive, fields or audit store: said, not raised
                st.error(_text("failed").format(msg=exc))
                return
    data = st.session_state.get(state_key)
    if data:
        st.download_button(_text("download"), data=data, file_name=f"briefing_{doc['issue_date'].replace('-', '')}"
                           ".docx", mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           key=f"{key}_download")
