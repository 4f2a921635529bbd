"""HJ 663 averaging: validity rules, the natural day, O3 8-h maxima, area means and the NumPy kernels."""
import numpy as np
import pandas as pd
import pytest

from forecast.aqi import DAILY_KEYS, aqi
from forecast import averaging as V
from forecast.qc import quality_control
from tests.forecast._archive import hourly, read_archive, write_archive


@pytest.fixture
def archive(tmp_path):
    return write_archive(tmp_path)


# ------------------------------------------------------------------ validity and the natural day
def test_24h_mean_needs_20_hours():
    day1 = np.arange(24, dtype=float) + 10
    day1[:4] = np.nan  # 20 valid -> valid
    day2 = np.arange(24, dtype=float) + 10
    day2[:5] = np.nan  # 19 valid -> missing
    h = hourly("A", "pm25", "2024-01-01 01:00", np.concatenate([day1, day2]))
    daily = V.station_daily(h)["pm25_24h"]
    assert daily.loc[(pd.Timestamp("2024-01-01"), "A")] == pytest.approx(np.nanmean(day1))
    assert np.isnan(daily.loc[(pd.Timestamp("2024-01-02"), "A")])


def test_day_is_hours_ending_01_to_24():
    values = np.full(24, 10.0)
    h = hourly("A", "pm25", "2024-01-01 01:00", values)  # ends 01:00 … next day 00:00
    daily = V.station_daily(h)["pm25_24h"]
    assert list(daily.index.get_level_values("date")) == [pd.Timestamp("2024-01-01")]


def _brute_o3_8h(values, start):
    """Independent daily max 8-h O3: windows ending 08:00..24:00, each ≥ 6 valid hours, ≥ 14 windows."""
    t = pd.date_range(start, periods=len(values), freq="h")
    s = pd.Series(values, index=t)
    out = {}
    for day in pd.date_range(t[0].floor("D"), t[-1].floor("D")):
        means = []
        for end_hour in range(8, 25):
            end = day + pd.Timedelta(hours=end_hour)
            window = s[(s.index > end - pd.Timedelta(hours=8)) & (s.index <= end)]
            if window.notna().sum() >= 6:
                means.append(window.mean())
        if means and (len(means) >= 14 or max(means) > 160):
            out[day] = max(means)
    return out


def test_o3_daily_max_8h_against_brute_force():
    rng = np.random.default_rng(3)
    values = 60 + 80 * np.sin(np.linspace(0, 6 * np.pi, 72)) ** 2 + rng.uniform(0, 10, 72)
    values[30:34] = np.nan
    values[50:62] = np.nan  # day 3 loses many windows
    h = hourly("A", "o3", "2024-06-01 01:00", values)
    got = V.station_daily(h)["o3_8h"].xs("A", level="station").dropna()
    expected = _brute_o3_8h(values, "2024-06-01 01:00")
    assert set(got.index) == set(expected)
    for day, value in expected.items():
        assert got[day] == pytest.approx(value)


# ------------------------------------------------------------------ area values
def test_area_daily_excludes_background_and_matches_aqi(archive):
    history, _, _, sites = read_archive(archive)
    clean, _ = quality_control(history)
    daily = V.area_daily(clean, sites)
    st = V.station_daily(clean)
    day = pd.Timestamp("2024-01-02")
    hoh = daily[(daily["date"] == day) & (daily["area_id"] == "hohhot")].iloc[0]
    expected = st.loc[(day, ["1001A", "1002A"]), "pm25_24h"].mean()  # 1004A is background
    assert hoh["pm25_24h"] == pytest.approx(expected)
    assert hoh["n_stations"] == 2
    conc = pd.DataFrame([hoh[[k for k in DAILY_KEYS]].astype(float)])
    assert hoh["aqi"] == aqi(conc)["aqi"].iloc[0]


