"""Features: nothing observed after the issue time, calendar facts, meteorology source."""
import numpy as np
import pandas as pd
import pytest

from forecast import aqi as aqi_mod
from forecast import features as F


def truncated_inputs(inputs, issue: pd.Timestamp):
    """What was known at the issue time: observations up to 16:00 CST, runs initialised up to that day."""
    t_issue = (issue + pd.Timedelta(hours=F.ISSUE_HOUR)).tz_localize(F.TZ)
    obs = inputs.obs
    daily = obs.daily[obs.daily.index.get_level_values("date") < issue]
    hourly = {p: h[h.index <= t_issue] for p, h in obs.hourly.items()}
    rolling = obs.rolling[obs.rolling.index <= t_issue]
    lead = inputs.met_lead.reset_index()
    lead = lead[lead["init_time"] <= issue].set_index(["init_time", "area_id", "lead_day"])
    md = inputs.met_daily.reset_index()
    md = md[pd.to_datetime(md["date"]) < issue].set_index(["area_id", "date"])
    return F.Observations(daily, hourly, rolling), md, lead


def test_no_feature_uses_data_after_the_issue_time(winter_inputs):
    issue = pd.Timestamp("2023-12-14")
    clim = F.climatology(winter_inputs.obs.daily, until="2023-12-10")
    full = F.make_features(winter_inputs.obs, winter_inputs.met_daily, winter_inputs.met_lead, [issue], clim=clim)
    obs_t, md_t, lead_t = truncated_inputs(winter_inputs, issue)
    # features from the truncated inputs (the future removed) must equal those from the full inputs
    cut = F.make_features(obs_t, md_t, lead_t, [issue], clim=clim, with_targets=False)
    cols = [c for c in cut.columns if c not in ("y_aqi", "y_pm25", "y_pm10", "y_dust")]
    pd.testing.assert_frame_equal(full[cols].reset_index(drop=True), cut[cols].reset_index(drop=True),
                                  check_dtype=False)
    assert (full["met_source"] == "forecast").all()
    # a 168-h run ends at 08:00 CST of lead day 7: that day's aggregates are missing, the others complete
    assert full["aqi_now"].notna().mean() > 0.9 and full.loc[full["lead"] <= 6, "met_ventilation"].notna().all()
    assert full.loc[full["lead"] == 7, "met_ventilation"].isna().all()


def test_future_observations_change_targets_only(winter_inputs):
    issue = pd.Timestamp("2023-12-14")
    clim = F.climatology(winter_inputs.obs.daily, until="2023-12-10")
    obs = winter_inputs.obs
    spoiled_daily = obs.daily.copy()
    spoiled_daily.loc[spoiled_daily.index.get_level_values("date") >= issue, "aqi"] = 999.0
    spoiled = F.Observations(spoiled_daily, obs.hourly, obs.rolling)
    a = F.make_features(obs, winter_inputs.met_daily, winter_inputs.met_lead, [issue], clim=clim)
    b = F.make_features(spoiled, winter_inputs.met_daily, winter_inputs.met_lead, [issue], clim=clim)
    assert (b["y_aqi"] == 999).all()
    pd.testing.assert_frame_equal(a.drop(columns=["y_aqi"]), b.drop(columns=["y_aqi"]))


def test_lead_days_and_targets_align(winter_inputs):
    issue = pd.Timestamp("2023-12-10")
    clim = F.climatology(winter_inputs.obs.daily)
    f = F.make_features(winter_inputs.obs, winter_inputs.met_daily, winter_inputs.met_lead, [issue], clim=clim)
    row = f[(f["area_id"] == "baotou") & (f["lead"] == 2)].iloc[0]
    assert row["target_date"] == pd.Timestamp("2023-12-12")
    assert row["y_aqi"] == winter_inputs.obs.daily.loc[("baotou", pd.Timestamp("2023-12-12")), "aqi"]
    assert row["aqi_d1"] == winter_inputs.obs.daily.loc[("baotou", pd.Timestamp("2023-12-09")), "aqi"]
    assert row["aqi_now"] == winter_inputs.obs.rolling.loc[pd.Timestamp("2023-12-10 16:00", tz=F.TZ), "baotou"]


