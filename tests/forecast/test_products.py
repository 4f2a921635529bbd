"""What the pages show of a forecast: issue dates, the level covering a lead day, tables, CST labels."""
import numpy as np
import pandas as pd
import pytest

from forecast import labels, products


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
            "drivers": [{"family": "ventilation", "effect": 0.3}, {"family": "humidity", "effect": -0.1}], **extra}


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


NAMES = {"baotou": "包头市"}


def test_area_table():
    doc = {"areas": [dict(AREA, adjusted=True)]}
    row = products.area_table(doc, NAMES).iloc[0]
    assert row["地区"] == "包头市" and row["预警级别"] == "橙色预警 ✎" and row["P(橙色)"] == "50%"
    assert row["D1"] == "180 (140–240)" and row["D2"] == "260 (220–320) 沙尘" and row["D3"] == "240 (200–300) ✎"
    assert row["P1>200"] == "46%"
    row = products.area_table(doc, {"baotou": "Baotou"}, lang="en").iloc[0]
    assert row["Area"] == "Baotou" and row["Warning level"] == "Orange warning ✎" and row["P(orange)"] == "50%"
    assert row["D2"] == "260 (220–320) Dust"


def test_area_table_never_shows_an_id():
    with pytest.raises(labels.LabelError, match="no name for area 'baotou'"):
        products.area_table({"areas": [AREA]}, {})


def test_decision_table_and_thresholds_caption():
    doc = {"areas": [dict(AREA, p_at_least={"yellow": 0.9, "orange": 0.7, "red": None}, level_median="yellow")],
           "decision": {"thresholds": {"yellow": 0.3, "orange": 0.35, "red": 0.3}, "source": "shipped defaults"}}
    row = products.decision_table(doc, NAMES).iloc[0]
    assert row["P(≥黄色)"] == "90%" and row["P(≥红色)"] == "—" and row["中位数预报级别"] == "黄色预警"
    assert products.thresholds_caption(doc).endswith("（黄色 30%，橙色 35%，红色 30%）时取最高的级别；阈值来源：系统默认设定")
    doc["decision"]["source"] = "consultation setting of 2024-01-02T08:00:00+00:00 by 会商专家 (consult)"
    assert products.thresholds_caption(doc).endswith("阈值来源：会商设定（2024-01-02，设定人 会商专家 (consult)）")


def _drv(day, effects, **extra):
    """A forecast day with drivers of the given effects (family → effect) and medians."""
    return dict(_day(day, 0), drivers=[{"family": f, "effect": e} for f, e in effects.items()], **extra)


def test_driver_effects_split_the_median_exactly_in_aqi_points():
    # worked by hand: M = 399, B = 99 → ln(1+M) − ln(1+B) = ln 4; ventilation effect 1 (c = ln 2), humidity −0.5
    # (c = −ln 2), the rest ln 4; L = 300 / ln 4 → ventilation ln 2 · 300 / ln 4 = +150, humidity −150, other +300
    day = _drv(1, {"ventilation": 1.0, "humidity": -0.5}, baseline_aqi=99.0)
    day["aqi"]["q50"] = 399.0
    eff = products.driver_effects_aqi({"days": [day]})
    assert list(eff["family"]) == ["ventilation", "humidity", "other"]
    assert list(eff["name"]) == ["通风扩散", "湿度与降水", "其他因子"]
    np.testing.assert_allclose(eff["aqi"], [150.0, -150.0, 300.0])
    assert eff["aqi"].sum() == pytest.approx(399 - 99)
    assert list(products.driver_effects_aqi({"days": [day]}, lang="en")["name"])[0] == "Ventilation and dispersion"


def test_driver_effects_without_a_baseline_take_the_unlisted_families_as_nothing():
    # M = 399, ventilation effect 1 (c = ln 2) → B = 400 · e^(−ln 2) − 1 = 199 and the family gets all of M − B
    day = _drv(1, {"ventilation": 1.0})
    day["aqi"]["q50"] = 399.0
    eff = products.driver_effects_aqi({"days": [day]})
    assert list(eff["family"]) == ["ventilation"] and eff["aqi"].iloc[0] == pytest.approx(200.0)
    assert eff["baseline_aqi"].iloc[0] == pytest.approx(199.0)
    # contributions that cancel: M = B, the split takes the limit L = 1 + M (400 ln 2 each way), no division by 0
    day = _drv(1, {"ventilation": 1.0, "humidity": -0.5})
    day["aqi"]["q50"] = 399.0
    np.testing.assert_allclose(products.driver_effects_aqi({"days": [day]})["aqi"],
                               [400 * np.log(2), -400 * np.log(2)])


