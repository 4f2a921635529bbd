"""值班发布 Issue warnings: the proposals per tier (region, leagues/cities, banners/counties grouped by league/city,
warned first) in the official colours with their reasons; confirm or override one; the bulletin as a preview with an
edit mode (the edited text is what is issued and recorded); the reduction lists summarised per area before the full
table; the audit trail (logged-in officers issue)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from forecast import labels, workspace
from forecast.levels import LEVEL_RANK, LEVELS
from response import accounts as accounts_mod
from response import audit, lifecycle
from response.bulletins import markdown_to_docx
from response.respond import respond
from ui.common import (TEXT, L, allowed, audit_path, current_account, forecast_doc, issued_from_link, lang, level_chip,
                       model_stamp, page_start, parent_of, region, show_table, t, unit_names)

TEXT.update({"make_files": ("生成减排清单文件（Excel、Word、CSV）", "Make the list files (Excel, Word, CSV)")})

#: the columns of the proposal tables (codes of the nomenclature's ``columns``)
#: enterprises named per shortfall in the summary (the full list is in the downloads)
CLOSERS_SHOWN = 3
PROPOSAL_COLUMNS = ("area", "in_force", "proposed", "model_level", "action", "response_kind", "source", "reason")


@st.cache_data(show_spinner=False, max_entries=8)
def chain_status(path: str, stamp: float) -> tuple[bool, dict, list[str]]:
    """The audit store's chain check (:func:`response.audit.verify_store`), cached per file modification: intact,
    what to say (``events``, ``head``: the chain head to note down as an anchor, ``first_bad``, ``problems``) and
    the report's lines."""
    try:
        report = audit.verify_store(path)
    except audit.AuditError as exc:
        return False, {"events": None, "head": None, "first_bad": None, "problems": 1}, [str(exc)]
    return report.intact, {"events": report.events, "head": report.head.anchor if report.head else None,
                           "first_bad": report.first_bad_event, "problems": len(report.problems)}, report.lines()


def render_chain_status(store_path: Path) -> None:
    """One line under the proposals: the audit trail's hash chain intact (with its head to note down as an
    anchor), or that it may have been tampered with (the first bad event, the checker's lines in an expander)."""
    if not Path(store_path).exists():
        return
    stamp = sum(p.stat().st_mtime for p in (Path(store_path), Path(f"{store_path}-wal")) if p.exists())
    ok, info, lines = chain_status(str(store_path), stamp)
    if ok:
        st.caption(t("chain_ok") + t("colon") + t("chain_ok_detail").format(
            n=info["events"], head=info["head"] or labels.EMPTY))
    else:
        st.error(t("chain_bad") + t("colon") + t("chain_bad_detail").format(
            n=info["problems"], first=info["first_bad"] if info["first_bad"] is not None else labels.EMPTY))
        with st.expander(t("chain_bad")):
            st.code("\n".join(lines))


# ---- the proposals -------------------------------------------------------------------------------------------

def proposal_row(rec: dict, names: dict) -> dict:
    """One proposal as the officer reads it: names and words, never codes (the nomenclature's labels)."""
    cols = {c: labels.column(c, lang()) for c in PROPOSAL_COLUMNS}
    source = rec.get("source") or "own"
    return {cols["area"]: names[rec["area_id"]], cols["in_force"]: L("levels", rec["in_force"]),
            cols["proposed"]: L("levels", rec.get("acting_level") or rec["level"]), cols["model_level"]: L("levels", rec["model_level"]),
            cols["action"]: L("actions", rec["action"]),
            cols["response_kind"]: L("response_kinds", rec.get("response_kind") or "warning"),
            cols["source"]: labels.source_label(source, names, lang()) if rec["tier"] != "region" else labels.EMPTY,
            cols["reason"]: rec.get("reason") or labels.EMPTY}


def _warned_first(recs: list[dict], names: dict) -> list[dict]:
    # what is put in force first (an episode beyond the issuing window proposes nothing yet), then the outlook
    return sorted(recs, key=lambda r: (-LEVEL_RANK[r.get("acting_level") or r["level"]], -LEVEL_RANK[r["level"]],
                                       r["action"] == "none", names[r["area_id"]]))