def test_analysis_fallback_when_no_run(winter_inputs):
    clim = F.climatology(winter_inputs.obs.daily)
    f = F.make_features(winter_inputs.obs, winter_inputs.met_daily, winter_inputs.met_lead.iloc[:0],
                        [pd.Timestamp("2023-12-10")], clim=clim)
    assert (f["met_source"] == "analysis").all() and f["met_ventilation"].notna().mean() > 0.9
    with pytest.raises(F.FeatureError, match="no meteorological drivers"):
        F.make_features(winter_inputs.obs, None, None, [pd.Timestamp("2023-12-10")], clim=clim)


@pytest.mark.parametrize("date, area, want", [("2024-01-10", "hohhot", 1), ("2024-07-10", "hohhot", 0),
                                              ("2024-10-01", "hohhot", 0), ("2024-10-01", "hulunbuir", 1),
                                              ("2024-04-20", "hulunbuir", 1), ("2024-04-20", "baotou", 0)])
def test_heating_season(date, area, want):
    assert F.heating_season(pd.Series([pd.Timestamp(date)]), pd.Series([area]))[0] == want


def test_days_from_spring_festival():
    got = F.days_from_spring_festival(pd.Series(pd.to_datetime(["2024-02-10", "2024-02-01", "2025-02-03"])))
    np.testing.assert_array_equal(got, [0, -9, 5])


def test_fireworks_hours():
    # 2024: Spring Festival 10 Feb → 除夕 9 Feb 19:00–03:00, 元宵 24 Feb 19:00–03:00 (CST)
    days = pd.Series(pd.to_datetime(["2024-02-08", "2024-02-09", "2024-02-10", "2024-02-11", "2024-02-24",
                                     "2024-02-25", "2024-12-31"]))
    np.testing.assert_array_equal(F.fireworks_hours(days, "eve"), [0, 5, 3, 0, 0, 0, 0])
    np.testing.assert_array_equal(F.fireworks_hours(days, "lantern"), [0, 0, 0, 0, 5, 3, 0])
    with pytest.raises(F.FeatureError, match="unknown fireworks night 'mid_autumn'; allowed: eve, lantern"):
        F.fireworks_hours(days, "mid_autumn")
    cal = F.calendar_features(pd.DataFrame({"target_date": days, "area_id": "hohhot"}))
    assert cal["cal_fireworks_eve"].sum() == 8 and cal["cal_fireworks_lantern"].sum() == 8


def test_dust_dominated_definition():
    d = pd.DataFrame({"pm25_24h": [60.0, 200.0, 30.0], "pm10_24h": [400.0, 260.0, 90.0], "aqi": [250.0, 250.0, 70.0]})
    assert aqi_mod.dust_dominated(d).tolist() == [True, False, False]


def test_families_cover_every_feature(winter_model):
    from forecast.model import Forecaster

    m = Forecaster.load(winter_model)
    assert all(F.family_of(f) != "other" for f in m.features)


def test_transport_features_weight_the_upwind_areas():
    table = pd.DataFrame({"area_id": ["w", "m", "e"], "tier": "city", "seat_lon": [100.0, 102.0, 104.0],
                          "seat_lat": 40.0})
    day = pd.Timestamp("2024-01-10")
    frame = pd.DataFrame({"area_id": ["w", "m", "e"], "issue_date": day, "lead": 1, "pm25_now": [100.0, 50.0, 10.0],
                          "met_wind_u": 5.0, "met_wind_v": 0.0})
    out = F.transport_features(frame, table)
    assert np.isnan(out.loc[0, "tr_up_pm25"]) and out.loc[0, "tr_up_weight"] == 0  # nobody west of "w"
    assert out.loc[1, "tr_up_pm25"] == pytest.approx(100.0)
    d = 6371.0 * np.deg2rad(2.0) * np.cos(np.deg2rad(40.0))  # 2° of longitude at 40°N [km]
    w_m, w_w = np.exp(-d / 400), np.exp(-2 * d / 400)
    assert out.loc[2, "tr_up_pm25"] == pytest.approx((50 * w_m + 100 * w_w) / (w_m + w_w), rel=1e-6)
    assert np.allclose(out["tr_region_pm25"], np.mean([100, 50, 10]))
    east = F.transport_features(frame.assign(met_wind_u=-5.0), table)  # the wind turns: now "e" is upwind
    assert east.loc[1, "tr_up_pm25"] == pytest.approx(10.0) and np.isnan(east.loc[2, "tr_up_pm25"])
    calm = F.transport_features(frame.assign(met_wind_u=0.0), table)
    assert calm["tr_up_weight"].eq(0).all()


