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
        L.reduction_share("blue")


def test_defaults_and_shares():
    assert L.rules_in_force("2023-12-01") == "MEE-2019"
    assert L.rules_in_force("2024-04-25") == "MEE-2024"
    assert [L.reduction_share(x) for x in L.LEVELS] == [0.0, 0.1, 0.2, 0.3]
