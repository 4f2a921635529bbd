"""Forecast and warning quality of an episode, on hand-made observations, forecasts and warnings."""
import numpy as np
import pandas as pd
import pytest

from response import scoring as S

DAYS = pd.date_range("2024-01-01", periods=4)
START, END = DAYS[0], DAYS[-1]


def _obs(aqi=(150, 250, 220, 100), area="a"):
    idx = pd.MultiIndex.from_product([[area], DAYS], names=["area_id", "date"])
    return pd.DataFrame({"aqi": np.asarray(aqi, float)}, index=idx)


def _archive():
    """Day-1 forecasts of every day (medians 140, 180, 260, 90) and one day-2 forecast of 2 Jan (210)."""
    rows = [{"area_id": "a", "issue_date": d - pd.Timedelta(days=1), "target_date": d, "lead": 1, "aqi_q50": q}
            for d, q in zip(DAYS, (140, 180, 260, 90))]
    rows.append({"area_id": "a", "issue_date": pd.Timestamp("2023-12-31"), "target_date": DAYS[1], "lead": 2,
                 "aqi_q50": 210})
    return pd.DataFrame(rows)


def test_forecast_quality():
    q = S.forecast_quality(_archive(), _obs(), "a", START, END)
    assert q["observed_peak_aqi"] == 250 and q["observed_peak_date"] == "2024-01-02"
    assert q["observed_heavy_days"] == ["2024-01-02", "2024-01-03"]
    assert q["forecasts"] == 4  # issue dates 31 Dec – 3 Jan
    assert q["peak_aqi_error"] == 10.0  # day-1 peak 260 vs observed 250
    assert q["peak_timing_error_h"] == 24.0  # forecast peak on 3 Jan, observed on 2 Jan
    assert q["onset_timing_error_h"] == 24.0  # first forecast heavy day 3 Jan, observed 2 Jan
    assert q["first_heavy_day_forecast_days_ahead"] == 2  # only the day-2 forecast had 2 Jan above 200
    # day 1: HJ 633 categories forecast 3, 4, 5, 2 vs observed 3, 5, 5, 2; heavy yes/no agrees on 3 of 4 days
    assert q["by_lead"] == [{"lead_day": 1, "n": 4, "category_accuracy": 0.75, "heavy_hit_rate": 0.75},
                            {"lead_day": 2, "n": 1, "category_accuracy": 1.0, "heavy_hit_rate": 1.0}]


def test_forecast_quality_without_forecasts():
    q = S.forecast_quality(pd.DataFrame(), _obs(), "a", START, END)
    assert q["forecasts"] == 0 and "by_lead" not in q and q["observed_peak_aqi"] == 250
    assert S.forecast_quality(_archive(), _obs(), "elsewhere", START, END) == {
        "observed_peak_aqi": None, "observed_peak_date": None, "observed_heavy_days": [], "forecasts": 0}


def _warnings(levels=("orange", "yellow"), days=(1, 2), issued="2024-01-01"):
    return pd.DataFrame({"area_id": "a", "date": DAYS[list(days)], "level": list(levels), "issued": issued})


@pytest.mark.parametrize("rules, implied", [("MEE-2019", "yellow"), ("MEE-2024", "orange")])
def test_warning_quality_of_a_hit(rules, implied):
    """Two days above 200 (48 h): yellow under MEE-2019 (> 200 for 48 h), orange under MEE-2024 (> 200 for 48 h);
    the warning issued on 1 Jan at 16:00 led the first heavy day (2 Jan 00:00) by 8 h."""
    q = S.warning_quality(_warnings(), _obs(), "a", START, END, rules)
    assert q == {"kind": "warning", "observed_implied_level": implied, "issued_level": "orange", "level_matched": implied == "orange",
                 "warned_days": 2, "heavy_days": 2, "heavy_days_warned": 2, "outcome": "hit", "lead_time_h": 8.0}


@pytest.mark.parametrize("aqi, warnings, outcome", [
    ((150, 250, 220, 100), None, "miss"),
    ((150, 180, 190, 100), _warnings(), "false_alarm"),
    ((150, 180, 190, 100), None, "correct_negative"),
])
def test_warning_outcomes(aqi, warnings, outcome):
    w = warnings if warnings is not None else pd.DataFrame(columns=["area_id", "date", "level", "issued"])
    q = S.warning_quality(w, _obs(aqi), "a", START, END, "MEE-2024")
    assert q["outcome"] == outcome and "lead_time_h" not in q


def test_warning_quality_without_issue_dates_has_no_lead_time():
    q = S.warning_quality(_warnings().drop(columns="issued"), _obs(), "a", START, END, "MEE-2024")
    assert q["outcome"] == "hit" and "lead_time_h" not in q


def test_consultation_quality_only_the_episodes_areas_and_issue_dates():
    def rec(area, issue_date, model_aqi, consultation_aqi):
        return {"saved_at": "t", "issue_date": pd.Timestamp(issue_date), "area_id": area, "lead_day": 1,
                "model_aqi": model_aqi, "consultation_aqi": consultation_aqi}

    records = pd.DataFrame([rec("a", "2024-01-01", 180.0, 240.0),  # for 2 Jan, observed 250
                            rec("b", "2024-01-01", 100.0, 300.0),  # another area
                            rec("a", "2023-12-01", 100.0, 300.0)])  # issued long before the episode
    rows = S.consultation_quality(records, _obs(), ["a"], START, END)
    by_model = {r["model"]: r for r in rows}
    assert by_model["lantian"]["n"] == 1 and by_model["lantian"]["mae"] == 70.0
    assert by_model["consultation"]["mae"] == 10.0 and by_model["consultation"]["hits"] == 1


