"""The warning decision: which level to propose from the probabilities of reaching each level.

A warning is an action taken under uncertainty. For a single action that costs ``C`` (production cuts, traffic
restrictions) and prevents a loss ``L`` (a week of unmitigated haze), acting pays when the probability of the event
exceeds the cost–loss ratio ``C / L`` (Murphy 1977; Richardson 2000). lantian proposes the highest level ``L`` whose
exceedance P(level ≥ L) (calibrated, :mod:`forecast.levelprob`) reaches that level's threshold:

    level = max{L in yellow, orange, red : P(level ≥ L) ≥ t_L}, else none

Lower thresholds miss fewer episodes and raise more false alarms; :func:`consequences` counts both on a
verification record so a consultation can see what a threshold would have done (:func:`sweep` over a range).

Where the thresholds come from, first match wins (:func:`thresholds_in_force`):

1. given explicitly (``lantian forecast --thresholds``);
2. set by the joint consultation in the workspace (:func:`save_setting`: ``<workspace>/decision_thresholds.jsonl``,
   append-only, the last record in force, each with who, when and why);
3. the region's ``decision.yaml`` (:class:`forecast.region.Region`), same form as the shipped file;
4. the shipped defaults, ``forecast/data/decision.yaml`` (chosen on the verification record of several demo worlds
   the forecaster was not tuned on; the file states their expected consequences).

References
----------
Murphy, A. H. (1977). The value of climatological, categorical and probabilistic forecasts in the cost-loss ratio
situation. Monthly Weather Review 105, 803–816.
Richardson, D. S. (2000). Skill and relative economic value of the ECMWF ensemble prediction system. QJRMS 126,
649–667.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import workspace
from .tables import load_yaml

DATA_DIR = Path(__file__).parent / "data"
#: the levels a decision is taken for, lowest first (``none`` is the absence of a decision)
WARNING_LEVELS = ("yellow", "orange", "red")
ALL_LEVELS = ("none",) + WARNING_LEVELS
SETTINGS_FILE = "decision_thresholds.jsonl"


class DecisionError(ValueError):
    """Thresholds that cannot be used (outside (0, 1], a level missing, an unreadable file)."""


@dataclass(frozen=True)
class Thresholds:
    """Probability thresholds of P(level ≥ L) per level [0–1], and where they come from."""

    yellow: float
    orange: float
    red: float
    source: str = ""

    def __post_init__(self):
        for level in WARNING_LEVELS:
            v = getattr(self, level)
            if not isinstance(v, (int, float)) or not np.isfinite(v) or not 0.0 < v <= 1.0:
                raise DecisionError(f"threshold of {level} is {v!r}; allowed: a probability in (0, 1]")

    def as_dict(self) -> dict:
        return {k: float(getattr(self, k)) for k in WARNING_LEVELS}

    def array(self) -> np.ndarray:
        return np.array([getattr(self, k) for k in WARNING_LEVELS], float)


def _from_mapping(doc, source: str) -> Thresholds:
    if not isinstance(doc, dict):
        raise DecisionError(f"{source}: thresholds must be a mapping of {', '.join(WARNING_LEVELS)} to probabilities")
    unknown = sorted(set(doc) - set(WARNING_LEVELS))
    missing = [k for k in WARNING_LEVELS if k not in doc]
    if unknown or missing:
        raise DecisionError(f"{source}: thresholds for {', '.join(WARNING_LEVELS)} needed"
                            + (f"; unknown {unknown}" if unknown else "") + (f"; missing {missing}" if missing else ""))
    try:
        values = {k: float(doc[k]) for k in WARNING_LEVELS}
    except (TypeError, ValueError):
        raise DecisionError(f"{source}: thresholds must be numbers, got {doc}") from None
    try:
        return Thresholds(**values, source=source)
    except DecisionError as exc:
        raise DecisionError(f"{source}: {exc}") from None


def load_thresholds(path=None) -> Thresholds:
    """Thresholds of a ``decision.yaml`` (default: the shipped one).

    Raises
    ------
    DecisionError
        An unreadable file or thresholds outside (0, 1].
    """
    p = Path(path) if path is not None else DATA_DIR / "decision.yaml"
    try:
        doc = load_yaml(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DecisionError(f"{p}: cannot read the decision thresholds ({exc})") from None
    if not isinstance(doc, dict) or "thresholds" not in doc:
        raise DecisionError(f"{p}: no 'thresholds' mapping ({', '.join(WARNING_LEVELS)} → probability)")
    label = "shipped defaults" if path is None else str(p)
    return _from_mapping(doc["thresholds"], label)


def parse_thresholds(text: str, *, source: str = "given") -> Thresholds:
    """``"0.3"`` (all levels) or ``"yellow=0.4,orange=0.3,red=0.2"`` → :class:`Thresholds`.

    Raises
    ------
    DecisionError
        Text of another form, an unknown level or a value outside (0, 1].
    """
    text = str(text).strip()
    if "=" not in text:
        try:
            v = float(text)
        except ValueError:
            raise DecisionError(f"thresholds {text!r}: give one probability (0.3) or level=probability pairs "
                                "(yellow=0.4,orange=0.3,red=0.2)") from None
        return _from_mapping(dict.fromkeys(WARNING_LEVELS, v), source)
    pairs = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        pairs[key.strip()] = value.strip()
    return _from_mapping(pairs, source)


def settings_path(data=None, cache=None) -> Path:
    return workspace.cache_dir(data, cache) / SETTINGS_FILE


def save_setting(thresholds: Thresholds, *, data=None, cache=None, by: str, reason: str) -> Path:
    """Record thresholds set by the consultation (appended; the last record is in force).

    Raises
    ------
    DecisionError
        No name or no reason given (a setting that changes who gets warned is signed and explained).
    """
    if not str(by).strip() or not str(reason).strip():
        raise DecisionError("a threshold setting needs who sets it and why (by, reason)")
    path = settings_path(data, cache)
    rec = {"saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "by": str(by).strip(),
           "reason": str(reason).strip(), **thresholds.as_dict()}
    try:
        workspace.append_line(path, json.dumps(rec, ensure_ascii=False))
    except workspace.AppendError as exc:
        raise DecisionError(f"threshold setting not saved: {exc.strerror}") from exc
    return path


def settings(data=None, cache=None) -> tuple[list[dict], list[str]]:
    """The consultation's threshold settings, oldest first, and the lines that could not be read (file:line): a
    damaged line is skipped, never used."""
    path = settings_path(data, cache)
    lines, problems = workspace.read_jsonl(path)
    records = []
    for i, rec in lines:
        missing = [k for k in (*WARNING_LEVELS, "saved_at", "by") if k not in rec]
        if missing:
            problems.append(f"{path}:{i}: missing {', '.join(missing)}")
            continue
        try:
            _from_mapping({k: rec[k] for k in WARNING_LEVELS}, f"{path}:{i}")
        except DecisionError as exc:
            problems.append(str(exc))  # names the file and line already
            continue
        records.append(rec)
    problems.sort(key=lambda text: int(text.removeprefix(f"{path}:").split(":", 1)[0]))  # in file order
    return records, problems


def thresholds_in_force(data=None, *, cache=None, region=None, given: Thresholds | None = None) -> Thresholds:
    """The thresholds a forecast decides with (module docstring: given > consultation > region > shipped)."""
    if given is not None:
        return given
    records, _ = settings(data, cache)
    if records:
        r = records[-1]
        return Thresholds(**{k: float(r[k]) for k in WARNING_LEVELS},
                          source=f"consultation setting of {r['saved_at']} by {r['by']}")
    path = getattr(region, "decision_path", None) if region is not None else None
    if path is not None and Path(path).exists():
        return load_thresholds(path)
    return load_thresholds()


# ---- the decision -------------------------------------------------------------------------------------------------

def decide(p_ge: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """The proposed level per row of exceedances P(≥ yellow, orange, red) (shape ``(n, 3)``): the highest level
    whose exceedance reaches its threshold, else ``"none"``."""
    p = np.atleast_2d(np.asarray(p_ge, float))
    reach = p >= thresholds.array()[None, :] - 1e-12
    rank = np.where(reach.any(axis=1), 3 - np.argmax(reach[:, ::-1], axis=1), 0)
    return np.array(ALL_LEVELS, dtype=object)[rank]


def _ranks(levels_) -> np.ndarray:
    idx = {k: i for i, k in enumerate(ALL_LEVELS)}
    bad = sorted({str(v) for v in levels_ if v not in idx})
    if bad:
        raise DecisionError(f"unknown level(s) {bad}; allowed: {', '.join(ALL_LEVELS)}")
    return np.array([idx[v] for v in levels_], int)


def consequences(record: pd.DataFrame, thresholds: Thresholds) -> dict:
    """What deciding with ``thresholds`` did on a verification record.

    Parameters
    ----------
    record : DataFrame
        One row per area and issue date: ``p_ge_yellow/orange/red`` [0–1] and ``obs_level`` (the level the observed
        days imply).

    Returns
    -------
    dict
        ``n``; ``hits``, ``misses``, ``false_alarms``, ``correct_negatives`` for "a warning of any level" (a
        warning when one was due, whatever its colour); per level ``L`` the same for "level ≥ L"
        (``by_level``); ``exact`` (the share of cases given exactly the observed level), ``too_high``, ``too_low``.
    """
    fc = _ranks(decide(record[[f"p_ge_{k}" for k in WARNING_LEVELS]].to_numpy(float), thresholds))
    ob = _ranks(record["obs_level"])

    def counts(f, o):
        return {"hits": int((f & o).sum()), "misses": int((~f & o).sum()), "false_alarms": int((f & ~o).sum()),
                "correct_negatives": int((~f & ~o).sum())}

    out = {"n": int(len(record)), **counts(fc >= 1, ob >= 1),
           "by_level": {k: counts(fc >= r, ob >= r) for r, k in enumerate(WARNING_LEVELS, 1)},
           "exact": float(np.mean(fc == ob)) if len(record) else float("nan"),
           "too_high": int((fc > ob).sum()), "too_low": int((fc < ob).sum())}
    return out


def sweep(record: pd.DataFrame, values=(0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7)) -> pd.DataFrame:
    """Consequences of one threshold for every level, over a range of values (the table a consultation reads
    before it sets a threshold): ``threshold``, ``hits``, ``misses``, ``false_alarms``, ``ts`` (any warning),
    ``exact``, ``too_high``, ``too_low``."""
    rows = []
    for v in values:
        c = consequences(record, Thresholds(v, v, v))
        denom = c["hits"] + c["misses"] + c["false_alarms"]
        rows.append({"threshold": float(v), "hits": c["hits"], "misses": c["misses"],
                     "false_alarms": c["false_alarms"], "ts": c["hits"] / denom if denom else float("nan"),
                     "exact": c["exact"], "too_high": c["too_high"], "too_low": c["too_low"]})
    return pd.DataFrame(rows)