def surface_daily(areas=("baotou",), days=("2024-01-09", "2024-01-10", "2024-01-11"), **extra):
    """Daily drivers as forecast/drivers.py gives them from surface fields alone (plus ``extra`` columns)."""
    idx = pd.MultiIndex.from_product([list(areas), pd.to_datetime(list(days)).date], names=["area_id", "date"])
    cols = {"temp_air": -8.0, "temp_air_max": -2.0, "dewpoint": -12.0, "rh": 70.0, "wind_speed": 2.0,
            "wind_u": 1.0, "wind_v": 1.0, "pressure": 900.0, "precip": 0.0, "hdd": 26.0, **extra}
    return pd.DataFrame(cols, index=idx)


def test_missing_drivers_of_surface_fields_name_the_reason():
    got = F.missing_drivers(surface_daily(), None)
    assert list(got) == ["blh", "blh_min", "blh_night_min", "ventilation", "ventilation_min", "inversion_850_max",
                         "inversion_925_max", "stagnation"]
    assert got["ventilation"] == "no boundary-layer height (blh) in the meteorology"
    assert got["stagnation"] == ("no 850-hPa temperature (temp_850) or 925-hPa temperature (temp_925) in the "
                                 "meteorology")
    message = F.missing_drivers_message(got)
    assert message.startswith("meteorological drivers left out of the features, listed in the model card's "
                              "met_missing: blh, blh_min, blh_night_min, ventilation, ventilation_min (no "
                              "boundary-layer height (blh) in the meteorology); inversion_850_max")
    # with BLH and 925 hPa everything but the 850-hPa inversion can be computed
    full = surface_daily(blh=300.0, blh_min=100.0, blh_night_min=80.0, ventilation=600.0, ventilation_min=100.0,
                         temp_925=-5.0, inversion_925_max=3.0, stagnation=2)
    assert F.missing_drivers(full, None) == {"inversion_850_max": "no 850-hPa temperature (temp_850) in the "
                                                                  "meteorology"}
    # no precipitation: precip and the stagnation index; a variable present but never valued counts as absent
    dry = surface_daily(precip=np.nan)
    assert {"precip", "stagnation"} <= set(F.missing_drivers(dry, None))


def test_missing_drivers_in_the_rows():
    """A variable the analyses have but the rows never get (e.g. only the runs are used and lack it)."""
    frame = pd.DataFrame({"met_temp_air": [1.0], "met_blh": [np.nan]})
    daily = surface_daily(blh=300.0)
    assert F.missing_drivers(daily, None, frame)["blh"].startswith("no value in the rows")


def test_surface_meteorology_gives_no_nan_columns():
    issue = pd.Timestamp("2024-01-09")
    pairs = pd.DataFrame({"area_id": "baotou", "issue_date": issue, "lead": [1, 2]})
    met = F.meteorology_features(pairs, surface_daily(), None)
    assert (met["met_source"] == "analysis").all()
    assert not [c for c in met.columns if c.startswith(("met_blh", "met_ventilation", "met_inversion",
                                                        "met_stagnation"))]
    assert met.loc[met["lead"] == 1, "met_temp_air"].iloc[0] == -8.0
    # mean-sea-level pressure stands in for a surface pressure the data lack
    msl = surface_daily().drop(columns="pressure").assign(pressure_msl=1030.0)
    assert F.meteorology_features(pairs, msl, None)["met_pressure"].eq(1030.0).all()
    assert "pressure" not in F.missing_drivers(msl, None)


