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
    assert all(FR.reason_text(c["reason"], "zh") and FR.reason_text(c["reason"], "en") for c in checks)


def test_assess_states_the_age():
    checks = FR.assess(met_run=pd.Timestamp("2023-12-20"), met_reference=pd.Timestamp("2023-12-22 07:00"),
                       lead_days=[1, 2, 3, 4, 5], stations=_stations(), limits=FR.Limits())
    assert checks[0]["value"] == 55.0 and checks[0]["reason"]["code"] == "met_run_stale"
    assert "55 小时" in FR.reason_text(checks[0]["reason"], "zh")
    assert "55 h old" in FR.reason_text(checks[0]["reason"], "en")
    assert checks[1]["reason"] == {"code": "lead_days_gap", "params": {"missing": [6, 7], "n": 5, "total": 7,
                                                                       "required": 7}}
    assert "缺第 6、7 天" in FR.reason_text(checks[1]["reason"], "zh")
    assert "lead day(s) 6, 7 missing" in FR.reason_text(checks[1]["reason"], "en")


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


def test_every_reason_renders_in_both_languages_chinese_without_english_words():
    """Each code of the nomenclature's cycle_reasons renders with the parameters the cycle gives it; the Chinese
    sentence has no English word (only names, numbers, units and the parameters' own technical detail)."""
    import re

    from forecast import labels

    p = dict(run="2023-12-20 00", age=55.0, limit=24.0, fallback=96.0, n=5, total=7, required=7, missing=[6, 7],
             steps=[132, 144], hour="12-22 15", reporting=5, listed=10, share=0.5, last="12-22 11", model="/m",
             error="ERR", issued="2023-12-22", log="/l", file="/f", source="/s", folder="/d", month="2023-11",
             data="/x", check=FR.reason("met_run_none"))
    for code in labels.codes("cycle_reasons"):
        zh, en = FR.reason_text(FR.reason(code, **p), "zh"), FR.reason_text(FR.reason(code, **p), "en")
        assert zh and en and zh != en, code
        assert not re.search(r"[A-Za-z]{2,}", zh.replace("ECMWF", "").replace("ERA5", "").replace("ERR", "")), zh


def test_a_reason_missing_a_parameter_names_it():
    from forecast import labels

    with pytest.raises(labels.LabelError, match="needs the parameter 'age'"):
        FR.reason_text(FR.reason("met_run_ok", run="2023-12-20 00", limit=24.0), "zh")
    assert FR.reason_text("an old record's sentence", "zh") == "an old record's sentence"


@pytest.mark.parametrize("init, drop, issued, leads, missing", [
    # a whole 00 UTC run, 6-hourly to 72 h then 12-hourly to 168 h (as the demo worlds write them)
    ("2023-12-22", {}, "2023-12-22", [1, 2, 3, 4, 5, 6, 7], []),
    # the run stops at 108 h: lead days 5 … 7 (valid from 112 h on) are not covered
    ("2023-12-22", {"*": range(120, 169)}, "2023-12-22", [1, 2, 3, 4], []),
    # the boundary layer lacks 84 and 96 h: lead day 4 (88 … 112 h) still has 108 h; lead day 3 (64 … 88 h)
    # still has 66 and 72 h — but without 96 and 108 h lead day 4 is gone
    ("2023-12-22", {"blh": [84, 96]}, "2023-12-22", [1, 2, 3, 4, 5, 6, 7], [84, 96]),
    ("2023-12-22", {"blh": [96, 108]}, "2023-12-22", [1, 2, 3, 5, 6, 7], [96, 108]),
    # two days old, standing in: its lead days shift by two
    ("2023-12-20", {}, "2023-12-22", [1, 2, 3, 4, 5], []),
])
def test_lead_days_from_the_steps_of_every_parameter(init, drop, issued, leads, missing):
    every = [*range(0, 73, 6), *range(84, 169, 12)]
    steps = {p: [s for s in every if s not in set(drop.get(p, ())) | set(drop.get("*", ()))]
             for p in ("2t", "blh", "t850", "tp")}
    got = FR.steps_lead_days(pd.Timestamp(init), steps, issued)
    assert got["lead_days"] == leads and got["missing_steps"] == missing and got["parameters"] == 4