def test_rolling_24h_crosses_days():
    values = np.concatenate([np.full(24, 10.0), np.full(24, 58.0)])
    h = hourly("A", "pm25", "2024-01-01 01:00", values)
    roll = V.station_rolling_24h(h)["pm25_24h"].xs("A", level="station")
    # 24 h ending 2024-01-02 12:00: 12 h of 10 and 12 h of 58
    assert roll[pd.Timestamp("2024-01-02 12:00", tz="Asia/Shanghai")] == pytest.approx(34.0)
    assert np.isnan(roll[pd.Timestamp("2024-01-01 19:00", tz="Asia/Shanghai")])  # 19 hours only


def test_area_rolling_24h_has_aqi(archive):
    history, _, _, sites = read_archive(archive)
    rolling = V.area_rolling_24h(history, sites)
    last = rolling[rolling["time"] == rolling["time"].max()]
    assert set(last["area_id"]) == {"hohhot", "baotou"} and last["aqi"].notna().all()


def test_station_hourly_fills_gaps_with_nan():
    h = hourly("A", "pm25", "2024-01-01 01:00", np.array([1.0, np.nan, np.nan, 4.0]))
    wide = V.station_hourly(h, "pm25")
    assert len(wide) == 4 and wide["A"].isna().sum() == 2
    assert V.station_hourly(h, "o3").empty


# ------------------------------------------------------------------ NumPy kernels
def test_daily_mean_20_hour_rule_by_hand():
    # day 1 (hours ending 2024-01-01 01:00 … 01-02 00:00): 20 valid hours, 10 of 30 and 10 of 60 -> 45
    # day 2: 19 valid hours of 80 -> missing; day 3: 24 valid hours, 12 of 0 and 12 of 12 -> 6
    day1 = np.array([30.0] * 10 + [60.0] * 10 + [np.nan] * 4)
    day2 = np.array([80.0] * 19 + [np.nan] * 5)
    day3 = np.array([0.0] * 12 + [12.0] * 12)
    end_times = pd.date_range("2024-01-01 01:00", periods=72, freq="h")
    days, values = V.daily_mean(np.concatenate([day1, day2, day3]), end_times)
    assert list(days) == list(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]))
    np.testing.assert_array_equal(values, [45.0, np.nan, 6.0])
    # the same day 2 with min_hours=19 is valid
    _, lenient = V.daily_mean(np.concatenate([day1, day2, day3]), end_times, min_hours=19)
    assert lenient[1] == 80.0


def test_daily_mean_absent_hours_count_as_missing_and_any_trailing_shape():
    end_times = pd.date_range("2024-01-01 01:00", periods=24, freq="h")
    keep = np.r_[0:10, 14:24]  # 20 hours present, 4 absent: still valid
    x = np.arange(24.0)[:, None] * np.array([1.0, 2.0])
    days, values = V.daily_mean(x[keep][::-1], end_times[keep][::-1])  # order does not matter
    np.testing.assert_allclose(values, [[x[keep, 0].mean(), x[keep, 1].mean()]])
    _, missing = V.daily_mean(x[keep[1:]], end_times[keep[1:]])  # 19 hours
    assert np.isnan(missing).all()


def test_daily_max_8h_few_windows_valid_only_above_limit_by_hand():
    # one day, only hours ending 08:00 … 15:00 present: 1 full window (ending 15:00) and windows ending 13:00 and
    # 14:00 with 6 and 7 hours -> 3 valid 8-h means, fewer than 14
    end_times = pd.date_range("2024-06-01 08:00", periods=8, freq="h")
    low = np.full(8, 150.0)
    days, values = V.daily_max_8h(low, end_times)
    assert list(days) == [pd.Timestamp("2024-06-01")] and np.isnan(values[0])
    high = np.full(8, 170.0)  # above 160 µg m⁻³: the day exceeds whatever the missing windows held
    _, values = V.daily_max_8h(high, end_times)
    assert values[0] == 170.0
    _, values = V.daily_max_8h(low, end_times, min_windows=3)
    assert values[0] == 150.0


