"""Performance grading from indicators (REFERENCE 3.2 [V2]: weakest indicator, lowest industry grade of a plant,
the industry's ladder) and the registry's grades checked against it."""
import re

import pandas as pd
import pytest

from response import grading as G
from response import reduction as R

ALL = G.INDICATORS


def _assess(tmp_path, rows, registry=None, name="grading.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return G.load_assessments(path, registry)


def _full(e, industry, grades):
    """Every indicator category of ``industry`` graded A except those in ``grades`` (indicator → grade)."""
    return [{"enterprise_id": e, "industry": industry, "indicator": x, "grade": grades.get(x, "A")} for x in ALL]


@pytest.mark.parametrize("grades, want", [
    (["A", "A", "A"], "A"),
    (["A", "C", "B"], "C"),         # the weakest indicator decides (短板原则)
    (["B", "B-", "B"], "B-"),
    (["A", "D"], "D"),
    (["引领性", "B"], "B"),
])
def test_weakest_link(grades, want):
    assert G.weakest(grades) == want


def test_weakest_refuses_unknown_grades():
    with pytest.raises(G.GradingError, match=r"unknown grade\(s\) \['E'\]"):
        G.weakest(["A", "E"])


def test_one_weak_indicator_sets_the_grade(tmp_path):
    """REFERENCE 3.2: A in six categories, C in transport (运输方式) → C, transport named as the limit."""
    a = _assess(tmp_path, _full("E1", "cement", {"transport": "C"}))
    out = G.grade_enterprises(a).set_index("enterprise_id")
    assert out.loc["E1", "grade"] == "C" and out.loc["E1", "limiting"] == "cement/transport"
    assert out.loc["E1", "complete"] and not out.loc["E1", "uses_unverified"]


def test_plant_in_several_industries_takes_the_lowest(tmp_path):
    """REFERENCE 3.2: graded per industry; the plant's grade is the lowest of them (lime kiln B, coking A → B)."""
    rows = _full("E1", "coking", {}) + _full("E1", "lime", {"emission": "B", "fugitive": "B"})
    out = G.grade_enterprises(_assess(tmp_path, rows)).set_index("enterprise_id")
    assert out.loc["E1", "grade"] == "B" and out.loc["E1", "by_industry"] == "coking:A;lime:B"
    assert out.loc["E1", "limiting"] == "lime/emission;lime/fugitive"


def test_missing_indicators_are_named(tmp_path):
    rows = [r for r in _full("E1", "glass", {}) if r["indicator"] not in ("monitoring", "transport")]
    out = G.grade_enterprises(_assess(tmp_path, rows)).set_index("enterprise_id")
    assert not out.loc["E1", "complete"] and out.loc["E1", "missing"] == "glass/monitoring;glass/transport"


def test_measured_values_use_thresholds_and_say_they_are_unverified(tmp_path):
    """A value graded through the threshold table: the shipped cement rows are UNVERIFIED placeholders (REFERENCE
    holds no indicator values): the grade says so. Thresholds here are the test's own (a ≤ 10, b ≤ 20, c ≤ 30)."""
    thr = pd.DataFrame([{"industry": "cement", "indicator": "emission", "parameter": "kiln_pm", "unit": "mg/m3",
                         "a_max": 10, "b_max": 20, "c_max": 30, "status": "UNVERIFIED", "source": "test"}])
    rows = [r for r in _full("E1", "cement", {}) if r["indicator"] != "emission"]
    for value, want in ((10, "A"), (10.5, "B"), (30, "C"), (31, "D")):
        a = _assess(tmp_path, rows + [{"enterprise_id": "E1", "industry": "cement", "indicator": "emission",
                                       "parameter": "kiln_pm", "value": value}])
        out = G.grade_enterprises(a, thresholds=thr).set_index("enterprise_id")
        assert out.loc["E1", "grade"] == want and out.loc["E1", "uses_unverified"]


def test_three_tier_and_leading_ladders():
    """REFERENCE 3.2: on a 3-tier ladder C is the legal minimum (above it: not a grade); on a leading-only ladder
    the A threshold is 引领性."""
    row = pd.Series({"parameter": "p", "unit": "mg/m3", "a_max": 1, "b_max": 2, "c_max": 3})
    assert G.grade_from_value(0.5, row, "leading") == "引领性" and G.grade_from_value(2.5, row, "leading") == "C"
    assert G.grade_from_value(3, row, "ABC") == "C"
    with pytest.raises(G.GradingError, match="below the legal minimum of a 3-tier industry"):
        G.grade_from_value(3.5, row, "ABC")


def test_registry_grades_checked_against_the_indicators(tmp_path):
    """E1 listed B, indicators give C (transport): the list is too lenient; E2 listed A+, indicators A: agree (A+ is
    chosen from A plants, REFERENCE 3.2); E3 listed D, indicators A: the list is too strict."""
    registry = pd.DataFrame({"enterprise_id": ["E1", "E2", "E3"], "name": ["甲", "乙", "丙"],
                             "grade": ["B", "A+", "D"]})
    rows = _full("E1", "cement", {"transport": "C"}) + _full("E2", "cement", {}) + _full("E3", "glass", {})
    out = G.check_registry(registry, G.grade_enterprises(_assess(tmp_path, rows, registry)))
    assert out[["enterprise_id", "registry_grade", "indicator_grade", "direction"]].values.tolist() == [
        ["E1", "B", "C", "registry better"], ["E3", "D", "A", "registry worse"]]
    assert out.loc[0, "limiting"] == "cement/transport"


@pytest.mark.parametrize("row, message", [
    ({"enterprise_id": "E9"}, "line 2: enterprise_id 'E9' is not in the enterprise list"),
    ({"industry": "coal_power"}, "line 2: 'coal_power' is not a key industry"),
    ({"indicator": "colour"}, "line 2: unknown indicator 'colour'"),
    ({"grade": "D", "industry": "electrolytic_mn"}, None),  # D is on the leading ladder's lower part: allowed
    ({"grade": "A+"}, "line 2: grade 'A+' not on the ladder of cement"),
    ({"grade": "引领性"}, "line 2: grade '引领性' not on the ladder of cement"),
    ({"grade": "", "value": ""}, "line 2: neither a grade nor a value"),
    ({"grade": "", "value": "abc", "parameter": "kiln_pm"}, "line 2: value 'abc' is not a number"),
])
def test_bad_assessment_rows_name_the_file_line_and_problem(tmp_path, row, message):
    registry = pd.DataFrame({"enterprise_id": ["E1"], "name": ["甲"], "grade": ["B"]})
    rows = [{"enterprise_id": "E1", "industry": "cement", "indicator": "equipment", "grade": "A", "value": "",
             "parameter": "", **row}]
    if message is None:
        assert len(_assess(tmp_path, rows, registry)) == 1
        return
    with pytest.raises(G.GradingError, match="grading.csv: 1 problem"):
        _assess(tmp_path, rows, registry)
    with pytest.raises(G.GradingError, match=re.escape(message)):
        _assess(tmp_path, rows, registry)


def test_missing_columns_name_the_file(tmp_path):
    pd.DataFrame([{"enterprise_id": "E1", "industry": "cement"}]).to_csv(tmp_path / "g.csv", index=False)
    with pytest.raises(G.GradingError, match=r"g.csv: missing column\(s\) \['indicator', 'grade or value'\]"):
        G.load_assessments(tmp_path / "g.csv")


def test_shipped_thresholds_are_marked_unverified():
    table = G.load_thresholds()
    assert set(table["status"]) == {"UNVERIFIED"} and set(table["indicator"]) <= set(G.INDICATORS)
    assert set(table["industry"]) <= set(R.industries().index[R.industries()["key"] == 1])
