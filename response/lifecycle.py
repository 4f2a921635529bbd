"""The life cycle of a warning over successive forecasts: issue, upgrade, downgrade, lift (REFERENCE 1.5).

A small state machine per area. Each issue date brings a proposed level (from grading the forecast) and the
forecast daily AQI of the next days; the machine answers with an action:

- ``issue`` — no warning in force and a level is proposed; the lead time to the first triggering day is reported
  (the rules ask for ≥ 24 h; a shorter lead is flagged, not refused);
- ``upgrade`` — a higher level is proposed;
- ``downgrade`` — a lower (not none) level is proposed on two consecutive issue dates; after a single lower proposal
  the level is kept ("when the level keeps crossing boundaries, the higher one applies");
- ``lift`` — the forecast is below the lowest trigger for the coming ``lift_hours`` (> 36 h: the first two forecast
  days); a proposal of none with AQI still above the trigger keeps the warning (``maintain``). A day forecast as
  dust-dominated counts as below the trigger: dust gets health advisories and emergency cuts do not act on it
  (REFERENCE 1.3–1.4), so dust days never hold a PM2.5 warning, or its enterprise cuts, in force;
- ``maintain`` / ``none``.

This module is the one owner of the life cycle. Its state per area is derived from the audit store's events
(:func:`states_from_events`): the level in force comes from the last decision an officer recorded (issued,
upgraded, downgraded, lifted, cancelled, corrected), and a pending lower level from the proposal of the previous
consultation (an earlier issue date) — so "downgrade after two consecutive lower proposals" holds across restarts
and is the same for ``lantian respond`` and the duty page. The duty page records the officer's decision with
:func:`decision_event`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.levels import LEVEL_RANK, LEVELS, clause_leaves
from forecast.nomenclature import TZ

from . import accounts as accounts_mod
from . import audit as audit_mod

LIFT_HOURS = 36
#: the issue hour of the afternoon consultation [h, CST] (the forecaster's ``forecast.features.ISSUE_HOUR``)
ISSUE_HOUR = 16
#: audit actions that set the level in force (officers' decisions)
DECISIONS = ("issued", "upgraded", "downgraded", "lifted", "cancelled", "corrected", "maintained")
#: life-cycle action → the audit action that records it
EVENT_OF_ACTION = {"issue": "issued", "upgrade": "upgraded", "downgrade": "downgraded", "lift": "lifted",
                   "maintain": "maintained"}


class LifecycleError(ValueError):
    """A decision that cannot be recorded (names the bad value)."""


@dataclass
class WarningState:
    level: str = "none"
    since: str | None = None  # issue date the current level was set
    pending_lower: str | None = None  # a lower level proposed once (needs confirmation)


@dataclass
class Transition:
    action: str  # issue | upgrade | downgrade | lift | maintain | none
    level: str  # level in force after the action
    previous: str
    reason: str
    lead_hours: float | None = None  # hours from the issue time to the start of the first triggering day
    lead_time_ok: bool | None = None


def lowest_trigger(rules: str) -> float:
    """The lowest AQI any clause of the rule set compares with (150 for MEE-2024, 200 for MEE-2019)."""
    return float(min(c.get("above", c.get("at_least")) for c in clause_leaves(rules)))


def step(state: WarningState, proposed: str, forecast_aqi, *, issue_date: str, rules: str,
         first_trigger_day: int | None = None, issue_hour: int = ISSUE_HOUR,
         dust=None) -> tuple[WarningState, Transition]:
    """Advance one area's warning state by one issue date.

    Parameters
    ----------
    proposed : str
        Level the forecast implies (``none``/``yellow``/``orange``/``red``), dust days already excluded.
    forecast_aqi : sequence of float
        Forecast daily AQI for lead days 1, 2, …
    issue_date : str
        The consultation's date (YYYY-MM-DD).
    rules : str
        The rule set in force (:func:`forecast.levels.rules_in_force`); it sets the lifting threshold.
    first_trigger_day : int, optional
        Lead day on which the triggering run starts (for the lead-time check).
    dust : sequence of bool, optional
        One flag per value of ``forecast_aqi``: the day is forecast dust-dominated (the forecast document's
        ``days[j].dust``). A dust day counts as below the trigger when deciding whether to lift (REFERENCE 1.3–1.5:
        dust episodes get health advisories; the warning and its enterprise cuts are for PM2.5). Default: none.

    Raises
    ------
    LifecycleError
        An unknown proposed level, or ``dust`` flags that do not match the forecast values one to one.
    """
    if proposed not in LEVEL_RANK:
        raise LifecycleError(f"unknown level {proposed!r}; allowed: {', '.join(LEVELS)}")
    cur = state.level
    aqi = np.asarray(forecast_aqi, float)
    flags = np.zeros(aqi.shape, bool) if dust is None else np.asarray(dust, dtype=bool)
    if flags.shape != aqi.shape:
        raise LifecycleError(f"dust: {flags.size} flag(s) for {aqi.size} forecast value(s); one flag per value")
    lead = None
    if first_trigger_day is not None:
        lead = float(24 * first_trigger_day - issue_hour)  # from issue_hour on day 0 to 00:00 of the trigger day
    if LEVEL_RANK[proposed] > LEVEL_RANK[cur]:
        action = "issue" if cur == "none" else "upgrade"
        t = Transition(action, proposed, cur, f"预报达到{proposed}预警条件", lead, None if lead is None else lead >= 24)
        return WarningState(proposed, issue_date, None), t
    if cur == "none":
        return state, Transition("none", "none", "none", "未达到预警条件")
    if proposed == cur:
        return WarningState(cur, state.since, None), Transition("maintain", cur, cur, "预警条件持续")
    # proposed is lower than the level in force
    days = int(np.ceil(LIFT_HOURS / 24)) + (1 if LIFT_HOURS % 24 == 0 else 0)
    clean = np.nan_to_num(aqi[:days], nan=np.inf) <= lowest_trigger(rules)
    below = np.all(clean | flags[:days])
    if proposed == "none":
        if below:
            dusty = "（其中沙尘天气按健康防护提示处理，不维持PM2.5预警及企业减排措施）" if not clean.all() else ""
            return WarningState("none", issue_date, None), Transition(
                "lift", "none", cur, f"空气质量预计降至预警启动条件以下并持续{LIFT_HOURS}小时以上{dusty}")
        return WarningState(cur, state.since, None), Transition(
            "maintain", cur, cur, f"未来{LIFT_HOURS}小时内仍有超过启动阈值的预报，暂不解除")
    if state.pending_lower == proposed:
        return WarningState(proposed, issue_date, None), Transition(
            "downgrade", proposed, cur, f"连续两次会商预报为{proposed}，降级")
    return WarningState(cur, state.since, proposed), Transition(
        "maintain", cur, cur, f"预报级别低于现行级别（{proposed}），待下次会商确认后降级；级别反复时按高级别执行")


def run_sequence(proposals: list[tuple], *, rules: str) -> list[Transition]:
    """Run the machine over ``[(issue_date, proposed_level, forecast_aqi[, dust_flags]), …]`` from no warning."""
    state = WarningState()
    out = []
    for date, proposed, aqi, *dust in proposals:
        state, t = step(state, proposed, aqi, issue_date=date, rules=rules, dust=dust[0] if dust else None)
        out.append(t)
    return out


# ---- state from the audit store ----------------------------------------------------------------------------------

def states_from_events(events: list[dict], *, before: str | None = None) -> dict[str, WarningState]:
    """The warning state per area from audit events (as :meth:`response.audit.AuditStore.events` gives them).

    Parameters
    ----------
    events : list of dict
        Audit events, any order (they are taken in id order).
    before : str, optional
        The issue date being decided (YYYY-MM-DD): proposals of that date or later are ignored, so a re-run of the
        same consultation never confirms itself. Officers' decisions always count.

    Returns
    -------
    dict
        ``area_id`` → :class:`WarningState`: the level in force (the last decision; lifted / cancelled → none), the
        date it was set, and ``pending_lower`` — the lower level the previous consultation proposed, if it did.
    """
    states: dict[str, WarningState] = {}
    cutoff = str(before)[:10] if before else None
    for e in sorted(events, key=lambda ev: ev["id"]):
        area = e["area_id"]
        cur = states.get(area, WarningState())
        if e["action"] in DECISIONS:
            level = "none" if e["action"] in ("lifted", "cancelled") else e["level"]
            states[area] = WarningState(level, e.get("issue_date") or e.get("valid_from") or e.get("recorded_at"),
                                        None)
        elif e["action"] == "proposed":
            if cutoff is not None and (e.get("issue_date") or "")[:10] >= cutoff:
                continue
            proposed = (e.get("details") or {}).get("proposed", e["level"])
            lower = proposed in LEVEL_RANK and proposed != "none" and LEVEL_RANK[proposed] < LEVEL_RANK[cur.level]
            states[area] = WarningState(cur.level, cur.since, proposed if lower else None)
    return states


def in_force(store) -> dict[str, WarningState]:
    """The state per area now, from an open :class:`response.audit.AuditStore`."""
    return states_from_events(store.events())


def _event_day(e: dict) -> pd.Timestamp:
    """The CST calendar day an event takes effect (its ``valid_from``, else the day it was recorded)."""
    if e.get("valid_from"):
        t = pd.Timestamp(e["valid_from"])
        if t.tzinfo is not None:
            t = t.tz_convert(TZ).tz_localize(None)
        return t.normalize()
    return pd.Timestamp(str(e["recorded_at"])[:10])


def periods_in_force(events: list[dict]) -> pd.DataFrame:
    """The days each area had a warning in force, from the officers' decisions among audit events.

    Each decision takes effect on the CST day of its ``valid_from`` and holds until the day before the next
    decision of that area; lifted / cancelled end it. A warning still in force at the end of the record counts its
    first day only (the record does not say how long it lasted).

    Returns
    -------
    DataFrame
        ``area_id, date, level, issued`` — ``issued`` the issue date of the warning that governs the day.
    """
    cols = ["area_id", "date", "level", "issued"]
    by_area: dict[str, list] = {}
    for e in sorted(events, key=lambda ev: ev["id"]):
        if e["action"] in DECISIONS:
            by_area.setdefault(e["area_id"], []).append(e)
    rows = []
    for area, evs in by_area.items():
        current, since, issued = "none", None, None
        for e in evs + [None]:
            start = _event_day(e) if e is not None else None
            if current != "none" and since is not None:
                stop = start - pd.Timedelta(days=1) if start is not None else since
                for d in pd.date_range(since, max(stop, since)):
                    rows.append({"area_id": area, "date": d, "level": current, "issued": issued})
            if e is None:
                break
            previous, current, since = current, ("none" if e["action"] in ("lifted", "cancelled") else e["level"]), start
            if current == "none":
                issued = None
            elif previous == "none" or e["action"] == "issued":
                issued = str(e.get("issue_date") or e["recorded_at"])[:10]
    return pd.DataFrame(rows, columns=cols)


def valid_from(issue_date, trigger_days=None) -> pd.Timestamp:
    """When a warning decided on ``issue_date`` takes effect: 00:00 CST of the first triggering lead day (the day
    after the issue date when none is given) — tz-aware, China Standard Time."""
    first = min(trigger_days) if trigger_days else 1
    return (pd.Timestamp(issue_date).normalize() + pd.Timedelta(days=int(first))).tz_localize(TZ)


def officer_action(current: str, chosen: str) -> str:
    """The audit action of an officer's decision ``chosen`` while ``current`` is in force."""
    for name, value in (("level in force", current), ("chosen level", chosen)):
        if value not in LEVEL_RANK:
            raise LifecycleError(f"unknown {name} {value!r}; allowed: {', '.join(LEVELS)}")
    if chosen == current:
        return "maintained"
    if chosen == "none":
        return "lifted"
    if current == "none":
        return "issued"
    return "upgraded" if LEVEL_RANK[chosen] > LEVEL_RANK[current] else "downgraded"


