"""Heavy-pollution warning grading: the colour a sequence of forecast AQI values implies.

The rules are data (``forecast/data/warning_rules.yaml``), versioned by the instrument: ``"MEE-2019"``
(环办大气函〔2019〕648号) and ``"MEE-2024"`` (环大气〔2024〕6号). Inputs are daily AQI (each value counts 24 h) or hourly
rolling-24-h AQI (each value counts 1 h), so runs may cross calendar days.

Which rule set is in force on a date is decided here and only here (:func:`rules_in_force_info`), in this order:

1. ``in_force``: the region's own history (the shipped file holds Inner Mongolia's, the shipped region's);
2. ``national``: the national grading of the time, for a date the region's history does not cover — a fallback;
3. ``default``: a stated rule set, with its reason, for a date neither covers (before 2019-07-01) — a fallback.

A region's ``warning_rules.yaml`` (:class:`forecast.region.Region`, ``rules_file``) is merged over the shipped file
by :func:`load_rules`: it may add rule sets (and their ``reduction_shares``) or replace shipped ones by name, and
states its own ``in_force`` history — never inherited from the shipped (Inner Mongolia) one; ``national`` and
``default`` come from the shipped file unless the region file gives them. For example::

    Hebei-2018:                       # a rule set of the region's own plan
      source: 河北省重污染天气应急预案 (2018)
      status: UNVERIFIED
      merge_gap_hours: 36
      levels:
        red: {all: [{above: 200, hours: 96}, {above: 300, hours: 48}]}
        orange: {all: [{above: 200, hours: 72}]}
        yellow: {all: [{above: 200, hours: 48}]}
    reduction_shares:
      Hebei-2018: {yellow: 0.10, orange: 0.20, red: 0.30}
    in_force:
      - {from: "2018-10-01", rules: Hebei-2018}
      - {from: "2019-07-01", rules: MEE-2019}

Grading (:func:`grade`): for a clause "AQI > X lasting N h", runs above X separated by at most ``merge_gap_hours``
are one episode, since such a gap does not meet the lifting condition (REFERENCE 1.1, 1.5), and the clause holds
when the hours actually above X in an episode reach N: summed over the episode or in one uninterrupted run, as the
rule set's ``duration`` says (the shipped rule sets: consecutive, the instruments' "持续"; summed is configurable,
the file header says why). The
gap's hours never count as hours above X.

Inner Mongolia's history (the shipped file) runs: its older four-colour plan (``IM-pre2020``: the old plans' blue,
AQI > 200 for one day, is flagged as an advisory on the grading, :attr:`Grading.advisory`, never a level —
lantian's levels stay ``none, yellow, orange, red``; REFERENCE 1.2 gives no yellow/orange/red for that plan, so the
648 ladder stands in, reported as a fallback), the IM 2020 plan (648号 grading) from 2020-06-15 (issued 2020-06; the
day is UNVERIFIED and configurable) and the IM 2024 plan from 2024-04-25. Before 2019-07-01 a region without a
history of its own is graded with the stated default (MEE-2019) and reported as a fallback
(:class:`RulesFallbackWarning`).

References
----------
REFERENCE.md sections 0, 1.1–1.3 and 4.5.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml

from .tables import load_yaml

DATA_DIR = Path(__file__).parent / "data"
LEVELS = ("none", "yellow", "orange", "red")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
LEVEL_NAMES_ZH = {"none": "无预警", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}
LEVEL_COLOURS = {"none": "#BBBBBB", "yellow": "#FFD700", "orange": "#FF8C00", "red": "#E00000"}
#: the two readings of "AQI > X lasting N h" inside a merged episode (REFERENCE 1.1, the interpretation paragraph)
DURATIONS = ("summed", "consecutive")
#: the reading a rule set without ``duration`` gets: one uninterrupted run (the instruments' "持续"; the file header)
DEFAULT_DURATION = "consecutive"
#: the readings as an officer reads them beside a clause
DURATION_ZH = {"consecutive": "持续时长按连续小时计", "summed": "持续时长按合并过程内累计小时计"}


class WarningRuleError(ValueError):
    """Unknown rule set or malformed rule file."""


class RulesFallbackWarning(UserWarning):
    """The rule set in force on a date is a fallback (national rules of the time, or the stated default)."""


class RulesInForce(NamedTuple):
    """The rule set in force on a date and where the choice came from (:func:`rules_in_force_info`)."""

    rules: str  #: the rule set's name, e.g. ``"MEE-2019"``
    source: str  #: ``"in_force"`` (the region's history), ``"national"`` or ``"default"``
    fallback: bool  #: True unless the region's own history covers the date
    note: str  #: one sentence saying which rule set, from where, and why when it is a fallback


#: the keys of a rules file that are not rule sets
HISTORY_KEYS = ("in_force", "national", "default")
SHIPPED_RULES = DATA_DIR / "warning_rules.yaml"


@lru_cache(maxsize=8)
def _read_rules(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            table = load_yaml(fh)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WarningRuleError(f"{path}: cannot read warning rules ({exc})") from None
    if not isinstance(table, dict):
        raise WarningRuleError(f"{path}: not a warning rules file (expected a mapping of rule sets)")
    return table


#: the rules "file" of a region that has none of its own: the shipped rule sets without Inner Mongolia's history,
#: so the national grading of the time applies (:attr:`forecast.region.Region.rules_path`)
NATIONAL_ONLY = "<national rules: the shipped rule sets without a regional history>"


@lru_cache(maxsize=8)
def _merged(path: str | None) -> dict:
    shipped = _read_rules(str(SHIPPED_RULES))
    if path == NATIONAL_ONLY:
        table = {k: v for k, v in shipped.items() if k != "in_force"}
    elif path is None or Path(path).resolve() == SHIPPED_RULES.resolve():
        table = dict(shipped)
    else:
        own = _read_rules(path)
        table = {k: v for k, v in shipped.items() if k != "in_force"}  # a region states its own history
        for key, value in own.items():
            if key == "reduction_shares":
                table[key] = {**shipped.get(key, {}), **(value or {})}
            else:
                table[key] = value
    _check(table, path or str(SHIPPED_RULES))
    return table


def _check(table: dict, path: str):
    names = [k for k, v in table.items() if isinstance(v, dict) and "levels" in v]
    for name in names:
        rule = table[name]
        missing = [lv for lv in LEVELS[1:] if lv not in (rule["levels"] or {})]
        if missing:
            raise WarningRuleError(f"{path}: rule set {name!r} lacks level(s) {missing}")
        if rule.get("duration", DEFAULT_DURATION) not in DURATIONS:
            raise WarningRuleError(f"{path}: rule set {name!r}: unknown duration reading {rule['duration']!r}; "
                                   f"allowed: {', '.join(DURATIONS)}")
        advisory = rule.get("advisory_levels") or {}
        if not isinstance(advisory, dict) or any(a in LEVELS for a in advisory):
            raise WarningRuleError(f"{path}: rule set {name!r}: advisory_levels must map advisory names (not one of "
                                   f"{', '.join(LEVELS)}) to clauses; got {advisory!r}")
    for key in ("in_force", "national"):
        for i, entry in enumerate(table.get(key) or []):
            if not isinstance(entry, dict) or "from" not in entry or "rules" not in entry:
                raise WarningRuleError(f"{path}: {key} entry {entry!r} needs 'from' (date) and 'rules' (rule set)")
            if entry["rules"] not in names:
                raise WarningRuleError(f"{path}: {key} names unknown rule set {entry['rules']!r}; "
                                       f"allowed: {', '.join(names)}")
            if entry["from"] is None and key == "in_force" and i == 0:
                continue  # the region's earliest plan, whose start is not known
            try:
                if pd.isna(pd.Timestamp(entry["from"])):
                    raise ValueError
            except (ValueError, TypeError):
                raise WarningRuleError(f"{path}: {key} entry {entry!r}: 'from' is not a date (only the first "
                                       f"in_force entry may have 'from: null', a start not known)") from None
    default = table.get("default")
    if default is not None and (not isinstance(default, dict) or default.get("rules") not in names):
        raise WarningRuleError(f"{path}: default must name a rule set (rules: one of {', '.join(names)})")


def load_rules(path: str | Path | None = None) -> dict:
    """All rule sets and the histories of the rules in force (see the module docstring).

    Parameters
    ----------
    path : path-like, optional
        A region's ``warning_rules.yaml``, merged over the shipped ``forecast/data/warning_rules.yaml``: its rule
        sets are added (or replace shipped ones of the same name), its ``reduction_shares`` are merged per rule
        set, its ``in_force`` is the history (never the shipped one), and ``national``/``default`` replace the
        shipped ones when given. Default: the shipped file alone.

    Returns
    -------
    dict
        Rule sets by name (each with ``levels``), ``reduction_shares``, ``in_force`` (absent when a region file
        has none), ``national`` and ``default``.

    Raises
    ------
    WarningRuleError
        An unreadable file, a rule set without a level, a history naming an unknown rule set or a bad date.
    """
    return dict(_merged(None if path is None else str(path)))


def rule_sets(path=None) -> list[str]:
    """Names of the rule sets (of the shipped file merged with ``path``)."""
    return [k for k, v in load_rules(path).items() if isinstance(v, dict) and "levels" in v]


def _rule(rules: str, path=None) -> dict:
    table = load_rules(path)
    names = rule_sets(path)
    if rules not in names:
        raise WarningRuleError(f"unknown warning rule set {rules!r}; allowed: {', '.join(names)}")
    return table[rules]


def _start(entry) -> pd.Timestamp:
    """An entry's ``from`` day; ``from: null`` (a start not known) sorts before every date."""
    return pd.Timestamp.min if entry["from"] is None else pd.Timestamp(entry["from"])