def render_proposals(records: dict, names: dict, parents: dict) -> None:
    """The proposals per tier: the region's zones, the leagues/cities (warned first), and the banners/counties
    grouped by their league/city (the leagues/cities with warned banners/counties first, each group warned first)."""
    level_cols = [labels.column(c, lang()) for c in ("in_force", "proposed", "model_level")]
    by_tier = {tier: [r for r in records.values() if r["tier"] == tier] for tier in ("region", "city", "county")}
    st.subheader(t("proposals"))
    for tier in ("region", "city"):
        if by_tier[tier]:
            st.markdown(f"**{L('tiers', tier)}**")
            show_table(pd.DataFrame([proposal_row(r, names) for r in _warned_first(by_tier[tier], names)]),
                       level_columns=level_cols)
    counties = by_tier["county"]
    if not counties:
        return
    st.markdown(f"**{L('tiers', 'county')}**")
    st.caption(t("warned_first"))
    groups: dict[str, list[dict]] = {}
    for r in counties:
        groups.setdefault(parents.get(r["area_id"]) or r.get("parent_id") or r["area_id"], []).append(r)

    def worst(recs):
        return max(LEVEL_RANK[r["level"]] for r in recs)

    for city in sorted(groups, key=lambda c: (-worst(groups[c]), names.get(c, c))):
        recs = _warned_first(groups[city], names)
        warned = sum(r["level"] != "none" for r in recs)
        top = max(recs, key=lambda r: LEVEL_RANK[r["level"]])["level"]
        title = t("counties_of").format(city=names.get(city, city), n=len(recs), warned=warned)
        with st.expander(title, expanded=False):
            st.markdown(level_chip(top), unsafe_allow_html=True)
            show_table(pd.DataFrame([proposal_row(r, names) for r in recs]), level_columns=level_cols)


# ---- the bulletin --------------------------------------------------------------------------------------------

def render_bulletin(key: str, draft: str, translation: str = "") -> str:
    """The bulletin as a rendered preview, with an edit mode; returns the text to issue (the edited one when the
    officer edited it, else the draft). The edited text is kept per issue date and area for the session. In
    English the preview is the ``translation`` (labelled as one: the bulletin issued is the Chinese draft)."""
    store = f"edited_{key}"
    if not draft:
        st.caption(t("no_bulletin"))
        return ""

    def keep():
        st.session_state[store] = st.session_state[f"area_{key}"]

    text = st.session_state.get(store, draft)
    if st.toggle(t("bulletin_edit"), key=f"edit_{key}"):
        st.text_area(t("bulletin"), value=text, height=400, key=f"area_{key}", on_change=keep)
        text = st.session_state.get(store, text)
    if text != draft:
        st.info(t("bulletin_edited"))
        if st.button(t("bulletin_reset"), key=f"reset_{key}"):
            st.session_state.pop(store, None)
            st.session_state.pop(f"area_{key}", None)
            st.rerun()
    with st.container(border=True):
        st.caption(t("bulletin_preview"))
        if translation and text == draft and lang() != "zh":
            st.caption(labels.phrase("translation_note", lang()))
            st.markdown(translation)
        else:
            st.markdown(text)
    return text


# ---- the reduction lists -------------------------------------------------------------------------------------

def reduction_summary(share_check: list[dict], shortfalls: list[dict], names: dict) -> pd.DataFrame:
    """One row per area of the share check: its level, per pollutant the verified share against the required one
    (%, with the verdict), what the verdicts rely on and the enterprises that could close the gaps."""
    by_area: dict[str, list[dict]] = {}
    for r in share_check:
        by_area.setdefault(r["area_id"], []).append(r)
    by_gap: dict[tuple, list[dict]] = {}
    for s in shortfalls:
        by_gap.setdefault((s["area_id"], s["pollutant"]), []).append(s)
    closers: dict[str, list[str]] = {}
    for (area_id, pollutant), ents in by_gap.items():
        shown = t("list_sep").join(f"{e['name']} +{labels.number(e['extra_cut_td'], 1)}" for e in ents[:CLOSERS_SHOWN])
        more = t("and_more").format(n=len(ents)) if len(ents) > CLOSERS_SHOWN else ""
        closers.setdefault(area_id, []).append(
            labels.phrase("with_unit", lang(), name=L("pollutants", pollutant), unit=L("units", "td"))
            + f"{t('colon')}{shown}{more}")
    mark = {"met": "✓", "met_with_unverified": "△", "not_met": "✗", "no_inventory": "?"}
    rows = []
    for area_id, recs in by_area.items():
        verdicts = [r.get("verdict", "no_inventory") for r in recs]
        worst = next((v for v in ("not_met", "no_inventory", "met_with_unverified") if v in verdicts), "met")
        row = {labels.column("area", lang()): names[area_id],
               labels.column("level", lang()): L("levels", recs[0].get("level", "none")),
               labels.column("verdict", lang()): L("verdicts", worst)}
        for r in recs:
            share = labels.number(r.get("share"), 1, percent=True)
            row[L("pollutants", r["pollutant"])] = (f"{mark.get(r.get('verdict'), '?')} {share} / "
                                                    f"{labels.number(r.get('target_share'), 0, percent=True)}")
        relies = [L("pollutants", r["pollutant"]) for r in recs if r.get("verdict") == "met_with_unverified"]
        row[labels.column("relies_on", lang())] = \
            (t("relies_on_unverified") + t("colon") + t("list_sep").join(relies)) if relies else labels.EMPTY
        row[labels.column("close_gap", lang())] = t("semicolon").join(closers.get(area_id, [])) or labels.EMPTY
        rows.append(row)
    order = {"not_met": 0, "no_inventory": 1, "met_with_unverified": 2, "met": 3}
    inverse = {L("verdicts", v): k for v, k in order.items()}
    return pd.DataFrame(rows).sort_values(labels.column("verdict", lang()), key=lambda s: s.map(inverse),
                                          kind="stable") if rows else pd.DataFrame()


