"""The life cycle of a warning over successive forecasts: issue, upgrade, downgrade, lift (REFERENCE 1.5).

A small state machine per area. Each issue date brings a proposed level (from grading the forecast) and the
forecast daily AQI of the next days; the machine answers with an action:

- ``issue`` — no warning in force and a level is proposed; the lead time to the first triggering day is reported
  (the rules ask for ≥ 24 h; a shorter lead is flagged, not refused);
- ``upgrade`` — a higher level is proposed;
- ``downgrade`` — a lower (not none) level is proposed on two consecutive issue dates; after a single lower proposal
  the level is kept ("when the level keeps crossing boundaries, the higher one applies");
- ``lift`` — the forecast is below the lowest trigger for the coming ``lift_hours`` (> 36 h: the first two forecast
  days); a proposal of none with AQI still above the trigger keeps the warning (``maintain``);
- ``maintain`` / ``none``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.levels import LEVEL_RANK, clause_leaves

LIFT_HOURS = 36


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


def step(state: WarningState, proposed: str, forecast_aqi, *, issue_date: str, rules: str = "MEE-2024",
         first_trigger_day: int | None = None, issue_hour: int = 16) -> tuple[WarningState, Transition]:
    """Advance one area's warning state by one issue date.

    Parameters
    ----------
    proposed : str
        Level the forecast implies (``none``/``yellow``/``orange``/``red``), dust days already excluded.
    forecast_aqi : sequence of float
        Forecast daily AQI for lead days 1, 2, …
    first_trigger_day : int, optional
        Lead day on which the triggering run starts (for the lead-time check).
    """
    cur = state.level
    aqi = np.asarray(forecast_aqi, float)
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
    below = np.all(np.nan_to_num(aqi[:days], nan=np.inf) <= lowest_trigger(rules))
    if proposed == "none":
        if below:
            return WarningState("none", issue_date, None), Transition(
                "lift", "none", cur, f"空气质量预计降至预警启动条件以下并持续{LIFT_HOURS}小时以上")
        return WarningState(cur, state.since, None), Transition(
            "maintain", cur, cur, f"未来{LIFT_HOURS}小时内仍有超过启动阈值的预报，暂不解除")
    if state.pending_lower == proposed:
        return WarningState(proposed, issue_date, None), Transition(
            "downgrade", proposed, cur, f"连续两次会商预报为{proposed}，降级")
    return WarningState(cur, state.since, proposed), Transition(
        "maintain", cur, cur, f"预报级别低于现行级别（{proposed}），待下次会商确认后降级；级别反复时按高级别执行")


def run_sequence(proposals: list[tuple[str, str, list]], *, rules: str = "MEE-2024") -> list[Transition]:
    """Run the machine over ``[(issue_date, proposed_level, forecast_aqi), …]`` from no warning."""
    state = WarningState()
    out = []
    for date, proposed, aqi in proposals:
        state, t = step(state, proposed, aqi, issue_date=date, rules=rules)
        out.append(t)
    return out