def _latest(history, day: pd.Timestamp):
    """The last entry of a history (list of ``{from, rules}``) starting on or before ``day``, else None."""
    chosen = None
    for entry in sorted(history or [], key=_start):
        if day >= _start(entry):
            chosen = entry
    return chosen


def rules_in_force_info(date, path=None) -> RulesInForce:
    """The warning rule set in force on ``date``, where the choice came from and whether it is a fallback.

    This is the one place the rule set is chosen by date: the forecaster, the response (levels, life cycle,
    reduction shares), the evaluation and the simulator all ask it (through :func:`rules_in_force`).

    Parameters
    ----------
    date : date-like
        The day the warning is decided (China Standard Time).
    path : path-like, optional
        A region's rules file (merged over the shipped one, :func:`load_rules`); default the shipped file, whose
        history is Inner Mongolia's.

    Returns
    -------
    RulesInForce
        ``rules`` (name), ``source`` (``"in_force"``, ``"national"`` or ``"default"``), ``fallback`` (True
        unless the region's own history covers the date, or its entry says ``fallback: true``: a rule set standing
        in for a plan whose grading is not known) and ``note`` (which, from where, why, and the entry's ``note``
        — e.g. an unverified switch date).

    Raises
    ------
    WarningRuleError
        A malformed rules file, or one whose histories do not cover ``date`` and that names no ``default``.

    Examples
    --------
    >>> rules_in_force_info("2025-01-05").rules
    'MEE-2024'
    >>> info = rules_in_force_info("2014-01-01")
    >>> info.rules, info.source, info.fallback
    ('IM-pre2020', 'in_force', True)
    """
    day = pd.Timestamp(date)
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    day = day.normalize()
    table = load_rules(path)
    where = (str(path) if path not in (None, NATIONAL_ONLY) else
             "the shipped Inner Mongolia rules" if path is None else "a region without warning_rules.yaml")
    own = table.get("in_force") or []
    hit = _latest(own, day)
    if hit is not None:
        if hit["from"] is None:
            later = [_start(e) for e in own if e["from"] is not None]
            span = "in force before " + (f"{min(later).date()} " if later else "") + "(its start is not configured)"
        else:
            span = f"in force from {pd.Timestamp(hit['from']).date()}"
        note = " ".join(str(hit.get("note") or "").split())
        return RulesInForce(hit["rules"], "in_force", bool(hit.get("fallback", False)),
                            f"{hit['rules']}: {span} ({where}, in_force)" + (f"; {note}" if note else ""))
    why = (f"the region's history ({where}) starts {min(_start(e) for e in own).date()}" if own
           else f"{where} states no in_force history")
    hit = _latest(table.get("national"), day)
    if hit is not None:
        source = f" ({hit['source']})" if hit.get("source") else ""
        return RulesInForce(hit["rules"], "national", True,
                            f"{hit['rules']}: the national grading in force from {pd.Timestamp(hit['from']).date()}"
                            f"{source} — a fallback: {why}")
    default = table.get("default")
    if default is None:
        raise WarningRuleError(f"no warning rule set configured for {day.date()} ({why}; no national rules of "
                               f"the time and no default in the rules file)")
    first = [pd.Timestamp(e["from"]) for e in table.get("national") or []]
    span = f"before {min(first).date()}" if first else "not covered by a history"
    reason = " ".join(str(default.get("note", "")).split())
    return RulesInForce(default["rules"], "default", True,
                        f"{default['rules']}: the stated default for dates {span} — a fallback: {why}, and no "
                        f"national rule set is configured then" + (f"; {reason}" if reason else ""))


