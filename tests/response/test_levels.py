"""Response-side grading: the two rule sets clause by clause (daily and hourly input), and the cause rules."""
import numpy as np
import pytest

from response.levels import response_kind, warning_level

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
    assert warning_level(seq, rules=rules) == want


def test_hourly_rolling_input_crosses_days():
    hourly = np.r_[np.full(10, 120), np.full(48, 210), np.full(20, 120)]  # 48 h > 200 from 10:00 to 10:00
    assert warning_level(hourly, rules="MEE-2019", step_hours=1) == "yellow"
    assert warning_level(hourly[:-30], rules="MEE-2019", step_hours=1) == "none"  # only 38 h > 200 left


@pytest.mark.parametrize("primary, dust, want", [("pm25", False, "warning"), ("PM2.5", False, "warning"),
                                                 ("pm10", True, "health_advisory"), ("o3", False, "health_advisory"),
                                                 ("pm10", False, "warning"), ("dust", False, "health_advisory")])
def test_cause_rules(primary, dust, want):
    assert response_kind(primary, dust=dust) == want


def test_unknown_pollutant():
    with pytest.raises(ValueError, match="unknown primary pollutant 'nox'; allowed"):
        response_kind("nox")