def months_of(values: dict, area="hohhot") -> pd.DataFrame:
    """Daily observations: ``values`` month → AQI of every day of that month in 2024."""
    rows = [(area, d, aqi, aqi * 0.6) for m, aqi in values.items()
            for d in pd.date_range(f"2024-{m:02d}-01", periods=28, freq="D")]
    return pd.DataFrame(rows, columns=["area_id", "date", "aqi", "pm25_24h"]).set_index(["area_id", "date"])


def test_climatology_fills_unseen_months_from_the_nearest_of_the_same_heating_state():
    # eight months of history, March–October: the heating months Nov–Feb take March or October (heating),
    # never the summer months next to them
    clim = F.climatology(months_of({m: 10.0 * m for m in range(3, 11)}))
    assert len(clim) == 12 and clim[list(F.CLIM_STATS)].notna().all().all()
    got = clim.loc["hohhot"]
    assert got.loc[12, "clim_aqi"] == 100.0 and got.loc[12, "clim_months"] == "10" and got.loc[12, "clim_n"] == 0
    assert got.loc[11, "clim_months"] == "10" and got.loc[1, "clim_months"] == "3" and got.loc[2, "clim_months"] == "3"
    assert got.loc[7, "clim_n"] == 28 and got.loc[7, "clim_months"] == "7"
    # equidistant months are averaged
    tie = F.climatology(months_of({10: 100.0, 2: 300.0})).loc["hohhot"]
    assert tie.loc[12, "clim_aqi"] == 200.0 and tie.loc[12, "clim_months"] == "2,10"
    # a region whose heating season is different: its own calendar decides
    cal = {**F.calendar_facts(), "heating_season": {"default": {"start": "12-01", "end": "01-31"}}}
    assert F.climatology(months_of({1: 300.0, 10: 50.0}), calendar=cal).loc[("hohhot", 11), "clim_months"] == "10"
    assert F.climatology(months_of({1: 300.0, 10: 50.0}), calendar=cal).loc[("hohhot", 12), "clim_months"] == "1"


def test_complete_climatology_of_an_older_model():
    old = F.climatology(months_of({1: 200.0}))
    old = old[old["clim_n"] > 0].drop(columns="clim_months")
    done = F.complete_climatology(old)
    assert len(done) == 12 and (done["clim_aqi"] == 200.0).all() and done.loc[("hohhot", 1), "clim_months"] == "1"


def test_unseen_months_in_order_of_occurrence():
    dates = pd.date_range("2024-11-20", "2025-02-05", freq="D")
    assert F.unseen_months(range(3, 11), dates) == [11, 12, 1, 2]
    assert F.unseen_months([11, 12, 1, 2], dates) == []


@pytest.mark.parametrize("sources, want", [(["analysis"] * 3, "analysis"), (["forecast"], "forecast"),
                                           (["forecast", "analysis"], "forecast and analysis")])
def test_met_source_label(sources, want):
    assert F.met_source_label(pd.Series(sources)) == want


def _runs(values: dict) -> pd.DataFrame:
    """Forecast-run drivers: ``values`` (init day, lead day) → (ventilation [m² s⁻¹], stagnation) for baotou,
    00 UTC runs."""
    rows = [(pd.Timestamp(day), "baotou", lead, v, s) for (day, lead), (v, s) in values.items()]
    return pd.DataFrame(rows, columns=["init_time", "area_id", "lead_day", "ventilation", "stagnation"]) \
        .set_index(["init_time", "area_id", "lead_day"])