def rules_in_force(date, path=None) -> str:
    """The name of the warning rule set in force on ``date`` (:func:`rules_in_force_info`).

    A fallback choice (national rules of the time, or the stated default) is returned too, with a
    :class:`RulesFallbackWarning` carrying the note (one per distinct note, whatever the date).
    """
    info = rules_in_force_info(date, path)
    if info.fallback:
        warnings.warn(f"warning rules: {info.note}", RulesFallbackWarning, stacklevel=2)
    return info.rules


def reduction_share(level: str, rules: str, path=None) -> float:
    """Required reduction share of society-wide emissions at a level (0 for ``none``)."""
    if level not in LEVELS:
        raise WarningRuleError(f"unknown warning level {level!r}; allowed: {', '.join(LEVELS)}")
    if level == "none":
        return 0.0
    shares = load_rules(path).get("reduction_shares") or {}
    if rules not in shares or level not in (shares[rules] or {}):
        raise WarningRuleError(f"no reduction share for rule set {rules!r} at {level} in the rules file "
                               f"({path or SHIPPED_RULES}); rule sets with shares: {', '.join(shares)}")
    return float(shares[rules][level])


# --------------------------------------------------------------------------------------------------- kernel


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of a boolean array."""
    if len(mask) <= 64:  # a few days: a plain loop is faster than numpy's set-up (the level sampler grades many)
        out, start = [], None
        for i, v in enumerate(mask.tolist()):
            if v and start is None:
                start = i
            elif not v and start is not None:
                out.append((start, i))
                start = None
        if start is not None:
            out.append((start, len(mask)))
        return out
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _merge(runs, gap_steps: int):
    merged: list[list[int]] = []
    for start, stop in runs:
        if merged and start - merged[-1][1] <= gap_steps:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    return [tuple(r) for r in merged]


def _exceeds(aqi: np.ndarray, clause: dict) -> np.ndarray:
    """Where the clause's threshold is exceeded; NaN never exceeds (a comparison with NaN is False)."""
    return aqi >= clause["at_least"] if "at_least" in clause else aqi > clause["above"]


