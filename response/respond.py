"""Orchestrator: a forecast → proposed warnings per tier, plan measures, bulletins, and proposal events.

Input is the forecast document of ``lantian forecast --out F.json`` (or the dict :func:`forecast.forecasting.
forecast_json` returns). For every area: the level its own forecast implies (dust-dominated days give a health
advisory, not a colour: :mod:`response.causes`), the regional and league/city cascade (:mod:`response.plans`), the
life-cycle action against the state in force (derived from the audit store's events when one is given:
:mod:`response.lifecycle`), the plan measures and the bulletin drafts (:mod:`response.bulletins`). The rule set is
the one in force on the issue date (:func:`forecast.levels.rules_in_force`) unless the caller or the forecast
names one. The areas, boundaries and plans are the region's (:mod:`forecast.region`), loaded once here and passed
down: a region without plans of its own gets the national default plans (:func:`response.plans.default_plans`).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import areas as areas_mod
from forecast import consultation as consultation_mod
from forecast import document
from forecast import labels
from forecast import levels as levels_mod
from forecast.region import Region, load_region

from . import audit as audit_mod
from . import bulletins as B
from . import causes, lifecycle
from . import plans as plans_mod
from .sanitize import frame_cells

CAUSE_ZH = {"ventilation": "风速小、边界层低，扩散条件差", "inversion": "逆温和静稳天气持续",
            "humidity": "湿度大，有利于二次颗粒物生成", "transport": "区域污染输送",
            "persistence": "前期污染累积", "emissions_calendar": "供暖期排放增加",
            "area_climatology": "本地污染背景较高", "lead_time": ""}
#: life-cycle actions that get a bulletin of the same kind
BULLETIN_ACTIONS = ("issue", "upgrade", "downgrade", "lift")


class RespondError(ValueError):
    """A forecast document that cannot be responded to."""


def load_forecast(source) -> dict:
    """A forecast document (a dict, or the JSON file of ``lantian forecast --out F.json``), checked against its
    schema (:mod:`forecast.document`) before anything uses it.

    Raises
    ------
    RespondError
        An unreadable file, or a document that does not follow the schema: one sentence naming the file, the field
        and what is allowed (``F.json: areas[0]: expected an object with area_id, level, … got 'hohhot'``).
    """
    try:
        if isinstance(source, dict):
            return document.check_document(source)
        return document.read_document(source)
    except document.ForecastDocumentError as exc:
        raise RespondError(str(exc)) from None


def _window(area: dict, days: list[int], lang: str = "zh") -> tuple[str, str]:
    by_lead = {d["lead_day"]: d for d in area["days"]}
    sel = [by_lead[k] for k in days if k in by_lead] or area["days"][:1]
    first, last = pd.Timestamp(sel[0]["date"]), pd.Timestamp(sel[-1]["date"])
    window = labels.day_text(first, lang) if first == last else \
        labels.phrase("window", lang, first=labels.day_text(first, lang), last=labels.day_text(last, lang))
    q50 = [d["aqi"]["q50"] for d in sel]
    lo = min(d["aqi"]["q10"] for d in sel)
    hi = max(d["aqi"]["q90"] for d in sel)
    return window, B.aqi_range_text(min(q50), max(q50), lo, hi, lang)


def _start_text(start: pd.Timestamp, lang: str = "zh") -> str:
    return labels.phrase("date_hour", lang, **labels.date_fields(start))


def _date_text(day, lang: str = "zh") -> str:
    return labels.phrase("full_date", lang, **labels.date_fields(day))


def _cause(area: dict, days: list[int], lang: str = "zh") -> str:
    """The meteorological causes of the episode in a sentence: the two families that raise the AQI most on the
    trigger days (:data:`CAUSE_ZH`; in English the nomenclature's ``families`` ``up_en``)."""
    by_lead = {d["lead_day"]: d for d in area["days"]}
    counts: dict[str, float] = {}
    for k in days or [1]:
        for drv in by_lead.get(k, {}).get("drivers", []):
            if drv["effect"] > 0:
                counts[drv["family"]] = counts.get(drv["family"], 0) + drv["effect"]
    ranked = [f for f, _ in sorted(counts.items(), key=lambda kv: -kv[1]) if CAUSE_ZH.get(f)][:2]
    if lang == "zh":
        top = [CAUSE_ZH[f] for f in ranked]
    else:
        top = [labels.label("families", f, lang, field="up", default=f) for f in ranked]
    return labels.phrase("met_cause", lang, causes=labels.phrase("met_cause_sep", lang).join(top)) if top else ""


def respond(forecast, *, out_dir: str | Path | None = None, rules: str | None = None, store=None,
            officer: str = "lantian（系统建议）", adjacency=None, plans: dict | None = None,
            write_docx: bool = True, data: str | Path | None = None, consultation: bool = True,
            states: dict | None = None, region: Region | None = None, lang: str = "zh",
            translate=None) -> dict:
    """Proposed decisions per tier for one forecast; writes ``decisions.json`` and bulletins to ``out_dir``.

    Parameters
    ----------
    forecast : dict or path-like
        A forecast document (:func:`forecast.forecasting.forecast_json`, ``lantian forecast --out F.json``).
    out_dir : path-like, optional
        Where to write ``decisions.json``, ``bulletins/*.md`` (and ``.docx``) and ``reduction/``.
    rules : str, optional
        Warning rule set; default the forecast's, else the one in force on the issue date
        (:func:`forecast.levels.rules_in_force`).
    store : AuditStore or path-like, optional
        The audit store: the warning state per area is derived from its events
        (:func:`response.lifecycle.states_from_events`: the level in force and a lower level the previous
        consultation proposed) and a ``proposed`` event is appended for every area whose action is not ``none``.
        Each bulletin drafted carries the chain head at drafting (``ID:SHA256``, :meth:`AuditStore.chain_head`)
        in its footer: an anchor kept outside the store.
    officer : str
        Who the proposal events name (the system, not a person: proposals are not decisions).
    adjacency : dict, optional
        ``area_id`` → neighbouring league/cities (default: the region's, from its boundaries), for the
        ≥ 3-adjacent zone.
    plans : dict, optional
        The three-tier plans (default the region's: its ``plans.yaml``, else the shipped plans when they fit its
        areas, else the national default plans; :func:`response.plans.load_plans`).
    write_docx : bool
        Also write Word bulletins.
    data : path-like, optional
        A data directory with ``enterprises.csv`` and ``inventory.csv``: the emission-reduction lists are
        activated for the proposed levels and the reduction shares checked (``reduction`` in the result; files in
        ``out_dir/reduction``).
    consultation : bool
        With ``data``, apply the consultation's adjustments stored there for the issue date first
        (``consultation`` in the result: how many, which areas, skipped records).
    states : dict, optional
        The warning state per area when the caller derived it already (the duty page reads the store without
        recording proposals); ignored when ``store`` is given.
    region : Region, optional
        The region responded for (areas, boundaries, plans); default :func:`forecast.region.load_region` for
        ``data`` (its ``region/`` folder, else ``$LANTIAN_REGION``, else the shipped Inner Mongolia).
    lang : {"zh", "en"}
        The language of the records' ``reason`` (the audit events and the bulletins written stay Chinese: they
        are the official record); ``"en"`` also renders every bulletin in English for reading
        (``bulletin_translations``: :class:`response.bulletins.Bulletin` objects with the Chinese ones' kinds and
        area ids).

    Returns
    -------
    dict
        ``issue_date``, ``rules``, ``region`` (zone warnings: ``members``, ``level``, the region plan's id
        ``plan`` and its ``measures``, ``bulletins``, ``trigger`` and ``trigger_sourced`` (whether the trigger is
        the sourced ≥ 3 adjacent leagues/cities one), ``notes`` (what is UNVERIFIED), ``counted_with``),
        ``city`` and ``county`` (one record per response unit (:func:`response_units`: every banner/county of
        the region, not only those with stations): ``area_id``, ``name_zh``, ``tier``, ``parent_id``,
        ``has_forecast`` (a forecast of its own in the document), ``forecast_from`` (whose forecast it follows),
        ``level`` (the level the forecast implies), ``source``, ``action``, ``in_force``, ``pending_lower``,
        ``acting_level`` (the level in force after the life cycle's action: the measures, enterprise cuts and
        reduction lists follow it — none before the triggering run enters the issuing window, none once lifted,
        the higher level while a lower one awaits confirmation), ``reason``, ``valid_from``,
        ``measures``, ``bulletins`` …, and the cause: ``cause``, ``primary_pollutant`` — the forecast's, ``None``
        when it names none —, ``response_kind``, ``enterprise_cuts``, ``measures`` and ``withheld_measures``),
        ``reduction``, ``consultation`` and ``bulletin_objects``. A banner/county without a forecast of its own
        takes its league/city's forecast and level; a unit gets a record when it, its league/city or (a zone
        member) its zone's trigger has a forecast.

    Raises
    ------
    RespondError
        An unreadable forecast document, one that does not follow the schema (:mod:`forecast.document`), an area
        the area table does not know, or a rule set the region's rules do not know.
    translate : collection of str, optional
        With ``lang`` other than ``"zh"``: the bulletins rendered in ``lang`` (their area ids, ``region_<zone>``
        for a zone's); default every one (a page showing one bulletin asks for that one: each takes time).
    """
    labels._check_lang(lang)
    doc = load_forecast(forecast)
    source = str(forecast) if not isinstance(forecast, dict) else "forecast document"
    cons_info = None
    if data is not None and consultation:
        doc, cons_info = consultation_mod.adjusted_forecast(doc, data)
    region = region or load_region(data=data)
    # the response units: the region's areas and every banner/county of its leagues/cities
    areas = response_units(region)
    plans = plans or plans_mod.load_plans(region.plans_file, areas=areas, name=region.name)
    table = areas.set_index("area_id")
    known_rules = levels_mod.rule_sets(region.rules_path)
    if rules is not None and rules not in known_rules:
        raise RespondError(f"rules: unknown warning rule set {rules!r}; allowed: {', '.join(known_rules)}")
    own, per_area = {}, {}
    cause_policy, signoff = causes.load_policy(), B.load_signoff()
    try:
        policy = lifecycle.load_policy(getattr(region, "lifecycle_path", None))  # the region's own, else shipped
    except lifecycle.LifecycleError as exc:
        raise RespondError(str(exc)) from None
    policy = {k: policy[k] for k in ("lift_hours", "issue_window_days")}
    for i, area in enumerate(doc["areas"]):
        if area.get("rules") and area["rules"] not in known_rules:
            raise RespondError(f"{source}: areas[{i}].rules: unknown warning rule set {area['rules']!r}; allowed: "
                               f"{', '.join(known_rules)}")
        if area["area_id"] not in table.index:
            known = list(table.index)
            raise RespondError(f"{source}: areas[{i}].area_id: unknown area {area['area_id']!r}; allowed: the "
                               f"region's areas ({', '.join(known[:30])}{' …' if len(known) > 30 else ''})")
        # the episode's cause (REFERENCE 1.3-1.4): O3/dust/fire → a health advisory and no colour of its own;
        # fireworks → the configured policy
        ep = causes.episode(area, policy=cause_policy, calendar=region.calendar)
        # the cascade (zones, banners/counties following their league/city) acts on what is inside the issuing
        # window; a level whose run begins later is the area's outlook, shown and reasoned, not acted on
        later = not ep.advisory and lifecycle.beyond_window(area["level"], (area.get("trigger_days") or [1])[0],
                                                            policy["issue_window_days"])
        own[area["area_id"]] = "none" if ep.advisory or later else area["level"]
        per_area[area["area_id"]] = {"area": area, "advisory": ep.advisory, "cause": ep.cause, "episode": ep,
                                     "outlook": area["level"] if later else None}
    final, regional = plans_mod.cascade(own, plans=plans, areas=areas,
                                        adjacency=adjacency if adjacency is not None else
                                        (lambda: region.adjacency("city")))
    close_store = False
    if store is not None and not isinstance(store, audit_mod.AuditStore):
        store, close_store = audit_mod.open_store(store), True
    issue_date = doc["issue_date"]
    if store is not None:
        states = lifecycle.states_from_events(store.events(), before=issue_date)
    states = states or {}
    issued_at = f"{pd.Timestamp(issue_date).year}年{pd.Timestamp(issue_date).month}月{pd.Timestamp(issue_date).day}日"
    decisions = {"issue_date": issue_date, "model_version": doc.get("model_version"),
                 "rules": rules or (doc["areas"][0].get("rules") if doc["areas"] else None) or
                 region.rules_in_force(issue_date),
                 "region": [], "city": [], "county": []}
    bulletins: list[B.Bulletin] = []
    translations: list[B.Bulletin] = []
    zone_of: dict[str, plans_mod.RegionalWarning] = {}
    for w in regional:
        for m in w.members:
            zone_of.setdefault(m, w)
    zone_en = {w.zone_id: _zone_name_en(w, plans) for w in regional}
    for area_id in table.index:
        # whose forecast the unit follows: its own, else (a banner/county without one) its league/city's, else (a
        # zone member raised by a regional warning) the forecast that triggered the zone; else no decision
        tier = str(table.loc[area_id, "tier"])
        parent = table.loc[area_id, "parent_id"] if tier == "county" else None
        if area_id in per_area:
            forecast_from = area_id
        elif tier == "county" and parent in per_area:
            forecast_from = parent
        elif area_id in zone_of and any(zone_of[area_id].via.get(m) in per_area
                                        for m in zone_of[area_id].triggered_by):
            w = zone_of[area_id]
            forecast_from = next(w.via[m] for m in w.triggered_by if w.via.get(m) in per_area)
        else:
            continue
        info = per_area[forecast_from]
        area = info["area"]
        level = final[area_id]["level"]
        if level == "none" and final[area_id]["source"] == "own" and info["outlook"]:
            level = info["outlook"]  # its own episode beyond the window: the life cycle says so (and may lift)
        r = rules or area.get("rules") or decisions["rules"]
        state = states.get(area_id, lifecycle.WarningState())
        trig = area.get("trigger_days") or []
        by_day = sorted(area["days"], key=lambda d: d["lead_day"])
        aqi = [d["aqi"]["q50"] for d in by_day]
        _, t = lifecycle.step(state, level, aqi, issue_date=issue_date, rules=r,
                              first_trigger_day=trig[0] if trig else (1 if level != "none" else None),
                              dust=[bool(d.get("dust", False)) for d in by_day], **policy)
        # who must act, and how: the level in force after the life cycle's action (an issue or upgrade, the level
        # kept while a lower one awaits confirmation, none once lifted or before the run enters the window)
        acting = t.level
        window, aqi_range = _window(area, trig or [1, 2])
        # a lift takes effect the next day (its trigger days, if any, are the next episode's, beyond the window)
        valid_from = lifecycle.valid_from(issue_date, trig if t.action != "lift" else None)
        start = _start_text(valid_from)
        met_cause = _cause(area, trig)
        ep = info["episode"]
        lev_ep = _level_episode(area_id, final, per_area, regional)
        why = {lg: _full_reason(lg, area_id, final[area_id]["source"], level, own, forecast_from, area, trig, table,
                                zone_of, ep, lev_ep, zone_en) for lg in dict.fromkeys(("zh", lang))}
        if t.action not in ("issue", "upgrade") and t.code not in ("lc_none", "lc_persist"):
            # the life cycle's own reason (lift, kept, pending downgrade, an episode beyond the window)
            for lg in why:
                why[lg] = (labels.phrase("sep", lg).join(x for x in (why[lg][0], lifecycle.reason_text(t, lg)) if x),
                           why[lg][1])
        reason = why["zh"][0]  # the audit events' reason: the official record stays Chinese
        clause = why["zh"][1]  # the bulletin's 预警依据
        kept, withheld = causes.for_cause(
            plans_mod.measures(area_id, acting, plans=plans, areas=areas) if acting != "none" else
            (plans_mod.measures(area_id, "health_advisory", plans=plans, areas=areas) if info["advisory"] else []),
            lev_ep if acting != "none" else ep)
        rec = {"area_id": area_id, "name_zh": table.loc[area_id, "name_zh"], "tier": tier,
               "parent_id": parent if isinstance(parent, str) else None, "has_forecast": area_id in own,
               "forecast_from": forecast_from,
               "own_level": own.get(area_id, "none"), "level": level,
               "consultation_adjusted": bool(area.get("adjusted")), "model_level": area.get("model_level", own.get(area_id, "none")), "source": final[area_id]["source"],
               "in_force": state.level, "pending_lower": state.pending_lower, "action": t.action,
               "acting_level": acting,
               "reason": why[lang][0], "trigger_days": trig, "valid_from": valid_from.isoformat(), "rules": r,
               "duration": area.get("duration"),
               "lead_hours": t.lead_hours, "lead_time_ok": t.lead_time_ok,
               "level_probabilities": area.get("level_probabilities"), "health_advisory": info["advisory"],
               "cause": ep.cause if level == "none" else lev_ep.cause, "response_kind": (
                   ep.kind if level == "none" else lev_ep.kind),
               "primary_pollutant": (ep if level == "none" or lev_ep is ep else lev_ep).primary,
               "enterprise_cuts": acting != "none" and lev_ep.enterprise_cuts,
               "measures": kept, "withheld_measures": withheld,
               "bulletins": []}
        kinds = []
        if t.action in BULLETIN_ACTIONS:
            kinds.append(t.action)
        if info["advisory"] and level == "none":
            kinds.append("advisory")
        for kind in kinds:
            bep = ep if kind == "advisory" else lev_ep
            b = B.render(kind, area_id=area_id, level=level if kind != "lift" else "none", previous=state.level,
                         chain_head=_head(store),
                         window=window, start=start, aqi_range=aqi_range, met_cause=met_cause,
                         clause=clause, issued_at=issued_at, cause=bep.cause, plans=plans,
                         primary=bep.primary, dust=bep.dust, withhold=bep.withhold, notes=bep.notes,
                         end=_end_text(area, trig), signoff=signoff, areas=areas)
            bulletins.append(b)
            rec["bulletins"].append({"kind": kind, "title": b.title, "sha256": b.sha256,
                                     "file": f"{_bulletin_stem(area_id, kind)}.md"})
            if lang != "zh" and (translate is None or area_id in translate):  # the English rendering for reading
                # (the official bulletin is the Chinese one)
                window_t, range_t = _window(area, trig or [1, 2], lang)
                translations.append(B.render(
                    kind, area_id=area_id, level=level if kind != "lift" else "none", previous=state.level,
                    chain_head=_head(store), window=window_t, start=_start_text(valid_from, lang),
                    aqi_range=range_t, met_cause=_cause(area, trig, lang), clause=why[lang][1],
                    issued_at=_date_text(issue_date, lang), cause=bep.cause, plans=plans, primary=bep.primary,
                    dust=bep.dust, withhold=bep.withhold, notes=bep.notes_in(lang),
                    end=_end_text(area, trig, lang), signoff=signoff, areas=areas, lang=lang))
        if store is not None and t.action != "none":
            store.append(audit_mod.Event(
                "proposed", area_id, tier, t.level if t.action != "lift" else "none", officer,
                valid_from=valid_from.isoformat(), issue_date=issue_date,
                forecast_ref=f"{issue_date}/{doc.get('model_version')}", model_version=doc.get("model_version"),
                reason=f"{t.action}: {reason}", bulletin_text=bulletins[-1].markdown if kinds else None,
                details={"action": t.action, "proposed": level, "source": final[area_id]["source"]}))
        decisions[tier].append(rec)
    for w in regional:
        region_stem = f"region_{_safe(w.zone_id)}"
        # the regional bulletin is the region plan's: its authority and measures, naming the zone's members (scope)
        srcs = [w.via[m] for m in w.triggered_by if w.via.get(m) in per_area]
        days = sorted({k for m in srcs for k in (per_area[m]["area"]["trigger_days"] or [])})
        anchor = per_area[srcs[0]]["area"] if srcs else None
        window, aqi_range = _window(anchor, days or [1]) if anchor else ("", "")
        start = _start_text(lifecycle.valid_from(issue_date, days)) if anchor else ""
        zone_ep = _combined([per_area[m]["episode"] for m in dict.fromkeys(srcs)])
        b = B.render("issue", area_id=plans["region"]["id"], level=w.level, window=window, start=start,
                     chain_head=_head(store),
                     aqi_range=aqi_range, clause=_zone_clause(w), issued_at=issued_at,
                     plans=plans, area_name=w.name_zh, areas=areas,
                     members=[str(table.loc[m, "name_zh"]) for m in w.members], primary=zone_ep.primary,
                     cause=zone_ep.cause, withhold=zone_ep.withhold, notes=zone_ep.notes,
                     end=_end_text(anchor, days) if anchor else "", signoff=signoff)
        bulletins.append(b)
        name_en = _zone_name_en(w, plans)
        if lang != "zh" and (translate is None or region_stem in translate):
            window_t, range_t = _window(anchor, days or [1], lang) if anchor else ("", "")
            t_b = B.render("issue", area_id=plans["region"]["id"], level=w.level, window=window_t,
                           start=_start_text(lifecycle.valid_from(issue_date, days), lang) if anchor else "",
                           chain_head=_head(store), aqi_range=range_t, clause=_zone_clause(w, lang),
                           issued_at=_date_text(issue_date, lang), plans=plans, area_name=name_en, areas=areas,
                           members=[_unit_name(table, m, lang) for m in w.members], primary=zone_ep.primary,
                           cause=zone_ep.cause, withhold=zone_ep.withhold, notes=zone_ep.notes_in(lang),
                           end=_end_text(anchor, days, lang) if anchor else "", signoff=signoff, lang=lang)
            t_b.area_id = region_stem
            translations.append(t_b)
        decisions["region"].append({"zone_id": w.zone_id, "name_zh": w.name_zh, "name_en": name_en,
                                    "level": w.level,
                                    "plan": plans["region"]["id"], "measures": causes.for_cause(plans_mod.measures(
                                        plans["region"]["id"], w.level, plans=plans, areas=areas), zone_ep)[0],
                                    "primary_pollutant": zone_ep.primary, "cause": zone_ep.cause,
                                    "members": w.members, "triggered_by": w.triggered_by,
                                    "trigger": w.trigger, "trigger_sourced": w.sourced, "notes": w.notes,
                                    "counted_with": w.via,
                                    "bulletins": [{"kind": "issue", "title": b.title, "sha256": b.sha256,
                                                   "file": f"{_bulletin_stem(region_stem, 'issue')}.md"}]})
        b.area_id = region_stem
    if close_store:
        store.close()
    if data is not None:
        decisions["reduction"] = _reduction(Path(data), decisions, out_dir, areas)
    if out_dir is not None:
        _write(decisions, bulletins, Path(out_dir), write_docx)
    decisions["consultation"] = cons_info
    decisions["bulletin_objects"] = bulletins
    if lang != "zh":
        decisions["bulletin_translations"] = translations
    return decisions


def _end_text(area: dict, days: list[int], lang: str = "zh") -> str:
    """The expected end of a warning: the end of its last trigger day (``12月23日24时``); empty without any."""
    by_lead = {d["lead_day"]: d for d in area["days"]}
    sel = [by_lead[k]["date"] for k in days if k in by_lead]
    if not sel:
        return ""
    return labels.phrase("day_end", lang, **labels.date_fields(max(sel)))


def _combined(episodes: list) -> causes.Episode:
    """The episode of a warning several areas' episodes decided (a zone's, a parent's): fireworks-driven only when
    every one of them is (the policy's kind and withheld measures), else a warning; the primary pollutant the most
    frequent one they name."""
    named = [e.primary for e in episodes if e.primary is not None]
    primary = max(set(named), key=named.count) if named else None
    if episodes and all(e.cause == "fireworks" and not e.advisory for e in episodes):
        return causes.Episode(episodes[0].kind, "fireworks", primary, False, [], list(episodes[0].notes),
                              dict(episodes[0].withhold), notes_en=list(episodes[0].notes_en))
    return causes.Episode("warning", "pm", primary)


def _level_episode(area_id: str, final: dict, per_area: dict, regional: list) -> causes.Episode:
    """The episode that decided an area's final level: its own, its league/city's (``parent:``) or the zone's
    members that triggered the regional warning."""
    source = final[area_id]["source"]
    if source == "own":
        own = per_area.get(area_id, {}).get("episode")
        return own or causes.Episode("warning", "pm", None)
    if source.startswith("parent:"):
        return _level_episode(source.removeprefix("parent:"), final, per_area, regional)
    zone = next((w for w in regional if w.zone_id == source), None)
    # a member without a forecast of its own counted with its league/city's (RegionalWarning.via)
    members = dict.fromkeys(zone.via.get(m, m) for m in zone.triggered_by) if zone is not None else {}
    return _combined([per_area[m]["episode"] for m in members if m in per_area])


def response_units(region: Region) -> pd.DataFrame:
    """The region's response units (:func:`forecast.areas.response_units`): its areas plus the banners/counties
    of its leagues/cities from its own boundaries when they hold county-level features, else from the shipped
    county list (Inner Mongolia's 103; it adds nothing to another province's areas)."""
    counties = None
    if region.boundaries_file is not None:
        own = areas_mod.counties_of_boundaries(region.boundaries_file)
        counties = own if len(own) else None
    return areas_mod.response_units(region.areas, counties=counties)


def _zone_clause(w: plans_mod.RegionalWarning, lang: str = "zh") -> str:
    """The trigger of a regional warning as the bulletin states it, with what is UNVERIFIED about it or the
    zone's extent (in English: the count of members and whether the trigger is unverified)."""
    if lang != "zh":
        return labels.phrase("zone_clause", lang, n=len(w.triggered_by)) + \
            ("" if w.sourced else labels.phrase("trigger_unverified", lang))
    text = f"{len(w.triggered_by)}个成员达到预警条件（{w.trigger}）"
    return text + ("；" + "；".join(w.notes) if w.notes else "")


def _zone_name_en(w: plans_mod.RegionalWarning, plans: dict) -> str:
    """A zone's English name (the plans' ``name_en`` of the control zone or the dynamic zone), else its Chinese."""
    region = plans["region"]
    zones = {z["id"]: z for z in region.get("control_zones", [])}
    if w.zone_id in zones:
        return zones[w.zone_id].get("name_en") or w.name_zh
    return (region.get("dynamic_zone") or {}).get("name_en") or plans_mod.DEFAULT_DYNAMIC_ZONE["name_en"]


def _unit_name(table: pd.DataFrame, area_id: str, lang: str) -> str:
    """A response unit's name in ``lang`` (the English name where the table has one, else the Chinese)."""
    if area_id not in table.index:
        return str(area_id)
    en = table.loc[area_id, "name_en"] if lang == "en" and "name_en" in table.columns else None
    return str(en) if isinstance(en, str) and en else str(table.loc[area_id, "name_zh"])


def _full_reason(lang: str, area_id: str, source: str, level: str, own: dict, forecast_from: str, area: dict,
                 trig: list, table: pd.DataFrame, zone_of: dict, ep, lev_ep, zone_en: dict) -> tuple[str, str]:
    """Why a unit gets its level, in ``lang``, and the clause its bulletin states: the rule clause (with the
    reading of "lasting N h" in force) or whose warning it follows, a consultation's adjustment, the cause
    notes."""
    P = labels.phrase
    reason = _reason(area_id, source, level, own, forecast_from, area, trig, table, zone_of, lang, zone_en)
    if source == "own" and area["clause"] and area.get("duration") in levels_mod.DURATION_ZH:
        reason += P("paren", lang, text=labels.label("durations", area["duration"], lang))
    clause = labels.clause(area["clause"], lang) if source == "own" else reason
    if area.get("adjusted"):
        reason += P("adjusted", lang, level=labels.label("levels", area.get("model_level", "none"), lang))
    sep = P("sep", lang)
    if ep.notes:
        reason += sep + (P("own_forecast", lang) if lev_ep is not ep else "") + sep.join(ep.notes_in(lang))
    if lev_ep is not ep and lev_ep.notes and level != "none":
        theirs = [n for n, zh in zip(lev_ep.notes_in(lang), lev_ep.notes) if zh not in ep.notes]
        reason += sep + sep.join(theirs)
    return reason, clause


def _reason(area_id: str, source: str, level: str, own: dict, forecast_from: str, area: dict, trig: list,
            table: pd.DataFrame, zone_of: dict, lang: str = "zh", zone_en: dict | None = None) -> str:
    """Why a unit gets its level, for the officer: its own forecast's clause, or whose warning it follows (the
    nomenclature's ``phrases``)."""
    P = labels.phrase

    def name(a):
        return _unit_name(table, a, lang)

    def lv(code):
        return labels.label("levels", code, lang)

    if area_id in own:
        local = P("local_own", lang, level=lv(own[area_id]))
    else:
        local = P("local_none", lang) if source == f"parent:{forecast_from}" else \
            P("local_via", lang, name=name(forecast_from))
    if source == "own":
        clause = labels.clause(area["clause"], lang)
        return P("on_days", lang, clause=clause, days=P("day_sep", lang).join(str(k) for k in trig)) if trig \
            else clause
    if source.startswith("parent:"):
        parent = name(source.split(":", 1)[1])
        return P("follow_parent", lang, parent=parent, level=lv(level), local=local) if level != "none" else \
            P("follow_parent_none", lang, parent=parent, local=local)
    w = next((z for z in zone_of.values() if z.zone_id == source), None)
    unverified = "" if w is None or w.sourced else P("trigger_unverified", lang)
    zone = (w.name_zh if lang == "zh" else (zone_en or {}).get(w.zone_id, w.name_zh)) if w else source
    return P("follow_zone", lang, zone=zone, level=lv(level), local=local, unverified=unverified)


def _head(store) -> str | None:
    """The audit chain's head ``ID:SHA256`` as a bulletin drafted now prints it (``None`` without a store or
    events): the anchor of the trail up to the draft's own proposal event."""
    head = store.chain_head() if store is not None else None
    return head.anchor if head is not None else None


def _reduction(data: Path, decisions: dict, out_dir, areas) -> dict:
    from . import reduction as R

    reg_path, inv_path = data / "enterprises.csv", data / "inventory.csv"
    if not reg_path.exists() or not inv_path.exists():
        return {"note": f"{data}: no enterprises.csv / inventory.csv; emission-reduction lists not evaluated"}
    registry, bad = R.load_registry(reg_path, areas=areas)
    inventory = R.load_inventory(inv_path)
    processes = R.load_processes(data / "processes.csv", registry) if (data / "processes.csv").exists() else None
    # no enterprise of the list is cut where the cause policy withholds plant shutdowns (fireworks)
    levels = {r["area_id"]: r.get("acting_level", r["level"]) if r.get("enterprise_cuts", True) else "none"
              for tier in ("city", "county") for r in decisions[tier]}
    rules = decisions["rules"]
    act = R.activate(registry, levels, processes=processes)
    check = R.share_check(act, registry, inventory, levels, rules=rules, areas=areas)
    info, notes = R.list_identity(registry), R.standardisation_problems(registry, processes)
    result = {"enterprises": int(len(registry)), "bad_rows": bad.to_dict("records"), "activated": int(len(act)),
              "list_version": info[0], "list_year": info[1], "standardisation": notes,
              "share_check": check.totals.to_dict("records"), "shortfalls": check.shortfalls.to_dict("records")}
    if out_dir is not None:
        result["files"] = R.write_outputs(act, check, Path(out_dir) / "reduction",
                                          names=areas.set_index("area_id")["name_zh"], processes=processes,
                                          list_info=info, notes=notes)
        if len(bad):
            frame_cells(bad).to_csv(Path(out_dir) / "reduction" / "registry_problems.csv", index=False,
                                    encoding="utf-8-sig")
    return result


def _bulletin_stem(area_id, kind: str) -> str:
    """``bulletins/<area>_<kind>``: an area id (from the region's area table, a file) made one plain file name."""
    return f"bulletins/{_safe(str(area_id))}_{kind}"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in text)[:60]


def _write(decisions: dict, bulletins: list, out: Path, write_docx: bool) -> None:
    (out / "bulletins").mkdir(parents=True, exist_ok=True)
    for b in bulletins:
        stem = _bulletin_stem(b.area_id, b.kind)
        (out / f"{stem}.md").write_text(b.markdown, encoding="utf-8")
        if write_docx:
            B.to_docx(b, out / f"{stem}.docx")
    clean = {k: v for k, v in decisions.items() if k != "bulletin_objects"}
    (out / "decisions.json").write_text(json.dumps(clean, ensure_ascii=False, indent=1, default=_json_default))


def _json_default(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (datetime, pd.Timestamp)):
        return v.isoformat()
    return str(v)
