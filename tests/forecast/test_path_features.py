"""Path features: accumulation from the issue day to the target day, on hand-made daily drivers (values by hand)."""
import numpy as np
import pandas as pd
import pytest

from forecast import features as F

ISSUE = pd.Timestamp("2024-01-10")
NAN = np.nan
# analyses of the six days before the issue day (offsets −6 … −1): a front (5 m/s) six days before, then calm
PAST = {"ventilation": [5000.0, 800, 800, 600, 600, 600], "rh": [40.0, 60, 60, 70, 70, 70],
        "wind_speed": [5.0, 2, 2, 1, 1, 1], "precip": [3.0, 0, 0, 0, 0, 0], "stagnation": [1.0, 3, 3, 2, 3, 3]}
# the 00 UTC run of the issue day, lead days 0 … 7 (a 168-h run: day 7 has no daily means, only precipitation)
RUN = {"ventilation": [1000.0, 100, 10000, 1000, 1000, 1000, 1000, NAN],
       "rh": [55.0, 90, 72.5, 55, 55, 55, 55, NAN],
       "wind_speed": [2.0, 3, 6, 2, 1, 1, 1, NAN],
       "precip": [0.5, 1.0, 2.0, 0, 0, 0, 0, 0.25],
       "stagnation": [3.0, 3, 1, 3, 3, 3, 3, NAN]}


def met_tables(with_run: bool = True, future_analysis: float = 0.0):
    """Analyses of days −6 … +7 (the days from the issue day on hold ``future_analysis``) and the run of ISSUE."""
    dates = pd.date_range(ISSUE - pd.Timedelta(days=6), ISSUE + pd.Timedelta(days=7)).date
    daily = pd.DataFrame({v: PAST[v] + [future_analysis] * 8 for v in PAST},
                         index=pd.MultiIndex.from_product([["a"], dates], names=["area_id", "date"]))
    init = ISSUE  # 00 UTC (naive) = 08:00 CST of the issue day
    lead = pd.DataFrame(RUN, index=pd.MultiIndex.from_product([[init], ["a"], range(8)],
                                                               names=["init_time", "area_id", "lead_day"]))
    return daily, (lead if with_run else lead.iloc[:0])


def frame(leads=(1, 2, 3, 7)):
    return pd.DataFrame({"area_id": "a", "issue_date": ISSUE, "lead": list(leads)})


def test_daily_path_takes_the_past_from_the_analyses_and_the_rest_from_the_run():
    daily, lead = met_tables()
    pairs = frame()[["area_id", "issue_date"]].drop_duplicates()
    path = F.daily_path(pairs, daily, lead, "wind_speed")
    assert path.shape == (1, F.PATH_PAST_DAYS + 1 + 7)
    np.testing.assert_array_equal(path[0], [5, 2, 2, 1, 1, 1, 2, 3, 6, 2, 1, 1, 1, NAN])
    # no run of the issue date: the analyses of those days ("perfect prog", as the target-day meteorology)
    no_run = F.daily_path(pairs, daily, lead.iloc[:0], "wind_speed")
    np.testing.assert_array_equal(no_run[0], [5, 2, 2, 1, 1, 1] + [0.0] * 8)


def test_path_features_by_hand():
    daily, lead = met_tables()
    out = F.path_features(frame(), daily, lead)
    lead1, lead2, lead3, lead7 = (out.iloc[i] for i in range(4))
    # lead 1: issue day and day 1
    assert lead1["path_vent_log"] == pytest.approx((3 + 2) / 2)  # log10 1000, log10 100
    assert lead1["path_rh_excess"] == pytest.approx((0 + 1) / 2)  # (55 − 55)/35, (90 − 55)/35
    assert lead1["path_wind_max"] == 3 and lead1["path_precip"] == 1.0  # day 1 only
    assert lead1["path_stagnant_days"] == 4  # days 1, 0, −1, −2 stagnant; −3 is not
    assert lead1["path_days_since_front"] == 7  # the 5-m/s day six days before the issue day
    # lead 2: a front on the target day itself
    assert lead2["path_vent_log"] == pytest.approx(3.0) and lead2["path_rh_excess"] == pytest.approx(0.5)
    assert lead2["path_wind_max"] == 6 and lead2["path_precip"] == 3.0
    assert lead2["path_stagnant_days"] == 0 and lead2["path_days_since_front"] == 0
    # lead 3: one stagnant day after the front
    assert lead3["path_stagnant_days"] == 1 and lead3["path_days_since_front"] == 1
    # lead 7: the run has no daily means of day 7; missing days are skipped, the stagnant spell is unknown
    assert lead7["path_wind_max"] == 6 and lead7["path_precip"] == pytest.approx(3.25)
    assert np.isnan(lead7["path_stagnant_days"]) and lead7["path_days_since_front"] == 5
    assert lead7["path_vent_log"] == pytest.approx((3 + 2 + 4 + 3 + 3 + 3 + 3) / 7)


def test_path_features_read_no_analysis_of_the_issue_day_or_later_when_there_is_a_run():
    daily, lead = met_tables(future_analysis=0.0)
    spoiled, _ = met_tables(future_analysis=99.0)
    pd.testing.assert_frame_equal(F.path_features(frame(), daily, lead), F.path_features(frame(), spoiled, lead))


def test_no_front_in_the_window():
    daily, lead = met_tables()
    daily["wind_speed"] = 1.0
    lead = lead.assign(wind_speed=1.0)
    out = F.path_features(frame(leads=(1, 4)), daily, lead)
    assert out["path_days_since_front"].tolist() == [F.PATH_PAST_DAYS + 2, F.PATH_PAST_DAYS + 5]


def test_surface_fields_alone_give_no_ventilation_or_stagnation_path():
    """No boundary-layer height and no inversion: those path features are not columns (never a column of NaN)."""
    daily, lead = met_tables()
    surface = daily.drop(columns=["ventilation", "stagnation"])
    out = F.path_features(frame(), surface, lead.drop(columns=["ventilation", "stagnation"]))
    assert list(out.columns) == ["path_rh_excess", "path_wind_max", "path_precip", "path_days_since_front"]
    assert out.notna().all().all()
    assert F.path_features(frame(), None, None).empty


def test_every_path_feature_has_a_family():
    daily, lead = met_tables()
    assert all(F.family_of(c) not in ("other", "persistence") for c in F.path_features(frame(), daily, lead))
