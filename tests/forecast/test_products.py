"""What the pages show of a forecast: issue dates, the level covering a lead day, tables, CST labels."""
import numpy as np
import pandas as pd
import pytest

from forecast import products


def _daily(days, areas=("baotou", "hohhot")):
    idx = pd.MultiIndex.from_product([list(areas), pd.to_datetime(days)], names=["area_id", "date"])
    return pd.DataFrame({"aqi": np.arange(len(idx), dtype=float)}, index=idx)


def _runs(init_times):
    idx = pd.MultiIndex.from_product([["baotou"], pd.to_datetime(init_times), [1, 2]],
                                     names=["area_id", "init_time", "lead_day"])
    return pd.DataFrame({"blh": 1.0}, index=idx)


def test_issue_dates_need_the_day_before_observed_and_a_run_of_the_day():
    daily = _daily(["2024-01-01", "2024-01-02", "2024-01-03"])
    runs = _runs(["2024-01-01 00:00", "2024-01-02 00:00", "2024-01-04 00:00", "2024-01-09 00:00"])
    # 1 Jan: nothing observed the day before; 9 Jan: 8 Jan not observed
    assert products.issue_dates(daily, runs) == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-04")]


def test_issue_dates_without_runs_are_the_days_after_observed_days():
    daily = _daily(["2024-01-01", "2024-01-02", "2024-01-03"])
    expected = [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    assert products.issue_dates(daily, None) == expected
    assert products.issue_dates(daily, _runs([]).iloc[:0]) == expected


def test_issue_dates_fall_back_to_the_observed_days():
    daily = _daily(["2024-01-01", "2024-01-02"])
    assert products.issue_dates(daily, _runs(["2024-02-01"])) == [pd.Timestamp("2024-01-01"),
                                                                   pd.Timestamp("2024-01-02")]


def test_observed_period():
    assert products.observed_period(_daily(["2024-01-03", "2024-01-01"])) == (pd.Timestamp("2024-01-01"),
                                                                               pd.Timestamp("2024-01-03"))


@pytest.mark.parametrize("card, first_observed, expected", [
    ({"training_period": ["2023-12-01", "2024-01-02"]}, None, ["2024-01-03", "2024-01-04"]),
    ({}, "2024-01-01", ["2024-01-02", "2024-01-03", "2024-01-04"]),
    ({}, None, ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
    ({"training_period": ["2023-12-01", "2024-01-04"]}, None, []),
])
def test_verifiable_dates_are_after_the_training_period(card, first_observed, expected):
    dates = pd.date_range("2024-01-01", "2024-01-04")
    got = products.verifiable_dates(dates, card, first_observed=first_observed)
    assert got == [pd.Timestamp(d) for d in expected]


def test_valid_time_labels_are_china_standard_time():
    assert products.valid_time_labels(["2024-01-01 00:00:00", "2024-01-01 18:00:00"]) == {
        "2024-01-01 00:00:00": "01-01 08:00", "2024-01-01 18:00:00": "01-02 02:00"}


def _day(lead, q50, **extra):
    return {"lead_day": lead, "date": f"2024-01-0{1 + lead}", "aqi": {"q10": q50 - 40, "q50": q50, "q90": q50 + 60},
            "p_aqi_gt": {"150": 0.8, "200": 0.456, "300": 0.1}, "dust": False,
            "drivers": [{"name_zh": "边界层", "effect": 0.3}, {"name_zh": "风速", "effect": -0.1}], **extra}


AREA = {"area_id": "baotou", "level": "orange", "trigger_days": [2, 3],
        "level_probabilities": {"none": 0.1, "yellow": 0.2, "orange": 0.5, "red": 0.2},
        "days": [_day(1, 180), _day(2, 260, dust=True), _day(3, 240, adjusted={"model_aqi": {"q50": 200}})]}


@pytest.mark.parametrize("lead_day, level", [(None, "orange"), (1, "none"), (2, "orange"), (3, "orange"),
                                             (4, "none")])
def test_level_on_day_is_the_areas_level_on_its_trigger_days(lead_day, level):
    assert products.level_on_day(AREA, lead_day) == level


def test_level_on_day_without_trigger_days():
    assert products.level_on_day({"level": "yellow", "trigger_days": None}, 1) == "none"
    assert products.level_on_day({"level": "yellow"}, None) == "yellow"


@pytest.mark.parametrize("lead_day, q50", [(None, 180), (1, 180), (3, 240), (7, 180)])
def test_day_of(lead_day, q50):
    assert products.day_of(AREA, lead_day)["aqi"]["q50"] == q50


def test_level_counts_worst_first():
    doc = {"areas": [{"level": "none"}, {"level": "red"}, {"level": "none"}, {"level": "yellow"}]}
    assert list(products.level_counts(doc).items()) == [("red", 1), ("yellow", 1), ("none", 2)]


def test_area_table():
    doc = {"areas": [dict(AREA, adjusted=True)]}
    row = products.area_table(doc, {"baotou": "包头市"}, level_label="Warning level").iloc[0]
    assert row["地区 area"] == "包头市" and row["Warning level"] == "橙色预警 ✎" and row["P(orange)"] == 0.5
    assert row["D1"] == "180 (140–240)" and row["D2"] == "260 (220–320) 沙尘" and row["D3"] == "240 (200–300) ✎"
    assert row["P1>200"] == 0.46


def test_driver_table():
    t = products.driver_table(AREA)
    assert list(t.columns) == ["D", "边界层", "风速"] and list(t["D"]) == [1, 2, 3] and t["风速"].iloc[0] == -0.1


def test_recent_observations_are_the_two_weeks_up_to_the_issue_date():
    daily = _daily(pd.date_range("2024-01-01", "2024-01-31"))
    hist = products.recent_observations(daily, "hohhot", "2024-01-20")
    assert hist.index[0] == pd.Timestamp("2024-01-07") and hist.index[-1] == pd.Timestamp("2024-01-20")
    assert len(hist) == 14 and hist.iloc[-1] == daily.loc[("hohhot", pd.Timestamp("2024-01-20")), "aqi"]


def test_day_one_table():
    table = pd.DataFrame({"area_id": ["b", "a", "a"], "lead": [1, 1, 2], "target_date": pd.Timestamp("2024-01-02"),
                          "aqi_q10": 100.123, "aqi_q50": 150.456, "aqi_q90": 200.789, "p_aqi_gt200": 0.12345,
                          "dust": False, "level": "none", "extra": 1})
    t = products.day_one_table(table)
    assert list(t["area_id"]) == ["a", "b"] and "extra" not in t
    assert t["aqi_q50"].iloc[0] == 150.46 and t["p_aqi_gt200"].iloc[0] == 0.12


def test_verification_and_score_tables():
    assert products.verification_table({}) is None
    card = {"verification": {"aqi_gt200": [{"model": "lantian", "ts": 0.4567}]}}
    assert products.verification_table(card)["ts"].iloc[0] == 0.46
    assert products.scores_table([{"mae": 12.3456, "model": "lantian"}])["mae"].iloc[0] == 12.35


def test_area_names():
    areas = pd.DataFrame({"area_id": ["x"], "name_zh": ["某市"]})
    assert products.area_names(areas) == {"x": "某市"}
    assert products.area_names()["baotou"] == "包头市"