def test_daily_max_8h_ignores_windows_ending_before_08():
    end_times = pd.date_range("2024-06-01 01:00", periods=24, freq="h")
    x = np.full(24, 50.0)
    x[:7] = 300.0  # hours ending 01:00 … 07:00: only in windows ending 08:00 … 14:00 (at most 7 of 8 hours)
    _, values = V.daily_max_8h(x, end_times)
    assert values[0] == pytest.approx((7 * 300 + 50) / 8)  # the window ending 08:00


def _station_history(seed):
    """A small random station history with scattered and long gaps, on ragged periods per station."""
    rng = np.random.default_rng(seed)
    rows = []
    for station in ("A", "B", "C"):
        start = pd.Timestamp("2024-06-01 00:00") + pd.Timedelta(hours=int(rng.integers(0, 30)))
        n = int(rng.integers(60, 24 * 10))
        t = pd.date_range(start, periods=n, freq="h", tz="Asia/Shanghai")
        for pollutant, scale in (("pm25", 60.0), ("o3", 180.0)):
            v = rng.gamma(2.0, scale / 2, n)
            missing = rng.uniform(size=n) < rng.uniform(0, 0.4)
            gap = int(rng.integers(0, n))
            missing[gap:gap + int(rng.integers(0, 30))] = True
            rows.append(pd.DataFrame({"time": t[~missing], "station": station, "pollutant": pollutant,
                                      "value": v[~missing]}))
    return pd.concat(rows, ignore_index=True)


def _pandas_reference(history):
    """Daily values from pandas groupby / rolling alone (the rules written out independently of the kernels)."""
    out = {}
    for pollutant in ("pm25", "o3"):
        sub = history[history["pollutant"] == pollutant]
        wide = sub.pivot(index="time", columns="station", values="value")
        wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max(), freq="h"))
        day = (wide.index - pd.Timedelta(hours=1)).tz_localize(None).floor("D")
        if pollutant == "pm25":
            g = wide.groupby(day)
            out["pm25_24h"] = g.mean().where(g.count() >= 20)
        else:
            run8 = wide.rolling(8, min_periods=6).mean()
            run8 = run8[(run8.index - pd.Timedelta(hours=1)).hour >= 7]
            g = run8.groupby(day[(wide.index - pd.Timedelta(hours=1)).hour >= 7])
            mx, n = g.max(), g.count()
            out["o3_8h"] = mx.where((n >= 14) | (mx > 160))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernels_agree_with_pandas_functions(seed):
    history = _station_history(seed)
    reference = _pandas_reference(history)
    daily = V.station_daily(history)
    for key, kernel in (("pm25_24h", V.daily_mean), ("o3_8h", V.daily_max_8h)):
        wide = V.station_hourly(history, key[:-4] if key == "pm25_24h" else "o3")
        days, values = kernel(wide.to_numpy(), wide.index)
        ref = reference[key]
        got = pd.DataFrame(values, index=days, columns=wide.columns).reindex(ref.index)
        pd.testing.assert_frame_equal(got, ref, check_names=False, check_freq=False, rtol=1e-12)
        from_table = daily[key].unstack("station").reindex(index=ref.index, columns=ref.columns)
        pd.testing.assert_frame_equal(from_table, ref, check_names=False, check_freq=False, rtol=1e-12)
    assert daily["pm25_24h"].notna().any() and daily["o3_8h"].notna().any() and daily["o3_8h"].isna().any()


@pytest.mark.parametrize("kernel,kwargs,match", [
    (V.daily_mean, {"end_times": pd.date_range("2024-01-01", periods=3, freq="h")}, "has 3 times but hourly has 4"),
    (V.daily_mean, {"end_times": pd.date_range("2024-01-01 00:30", periods=4, freq="h")}, "whole hours"),
    (V.daily_mean, {"end_times": pd.DatetimeIndex(["2024-01-01 01:00"] * 2 + ["2024-01-01 02:00"] * 2)},
     "duplicates"),
    (V.daily_mean, {"min_hours": 25}, r"min_hours must be an integer in 1 … 24; got 25"),
    (V.daily_max_8h, {"min_hours_8h": 9}, r"min_hours_8h must be an integer in 1 … 8"),
    (V.daily_max_8h, {"min_windows": 0}, r"min_windows must be an integer in 1 … 17"),
])
def test_kernel_errors_name_the_bad_value(kernel, kwargs, match):
    args = {"end_times": pd.date_range("2024-01-01 01:00", periods=4, freq="h"), **kwargs}
    with pytest.raises(ValueError, match=match):
        kernel(np.ones(4), **args)


