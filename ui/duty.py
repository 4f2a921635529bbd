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
from ui.common import allowed, audit_path, current_account, forecast_doc, page_start, region, t


@st.cache_data(show_spinner=False, max_entries=8)
def chain_status(path: str, stamp: float) -> tuple[bool, str, list[str]]:
    """The audit store's chain check (:func:`response.audit.verify_store`), cached per file modification."""
    try:
        report = audit.verify_store(path)
    except audit.AuditError as exc:
        return False, str(exc), []
    return report.intact, report.verdict, report.lines()


def render_chain_status(store_path: Path) -> None:
    """One line under the proposals: the audit trail's hash chain intact, or what is wrong first (and a head to
    note down as an anchor)."""
    if not Path(store_path).exists():
        return
    stamp = sum(p.stat().st_mtime for p in (Path(store_path), Path(f"{store_path}-wal")) if p.exists())
    ok, verdict, lines = chain_status(str(store_path), stamp)
    if ok:
        st.caption(f"{t('chain_ok')}：{verdict}")
    else:
        st.error(f"{t('chain_bad')}：{verdict}")
        if lines:
            with st.expander(t("chain_bad")):
                st.code("\n".join(lines))


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
    try:
        with audit.open_store(store_path) as store:
            states = lifecycle.states_from_events(store.events(), before=str(issued))
    except audit.AuditError as exc:  # a damaged store: say so, never write into it
        st.error(f"{t('chain_bad')}：{exc}")
        return
    result = respond(doc, store=None, states=states, data=cfg["data"], out_dir=out_dir, write_docx=False,
                     region=region(str(cfg["data"])))
    if (result.get("consultation") or {}).get("adjustments"):
        st.info(t("adjusted_note"))
    records = {r["area_id"]: r for tier in ("city", "county") for r in result[tier]}
    for z in result["region"]:  # region-tier (zone) warnings: issued by the region's officers
        st.warning(f"区域预警 {z['name_zh']}：{LEVEL_NAMES_ZH[z['level']]}（{'、'.join(z['triggered_by'])}）")
        in_force = states.get(z["zone_id"], lifecycle.WarningState()).level
        records[z["zone_id"]] = {"area_id": z["zone_id"], "tier": "region", "name_zh": z["name_zh"],
                                 "level": z["level"], "model_level": z["level"], "in_force": in_force,
                                 "action": lifecycle.officer_action(in_force, z["level"]),
                                 "reason": "区域预警：" + "、".join(z["triggered_by"])}
    rows = [{"tier": r["tier"], "area_id": r["area_id"], "name": r["name_zh"], "in_force": r["in_force"],
             "proposed": r["level"], "model": r["model_level"], "action": r["action"], "reason": r["reason"]}
            for r in records.values()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    account = current_account()
    # an officer sees its own area first; everyone else the areas whose proposal differs from what is in force
    own = [r for r in rows if account is not None and r["tier"] == account.tier
           and (account.tier == "region" or r["area_id"] == account.area)]
    changed = [r for r in rows if r["proposed"] != r["in_force"]] or rows
    candidates = own + [r for r in changed if r not in own]
    area_id = st.selectbox("地区 area", [r["area_id"] for r in candidates],
                           format_func=lambda a: next(r["name"] for r in rows if r["area_id"] == a))
    rec = records[area_id]
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
    ok, why = allowed("issue", area_id=area_id, tier=rec["tier"])
    if not ok:
        st.caption(why)
    if st.button(t("issue"), disabled=not ok):
        try:  # the library checks the account's right and scope again: the button is not the only guard
            event = lifecycle.decision_event(rec, chosen=level, current=rec["in_force"], account=current_account(),
                                             issue_date=str(issued), model_version=doc["model_version"],
                                             reason=reason, bulletin_text=text)
        except (lifecycle.LifecycleError, accounts_mod.PermissionDenied) as exc:
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
    render_chain_status(store_path)
    with st.expander(t("audit")):
        with audit.open_store(store_path) as store:
            events = store.events()
        st.dataframe(pd.DataFrame(events)[["id", "recorded_at", "action", "area_id", "level", "officer", "reason"]]
                     if events else pd.DataFrame())
