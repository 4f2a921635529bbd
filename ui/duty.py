"""值班发布 Issue warnings: proposals per tier, confirm or override, edit the bulletin, issue (logged-in officers)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from forecast import workspace
from forecast.levels import LEVEL_NAMES_ZH, LEVELS
from response import accounts as accounts_mod
from response import audit, lifecycle
from response.bulletins import markdown_to_docx
from response.respond import respond
from ui.common import audit_path, forecast_doc, page_start, region, t


def login(cfg) -> dict | None:
    if st.session_state.get("officer"):
        st.caption(f"已登录 / logged in: {st.session_state['officer']['name_zh']}")
        return st.session_state["officer"]
    with st.form("login"):
        st.subheader(t("login"))
        user = st.text_input(t("user"))
        password = st.text_input(t("password"), type="password")
        if st.form_submit_button("登录 / log in"):
            rec = accounts_mod.check_password(accounts_mod.load_accounts(cfg["accounts"]), user, password)
            if rec is None:
                st.error(t("wrong_password"))
                return None
            st.session_state["officer"] = rec
            st.caption(f"已登录 / logged in: {rec['name_zh']}")
            return rec
    return None


def render():
    start = page_start("duty")
    if start is None:
        return
    cfg, _, _, dates = start
    issued = st.selectbox(t("issue_date"), [d.date() for d in dates][::-1])
    doc = forecast_doc(str(cfg["data"]), str(cfg["model"]), str(issued), (cfg["model"] / "model.json").stat().st_mtime)
    out_dir = workspace.output_dir(cfg["data"], "app", str(issued))
    store_path = audit_path(cfg)
    # the proposals: the life cycle's state from the audit store's events (read only: nothing is recorded until
    # an officer issues), the consultation's adjustments applied
    with audit.open_store(store_path) as store:
        states = lifecycle.states_from_events(store.events(), before=str(issued))
    result = respond(doc, store=None, states=states, data=cfg["data"], out_dir=out_dir, write_docx=False,
                     region=region(str(cfg["data"])))
    if (result.get("consultation") or {}).get("adjustments"):
        st.info(t("adjusted_note"))
    rows = [{"tier": tier, "area_id": r["area_id"], "name": r["name_zh"], "in_force": r["in_force"],
             "proposed": r["level"], "model": r["model_level"], "action": r["action"], "reason": r["reason"]}
            for tier in ("city", "county") for r in result[tier]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for z in result["region"]:
        st.warning(f"区域预警 {z['name_zh']}：{LEVEL_NAMES_ZH[z['level']]}（{'、'.join(z['triggered_by'])}）")
    officer = login(cfg)
    candidates = [r for r in rows if r["proposed"] != r["in_force"]] or rows
    area_id = st.selectbox("地区 area", [r["area_id"] for r in candidates],
                           format_func=lambda a: next(r["name"] for r in rows if r["area_id"] == a))
    rec = next(r for tier in ("city", "county") for r in result[tier] if r["area_id"] == area_id)
    level = st.selectbox(t("override"), LEVELS, index=LEVELS.index(rec["level"]),
                         format_func=lambda lv: LEVEL_NAMES_ZH[lv])
    reason = st.text_input(t("reason"), value="" if level == rec["level"] else "")
    bulletins = {b.area_id: b for b in result["bulletin_objects"]}
    draft = bulletins[area_id].markdown if area_id in bulletins else ""
    text = st.text_area(t("bulletin"), value=draft, height=300)
    if text:
        with tempfile.TemporaryDirectory() as tmp:
            word = markdown_to_docx(text, Path(tmp) / f"{area_id}.docx").read_bytes()
        st.download_button(f"{t('bulletin')} (Word)", word, file_name=f"{issued}_{area_id}_bulletin.docx")
    if st.button(t("issue"), disabled=officer is None):
        try:
            event = lifecycle.decision_event(rec, chosen=level, current=rec["in_force"],
                                             officer=officer["name_zh"], issue_date=str(issued),
                                             model_version=doc["model_version"], reason=reason, bulletin_text=text)
        except lifecycle.LifecycleError as exc:
            st.error(str(exc))
        else:
            with audit.open_store(store_path) as store:
                store.append(event)
            st.success(t("issued"))
    st.subheader(t("reduction"))
    red = result.get("reduction", {})
    if "share_check" in red:
        st.dataframe(pd.DataFrame(red["share_check"]), hide_index=True)
        files = red.get("files", {})
        cols = st.columns(3)
        for col, (key, label) in zip(cols, (("excel", "Excel"), ("word", "Word"), ("csv", "CSV"))):
            if key in files:
                col.download_button(f"{t('reduction')} ({label})", Path(files[key]).read_bytes(),
                                    file_name=f"{issued}_{Path(files[key]).name}", key=f"dl_{key}")
    else:
        st.caption(red.get("note", ""))
    with st.expander(t("audit")):
        with audit.open_store(store_path) as store:
            events = store.events()
        st.dataframe(pd.DataFrame(events)[["id", "recorded_at", "action", "area_id", "level", "officer", "reason"]]
                     if events else pd.DataFrame())
