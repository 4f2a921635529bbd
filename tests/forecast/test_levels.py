"""Warning grading rule sets MEE-2019 (648号) and MEE-2024 (环大气〔2024〕6号), REFERENCE 1.2–1.3."""
import numpy as np
import pytest

from forecast import levels as L


@pytest.mark.parametrize("seq,expected", [
    ([150, 150, 150], "none"),
    ([151, 100, 100], "none"),
    ([201, 100, 100], "yellow"),        # AQI > 200 on any day
    ([200, 100, 100], "none"),          # strict: 200 is not > 200
    ([151, 151, 100], "yellow"),        # AQI > 150 for 48 h
    ([201, 201, 100], "orange"),        # AQI > 200 for 48 h
    ([151, 151, 151], "orange"),        # AQI > 150 for 72 h
    ([201, 201, 201], "orange"),        # 72 h > 200 without a day > 300
    ([201, 301, 201], "red"),           # 72 h > 200 and 24 h > 300
    ([301, 301, 100, 100, 100], "orange"),  # > 300 but only 48 h > 200
])
def test_mee_2024(seq, expected):
    assert L.warning_level(seq, rules="MEE-2024") == expected


@pytest.mark.parametrize("seq,expected", [
    ([201, 100, 100], "none"),          # no blue level in the 2019 system
    ([201, 201, 100], "yellow"),        # > 200 for 48 h
    ([201, 201, 201], "orange"),        # > 200 for 72 h
    ([201, 301, 301, 201], "red"),      # > 200 for 96 h and > 300 for 48 h
    ([201, 301, 201, 201], "orange"),   # only 24 h > 300
    ([500, 100, 100], "red"),           # daily AQI reaching 500
    ([499, 100, 100], "none"),
])
def test_mee_2019(seq, expected):
    assert L.warning_level(seq, rules="MEE-2019") == expected


def test_short_gap_merges_episodes():
    # one day below the threshold (24 h <= 36 h) does not lift: the episode spans 3 days
    assert L.warning_level([201, 100, 201], rules="MEE-2019") == "orange"
    # two days below (48 h > 36 h) separates them: two single heavy days
    assert L.warning_level([201, 100, 100, 201], rules="MEE-2019") == "none"


def test_hourly_rolling_input_counts_hours():
    hourly = np.r_[np.full(47, 210.0), np.full(30, 90.0)]
    assert L.warning_level(hourly, rules="MEE-2019", step_hours=1) == "none"  # 47 h < 48 h
    hourly = np.r_[np.full(48, 210.0), np.full(30, 90.0)]
    assert L.warning_level(hourly, rules="MEE-2019", step_hours=1) == "yellow"


def test_grade_reports_run_and_clause():
    g = L.grade([100, 201, 201, 100], rules="MEE-2024")
    assert (g.level, g.start, g.stop) == ("orange", 1, 3)
    assert "AQI>200" in g.clause


def test_nan_days_do_not_count():
    assert L.warning_level([201, np.nan, 100], rules="MEE-2024") == "yellow"
    assert L.warning_level([np.nan, np.nan], rules="MEE-2024") == "none"


def test_unknown_rules_and_level():
    with pytest.raises(L.WarningRuleError, match="allowed: MEE-2019, MEE-2024"):
        L.warning_level([100], rules="MEE-2017")
    with pytest.raises(L.WarningRuleError, match="allowed: none, yellow, orange, red"):
        L.reduction_share("blue", "MEE-2024")


def test_defaults_and_shares():
    assert L.rules_in_force("2023-12-01") == "MEE-2019"
    assert L.rules_in_force("2024-04-25") == "MEE-2024"
    assert [L.reduction_share(x, "MEE-2024") for x in L.LEVELS] == [0.0, 0.1, 0.2, 0.3]


# (rules, daily AQI sequence, expected level) — REFERENCE 1.2 (MEE-2019) and 1.3 (MEE-2024); "> 200" is strict
CASES = [
    ("MEE-2019", [201, 150], "none"),            # 1 day > 200: blue was dropped
    ("MEE-2019", [201, 201], "yellow"),          # 48 h > 200
    ("MEE-2019", [200, 250], "none"),            # 200 is not > 200
    ("MEE-2019", [210, 220, 230], "orange"),     # 72 h > 200
    ("MEE-2019", [310, 320, 230, 240], "red"),   # 96 h > 200 and 48 h > 300
    ("MEE-2019", [310, 220, 230, 240], "orange"),  # only 24 h > 300
    ("MEE-2019", [500, 100], "red"),             # AQI reaching 500
    ("MEE-2019", [499, 100], "none"),
    ("MEE-2024", [201, 100], "yellow"),          # any day > 200
    ("MEE-2024", [151, 151], "yellow"),          # 48 h > 150
    ("MEE-2024", [151, 100], "none"),
    ("MEE-2024", [201, 201], "orange"),          # 48 h > 200
    ("MEE-2024", [151, 151, 151], "orange"),     # 72 h > 150
    ("MEE-2024", [210, 220, 301], "red"),        # 72 h > 200 and 24 h > 300
    ("MEE-2024", [210, 220, 300], "orange"),     # 300 is not > 300
    ("MEE-2024", [500, 100], "yellow"),          # no "reaching 500" clause in 2024
    ("MEE-2019", [201, 201, 100, 201], "orange"),  # one-day gap (< 36 h): one episode spanning 4 days
    ("MEE-2019", [201, 100, 100, 201], "none"),    # two-day gap: two one-day episodes
]


@pytest.mark.parametrize("rules, seq, want", CASES)
def test_clauses(rules, seq, want):
    assert L.warning_level(seq, rules=rules) == want