def share_table(share_check: list[dict], names: dict) -> pd.DataFrame:
    """The full share check, labelled: t/d to 0.1, shares in %."""
    td = ("society_td", "enterprise_cut_td", "sector_cut_td", "cut_td", "verified_cut_td", "shortfall_td")
    rows = []
    for r in share_check:
        row = {labels.column("area", lang()): names[r["area_id"]],
               labels.column("tier", lang()): L("tiers", r["tier"]),
               labels.column("pollutant", lang()): L("pollutants", r["pollutant"]),
               labels.column("level", lang()): L("levels", r.get("level", "none")),
               labels.column("target_share", lang()): labels.number(r.get("target_share"), 0, percent=True)}
        for c in ("share", "share_with_unverified"):
            row[labels.column(c, lang())] = labels.number(r.get(c), 1, percent=True)
        for c in td:
            row[labels.column(c, lang())] = labels.number(r.get(c), 1)
        row[labels.column("verdict", lang())] = L("verdicts", r.get("verdict", "no_inventory"))
        rows.append(row)
    return pd.DataFrame(rows)


def render_reduction(red: dict, names: dict, issued, files=None) -> None:
    """The reduction lists summarised per area, the full share table, and — on request (``files()`` writes
    them: seconds) — the Excel, Word and CSV files to download."""
    st.subheader(t("reduction"))
    if "share_check" not in red:
        st.caption(red.get("note", ""))
        return
    if red["share_check"]:
        st.markdown(f"**{t('reduction_summary')}**")
        show_table(reduction_summary(red["share_check"], red.get("shortfalls", []), names),
                   level_columns=[labels.column("level", lang())])
        with st.expander(t("reduction_full")):
            show_table(share_table(red["share_check"], names), level_columns=[labels.column("level", lang())])
    if files is None:
        files = red.get("files", {})
    elif st.session_state.get("reduction_files") == str(issued) or st.button(t("make_files"), key="make_files"):
        st.session_state["reduction_files"] = str(issued)
        files = files()
    else:
        return
    cols = st.columns(3)
    for col, (key, label) in zip(cols, (("excel", "Excel"), ("word", "Word"), ("csv", "CSV"))):
        if key in files:
            col.download_button(t("reduction") + labels.phrase("paren", lang(), text=label), Path(files[key]).read_bytes(),
                                file_name=f"{issued}_{Path(files[key]).name}", key=f"dl_{key}")


# ---- the page ------------------------------------------------------------------------------------------------

def _store_stamp(path: Path) -> str:
    """What changes when the audit store changes (its and its write-ahead log's size and modification time)."""
    return ";".join(f"{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in (Path(path), Path(f"{path}-wal"))
                    if p.exists())


@st.cache_data(show_spinner=False, max_entries=4)
def store_events(path: str, stamp: str) -> list[dict]:
    """The audit store's events, read once per change of the store (not on every rerun of the page)."""
    with audit.open_store(path) as store:
        return store.events()


@st.cache_data(show_spinner=False, max_entries=16)
def warning_states(path: str, stamp: str, issued: str) -> dict:
    """The warnings in force before ``issued`` from the audit store's events (:func:`response.lifecycle.
    states_from_events`)."""
    return lifecycle.states_from_events(store_events(path, stamp), before=issued)


