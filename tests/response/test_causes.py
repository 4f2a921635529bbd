"""Cause rules: colour warning or health advisory (REFERENCE 1.3–1.4)."""
import pytest

from response.causes import advisory, response_kind


@pytest.mark.parametrize("primary, dust, want", [("pm25", False, "warning"), ("PM2.5", False, "warning"),
                                                 ("pm10", True, "health_advisory"), ("o3", False, "health_advisory"),
                                                 ("pm10", False, "warning"), ("dust", False, "health_advisory")])
def test_cause_rules(primary, dust, want):
    assert response_kind(primary, dust=dust) == want


def test_unknown_pollutant():
    with pytest.raises(ValueError, match="unknown primary pollutant 'nox'; allowed"):
        response_kind("nox")


def _area(days):
    return {"area_id": "x", "days": [{"lead_day": k + 1, "aqi": {"q50": a}, "dust": d} for k, (a, d) in enumerate(days)]}


def test_dust_advisory_looks_at_the_coming_three_days():
    assert advisory(_area([(320, True), (100, False)])) == (True, "dust")
    assert advisory(_area([(150, True), (100, False)])) == (False, "")  # 150 is not above 150
    assert advisory(_area([(320, False), (100, False)])) == (False, "")  # heavy but not dust: a warning matter
    assert advisory(_area([(100, False)] * 3 + [(320, True)])) == (False, "")  # day 4 is beyond the advisory
