"""Area observations from the station history (forecast.features: Observations, area_hourly, observations) for
archives as they come: PM2.5 alone, a single-station area, an empty history."""
import numpy as np
import pandas as pd
import pytest

from forecast import features as F
from forecast.qc import quality_control
from tests.forecast._archive import read_archive, write_archive, write_constant_archive


@pytest.fixture
def pm25_only(tmp_path):
    # hohhot: 1001A 80, 1002A 120 (1004A is a background station) -> 100; baotou: one station, 40
    archive = write_constant_archive(tmp_path, {"1001A": 80.0, "1002A": 120.0, "1003A": 40.0, "1004A": 300.0})
    history, _, _, sites = read_archive(archive)
    return quality_control(history)[0], sites


def test_pm25_only_archive_gives_partial_aqi_and_no_dust(pm25_only):
    obs = F.observations(*pm25_only)
    day = obs.daily.xs(pd.Timestamp("2024-01-02"), level="date")
    # HJ 633-2012 Table 1, PM2.5 24 h: 100 -> 131.25 -> 132; 40 -> 56.25 -> 57
    assert day.loc["hohhot", "aqi"] == 132 and day.loc["baotou", "aqi"] == 57
    assert day["aqi_partial"].all() and set(day["aqi_pollutants"]) == {"PM2.5"}
    assert day["pm10_24h"].isna().all() and not obs.daily["dust"].any()
    assert obs.pollutants == ("pm25",) and obs.missing_pollutants == ("pm10", "so2", "no2", "co", "o3")
    # the PM10 frame the features read exists, on the PM2.5 hours, all NaN
    assert obs.hourly["pm10"].shape == obs.hourly["pm25"].shape and obs.hourly["pm10"].isna().all().all()
    assert list(obs.hourly["pm10"].columns) == ["baotou", "hohhot"]


def test_pm25_only_archive_gives_issue_state_and_features(pm25_only):
    obs = F.observations(*pm25_only)
    state = F.issue_state(obs, ["2024-01-03"])
    # the rolling 24 h ending 2024-01-03 16:00 at Baotou's single station: 40 µg/m³ -> IAQI 57
    assert state.loc[("baotou", pd.Timestamp("2024-01-03")), "aqi_now"] == 57
    assert state.loc[("baotou", pd.Timestamp("2024-01-03")), "pm25_now"] == pytest.approx(40.0)
    assert np.isnan(state.loc[("baotou", pd.Timestamp("2024-01-03")), "pm10_now"])


def test_single_station_area_takes_its_station(tmp_path):
    history, _, _, sites = read_archive(write_archive(tmp_path))
    obs = F.observations(history, sites)
    station = history[(history["station"] == "1003A") & (history["pollutant"] == "pm25")].set_index("time")["value"]
    hourly = obs.hourly["pm25"]["baotou"].dropna()
    pd.testing.assert_series_equal(hourly, station.reindex(hourly.index), check_names=False)
    assert (obs.daily.xs("baotou", level="area_id")["n_stations"].max()) == 1
    assert not obs.daily.xs(pd.Timestamp("2024-01-02"), level="date")["aqi_partial"].any()


def test_empty_history_names_the_stations_expected(pm25_only):
    history, sites = pm25_only
    with pytest.raises(F.FeatureError, match=r"no station observations: the station history holds no value of "
                                             r"the 4 station\(s\) of the areas baotou, hohhot"):
        F.observations(history.iloc[:0], sites)


def test_area_hourly_of_a_species_not_measured_is_empty(pm25_only):
    assert F.area_hourly(*pm25_only, "o3").empty
