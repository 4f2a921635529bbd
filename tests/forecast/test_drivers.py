"""Derived drivers: formulas against reference values, and China-Standard-Time day aggregation."""
import numpy as np
import pandas as pd
import pytest

from forecast import drivers


@pytest.mark.parametrize("u, v, want", [(0.0, -5.0, 0.0), (-5.0, 0.0, 90.0), (0.0, 5.0, 180.0), (5.0, 0.0, 270.0),
                                        (-3.0, -3.0, 45.0), (3.0, -3.0, 315.0)])
def test_wind_direction_is_where_the_wind_comes_from(u, v, want):
    assert drivers.wind_direction(u, v) % 360 == pytest.approx(want)
    assert drivers.wind_speed(u, v) == pytest.approx(np.hypot(u, v))


@pytest.mark.parametrize("temp, dew, want", [
    (20.0, 20.0, 100.0),
    # e_s from the Magnus form of Alduchov & Eskridge (1996): e_s(10) = 12.27 hPa, e_s(20) = 23.37 hPa
    (20.0, 10.0, 100 * 12.27 / 23.37),
    (0.0, -10.0, 100 * 2.86 / 6.11),
    (-20.0, -25.0, 100 * 0.807 / 1.254),
])
def test_relative_humidity_reference_values(temp, dew, want):
    assert drivers.relative_humidity(temp, dew) == pytest.approx(want, abs=0.4)


def test_saturation_vapour_pressure_at_zero_is_magnus_constant():
    assert drivers.saturation_vapour_pressure(0.0) == pytest.approx(6.1094)


def test_rh_capped_at_100():
    assert drivers.relative_humidity(5.0, 5.3) == 100.0


def test_ventilation_inversion_hdd():
    assert drivers.ventilation_coefficient(400.0, 2.5) == 1000.0
    assert drivers.inversion_strength(-2.0, -8.0) == 6.0
    np.testing.assert_array_equal(drivers.heating_degree_days([-10.0, 18.0, 25.0]), [28.0, 0.0, 0.0])


def test_stagnation_index_counts_conditions():
    got = drivers.stagnation_index([1.0, 1.0, 5.0, 5.0, np.nan], [0.0, 3.0, 0.0, 5.0, 0.0], [2.0, 2.0, -1.0, -1.0, 1.0])
    np.testing.assert_array_equal(got, [3, 2, 1, 0, 2])
    assert drivers.stagnation_index(3.0, 0.0, 1.0, thresholds={"wind_speed": 2.0}) == 2


def series(times_utc, **cols):
    frame = pd.DataFrame({"area_id": "x", "valid_time": pd.DatetimeIndex(times_utc)})
    for k, v in cols.items():
        frame[k] = v
    return frame


