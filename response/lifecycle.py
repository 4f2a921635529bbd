"""The life cycle of a warning over successive forecasts: issue, upgrade, downgrade, lift (REFERENCE 1.5).

A small state machine per area. Each issue date brings a proposed level (from grading the forecast) and the
forecast daily AQI of the next days; the machine answers with an action:

- ``issue`` — no warning in force and a level is proposed whose triggering run begins within the issuing window
  (``issue_window_days``, 3: the city forecast's horizon; beyond it the 7-day forecast is a trend outlook and the
  answer is ``none`` with the expected day named, "持续关注"); the lead time to the first triggering day is reported
  (the rules ask for ≥ 24 h; a shorter lead is flagged, not refused);
- ``upgrade`` — a higher level is proposed whose run begins within the window (later: the level in force is kept
  and the expected upgrade named);
- ``downgrade`` — a lower (not none) level is proposed on two consecutive issue dates; after a single lower proposal
  the level is kept ("when the level keeps crossing boundaries, the higher one applies");
- ``lift`` — the forecast is below the lowest trigger for the coming ``lift_hours`` (> 36 h: the first two forecast
  days) and no triggering run begins within the issuing window: either nothing is proposed, or the next episode is
  forecast further ahead (two episodes, REFERENCE 1.1: the gap meets the lifting condition; the next one is issued
  when it comes within the window). A proposal of none with AQI still above the trigger keeps the warning
  (``maintain``); so does a clean spell with the next run inside the window (lifting would mean re-issuing at once).
  A day forecast as dust-dominated counts as below the trigger: dust gets health advisories and emergency cuts do
  not act on it (REFERENCE 1.3–1.4), so dust days never hold a PM2.5 warning, or its enterprise cuts, in force;
- ``maintain`` / ``none``.

``lift_hours`` and ``issue_window_days`` are data (``response/data/lifecycle.yaml``, :func:`load_policy`; the window
is lantian's reading of the plans, UNVERIFIED, configurable). Before the window existed, a warning stayed in force
as long as any day of the 7-day horizon reached a level: on the seed-7 demo the model's proposals kept Baotou warned
for 63 days without a lift across clean spells of two days and more.

This module is the one owner of the life cycle. Its state per area is derived from the audit store's events
(:func:`states_from_events`): the level in force comes from the last decision an officer recorded (issued,
upgraded, downgraded, lifted, cancelled, corrected), and a pending lower level from the proposal of the previous
consultation (an earlier issue date) — so "downgrade after two consecutive lower proposals" holds across restarts
and is the same for ``lantian respond`` and the duty page. The duty page records the officer's decision with
:func:`decision_event`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from forecast.levels import LEVEL_RANK, LEVELS, clause_leaves
from forecast.nomenclature import TZ
from forecast.tables import load_yaml

from . import accounts as accounts_mod
from . import audit as audit_mod

SHIPPED_POLICY = Path(__file__).with_name("data") / "lifecycle.yaml"
#: the shipped policy's values (``response/data/lifecycle.yaml``; :func:`load_policy` reads and checks a file)
LIFT_HOURS = 36
ISSUE_WINDOW_DAYS = 3
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
    reason: str  # in Chinese (the official record); any language: :func:`reason_text`
    lead_hours: float | None = None  # hours from the issue time to the start of the first triggering day
    lead_time_ok: bool | None = None
    code: str = ""  # the reason's phrase in the nomenclature (``lc_*``), filled with ``fields``
    fields: dict | None = None


def reason_text(t: Transition, lang: str = "zh") -> str:
    """The reason for ``t``'s action in ``lang`` (the nomenclature's ``lc_*`` phrases)."""
    return _phrase(t.code, lang, t.fields or {}) if t.code else t.reason


def _phrase(code: str, lang: str, fields: dict) -> str:
    """A life-cycle phrase with its nested parts (the level's name, the outlook, the lift sentence) in ``lang``."""
    from forecast import labels

    f = dict(fields)
    if "level" in f:
        f["level"] = labels.label("levels", f["level"], lang)
    if "outlook" in f:
        f["outlook"] = _phrase("lc_outlook", lang, f["outlook"])
    if "lift" in f:
        f["lift"] = _phrase("lc_lift", lang, f["lift"])
    if "dust" in f:
        f["dust"] = labels.phrase("lc_lift_dust", lang) if f["dust"] else ""
    return labels.phrase(code, lang, **f)


def _transition(action: str, in_force: str, previous: str, code: str, lead_hours=None, lead_time_ok=None,
                **fields) -> Transition:
    return Transition(action, in_force, previous, _phrase(code, "zh", fields), lead_hours, lead_time_ok, code, fields)


def load_policy(path: str | Path | None = None) -> dict:
    """``lift_hours`` [h] and ``issue_window_days`` [lead days] of the life cycle (default the shipped
    ``response/data/lifecycle.yaml``).

    Raises
    ------
    LifecycleError
        An unreadable file, or a value that is not a positive number (``lift_hours``) / whole number of days
        (``issue_window_days``, 1–7).
    """
    path = Path(path) if path else SHIPPED_POLICY
    try:
        table = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LifecycleError(f"{path}: cannot read the life-cycle policy ({exc})") from None
    if not isinstance(table, dict):
        raise LifecycleError(f"{path}: expected a mapping with lift_hours and issue_window_days")
    lift, window = table.get("lift_hours"), table.get("issue_window_days")
    if isinstance(lift, bool) or not isinstance(lift, (int, float)) or not 0 < lift <= 168:
        raise LifecycleError(f"{path}: lift_hours: {lift!r} is not a number of hours in (0, 168]")
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 7:
        raise LifecycleError(f"{path}: issue_window_days: {window!r} is not a whole number of lead days in 1–7")
    return {**table, "lift_hours": float(lift), "issue_window_days": int(window)}


def beyond_window(level: str, first_trigger_day: int | None, issue_window_days: int = ISSUE_WINDOW_DAYS) -> bool:
    """Whether the triggering run of ``level`` begins after the issuing window [lead days] (an unknown start is
    read as day 1: inside)."""
    return level != "none" and first_trigger_day is not None and first_trigger_day > issue_window_days


def lowest_trigger(rules: str) -> float:
    """The lowest AQI any clause of the rule set compares with (150 for MEE-2024, 200 for MEE-2019)."""
    return float(min(c.get("above", c.get("at_least")) for c in clause_leaves(rules)))


def step(state: WarningState, proposed: str, forecast_aqi, *, issue_date: str, rules: str,
         first_trigger_day: int | None = None, issue_hour: int = ISSUE_HOUR,
         dust=None, lift_hours: float = LIFT_HOURS,
         issue_window_days: int = ISSUE_WINDOW_DAYS) -> tuple[WarningState, Transition]:
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
        Lead day on which the triggering run of ``proposed`` starts: the lead-time check, and whether it begins
        within the issuing window. Default: unknown, read as day 1 (inside the window).
    dust : sequence of bool, optional
        One flag per value of ``forecast_aqi``: the day is forecast dust-dominated (the forecast document's
        ``days[j].dust``). A dust day counts as below the trigger when deciding whether to lift (REFERENCE 1.3–1.5:
        dust episodes get health advisories; the warning and its enterprise cuts are for PM2.5). Default: none.
    lift_hours, issue_window_days : optional
        The policy (:func:`load_policy`; default the shipped values): hours [h] the forecast must stay below the
        lowest trigger to lift, and the lead days [d] within which a triggering run is acted on.

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
    # whether the proposed level's run begins inside the issuing window (unknown: read as day 1, inside)
    later = beyond_window(proposed, first_trigger_day, issue_window_days)
    outlook = {"day": first_trigger_day, "level": proposed, "window": issue_window_days}
    if LEVEL_RANK[proposed] > LEVEL_RANK[cur] and not later:
        t = _transition("issue" if cur == "none" else "upgrade", proposed, cur, "lc_issue",
                        lead, None if lead is None else lead >= 24, level=proposed)
        return WarningState(proposed, issue_date, None), t
    if cur == "none":
        return state, (_transition("none", "none", "none", "lc_watch", outlook=outlook) if later else
                       _transition("none", "none", "none", "lc_none"))
    # the warning in force: lift when the next lift_hours are clean and no run begins within the window
    days = int(np.ceil(lift_hours / 24)) + (1 if lift_hours % 24 == 0 else 0)
    clean = np.nan_to_num(aqi[:days], nan=np.inf) <= lowest_trigger(rules)
    below = bool(np.all(clean | flags[:days]))
    hours = f"{lift_hours:g}"
    if below and (proposed == "none" or later):
        lift = {"hours": hours, "dust": not clean.all()}
        t = _transition("lift", "none", cur, "lc_lift_outlook", lift=lift, outlook=outlook) if later else \
            _transition("lift", "none", cur, "lc_lift", **lift)
        return WarningState("none", issue_date, None), t
    if later:
        return WarningState(cur, state.since, None), _transition("maintain", cur, cur, "lc_keep_outlook",
                                                                 outlook=outlook)
    if proposed == cur:
        gap = below and first_trigger_day is not None and first_trigger_day > days  # clean, next run in the window
        return WarningState(cur, state.since, None), (
            _transition("maintain", cur, cur, "lc_keep_next", hours=hours, day=first_trigger_day,
                        window=issue_window_days) if gap else _transition("maintain", cur, cur, "lc_persist"))
    if proposed == "none":
        return WarningState(cur, state.since, None), _transition("maintain", cur, cur, "lc_keep", hours=hours)
    # proposed is lower than the level in force, inside the window
    if state.pending_lower == proposed:
        return WarningState(proposed, issue_date, None), _transition("downgrade", proposed, cur, "lc_downgrade",
                                                                     level=proposed)
    return WarningState(cur, state.since, proposed), _transition("maintain", cur, cur, "lc_pending",
                                                                 level=proposed)


def run_sequence(proposals: list[tuple], *, rules: str, **policy) -> list[Transition]:
    """Run the machine over ``[(issue_date, proposed_level, forecast_aqi[, dust_flags[, first_trigger_day]]), …]``
    from no warning (``policy``: :func:`step`'s ``lift_hours`` / ``issue_window_days``)."""
    state = WarningState()
    out = []
    for date, proposed, aqi, *rest in proposals:
        dust = rest[0] if rest else None
        first = rest[1] if len(rest) > 1 else None
        state, t = step(state, proposed, aqi, issue_date=date, rules=rules, dust=dust, first_trigger_day=first,
                        **policy)
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

    ``decision`` is the area's record (``area_id``, ``tier``, ``level``, ``acting_level``, ``model_level``,
    ``reason``, ``valid_from``, ``consultation_adjusted``); ``chosen`` the level the officer confirms; ``account`` the
    logged-in :class:`response.accounts.Account` — it must have the right to issue for this tier and area
    (:func:`response.accounts.authorize`). The event keeps its display name (``officer``) and its login id and role
    (``details``). A level other than the one the proposal puts in force (``acting_level``, else ``level``) is an
    override and needs a ``reason``.

    Raises
    ------
    PermissionDenied
        No account, or one that may not issue for this tier and area.
    LifecycleError
        An override without a reason, or an unknown level.
    """
    accounts_mod.authorize(account, "issue", area_id=decision["area_id"], tier=decision["tier"])
    # what the proposal asks to put in force (its ``acting_level``: none for a lift or an episode beyond the
    # issuing window, the level in force while a lower one awaits confirmation); older records: their level
    proposed = decision.get("acting_level") or decision["level"]
    override = chosen != proposed
    if override and not str(reason).strip():
        raise LifecycleError("调整级别必须说明理由 / an override of the proposed level needs a reason")
    action = officer_action(current, chosen)
    return audit_mod.Event(
        action, decision["area_id"], decision["tier"], chosen, account.name_zh,
        valid_from=str(decision.get("valid_from") or valid_from(issue_date)), issue_date=str(issue_date)[:10],
        forecast_ref=f"{str(issue_date)[:10]}/{model_version}", model_version=model_version,
        reason=str(reason).strip() or decision.get("reason"), bulletin_text=bulletin_text or None,
        details={"proposed": proposed, "override": override, "model_level": decision.get("model_level"),
                 "consultation_adjusted": bool(decision.get("consultation_adjusted")), "login": account.user,
                 "role": account.role, "officer_tier": account.tier, "officer_area": account.area})
