"""Heavy-pollution warning grading: the colour a sequence of forecast AQI values implies.

The rules are data (``forecast/data/warning_rules.yaml``), versioned by the instrument: ``"MEE-2019"``
(环办大气函〔2019〕648号) and ``"MEE-2024"`` (环大气〔2024〕6号). Inputs are daily AQI (each value counts 24 h) or hourly
rolling-24-h AQI (each value counts 1 h), so runs may cross calendar days.

References
----------
REFERENCE.md sections 1.1–1.3 and 4.5.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

DATA_DIR = Path(__file__).parent / "data"
LEVELS = ("none", "yellow", "orange", "red")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
LEVEL_NAMES_ZH = {"none": "无预警", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
LEVEL_COLOURS = {"none": "#BBBBBB", "yellow": "#FFD700", "orange": "#FF8C00", "red": "#E00000"}


class WarningRuleError(ValueError):
    """Unknown rule set or malformed rule file."""


@lru_cache(maxsize=4)
def _read_rules(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_rules(path: str | Path | None = None) -> dict:
    """All rule sets of a rules file (default the shipped ``warning_rules.yaml``)."""
    return dict(_read_rules(str(path or DATA_DIR / "warning_rules.yaml")))


def rule_sets(path=None) -> list[str]:
    return [k for k, v in load_rules(path).items() if isinstance(v, dict) and "levels" in v]


def _rule(rules: str, path=None) -> dict:
    table = load_rules(path)
    names = rule_sets(path)
    if rules not in names:
        raise WarningRuleError(f"unknown warning rule set {rules!r}; allowed: {', '.join(names)}")
    return table[rules]


def rules_in_force(date, path=None) -> str:
    """The warning rule set in force on ``date`` (the ``inner_mongolia_default`` history of the rules file).

    This is the one place the rule set is chosen by date: the forecaster, the response (levels, life cycle,
    reduction shares), the evaluation and the simulator all ask it.

    Raises
    ------
    WarningRuleError
        No rule set is configured for so early a date.
    """
    day = pd.Timestamp(date)
    chosen = None
    for entry in load_rules(path)["inner_mongolia_default"]:
        if day >= pd.Timestamp(entry["from"]):
            chosen = entry["rules"]
    if chosen is None:
        raise WarningRuleError(f"no warning rule set configured for {day.date()}")
    return chosen


def reduction_share(level: str, rules: str, path=None) -> float:
    """Required reduction share of society-wide emissions at a level (0 for ``none``)."""
    if level not in LEVELS:
        raise WarningRuleError(f"unknown warning level {level!r}; allowed: {', '.join(LEVELS)}")
    if level == "none":
        return 0.0
    return float(load_rules(path)["reduction_shares"][rules][level])


# --------------------------------------------------------------------------------------------------- kernel
def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of a boolean array."""
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2]))


def _merge(runs, gap_steps: int):
    merged: list[list[int]] = []
    for start, stop in runs:
        if merged and start - merged[-1][1] <= gap_steps:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    return [tuple(r) for r in merged]


def _exceeds(aqi: np.ndarray, clause: dict) -> np.ndarray:
    values = np.nan_to_num(aqi, nan=-np.inf)
    return values >= clause["at_least"] if "at_least" in clause else values > clause["above"]


@dataclass
class Grading:
    """Result of grading one AQI sequence."""

    level: str
    clause: str  # human-readable clause that triggered, "" for none
    start: int | None  # index of the first value of the triggering run
    stop: int | None  # index after its last value


def _describe(clause: dict) -> str:
    if "all" in clause:
        return " 且 ".join(_describe(c) for c in clause["all"])
    if "any" in clause:
        return " 或 ".join(_describe(c) for c in clause["any"])
    op = f"≥{clause['at_least']}" if "at_least" in clause else f">{clause['above']}"
    return f"AQI{op} 持续≥{clause['hours']}h"


def _holds(aqi, clause, step_hours, gap_steps, window=(0, None)):
    """(start, stop) of a run satisfying the clause inside ``window``, or None."""
    lo, hi = window
    hi = len(aqi) if hi is None else hi
    if "any" in clause:
        for sub in clause["any"]:
            hit = _holds(aqi, sub, step_hours, gap_steps, window)
            if hit:
                return hit
        return None
    if "all" in clause:
        first, rest = clause["all"][0], clause["all"][1:]
        for run in _candidate_runs(aqi, first, step_hours, gap_steps, (lo, hi)):
            if all(_holds(aqi, sub, step_hours, gap_steps, run) for sub in rest):
                return run
        return None
    runs = _candidate_runs(aqi, clause, step_hours, gap_steps, (lo, hi))
    return runs[0] if runs else None


def _candidate_runs(aqi, clause, step_hours, gap_steps, window):
    if "all" in clause or "any" in clause:
        hit = _holds(aqi, clause, step_hours, gap_steps, window)
        return [hit] if hit else []
    lo, hi = window
    mask = _exceeds(aqi[lo:hi], clause)
    need = int(np.ceil(clause["hours"] / step_hours))
    runs = _merge(_runs(mask), gap_steps)
    return [(lo + a, lo + b) for a, b in runs if b - a >= need]


def grade(aqi, *, rules: str, step_hours: float = 24, path=None) -> Grading:
    """Warning level implied by one forecast AQI sequence, with the clause that triggered it.

    Parameters
    ----------
    aqi : array-like
        Forecast AQI in time order (day 1, 2, … or hourly rolling-24-h values). [1]
    rules : {"MEE-2019", "MEE-2024"}
        Rule set — no default: the one in force on the day the warning is decided, :func:`rules_in_force`.
    step_hours : float
        Hours each value stands for: 24 for daily values, 1 for hourly rolling means.

    Returns
    -------
    Grading
        ``level`` in ``none, yellow, orange, red``, the clause text and the triggering run.
    """
    rule = _rule(rules, path)
    values = np.asarray(aqi, dtype=float)
    gap_steps = int(rule.get("merge_gap_hours", 0) // step_hours)
    for level in ("red", "orange", "yellow"):
        hit = _holds(values, rule["levels"][level], step_hours, gap_steps)
        if hit:
            return Grading(level, _describe(rule["levels"][level]), int(hit[0]), int(hit[1]))
    return Grading("none", "", None, None)


def clause_leaves(rules: str, path=None) -> list[dict]:
    """Every elementary clause (``{above|at_least: X, hours: H}``) of a rule set, all levels, in file order."""
    leaves: list[dict] = []

    def walk(clause):
        for key in ("all", "any"):
            if key in clause:
                for sub in clause[key]:
                    walk(sub)
                return
        leaves.append(clause)

    for clause in _rule(rules, path)["levels"].values():
        walk(clause)
    return leaves


def warning_level(daily_aqi, *, rules: str, step_hours: float = 24, path=None) -> str:
    """``"none" | "yellow" | "orange" | "red"`` for a sequence of forecast AQI values (see :func:`grade`)."""
    return grade(daily_aqi, rules=rules, step_hours=step_hours, path=path).level
