"""Freshness and completeness checks (forecast/freshness.py) on hand-made inputs: ages, lead days, stations
reporting, the older run standing in, and the limits' errors."""
import numpy as np
import pandas as pd
import pytest

from forecast import freshness as FR


def _met_lead(inits, leads=range(0, 8), areas=("baotou", "hohhot")):
    rows = [{"init_time": pd.Timestamp(i), "area_id": a, "lead_day": k, "temp_air": -5.0 + k, "blh": 300.0}
            for i in inits for a in areas for k in leads]
    return pd.DataFrame(rows).set_index(["init_time", "area_id", "lead_day"])


def test_issue_time_is_16_cst():
    assert FR.issue_time_utc("2023-12-22") == pd.Timestamp("2023-12-22 08:00")


def test_newest_run_at_or_before_the_reference():
    ml = _met_lead(["2023-12-20", "2023-12-21", "2023-12-22", "2023-12-21 12:00"])
    assert FR.newest_run(ml, "2023-12-22 07:00") == pd.Timestamp("2023-12-22")
    assert FR.newest_run(ml, "2023-12-21 23:00") == pd.Timestamp("2023-12-21")  # 12 UTC runs not read
    assert FR.newest_run(ml, "2023-12-19") is None and FR.newest_run(None, "2023-12-22") is None


def test_lead_days_of_an_older_run_are_shifted_by_its_age():
    ml = _met_lead(["2023-12-20", "2023-12-22"])
    assert FR.run_lead_days(ml, "2023-12-22", "2023-12-22") == [1, 2, 3, 4, 5, 6, 7]
    assert FR.run_lead_days(ml, "2023-12-20", "2023-12-22") == [1, 2, 3, 4, 5]
    empty = ml.copy()
    empty.loc[(pd.Timestamp("2023-12-22"), slice(None), 7), ["temp_air", "blh"]] = np.nan
    assert FR.run_lead_days(empty, "2023-12-22", "2023-12-22") == [1, 2, 3, 4, 5, 6]


def test_fallback_run_relabels_the_older_run_as_the_issue_dates():
    ml = _met_lead(["2023-12-19", "2023-12-20"])
    out = FR.fallback_run(ml, pd.Timestamp("2023-12-20"), "2023-12-22")
    new = out.xs(pd.Timestamp("2023-12-22"), level="init_time")
    assert sorted(new.index.get_level_values("lead_day").unique()) == [0, 1, 2, 3, 4, 5]
    # the issue date's lead day 1 is the old run's lead day 3: the same valid day, from the older forecast
    assert new.loc[("baotou", 1), "temp_air"] == ml.loc[(pd.Timestamp("2023-12-20"), "baotou", 3), "temp_air"]
    assert len(out.xs(pd.Timestamp("2023-12-19"), level="init_time")) == 16  # other runs kept
    assert FR.fallback_run(ml, pd.Timestamp("2023-12-20"), "2023-12-20") is ml


def _rows(hours, stations):
    return pd.DataFrame([{"time": pd.Timestamp(f"2023-12-22 {h:02d}:00", tz="Asia/Shanghai"), "station": s,
                          "pollutant": "pm25", "value": 50.0} for h in hours for s in stations])


def test_station_reporting_share_and_lag():
    rows = _rows([10, 11, 12], ["A", "B", "C"])
    rows = pd.concat([rows, _rows([13], ["A"])])
    r = FR.station_reporting(rows, ["A", "B", "C", "D"], pd.Timestamp("2023-12-22 13:40"))
    assert r["hour"] == "2023-12-22T13:00:00" and r["reporting"] == 1 and r["listed"] == 4 and r["share"] == 0.25
    assert r["age_hours"] == 0.0
    late = FR.station_reporting(rows, ["A", "B", "C", "D"], pd.Timestamp("2023-12-22 16:10"))
    assert late["age_hours"] == 3.0 and late["reporting"] == 0
    none = FR.station_reporting(None, ["A"], pd.Timestamp("2023-12-22 16:00"))
    assert none["age_hours"] is None and none["share"] == 0.0


def _stations(share=0.9, age=0.0, reporting=9):
    return {"hour": "2023-12-22T15:00:00", "last_hour": "2023-12-22T15:00:00", "age_hours": age,
            "reporting": reporting, "listed": 10, "share": share}


@pytest.mark.parametrize("run, leads, stations, expected", [
    ("2023-12-22", list(range(1, 8)), _stations(), ["ok", "ok", "ok", "ok"]),
    ("2023-12-20", [1, 2, 3, 4, 5], _stations(), ["degraded", "degraded", "ok", "ok"]),
    ("2023-12-17", [], _stations(), ["missing", "missing", "ok", "ok"]),
    (None, [], _stations(share=0.5, reporting=5, age=4.0), ["missing", "missing", "degraded", "degraded"]),
    ("2023-12-22", list(range(1, 8)), _stations(share=0.0, reporting=0, age=5.0), ["ok", "ok", "missing",
                                                                                   "degraded"]),
])
def test_assess_states(run, leads, stations, expected):
    checks = FR.assess(met_run=pd.Timestamp(run) if run else None, met_reference=pd.Timestamp("2023-12-22 07:00"),
                       lead_days=leads, stations=stations, limits=FR.Limits())
    assert [c["check"] for c in checks] == list(FR.CHECKS)
    assert [c["state"] for c in checks] == expected
    assert FR.worst(checks) == max(expected, key=FR.STATES.index)
    assert all(c["zh"] and c["en"] for c in checks)


def test_assess_states_the_age():
    checks = FR.assess(met_run=pd.Timestamp("2023-12-20"), met_reference=pd.Timestamp("2023-12-22 07:00"),
                       lead_days=[1, 2, 3, 4, 5], stations=_stations(), limits=FR.Limits())
    assert checks[0]["value"] == 55.0 and "55 小时" in checks[0]["zh"] and "55 h old" in checks[0]["en"]
    assert "缺第 6、7 天" in checks[1]["zh"]


@pytest.mark.parametrize("kw, match", [
    ({"meteorology_max_age_hours": -1}, "meteorology_max_age_hours: -1 is not an age"),
    ({"meteorology_fallback_hours": 10}, "below meteorology_max_age_hours"),
    ({"station_min_share": 1.5}, "station_min_share: 1.5 is not a share"),
    ({"forecast_lead_days": 9}, "forecast_lead_days: 9 is not a whole number in 0 … 7"),
    ({"station_max_age_hours": "3"}, "station_max_age_hours: '3' is not an age"),
])
def test_bad_limits_name_the_value(kw, match):
    with pytest.raises(FR.FreshnessError, match=match):
        FR.Limits(**kw)
