"""Performance grading of enterprises (绩效分级; article 二十二: 全面开展重点行业企业绩效分级) and the check of the
registry's grades against it.

Rules (REFERENCE 3.2 [V2], dcement 2026 and zgwg.gov.cn on the 2020 technical guide):

- an enterprise is graded per key industry from its indicators — equipment level (装备水平), treatment technology
  (污染治理技术), emission levels (排放限值), fugitive control (无组织排放), monitoring (监测监控), environmental
  management (环境管理) and transport mode (运输方式);
- **weakest link (短板原则)**: the industry grade is the lowest grade of its indicators;
- a plant in several key industries takes the **lowest** of its industry grades;
- the grades available are the industry's ladder (``industries.csv``: A–D, 3-tier A/B/C, 引领性); A+ (2026) is
  chosen from A plants by a separate review (≥ 2 years of leading technology) and is never derived from indicators:
  a registry A+ agrees with an indicator grade A.

Each indicator of the assessment file carries either the assessor's ``grade`` of that indicator or a measured
``value`` graded through a threshold table (``data/grading_thresholds.csv``). REFERENCE holds no indicator values
of the guide: the shipped thresholds are UNVERIFIED placeholders, and every grade that used one says so
(``uses_unverified``). The rule engine is the verified part ([V2]).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.tables import read_commented_csv

from .reduction import LADDERS, ReductionError, _shown, industries, read_table
from .sanitize import plain

DATA_DIR = Path(__file__).parent / "data"
#: the indicator categories of the guide (REFERENCE 3.2 [V2])
INDICATORS = ("equipment", "treatment", "emission", "fugitive", "monitoring", "management", "transport")
INDICATOR_ZH = {"equipment": "装备水平", "treatment": "污染治理技术", "emission": "排放限值", "fugitive": "无组织排放",
                "monitoring": "监测监控", "management": "环境管理", "transport": "运输方式"}
#: order from best to worst (引领性 ranks with A: both reduce on their own, REFERENCE 3.2)
RANK = {"A+": 0, "A": 1, "引领性": 1, "B": 2, "B-": 3, "C": 4, "D": 5}
ASSESSMENT_COLUMNS = ("enterprise_id", "industry", "indicator")


class GradingError(ReductionError):
    """An assessment or threshold table that cannot be used."""


@lru_cache(maxsize=2)
def load_thresholds(path: str | None = None) -> pd.DataFrame:
    """Indicator thresholds (``grading_thresholds.csv``, or ``path``): rows of industry, indicator, parameter,
    unit, ``a_max``, ``b_max``, ``c_max`` [the parameter's unit], status, source.

    Raises
    ------
    GradingError
        An unknown indicator or thresholds that do not rise from A to C (the file is named)."""
    where = path or DATA_DIR / "grading_thresholds.csv"
    table = read_commented_csv(where)
    bad = sorted(set(table["indicator"]) - set(INDICATORS))
    if bad:
        raise GradingError(f"{where}: unknown indicator(s) {bad}; allowed: {', '.join(INDICATORS)}")
    wrong = table[~((table["a_max"] <= table["b_max"]) & (table["b_max"] <= table["c_max"]))]
    if len(wrong):
        raise GradingError(f"{where}: thresholds must rise a_max ≤ b_max ≤ c_max; not in "
                           f"{', '.join(wrong['industry'] + '/' + wrong['parameter'])}")
    return table


def weakest(grades) -> str:
    """The lowest grade of ``grades`` (the weakest-link rule, REFERENCE 3.2): ``weakest(["A", "C", "B"]) == "C"``.

    Raises
    ------
    GradingError
        An empty list or an unknown grade."""
    grades = list(grades)
    if not grades:
        raise GradingError("no grades to take the weakest of")
    unknown = sorted({g for g in grades if g not in RANK})
    if unknown:
        raise GradingError(f"unknown grade(s) {unknown}; allowed: {', '.join(RANK)}")
    return max(grades, key=lambda g: RANK[g])


def grade_from_value(value: float, row: pd.Series, grading: str) -> str:
    """The grade of a measured value [the threshold row's unit] on an industry ladder: ≤ ``a_max`` → A, ≤ ``b_max``
    → B, ≤ ``c_max`` → C, else D (A–D ladder). On a 3-tier ladder a value above ``c_max`` is below the legal
    minimum; on a leading-only ladder ≤ ``a_max`` is 引领性, else the A–D grade.

    Raises
    ------
    GradingError
        A value above ``c_max`` on a 3-tier ladder (the enterprise does not meet the legal minimum)."""
    for grade, limit in (("A", row["a_max"]), ("B", row["b_max"]), ("C", row["c_max"])):
        if value <= limit:
            return "引领性" if grading == "leading" and grade == "A" else grade
    if grading == "ABC":
        raise GradingError(f"{row['parameter']} {value:g} {row['unit']} above the C limit {row['c_max']:g}: below "
                           "the legal minimum of a 3-tier industry")
    return "D"


def load_assessments(path: str | Path, registry: pd.DataFrame | None = None, *,
                     industry_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """An enterprise indicator assessment (CSV): one row per enterprise × industry × indicator with the
    assessor's ``grade`` of the indicator, or a ``parameter`` and its measured ``value`` (graded by
    :func:`load_thresholds`); optional ``note``.

    Raises
    ------
    GradingError
        The file cannot be read, lacks a column, or has bad rows (the file, the line and the problem are named:
        an enterprise not in ``registry``, an industry outside the key industries, an unknown indicator, a grade
        off the industry's ladder or A+ (never derived from indicators), neither a grade nor a value, a value that
        is not a number).
    """
    path = Path(path)
    frame = read_table(path, "the grading assessment", error=GradingError, dtype=str, keep_default_na=False)
    missing = [c for c in ASSESSMENT_COLUMNS if c not in frame.columns]
    if missing or not {"grade", "value"} & set(frame.columns):
        need = missing + ([] if {"grade", "value"} & set(frame.columns) else ["grade or value"])
        raise GradingError(f"{path}: missing column(s) {need}; required: {', '.join(ASSESSMENT_COLUMNS)} and "
                           "grade (the indicator's grade) or parameter + value (a measured value)")
    for c in ("grade", "value", "parameter", "note"):
        if c not in frame.columns:
            frame[c] = ""
    for c in frame.columns:
        frame[c] = frame[c].map(lambda v: plain(v).strip())
    ind = industries() if industry_table is None else industry_table
    problems = []
    for i, r in frame.iterrows():
        line = f"line {i + 2}"
        if registry is not None and r["enterprise_id"] not in set(registry["enterprise_id"]):
            problems.append(f"{line}: enterprise_id {_shown(r['enterprise_id'])} is not in the enterprise list")
        if r["industry"] not in ind.index or ind.loc[r["industry"], "key"] != 1:
            problems.append(f"{line}: {_shown(r['industry'])} is not a key industry (graded industries: "
                            f"{', '.join(ind.index[ind['key'] == 1][:8])} …)")
            continue
        if r["indicator"] not in INDICATORS:
            problems.append(f"{line}: unknown indicator {_shown(r['indicator'])}; allowed: {', '.join(INDICATORS)}")
        allowed = [g for g in LADDERS[ind.loc[r["industry"], "grading"]] if g != "A+"]
        if r["grade"]:
            if r["grade"] not in allowed:
                problems.append(f"{line}: grade {_shown(r['grade'])} not on the ladder of {r['industry']}"
                                f" ({', '.join(allowed)}; A+ is never derived from indicators)")
        elif r["value"]:
            try:
                v = float(r["value"])
                if not np.isfinite(v):
                    raise ValueError
            except ValueError:
                problems.append(f"{line}: value {_shown(r['value'])} is not a number")
            if not r["parameter"]:
                problems.append(f"{line}: a measured value needs its parameter")
        else:
            problems.append(f"{line}: neither a grade nor a value")
    if problems:
        raise GradingError(f"{path}: {len(problems)} problem(s): " + "; ".join(problems[:8])
                           + (" …" if len(problems) > 8 else ""))
    frame["line"] = np.arange(len(frame)) + 2
    return frame


def grade_enterprises(assessments: pd.DataFrame, *, thresholds: pd.DataFrame | None = None,
                      industry_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Grades from indicators: per enterprise its overall grade (the lowest of its industry grades), each industry
    grade (the weakest of its indicators), the indicators that set it and the indicator categories missing.

    Returns
    -------
    DataFrame
        One row per enterprise: ``enterprise_id``, ``grade``, ``by_industry`` (``industry:grade`` joined by ``;``),
        ``limiting`` (``industry/indicator`` that set the grade), ``missing`` (indicator categories not assessed;
        a grade with missing indicators is at best as good as shown), ``complete``, ``uses_unverified`` (a
        threshold row of status UNVERIFIED graded one of its indicators).

    Raises
    ------
    GradingError
        A measured value without a threshold row for its industry and parameter, or below the legal minimum of a
        3-tier industry.
    """
    ind = industries() if industry_table is None else industry_table
    thr = load_thresholds() if thresholds is None else thresholds
    grades, unverified = [], []
    for r in assessments.itertuples():
        if r.grade:
            grades.append(r.grade)
            unverified.append(False)
            continue
        match = thr[(thr["industry"] == r.industry) & (thr["parameter"] == r.parameter)]
        if match.empty:
            raise GradingError(f"line {getattr(r, 'line', '?')}: no threshold for {r.industry} / {r.parameter}; "
                               f"give the indicator's grade or add a threshold row")
        grades.append(grade_from_value(float(r.value), match.iloc[0], ind.loc[r.industry, "grading"]))
        unverified.append(str(match.iloc[0]["status"]) != "V")
    a = assessments.assign(indicator_grade=grades, unverified=unverified)
    rows = []
    for e, g in a.groupby("enterprise_id", sort=True):
        per_industry, limiting, missing = {}, [], []
        for industry, gi in g.groupby("industry", sort=True):
            per_industry[industry] = weakest(gi["indicator_grade"])
            missing += [f"{industry}/{x}" for x in INDICATORS if x not in set(gi["indicator"])]
        overall = weakest(per_industry.values())
        for industry, grade in per_industry.items():
            if RANK[grade] == RANK[overall]:
                gi = g[(g["industry"] == industry) & (g["indicator_grade"].map(RANK) == RANK[grade])]
                limiting += sorted({f"{industry}/{x}" for x in gi["indicator"]})
        rows.append({"enterprise_id": e, "grade": overall,
                     "by_industry": ";".join(f"{k}:{v}" for k, v in per_industry.items()),
                     "limiting": ";".join(limiting), "missing": ";".join(missing), "complete": not missing,
                     "uses_unverified": bool(g["unverified"].any())})
    return pd.DataFrame(rows, columns=["enterprise_id", "grade", "by_industry", "limiting", "missing", "complete",
                                       "uses_unverified"])


def check_registry(registry: pd.DataFrame, graded: pd.DataFrame) -> pd.DataFrame:
    """The registry's grades against the grades from indicators (:func:`grade_enterprises`): the disagreements.

    A registry A+ agrees with an indicator grade A (A+ is chosen from A plants by a separate review, REFERENCE
    3.2). ``direction``: ``registry better`` (the list grades the plant better than its weakest indicator allows:
    its cuts are too light) or ``registry worse``.

    Returns
    -------
    DataFrame
        ``enterprise_id``, ``name``, ``registry_grade``, ``indicator_grade``, ``direction``, ``limiting``,
        ``missing``, ``uses_unverified``; graded enterprises not in the registry are listed with ``registry_grade``
        empty and ``direction`` ``not in the list``.
    """
    reg = registry.set_index("enterprise_id")
    rows = []
    for r in graded.itertuples():
        base = {"enterprise_id": r.enterprise_id, "indicator_grade": r.grade, "limiting": r.limiting,
                "missing": r.missing, "uses_unverified": r.uses_unverified}
        if r.enterprise_id not in reg.index:
            rows.append({**base, "name": "", "registry_grade": "", "direction": "not in the list"})
            continue
        listed = reg.loc[r.enterprise_id, "grade"]
        same = listed == r.grade or (listed == "A+" and r.grade == "A")
        if same:
            continue
        direction = ("registry ungraded (非重点)" if listed not in RANK else
                     "registry better" if RANK[listed] < RANK[r.grade] else "registry worse")
        rows.append({**base, "name": reg.loc[r.enterprise_id, "name"], "registry_grade": listed,
                     "direction": direction})
    return pd.DataFrame(rows, columns=["enterprise_id", "name", "registry_grade", "indicator_grade", "direction",
                                       "limiting", "missing", "uses_unverified"])