def test_lagged_run_pair_mean_and_change():
    # target 12 Jan: the run of 10 Jan (issue day, lead 2) says ventilation 100, stagnation 3; the run of 9 Jan
    # (lead 3) said 1000 and 1; target 11 Jan has no run of 9 Jan covering it as lead 2 → NaN
    runs = _runs({("2024-01-10", 2): (100.0, 3.0), ("2024-01-09", 3): (1000.0, 1.0), ("2024-01-10", 1): (50.0, 2.0),
                  ("2024-01-10 12:00", 2): (7.0, 7.0)})  # a 12 UTC run: not the issue run, ignored
    pairs = pd.DataFrame({"area_id": "baotou", "issue_date": pd.Timestamp("2024-01-10"), "lead": [1, 2]})
    f = F.lagged_run_features(pairs, runs)
    assert list(f.index) == list(pairs.index)
    two = f.iloc[1]
    assert two["met_ventilation_lag2"] == pytest.approx(2.5)  # mean of log10 100 and log10 1000
    assert two["met_ventilation_r2r"] == pytest.approx(-1.0)  # today's run is one decade less ventilated
    assert two["met_stagnation_lag2"] == 2.0 and two["met_stagnation_r2r"] == 2.0
    assert f.iloc[0].isna().all()  # lead 1: no run of 9 Jan for it
    assert set(f.columns) == {"met_ventilation_lag2", "met_ventilation_r2r", "met_stagnation_lag2",
                              "met_stagnation_r2r"}  # drivers the runs lack (BLH, wind, RH) get no columns
    assert F.lagged_run_features(pairs, None).columns.empty
    assert F.lagged_run_features(pairs, runs.iloc[:0]).columns.empty
    assert all(F.family_of(c) in ("ventilation", "inversion") for c in f.columns)


def test_lagged_run_features_in_the_table(winter_inputs):
    clim = F.climatology(winter_inputs.obs.daily)
    f = F.make_features(winter_inputs.obs, winter_inputs.met_daily, winter_inputs.met_lead,
                        [pd.Timestamp("2023-12-14")], clim=clim)
    assert {f"met_{v}_lag2" for v in F.LAGGED_VARS} <= set(f.columns)
    # lead days 1–5 have both runs (lead day 7 of today's run ends at 08:00: its day is incomplete)
    assert f.loc[f["lead"] <= 5, "met_ventilation_r2r"].notna().all()
    no_run = F.make_features(winter_inputs.obs, winter_inputs.met_daily, winter_inputs.met_lead.iloc[:0],
                             [pd.Timestamp("2023-12-14")], clim=clim)
    assert not [c for c in no_run.columns if c.endswith(F.RUN_PAIR_SUFFIXES)]


def test_a_model_with_run_pair_features_forecasts_from_analyses_alone(winter_model, winter_inputs):
    from forecast.model import Forecaster

    m = Forecaster.load(winter_model)
    assert any(c.endswith(F.RUN_PAIR_SUFFIXES) for c in m.features)
    clim = F.climatology(winter_inputs.obs.daily, until="2023-12-20")
    frame = F.make_features(winter_inputs.obs, winter_inputs.met_daily, None, [pd.Timestamp("2023-12-22")],
                            clim=clim, areas=m.areas)
    X = m.matrix(frame)  # no forecast runs at all: those features are NaN, not an error
    assert X[[c for c in m.features if c.endswith("_r2r")]].isna().all().all()
    assert len(m.predict(frame)) == len(frame)


def test_a_missing_run_of_the_day_before_is_said(winter_model, winter_inputs):
    from forecast import forecasting as FC
    from forecast.model import Forecaster

    m = Forecaster.load(winter_model)
    clim = F.climatology(winter_inputs.obs.daily, until="2023-12-20")
    issue = pd.Timestamp("2023-12-22")
    full = F.make_features(winter_inputs.obs, winter_inputs.met_daily, winter_inputs.met_lead, [issue], clim=clim,
                           areas=m.areas)
    assert not [w for w in FC.forecast_warnings(m, full) if "day before the issue date" in w]
    runs = winter_inputs.met_lead
    init = runs.index.get_level_values("init_time")
    gap = runs[(init + pd.Timedelta(hours=8)).normalize() != issue - pd.Timedelta(days=1)]  # yesterday's run lost
    frame = F.make_features(winter_inputs.obs, winter_inputs.met_daily, gap, [issue], clim=clim, areas=m.areas)
    assert (frame["met_source"] == "forecast").all()  # today's run is there
    said = [w for w in FC.forecast_warnings(m, frame) if "day before the issue date is missing" in w]
    assert len(said) == 1 and "issue day's run alone" in said[0]