def decision_event(decision: dict, *, chosen: str, current: str, account, issue_date, model_version=None,
                   reason: str = "", bulletin_text: str | None = None) -> audit_mod.Event:
    """The audit event of an officer's decision on one proposal of :func:`response.respond.respond`.

    ``decision`` is the area's record (``area_id``, ``tier``, ``level``, ``model_level``, ``reason``,
    ``valid_from``, ``consultation_adjusted``); ``chosen`` the level the officer confirms; ``account`` the
    logged-in :class:`response.accounts.Account` — it must have the right to issue for this tier and area
    (:func:`response.accounts.authorize`). The event keeps its display name (``officer``) and its login id and role
    (``details``). A level other than the proposed one is an override and needs a ``reason``.

    Raises
    ------
    PermissionDenied
        No account, or one that may not issue for this tier and area.
    LifecycleError
        An override without a reason, or an unknown level.
    """
    accounts_mod.authorize(account, "issue", area_id=decision["area_id"], tier=decision["tier"])
    override = chosen != decision["level"]
    if override and not str(reason).strip():
        raise LifecycleError("调整级别必须说明理由 / an override of the proposed level needs a reason")
    action = officer_action(current, chosen)
    return audit_mod.Event(
        action, decision["area_id"], decision["tier"], chosen, account.name_zh,
        valid_from=str(decision.get("valid_from") or valid_from(issue_date)), issue_date=str(issue_date)[:10],
        forecast_ref=f"{str(issue_date)[:10]}/{model_version}", model_version=model_version,
        reason=str(reason).strip() or decision.get("reason"), bulletin_text=bulletin_text or None,
        details={"proposed": decision["level"], "override": override, "model_level": decision.get("model_level"),
                 "consultation_adjusted": bool(decision.get("consultation_adjusted")), "login": account.user,
                 "role": account.role, "officer_tier": account.tier, "officer_area": account.area})
