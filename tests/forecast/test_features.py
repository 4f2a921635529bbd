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