def test_kernels_accept_tz_aware_times_as_cst():
    naive = pd.date_range("2024-01-01 01:00", periods=24, freq="h")
    x = np.arange(24.0)
    days_naive, v_naive = V.daily_mean(x, naive)
    days_utc, v_utc = V.daily_mean(x, naive.tz_localize("Asia/Shanghai").tz_convert("UTC"))
    assert list(days_naive) == list(days_utc) and np.array_equal(v_naive, v_utc)


# ------------------------------------------------------------------ archives as they come
def test_pm25_only_archive_daily_aqi_is_the_pm25_iaqi_and_partial(tmp_path):
    from tests.forecast._archive import write_constant_archive

    # hohhot: 1001A 80, 1002A 120 (1004A, background, 300 is left out) -> mean 100; baotou: its one station 40
    archive = write_constant_archive(tmp_path, {"1001A": 80.0, "1002A": 120.0, "1003A": 40.0, "1004A": 300.0})
    history, _, _, sites = read_archive(archive)
    daily = V.area_daily(history, sites).set_index(["date", "area_id"])
    day = daily.loc[pd.Timestamp("2024-01-02")]
    # HJ 633-2012 Table 1, PM2.5 24 h: 100 -> 100 + 25 * 50 / 40 = 131.25 -> 132; 40 -> 50 + 5 * 50 / 40 = 56.25 -> 57
    assert day.loc["hohhot", "aqi"] == 132 and day.loc["baotou", "aqi"] == 57
    assert day.loc["hohhot", "pm25_24h"] == 100.0 and day.loc["baotou", "pm25_24h"] == 40.0
    assert day.loc["baotou", "n_stations"] == 1  # a single-station area is an area like any other
    assert day["aqi_partial"].all() and set(day["aqi_pollutants"]) == {"PM2.5"}
    assert "pm10_24h" not in daily.columns
    assert np.isnan(daily.loc[(pd.Timestamp("2023-12-31"), "hohhot"), "aqi"])  # 1 hour: no day, no AQI
    rolling = V.area_rolling_24h(history, sites)
    assert rolling["aqi_partial"][rolling["aqi"].notna()].all()


def test_full_archive_days_are_not_partial(archive):
    history, _, _, sites = read_archive(archive)
    daily = V.area_daily(history, sites)
    full = daily[daily["date"] == pd.Timestamp("2024-01-02")]
    assert not full["aqi_partial"].any() and set(full["aqi_pollutants"]) == {"PM2.5,PM10,SO2,NO2,CO,O3"}


def test_station_hourly_keeps_the_first_valid_value_of_a_duplicated_hour():
    """As ``pivot_table(aggfunc="first")`` did: the first non-missing value of a (time, station) wins, a NaN row does
    not count, hours without a value are NaN rows, stations sorted."""
    from tests.forecast._archive import tidy

    history = tidy([("2024-01-01 01:00", "B", "pm25", np.nan), ("2024-01-01 01:00", "B", "pm25", 30.0),
                    ("2024-01-01 01:00", "B", "pm25", 31.0), ("2024-01-01 03:00", "A", "pm25", 10.0),
                    ("2024-01-01 01:00", "A", "pm25", 12.0), ("2024-01-01 02:00", "A", "o3", 99.0)])
    wide = V.station_hourly(history, "pm25")
    assert list(wide.columns) == ["A", "B"] and len(wide) == 3
    np.testing.assert_array_equal(wide["A"].to_numpy(), [12.0, np.nan, 10.0])
    np.testing.assert_array_equal(wide["B"].to_numpy(), [30.0, np.nan, np.nan])