@dataclass
class Grading:
    """Result of grading one AQI sequence (:func:`grade`)."""

    level: str  #: ``none``, ``yellow``, ``orange`` or ``red``
    clause: str  #: the clause that triggered, in words; ``""`` for none
    start: int | None  #: index of the first value of the triggering episode (first value above its threshold)
    stop: int | None  #: index after its last value above the threshold (the gaps between are included)
    #: the reading of "lasting N h" in force (:data:`DURATIONS`): hours above the threshold ``summed`` over the
    #: merged episode, or one ``consecutive`` run
    duration: str = DEFAULT_DURATION
    #: an advisory grade of the rule set that holds while no level does (``"blue"`` of the pre-2020 four-colour
    #: plans: AQI > 200 for 24 h, REFERENCE 1.2), ``""`` when none holds; never a level
    advisory: str = ""

    @property
    def blue(self) -> bool:
        """True when the old plans' blue grade (an advisory, not a level) holds."""
        return self.advisory == "blue"


def _describe(clause: dict) -> str:
    if "all" in clause:
        return " 且 ".join(_describe(c) for c in clause["all"])
    if "any" in clause:
        return " 或 ".join(_describe(c) for c in clause["any"])
    op = f"≥{clause['at_least']}" if "at_least" in clause else f">{clause['above']}"
    return f"AQI{op} 持续≥{clause['hours']}h"