@st.cache_data(show_spinner="生成预警建议 / drafting the proposals …", max_entries=16)
def proposals(key: str, _doc: dict, _states: dict, data: str, lang_: str, translate: tuple) -> dict:
    """The response's proposals for a forecast (:func:`response.respond.respond`: nothing written, the
    consultation's adjustments applied), kept per forecast, store state, consultation records, language and the
    bulletins rendered in the page language (``translate``: only the one shown) — ``key`` names all of them — so
    that the page's own interactions (another area, the override, the edit mode) do not draft them again."""
    return respond(_doc, store=None, states=_states, data=data, out_dir=None, write_docx=False,
                   region=region(data), lang=lang_, translate=translate)


@st.cache_data(show_spinner="生成减排清单文件 / writing the list files …", max_entries=4)
def reduction_files(key: str, _doc: dict, _states: dict, data: str, out_dir: str) -> dict:
    """The emission-reduction list files (Excel, Word, CSV) of a forecast, written on request (seconds)."""
    result = respond(_doc, store=None, states=_states, data=data, out_dir=out_dir, write_docx=False,
                     region=region(data), translate=())
    return (result.get("reduction") or {}).get("files", {})


def _proposal_key(doc: dict, store_stamp: str, data) -> str:
    import hashlib
    import json

    from forecast import consultation

    cons = consultation.store_path(data)
    cons_stamp = f"{cons.stat().st_size}:{cons.stat().st_mtime_ns}" if cons.exists() else ""
    return hashlib.sha1(json.dumps([doc, store_stamp, cons_stamp], sort_keys=True, default=str).encode()).hexdigest()


def render():
    start = page_start("duty")
    if start is None:
        return
    cfg, _, _, dates = start
    options = [d.date() for d in dates][::-1]
    linked = issued_from_link(options)  # ?issued=YYYY-MM-DD in a shared link
    issued = st.selectbox(t("issue_date"), options, index=options.index(linked) if linked else 0)
    doc = forecast_doc(str(cfg["data"]), str(cfg["model"]), str(issued), model_stamp(cfg["model"]))
    out_dir = workspace.output_dir(cfg["data"], "app", str(issued))
    store_path = audit_path(cfg)
    # the proposals: the life cycle's state from the audit store's events (read only: nothing is recorded until
    # an officer issues), the consultation's adjustments applied
    stamp = _store_stamp(store_path) if Path(store_path).exists() else ""
    try:
        states = warning_states(str(store_path), stamp, str(issued)) if stamp else {}
    except audit.AuditError as exc:  # a damaged store: say so, never write into it
        st.error(t("chain_bad"))
        st.code(str(exc))
        return
    pkey = _proposal_key(doc, stamp, cfg["data"])
    # in English only the bulletin shown is rendered in English (the area chosen last; the first draft of a
    # visit none, then the one the list opens on)
    shown = st.session_state.get("duty_shown")
    translate = () if lang() == "zh" or shown is None else (shown, "region_" + shown)
    result = proposals(pkey, doc, states, str(cfg["data"]), lang(), translate)
    if (result.get("consultation") or {}).get("adjustments"):
        st.info(t("adjusted_note"))
    names = dict(unit_names(cfg["data"]))
    for z in result["region"]:  # a dynamic zone is named by the response only
        names.setdefault(z["zone_id"], z.get("name_en") if lang() == "en" and z.get("name_en") else z["name_zh"])
    records = {r["area_id"]: r for tier in ("city", "county") for r in result[tier]}
    for z in result["region"]:  # region-tier (zone) warnings: issued by the region's officers
        members = t("list_sep").join(names.get(m, m) for m in z["triggered_by"])
        st.markdown(f"{level_chip(z['level'])} **{t('regional_warning')} {names[z['zone_id']]}**"
                    + labels.phrase("paren", lang(), text=members),
                    unsafe_allow_html=True)
        in_force = states.get(z["zone_id"], lifecycle.WarningState()).level
        records[z["zone_id"]] = {"area_id": z["zone_id"], "tier": "region", "name_zh": z["name_zh"],
                                 "level": z["level"], "model_level": z["level"], "in_force": in_force,
                                 "action": _zone_action(in_force, z["level"]),
                                 "response_kind": z.get("response_kind") or "warning",
                                 "reason": f"{t('regional_warning')}{t('colon')}{members}"}
    render_proposals(records, names, parent_of(cfg["data"]))
    account = current_account()
    # an officer sees its own area first; everyone else the areas whose proposal differs from what is in force
    rows = list(records.values())
    own = [r for r in rows if account is not None and r["tier"] == account.tier
           and (account.tier == "region" or r["area_id"] == account.area)]
    changed = [r for r in rows if r["level"] != r["in_force"]] or rows
    candidates = own + [r for r in changed if r not in own]
    bulletin_part(cfg, issued, doc, states, pkey, records, result, [r["area_id"] for r in candidates], names,
                  store_path)
    render_reduction(result.get("reduction", {}), names, issued,
                     files=lambda: reduction_files(pkey, doc, states, str(cfg["data"]), str(out_dir)))
    render_chain_status(store_path)
    with st.expander(t("audit")):
        events = store_events(str(store_path), _store_stamp(store_path)) if Path(store_path).exists() else []
        show_table(audit_table(events, names), level_columns=[labels.column("level", lang())])