def test_hourly_rolling_input_crosses_days():
    hourly = np.r_[np.full(10, 120), np.full(48, 210), np.full(20, 120)]  # 48 h > 200 from 10:00 to 10:00
    assert L.warning_level(hourly, rules="MEE-2019", step_hours=1) == "yellow"
    assert L.warning_level(hourly[:-30], rules="MEE-2019", step_hours=1) == "none"  # only 38 h > 200 left


# ------------------------------------------------------------------ the rule set in force on any date
def test_rules_in_force_from_the_region_history_is_no_fallback():
    info = L.rules_in_force_info("2024-04-25")
    assert (info.rules, info.source, info.fallback) == ("MEE-2024", "in_force", False)
    assert info.note == "MEE-2024: in force from 2024-04-25 (the shipped Inner Mongolia rules, in_force)"


def test_2014_is_graded_with_the_stated_default_as_a_fallback():
    info = L.rules_in_force_info("2014-01-01")
    assert (info.rules, info.source, info.fallback) == ("MEE-2019", "default", True)
    assert info.note.startswith("MEE-2019: the stated default for dates before 2019-07-01 — a fallback: the "
                                "region's history (the shipped Inner Mongolia rules) starts 2019-07-01, and no "
                                "national rule set is configured then; before the 2019 system the plans graded four "
                                "colours (blue = AQI > 200 for 1 day")
    assert info.note.endswith("UNVERIFIED for that period")
    assert L.load_rules()["default"]["status"] == "UNVERIFIED"
    with pytest.warns(L.RulesFallbackWarning, match="stated default for dates before 2019-07-01"):
        assert L.rules_in_force("2014-01-01") == "MEE-2019"
    # a blue-only episode (one day above 200) grades none under the stated default
    assert L.warning_level([250, 100], rules=L.rules_in_force_info("2014-01-01").rules) == "none"


def test_in_force_dates_give_no_warning(recwarn):
    assert L.rules_in_force("2019-07-01") == "MEE-2019"
    assert not [w for w in recwarn if issubclass(w.category, L.RulesFallbackWarning)]


REGION_RULES = """
Hebei-2018:
  source: a local plan (test)
  status: UNVERIFIED
  merge_gap_hours: 36
  levels:
    red: {all: [{above: 200, hours: 96}, {above: 300, hours: 48}]}
    orange: {all: [{above: 200, hours: 72}]}
    yellow: {any: [{above: 200, hours: 24}]}
reduction_shares:
  Hebei-2018: {yellow: 0.05, orange: 0.15, red: 0.25}
in_force:
  - {from: "2018-10-01", rules: Hebei-2018}
  - {from: "2020-01-01", rules: MEE-2019}
"""


def test_region_file_adds_a_rule_set_and_its_history(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(REGION_RULES)
    assert L.rule_sets(path) == ["MEE-2019", "MEE-2024", "Hebei-2018"]
    assert L.warning_level([201, 100], rules="Hebei-2018", path=path) == "yellow"  # its own one-day yellow
    assert L.reduction_share("orange", "Hebei-2018", path) == 0.15
    assert L.reduction_share("orange", "MEE-2024", path) == 0.2  # shipped shares kept
    info = L.rules_in_force_info("2019-03-01", path)
    assert (info.rules, info.source, info.fallback) == ("Hebei-2018", "in_force", False)
    assert L.rules_in_force("2025-01-01", path) == "MEE-2019"  # its history, not Inner Mongolia's 2024-04-25
    # before its history: the national rules of the time … or the stated default before 2019-07-01
    early = L.rules_in_force_info("2018-01-01", path)
    assert (early.rules, early.source, early.fallback) == ("MEE-2019", "default", True)
    assert f"the region's history ({path}) starts 2018-10-01" in early.note
    assert L.rule_sets() == ["MEE-2019", "MEE-2024"]  # the shipped file alone is unchanged


def test_region_file_without_history_falls_back_to_the_national_rules(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(REGION_RULES.split("in_force:")[0])
    info = L.rules_in_force_info("2024-03-12", path)
    assert (info.rules, info.source, info.fallback) == ("MEE-2024", "national", True)
    assert info.note == (f"MEE-2024: the national grading in force from 2024-03-12 (环大气〔2024〕6号 (in force by this "
                         f"date; issue date UNVERIFIED)) — a fallback: {path} states no in_force history")
    assert L.rules_in_force_info("2024-03-11", path).rules == "MEE-2019"


@pytest.mark.parametrize("text,match", [
    ("in_force:\n  - {from: '2020-01-01', rules: MEE-2017}\n", r"in_force names unknown rule set 'MEE-2017'; "
                                                              r"allowed: MEE-2019, MEE-2024"),
    ("in_force:\n  - {from: someday, rules: MEE-2019}\n", "'from' is not a date"),
    ("in_force:\n  - {rules: MEE-2019}\n", "needs 'from'"),
    ("X:\n  levels: {red: {above: 300, hours: 24}}\n", r"rule set 'X' lacks level\(s\) \['yellow', 'orange'\]"),
    ("default: {rules: nothing}\n", "default must name a rule set"),
    ("- just a list\n", "not a warning rules file"),
])
def test_malformed_region_rules_file(tmp_path, text, match):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(text)
    with pytest.raises(L.WarningRuleError, match=match) as info:
        L.rules_in_force_info("2024-01-01", path)
    assert str(path) in str(info.value)


def test_reduction_share_missing_for_a_rule_set(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(REGION_RULES.replace("reduction_shares:\n  Hebei-2018: {yellow: 0.05, orange: 0.15, red: 0.25}\n",
                                         ""))
    with pytest.raises(L.WarningRuleError, match="no reduction share for rule set 'Hebei-2018' at red"):
        L.reduction_share("red", "Hebei-2018", path)