# ---- dust and O3 episodes are advisory episodes (REFERENCE 1.4: dust → health advisory, not a colour) -------------

def _dust_obs(pm25=(40, 60, 70, 30), pm10=(150, 600, 550, 90), primary=None):
    """Two heavy days dominated by dust: PM10 600 and 550 µg/m³ (IAQI 500 and 450) with PM2.5/PM10 of 0.10 and
    0.13; the dust flag is the rule's (:func:`forecast.aqi.dust_dominated`), not set by hand."""
    from forecast import aqi

    idx = pd.MultiIndex.from_product([["a"], DAYS], names=["area_id", "date"])
    d = pd.DataFrame({"pm25_24h": np.asarray(pm25, float), "pm10_24h": np.asarray(pm10, float)}, index=idx)
    d["aqi"] = np.maximum(aqi.iaqi("pm25_24h", d["pm25_24h"].to_numpy()), aqi.iaqi("pm10_24h", d["pm10_24h"].to_numpy()))
    d["dust"] = aqi.dust_dominated(d)
    d["primary_pollutant"] = primary or "PM10"
    return d


def _advisories(days=(1,), issued="2024-01-01"):
    return pd.DataFrame({"area_id": "a", "date": DAYS[list(days)], "issued": issued})


NO_WARNINGS = pd.DataFrame(columns=["area_id", "date", "level", "issued"])


def test_the_dust_days_are_the_rules():
    obs = _dust_obs()
    assert list(obs["dust"]) == [False, True, True, False] and list(obs["aqi"] > 200) == [False, True, True, False]
    assert S.episode_kind(obs, "a", START, END) == "advisory"


def test_a_dust_episode_with_a_health_advisory_is_a_hit():
    q = S.warning_quality(NO_WARNINGS, _dust_obs(), "a", START, END, "MEE-2024", advisories=_advisories())
    assert q["kind"] == "advisory" and q["outcome"] == "hit" and q["advisory_days"] == 1
    assert q["heavy_days"] == 2 and q["lead_time_h"] == 8.0  # issued 1 Jan 16:00, first dust day 2 Jan 00:00
    assert q["level_matched"] and not q["colour_warning_on_advisory"]


def test_a_dust_episode_without_a_colour_warning_is_not_a_miss():
    q = S.warning_quality(NO_WARNINGS, _dust_obs(), "a", START, END, "MEE-2024")
    assert q["kind"] == "advisory" and q["outcome"] == "advisory_missed" and q["outcome"] != "miss"
    assert q["advisory_days"] == 0


def test_a_colour_warning_on_a_dust_episode_is_noted():
    q = S.warning_quality(_warnings(), _dust_obs(), "a", START, END, "MEE-2024", advisories=_advisories())
    assert q["outcome"] == "hit" and q["colour_warning_on_advisory"] and not q["level_matched"]


def test_an_o3_episode_is_an_advisory_episode():
    obs = _obs().assign(dust=False, primary_pollutant="O3")
    assert S.episode_kind(obs, "a", START, END) == "advisory"
    assert S.warning_quality(NO_WARNINGS, obs, "a", START, END, "MEE-2024")["outcome"] == "advisory_missed"


def test_a_particulate_heavy_day_makes_it_a_warning_episode():
    """One dust day and one PM2.5 day above 200: the PM2.5 day needs a colour warning — unwarned, a miss."""
    obs = _dust_obs(pm25=(40, 60, 200, 30), pm10=(150, 600, 250, 90))
    obs["primary_pollutant"] = ["PM10", "PM10", "PM2.5", None]
    assert list(obs["dust"]) == [False, True, False, False]
    assert S.episode_kind(obs, "a", START, END) == "warning"
    assert S.warning_quality(NO_WARNINGS, obs, "a", START, END, "MEE-2024",
                             advisories=_advisories())["outcome"] == "miss"


def test_an_episode_without_cause_columns_is_a_warning_episode():
    assert S.episode_kind(_obs(), "a", START, END) == "warning"
    assert S.episode_kind(_obs(), "elsewhere", START, END) == "warning"


def test_a_warning_in_force_since_an_earlier_episode_has_no_lead_time_of_this_one():
    """Issued 20 Dec, 12 days (280 h) before the first heavy day: longer than the 7-day forecast horizon, so the
    warning was carried over from an earlier episode — flagged, the lead time kept as measured."""
    q = S.warning_quality(_warnings(issued="2023-12-21"), _obs(), "a", START, END, "MEE-2024")
    assert q["outcome"] == "hit" and q["lead_time_h"] == 12 * 24 - 16 and q["carried_over"] is True
    q = S.warning_quality(_warnings(issued="2023-12-27"), _obs(), "a", START, END, "MEE-2024")
    assert q["lead_time_h"] == 6 * 24 - 16 and "carried_over" not in q  # within the horizon: a lead time