@st.cache_data(show_spinner=False, max_entries=8)
def bulletin_docx(text: str) -> bytes:
    """The bulletin as Word bytes (once per text, not on every rerun)."""
    with tempfile.TemporaryDirectory() as tmp:
        return markdown_to_docx(text, Path(tmp) / "bulletin.docx").read_bytes()


@st.fragment
def bulletin_part(cfg, issued, doc: dict, states: dict, pkey: str, records: dict, result: dict, ids: list,
                  names: dict, store_path) -> None:
    """The bulletin of the chosen area: override, reason, the bulletin (preview, edit mode, Word), issuing. A
    fragment: another area, the override or the edit mode rerun this part only, not the page's proposal tables
    (about 1 s of table styling); an issued warning shows in those tables on the page's next run."""
    st.subheader(t("bulletin"))
    import hashlib

    # another list (a login, another date) is another widget, opening on its first area (a widget's state cannot
    # be reset from the script while the browser keeps it)
    key_ = "duty_area_" + hashlib.sha1("|".join(ids).encode()).hexdigest()[:12]
    area_id = st.selectbox(t("area"), ids, format_func=lambda a: names[a], key=key_)
    st.session_state["duty_shown"] = area_id
    rec = records[area_id]
    level = st.selectbox(t("override"), LEVELS, index=LEVELS.index(rec.get("acting_level") or rec["level"]),
                         format_func=lambda lv: L("levels", lv))
    reason = st.text_input(t("reason"), value="")
    bulletins = {b.area_id: b for b in result["bulletin_objects"]}
    key = "region_" + area_id if rec["tier"] == "region" else area_id
    draft = bulletins[key].markdown if key in bulletins else ""
    if lang() != "zh" and key in bulletins and key not in {b.area_id for b in result.get("bulletin_translations", [])}:
        result_shown = proposals(pkey, doc, states, str(cfg["data"]), lang(), (area_id, "region_" + area_id))
    else:
        result_shown = result
    translated = {b.area_id: b for b in result_shown.get("bulletin_translations", [])}
    text = render_bulletin(f"{issued}_{area_id}", draft, translated[key].markdown if key in translated else "")
    if text:  # the Word file is made when the button is clicked (about 0.3 s), not on every run of the page
        st.download_button(t("bulletin") + labels.phrase("paren", lang(), text="Word"), lambda: bulletin_docx(text),
                           file_name=f"{issued}_{area_id}_bulletin.docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
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
            # said at once; the proposal tables and the audit trail above and below show it on the page's next run
            st.success(t("issued"))


def _zone_action(in_force: str, level: str) -> str:
    """The life-cycle action of a zone's proposal (the audit action's verb: ``issued`` → ``issue``)."""
    verb = {"issued": "issue", "upgraded": "upgrade", "downgraded": "downgrade", "lifted": "lift",
            "maintained": "maintain"}[lifecycle.officer_action(in_force, level)]
    return "none" if verb == "maintain" and level == "none" else verb


def audit_table(events: list[dict], names: dict) -> pd.DataFrame:
    """The audit trail as the officer reads it: time, action, area name, level, officer, reason."""
    return pd.DataFrame([{labels.column("id", lang()): e["id"],
                          labels.column("recorded_at", lang()): str(e["recorded_at"])[:19].replace("T", " "),
                          labels.column("action", lang()): L("actions", e["action"], default=e["action"]),
                          labels.column("area", lang()): names.get(e["area_id"], e["area_id"]),
                          labels.column("level", lang()): L("levels", e["level"], default=labels.EMPTY),
                          labels.column("officer", lang()): e.get("officer") or labels.EMPTY,
                          labels.column("reason", lang()): e.get("reason") or labels.EMPTY} for e in events])