def test_days_are_china_standard_time():
    # 6-hourly UTC samples 2024-01-01 00 … 2024-01-02 18 → CST 08, 14, 20, 02(+1) …
    times = pd.date_range("2023-12-31 18:00", "2024-01-02 12:00", freq="6h")
    temp = np.arange(len(times), dtype=float)
    d = drivers.daily_drivers(series(times, temp_air=temp)).loc["x"]
    # CST 2024-01-01 holds UTC 2023-12-31 18:00 (02 CST) … 2024-01-01 12:00 (20 CST): samples 0, 1, 2, 3
    assert d.loc[pd.Timestamp("2024-01-01").date(), "temp_air"] == pytest.approx(1.5)
    assert d.loc[pd.Timestamp("2024-01-01").date(), "temp_air_max"] == 3
    assert d.loc[pd.Timestamp("2024-01-01").date(), "hdd"] == pytest.approx(16.5)
    assert d.loc[pd.Timestamp("2024-01-02").date(), "temp_air"] == pytest.approx(5.5)
    # the last CST day has 02, 08, 14, 20 → complete; nothing beyond
    assert list(d.index) == [pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-01-02").date()]


def test_incomplete_day_is_missing():
    times = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 03:00"])  # 08 and 11 CST only: spans 3 h
    d = drivers.daily_drivers(series(times, temp_air=[1.0, 2.0])).loc["x"]
    assert np.isnan(d["temp_air"].iloc[0]) and d["n_samples"].iloc[0] == 2


def test_precip_period_ending_at_midnight_belongs_to_the_day_before():
    # periods ending 16:00 UTC = 00:00 CST of 2024-01-02 → 2024-01-01
    times = pd.to_datetime(["2024-01-01 04:00", "2024-01-01 10:00", "2024-01-01 16:00", "2024-01-01 22:00"])
    frame = series(times, temp_air=0.0, precip=[1.0, 2.0, 4.0, 8.0], precip_hours=6.0)
    d = drivers.daily_drivers(frame).loc["x"]
    assert d.loc[pd.Timestamp("2024-01-01").date(), "precip"] == 7.0
    assert d.loc[pd.Timestamp("2024-01-02").date(), "precip"] == 8.0
    assert d.loc[pd.Timestamp("2024-01-01").date(), "precip_hours"] == 18.0


def test_night_minimum_blh_from_previous_evening_to_morning():
    # CST: 01-01 14:00 (day, 50 m ignored), 01-01 20:00 (300), 01-02 02:00 (120), 01-02 08:00 (200), 01-02 14:00 (900)
    times = pd.to_datetime(["2024-01-01 06:00", "2024-01-01 12:00", "2024-01-01 18:00", "2024-01-02 00:00",
                            "2024-01-02 06:00"])
    frame = series(times, blh=[50.0, 300.0, 120.0, 200.0, 900.0])
    d = drivers.daily_drivers(frame).loc["x"]
    assert d.loc[pd.Timestamp("2024-01-02").date(), "blh_night_min"] == 120.0
    # 01-01 20:00 belongs to the night that ends on the morning of 01-02; 01-01's own night has no sample
    assert np.isnan(d.loc[pd.Timestamp("2024-01-01").date(), "blh_night_min"])


def test_derived_drivers_and_stagnation_in_daily_table():
    times = pd.date_range("2023-12-31 18:00", periods=4, freq="6h")
    frame = series(times, temp_air=-5.0, dewpoint=-8.0, wind_u=1.0, wind_v=0.0, blh=200.0, temp_925=-2.0,
                   precip=0.0, precip_hours=6.0)
    d = drivers.daily_drivers(frame).iloc[0]
    assert d["ventilation"] == pytest.approx(200.0)
    assert d["inversion_925_max"] == pytest.approx(3.0)
    assert d["wind_dir"] == pytest.approx(270.0)
    assert d["rh"] == pytest.approx(drivers.relative_humidity(-5.0, -8.0))
    assert d["stagnation"] == 3


def test_lead_days_count_cst_days_from_the_initialisation():
    init = pd.Timestamp("2024-01-01 00:00")  # 08 CST on 01-01
    valid = init + pd.to_timedelta([0, 6, 12, 18, 24, 30, 36, 42, 48], unit="h")
    frame = series(valid, temp_air=np.arange(9.0), precip=[np.nan] + [1.0] * 8, precip_hours=[np.nan] + [6.0] * 8)
    frame["init_time"] = init
    d = drivers.lead_day_drivers(frame).loc[(init, "x")]
    assert list(d.index) == [0, 1, 2]
    assert d.loc[0, "date"] == pd.Timestamp("2024-01-01").date()
    assert d.loc[0, "temp_air"] == pytest.approx(1.0)  # 08, 14, 20 CST
    assert d.loc[1, "temp_air"] == pytest.approx(4.5)  # 02, 08, 14, 20 CST
    assert d.loc[0, "precip"] == 2.0 and d.loc[0, "precip_hours"] == 12.0  # periods ending 14 and 20 CST
    assert np.isnan(d.loc[2, "temp_air"])  # 02 and 08 CST only


def test_empty_input_refused():
    with pytest.raises(ValueError, match="no meteorological series"):
        drivers.daily_drivers(pd.DataFrame(columns=["area_id", "valid_time"]))


def test_hourly_steps_aggregate_like_six_hourly():
    # hourly samples 00:00 CST of 2024-01-01 … 00:00 CST of 01-02 (UTC 2023-12-31 16:00 …): the day holds the
    # instantaneous samples 00 … 23 CST and the precipitation of the hours ending 01 … 24
    times = pd.date_range("2023-12-31 16:00", periods=25, freq="h")
    temp = np.linspace(-10.0, 0.0, 25)
    speed = np.where(np.arange(25) < 6, 1.0, 4.0)  # 6 calm hours (below CALM_WIND_SPEED)
    frame = series(times, temp_air=temp, dewpoint=temp - 3.0, wind_u=speed, wind_v=0.0, pressure=900.0,
                   precip=0.5, precip_hours=1.0)
    day = pd.Timestamp("2024-01-01").date()
    d = drivers.daily_drivers(frame).loc[("x", day)]
    assert d["temp_air"] == pytest.approx(temp[:24].mean()) and d["temp_range"] == pytest.approx(temp[23] - temp[0])
    assert d["calm_hours"] == pytest.approx(6.0) and d["n_samples"] == 24
    assert d["precip"] == pytest.approx(12.0) and d["precip_hours"] == 24.0  # 24 one-hour amounts
    assert d["dewpoint_depression"] == pytest.approx(3.0)
    # the same day sampled 6-hourly (00, 06, 12, 18 CST; 6-h amounts): 1 calm sample of 4 → 6 h, same total
    six = frame.iloc[::6].assign(precip=3.0, precip_hours=6.0)
    d6 = drivers.daily_drivers(six).loc[("x", day)]
    assert d6["precip"] == pytest.approx(12.0) and d6["precip_hours"] == 24.0 and d6["calm_hours"] == 6.0


def test_surface_fields_alone_give_no_column_for_what_they_cannot():
    times = pd.date_range("2023-12-31 18:00", periods=4, freq="6h")
    frame = series(times, temp_air=-5.0, dewpoint=-8.0, wind_u=1.0, wind_v=0.0, pressure=900.0, precip=0.0,
                   precip_hours=6.0)
    d = drivers.daily_drivers(frame)
    assert not {"ventilation", "ventilation_min", "blh", "blh_night_min", "inversion_850_max", "inversion_925_max",
                "stagnation"} & set(d.columns)
    assert {"temp_air", "rh", "dewpoint_depression", "wind_speed", "calm_hours", "hdd", "precip", "pressure",
            "temp_range"} <= set(d.columns)
    # an inversion without precipitation: the stagnation index is left out, not counted on two conditions
    assert "stagnation" not in drivers.daily_drivers(series(times, temp_air=-5.0, wind_u=1.0, wind_v=0.0,
                                                            temp_925=-2.0)).columns


def test_dewpoint_depression():
    np.testing.assert_allclose(drivers.dewpoint_depression([5.0, -10.0], [5.0, -14.5]), [0.0, 4.5])