def test_driver_effects_explain_the_models_median_of_an_adjusted_day():
    day = _drv(1, {"ventilation": 1.0}, adjusted={"model_aqi": {"q50": 399.0}})
    day["aqi"]["q50"] = 150.0  # the consultation's value: the drivers explain the model's 399
    assert products.driver_effects_aqi({"days": [day]})["aqi"].iloc[0] == pytest.approx(200.0)


def test_driver_effects_of_a_forecast_without_drivers_are_empty():
    eff = products.driver_effects_aqi({"days": [dict(_day(1, 100), drivers=[])]})
    assert eff.empty and "aqi" in eff.columns
    assert products.driver_reading({"days": [dict(_day(1, 100), drivers=[])]}) == ""


def test_driver_reading_names_the_largest_on_the_worst_day():
    low = _drv(1, {"ventilation": 1.0}, baseline_aqi=99.0)
    low["aqi"]["q50"] = 150.0
    worst = _drv(2, {"ventilation": 1.0, "humidity": -0.5, "transport": 0.01}, baseline_aqi=99.0)
    worst["aqi"]["q50"] = 399.0
    area = {"days": [low, worst]}
    assert products.driver_reading(area) == "1月3日（第2天）：通风扩散条件差，使AQI升高约150；降水清除或空气干燥，使AQI降低约150。"
    assert products.driver_reading(area, "en") == (
        "3 Jan (day 2): about +150 AQI from poor ventilation and dispersion; about -150 AQI from washout by "
        "precipitation or dry air.")
    assert products.driver_reading(area, lead_day=1, top=1).startswith("1月2日（第1天）：通风扩散条件差，使AQI升高约")


def test_driver_reading_of_small_effects():
    day = _drv(1, {"ventilation": 0.01}, baseline_aqi=99.0)
    day["aqi"]["q50"] = 101.0
    assert products.driver_reading({"days": [day]}) == "1月2日（第1天）：各气象因子影响均较小。"


def test_driver_table():
    t = products.driver_table(AREA)
    assert list(t.columns) == ["时效", "通风扩散", "湿度与降水"] and list(t["时效"]) == ["D1", "D2", "D3"]
    assert all(v.startswith(("+", "-")) for v in t["通风扩散"])  # signed AQI points, integers
    assert "None" not in t.to_string() and "nan" not in t.to_string()


def test_recent_observations_are_the_two_weeks_up_to_the_issue_date():
    daily = _daily(pd.date_range("2024-01-01", "2024-01-31"))
    hist = products.recent_observations(daily, "hohhot", "2024-01-20")
    assert hist.index[0] == pd.Timestamp("2024-01-07") and hist.index[-1] == pd.Timestamp("2024-01-20")
    assert len(hist) == 14 and hist.iloc[-1] == daily.loc[("hohhot", pd.Timestamp("2024-01-20")), "aqi"]


def test_day_one_table():
    table = pd.DataFrame({"area_id": ["b", "a", "a"], "lead": [1, 1, 2], "target_date": pd.Timestamp("2024-01-02"),
                          "aqi_q10": 100.123, "aqi_q50": 150.456, "aqi_q90": 200.789, "p_aqi_gt200": 0.12345,
                          "dust": False, "level": "none", "extra": 1})
    t = products.day_one_table(table, {"a": "甲", "b": "乙"})
    assert list(t["地区"]) == ["甲", "乙"] and list(t.columns) == ["地区", "预报日期", "AQI 10%分位", "AQI 中位数",
                                                                 "AQI 90%分位", "AQI>200 概率", "沙尘", "预警级别"]
    assert t["AQI 中位数"].iloc[0] == "150" and t["AQI>200 概率"].iloc[0] == "12%" and t["预警级别"].iloc[0] == "无预警"


def test_verification_and_score_tables():
    assert products.verification_table({}) is None
    card = {"verification": {"aqi_gt200": [{"lead_day": 1, "ts": 0.4567, "pod": None}]}}
    t = products.verification_table(card)
    assert t.iloc[0].to_dict() == {"时效": "D1", "TS评分": "0.46", "命中率": "—"}
    t = products.scores_table([{"mae": 12.3456, "model": "consultation", "lead_day": 2, "n": 3}], lang="en")
    assert t.iloc[0].to_dict() == {"Mean absolute error": "12.35", "Forecast": "consultation", "Lead": "D2",
                                   "Cases": "3"}


def test_area_names():
    areas = pd.DataFrame({"area_id": ["x"], "name_zh": ["某市"], "name_en": ["Some City"]})
    assert products.area_names(areas) == {"x": "某市"} and products.area_names(areas, "en") == {"x": "Some City"}
    assert products.area_names()["baotou"] == "包头市"