class _Series:
    """One AQI sequence being graded: its values, the hours each stands for, the reading, the merge gap and the
    mask of each threshold (computed once)."""

    def __init__(self, aqi, step_hours: float, duration: str, gap_hours: float):
        self.aqi = np.asarray(aqi, dtype=float)
        self.step_hours = float(step_hours)
        self.duration = duration
        self.gap_steps = int(gap_hours // self.step_hours)
        self._masks: dict = {}

    def mask(self, leaf: dict) -> np.ndarray:
        key = ("at_least", leaf["at_least"]) if "at_least" in leaf else ("above", leaf["above"])
        if key not in self._masks:
            self._masks[key] = _exceeds(self.aqi, leaf)
        return self._masks[key]


def _spans(s: _Series, clause: dict, lo: int, hi: int):
    """The spans (start, stop) inside ``[lo, hi)`` where the clause holds, in time order (per sub-clause for
    ``any``).

    An elementary clause "AQI > X lasting N h": the runs above X are merged into episodes across gaps of at most
    ``merge_gap_hours`` (REFERENCE 1.1: such a gap does not lift), and an episode holds when its hours above X —
    summed, or in its longest uninterrupted run — reach N; its span runs from its first to its last value above X,
    the gaps included, but the gaps' hours never count. ``all``: the spans of the first clause in which every
    later clause holds (counted inside that span). ``any``: the spans of each clause in turn.
    """
    if "any" in clause:
        for sub in clause["any"]:
            yield from _spans(s, sub, lo, hi)
        return
    if "all" in clause:
        first, rest = clause["all"][0], clause["all"][1:]
        for a, b in _spans(s, first, lo, hi):
            if all(next(_spans(s, sub, a, b), None) is not None for sub in rest):
                yield a, b
        return
    runs = _runs(s.mask(clause)[lo:hi])
    need = int(np.ceil(clause["hours"] / s.step_hours))
    i = 0
    for a, b in _merge(runs, s.gap_steps):
        inside = []
        while i < len(runs) and runs[i][1] <= b:
            inside.append(runs[i][1] - runs[i][0])
            i += 1
        hours = sum(inside) if s.duration == "summed" else max(inside)
        if hours >= need:
            yield lo + a, lo + b


def _holds(s: _Series, clause: dict, lo: int = 0, hi: int | None = None):
    """The first span where the clause holds (:func:`_spans`), or None."""
    return next(_spans(s, clause, lo, len(s.aqi) if hi is None else hi), None)


def _leaves(clause: dict) -> list[dict]:
    for key in ("all", "any"):
        if key in clause:
            return [leaf for sub in clause[key] for leaf in _leaves(sub)]
    return [clause]


def _duration(rule: dict, rules: str, duration: str | None) -> str:
    chosen = duration or rule.get("duration", DEFAULT_DURATION)
    if chosen not in DURATIONS:
        raise WarningRuleError(f"rule set {rules!r}: unknown duration reading {chosen!r}; allowed: "
                               f"{', '.join(DURATIONS)}")
    return chosen


def _series(aqi, rule: dict, rules: str, step_hours: float, duration: str | None) -> _Series:
    return _Series(aqi, step_hours, _duration(rule, rules, duration), rule.get("merge_gap_hours", 0))


def grade(aqi, *, rules: str, step_hours: float = 24, path=None, duration: str | None = None) -> Grading:
    """Warning level implied by one forecast AQI sequence, with the clause that triggered it.

    A clause "AQI > X lasting N h" looks at episodes: runs above X separated by at most ``merge_gap_hours`` are
    one episode (the warning stays in force across such a gap; REFERENCE 1.1). It holds when the hours above X in
    an episode reach N — summed over the episode (``duration="summed"``) or in one uninterrupted run
    (``"consecutive"``); the gap's hours never count as hours above X. The later clauses of an ``all`` count their
    hours inside the span of the first one's episode.

    Parameters
    ----------
    aqi : array-like
        Forecast AQI in time order (day 1, 2, … or hourly rolling-24-h values); NaN counts as below. [1]
    rules : str
        Rule set (``"MEE-2019"``, ``"MEE-2024"``, …) — no default: the one in force on the day the warning is
        decided, :func:`rules_in_force`.
    step_hours : float
        Hours each value stands for: 24 for daily values, 1 for hourly rolling means. [h]
    path : path-like, optional
        A region's rules file (:func:`load_rules`).
    duration : {"summed", "consecutive"}, optional
        Override the rule set's reading of "lasting N h" (default: its ``duration``, else ``"consecutive"``).

    Returns
    -------
    Grading
        ``level`` in ``none, yellow, orange, red``, the clause text, the triggering episode's span (``start``,
        ``stop``: its first to last value above the threshold, gaps included), the reading in force
        (``duration``) and the advisory grade that holds (``advisory``, e.g. ``"blue"`` of the pre-2020 plans)
        when no level does.

    Raises
    ------
    WarningRuleError
        An unknown rule set or duration reading.
    """
    rule = _rule(rules, path)
    s = _series(aqi, rule, rules, step_hours, duration)
    for level in ("red", "orange", "yellow"):
        hit = _holds(s, rule["levels"][level])
        if hit:
            return Grading(level, _describe(rule["levels"][level]), int(hit[0]), int(hit[1]), s.duration)
    for name, clause in (rule.get("advisory_levels") or {}).items():
        hit = _holds(s, clause)
        if hit:
            return Grading("none", "", None, None, s.duration, name)
    return Grading("none", "", None, None, s.duration)


def level_run(aqi, level: str, *, rules: str, step_hours: float = 24, path=None,
              duration: str | None = None) -> tuple[int, int] | None:
    """The span of ``aqi`` that satisfies ``level``'s clause (start index, index after its end), or None.

    Unlike :func:`grade` this asks about one level only, whether or not a higher one holds too (the trigger days
    of a decided level, :mod:`forecast.levelprob`). The span is that of :class:`Grading`: from the first to the
    last value above the clause's threshold in the triggering episode, the gaps between included.
    """
    rule = _rule(rules, path)
    if level not in rule["levels"]:
        raise WarningRuleError(f"level {level!r} is not graded by rule set {rules!r}; allowed: "
                               f"{sorted(rule['levels'])}")
    hit = _holds(_series(aqi, rule, rules, step_hours, duration), rule["levels"][level])
    return None if hit is None else (int(hit[0]), int(hit[1]))


def duration_reading(rules: str, path=None) -> str:
    """The reading of "lasting N h" a rule set is graded with (``"consecutive"`` or ``"summed"``)."""
    return _duration(_rule(rules, path), rules, None)


def level_clause(level: str, *, rules: str, path=None) -> str:
    """The clause of ``level`` in words (as :class:`Grading` gives it), ``""`` for ``"none"``."""
    if level == "none":
        return ""
    return _describe(_rule(rules, path)["levels"][level])


def clause_leaves(rules: str, path=None) -> list[dict]:
    """Every elementary clause (``{above|at_least: X, hours: H}``) of a rule set's levels, in file order (its
    ``advisory_levels`` are not levels and are left out)."""
    return [leaf for clause in _rule(rules, path)["levels"].values() for leaf in _leaves(clause)]


def warning_level(daily_aqi, *, rules: str, step_hours: float = 24, path=None, duration: str | None = None) -> str:
    """``"none" | "yellow" | "orange" | "red"`` for a sequence of forecast AQI values (see :func:`grade`)."""
    return grade(daily_aqi, rules=rules, step_hours=step_hours, path=path, duration=duration).level
