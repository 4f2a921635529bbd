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
