"""The forecast document's schema: a valid document passes unchanged; each problem is one sentence naming the file,
the field path and what is allowed."""
import json
import re

import pytest

from forecast.document import ForecastDocumentError, check_document, read_document


def doc():
    days = [{"lead_day": k, "date": f"2024-12-{20 + k}", "aqi": {"q10": 80.0, "q50": 100.0, "q90": 130.0},
             "p_aqi_gt": {"150": 0.1, "200": 0.02, "300": 0.0}, "dust": False,
             "drivers": [{"family": "ventilation", "name_zh": "通风扩散", "effect": 0.2}]} for k in (1, 2, 3)]
    return {"issue_date": "2024-12-20", "model_version": "m1", "lead_correlation": 0.7,
            "decision": {"thresholds": {"yellow": 0.3, "orange": 0.3, "red": 0.3}},
            "areas": [{"area_id": "baotou", "level": "yellow", "clause": "AQI>200 持续≥24h", "trigger_days": [1],
                       "rules": "MEE-2024", "level_probabilities": {"none": 0.5, "yellow": 0.5, "orange": 0.0,
                                                                    "red": 0.0},
                       "days": days}]}


def test_a_valid_document_passes_unchanged():
    d = doc()
    assert check_document(d) is d
    d["areas"][0].pop("rules")
    d["areas"][0].pop("level_probabilities")
    for day in d["areas"][0]["days"]:
        for key in ("p_aqi_gt", "dust", "drivers"):
            day.pop(key)
    d["extra"] = {"anything": 1}  # keys the schema does not list are allowed
    assert check_document(d) is d


def _set(path, value):
    d = doc()
    node = d
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


@pytest.mark.parametrize("path,value,message", [
    (["areas"], ["hohhot"], "areas[0]: expected an object with area_id, level, clause, trigger_days, days, got "
                            "'hohhot'"),
    (["areas"], [], "areas: empty; a forecast names at least one area"),
    (["areas"], {"baotou": {}}, "areas: expected a list of area objects, got an object"),
    (["issue_date"], "2024-13-01", "issue_date: expected a date (YYYY-MM-DD), got '2024-13-01'"),
    (["issue_date"], KeyError, "not a lantian forecast: missing issue_date"),
    (["areas", 0, "level"], KeyError, "areas[0]: missing key(s) level; an object here needs area_id, level"),
    (["areas", 0, "level"], "Yellow", "areas[0].level: unknown level 'Yellow'; allowed: none, yellow, orange, red"),
    (["areas", 0, "area_id"], "bao\ttou", "areas[0].area_id: control character '\\t' in 'bao\\ttou'"),
    (["areas", 0, "area_id"], "bao\u200btou", "areas[0].area_id: control character '\\u200b'"),
    (["areas", 0, "area_id"], "", "areas[0].area_id: expected an id of 1–64 characters, got ''"),
    (["areas", 0, "area_id"], 7, "areas[0].area_id: expected text, got a number 7"),
    (["areas", 0, "clause"], None, "areas[0].clause: expected text, got null None"),
    (["areas", 0, "trigger_days"], "1", "areas[0].trigger_days: expected a list of lead days, got '1'"),
    (["areas", 0, "trigger_days"], [True], "areas[0].trigger_days[0]: True is not a lead day of the area; "
                                           "allowed: 1, 2, 3"),
    (["areas", 0, "level_probabilities", "purple"], 0.1, "areas[0].level_probabilities: unknown key(s) 'purple'"),
    (["areas", 0, "days"], [], "areas[0].days: empty; an area needs at least one day"),
    (["areas", 0, "days"], None, "areas[0].days: expected a list of day objects (lead_day, date, aqi), got null"),
    (["areas", 0, "days", 0], "monday", "areas[0].days[0]: expected an object with lead_day, date, aqi, got "
                                        "'monday'"),
    (["areas", 0, "days", 0, "aqi", "q50"], "100", "areas[0].days[0].aqi.q50: expected a number in 0 … 500 "
                                                   "(HJ 633's AQI scale), got '100'"),
    (["areas", 0, "days", 0, "aqi", "q50"], True, "areas[0].days[0].aqi.q50: expected a number in 0 … 500"),
    (["areas", 0, "days", 0, "aqi", "q90"], 9999, "areas[0].days[0].aqi.q90: expected a number in 0 … 500 "
                                                  "(HJ 633's AQI scale), got 9999"),
    (["areas", 0, "days", 0, "aqi", "q90"], 500.5, "areas[0].days[0].aqi.q90: expected a number in 0 … 500 "
                                                   "(HJ 633's AQI scale), got 500.5"),
    (["areas", 0, "days", 0, "aqi", "q10"], -0.1, "areas[0].days[0].aqi.q10: expected a number in 0 … 500"),
    (["areas", 0, "days", 0, "aqi", "q10"], float("inf"), "areas[0].days[0].aqi.q10: expected a number in 0 … "
                                                          "500 (HJ 633's AQI scale), got inf"),
    (["areas", 0, "days", 0, "aqi", "q90"], KeyError, "areas[0].days[0].aqi: missing key(s) q90"),
    (["areas", 0, "days", 0, "aqi", "q10"], 120.0, "areas[0].days[0].aqi: expected q10 ≤ q50 ≤ q90, got 120, "
                                                   "100, 130"),
    (["areas", 0, "days", 0, "lead_day"], 1.0, "areas[0].days[0].lead_day: expected a whole number ≥ 1, got 1.0"),
    (["areas", 0, "days", 2, "lead_day"], 2, "areas[0].days[2].lead_day: 2 appears twice (also "
                                             "areas[0].days[1])"),
    (["areas", 0, "days", 0, "date"], "2024-12-32", "areas[0].days[0].date: expected a date (YYYY-MM-DD)"),
    (["areas", 0, "days", 0, "p_aqi_gt", "200"], -0.5, "areas[0].days[0].p_aqi_gt.200: expected a probability "
                                                       "in 0 … 1, got -0.5"),
    (["areas", 0, "days", 0, "p_aqi_gt", "250"], 0.5, "areas[0].days[0].p_aqi_gt: unknown key(s) '250'; "
                                                      "allowed: 150, 200, 300"),
    (["areas", 0, "days", 0, "dust"], 1, "areas[0].days[0].dust: expected true or false, got 1"),
    (["areas", 0, "days", 0, "drivers"], "wind", "areas[0].days[0].drivers: expected a list of objects"),
    (["areas", 0, "days", 0, "drivers", 0, "effect"], None, "areas[0].days[0].drivers[0].effect: expected a number"),
    (["lead_correlation"], 1.5, "lead_correlation: expected a number in -1 … 1, got 1.5"),
    (["model_version"], "m\x1b[31m", "model_version: control character '\\x1b'"),
    (["decision", "thresholds", "red"], 0, "decision.thresholds.red: expected a probability in (0, 1], got 0"),
])
def test_each_problem_names_the_field_and_the_allowed_values(path, value, message):
    with pytest.raises(ForecastDocumentError) as err:
        check_document(_set(path, value), source="F.json")
    text = str(err.value)
    assert text.startswith(f"F.json: {message}"), text
    assert "\n" not in text


def test_several_problems_first_named_and_counted():
    d = doc()
    d["areas"][0]["level"] = "purple"
    d["areas"][0]["days"][1]["aqi"]["q50"] = "x"
    with pytest.raises(ForecastDocumentError, match=r"^F.json: areas\[0\].level: .* \(and 1 more problem\(s\)\)$"):
        check_document(d, source="F.json")


@pytest.mark.parametrize("text,message", [
    ("", "cannot read the forecast (not JSON:"),
    ('{"issue_date": "2024-12-20", "areas": [', "cannot read the forecast (not JSON:"),
    ("[]", "expected a lantian forecast (an object with issue_date and areas), got a list"),
    ("null", "expected a lantian forecast (an object with issue_date and areas), got null"),
])
def test_read_document_names_the_file(tmp_path, text, message):
    path = tmp_path / "f.json"
    path.write_text(text)
    with pytest.raises(ForecastDocumentError, match=r"^" + str(path).replace(".", r"\.") + ": "):
        read_document(path)
    with pytest.raises(ForecastDocumentError) as err:
        read_document(path)
    assert message in str(err.value)


def test_read_document_round_trip_and_missing_file(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(doc(), ensure_ascii=False))
    assert read_document(path) == doc()
    with pytest.raises(ForecastDocumentError, match="nope.json: cannot read the forecast"):
        read_document(tmp_path / "nope.json")


# ---- the optional day keys: primary pollutant and fireworks flag ----------------------------------------------

@pytest.mark.parametrize("value", ["o3", "pm25", "pm10", None])
def test_a_day_may_name_its_primary_pollutant(value):
    d = _set(["areas", 0, "days", 0, "primary"], value)
    d["areas"][0]["days"][1]["fireworks"] = True
    assert check_document(d) is d


@pytest.mark.parametrize("path,value,message", [
    (["areas", 0, "days", 0, "primary"], "ozone", "areas[0].days[0].primary: unknown pollutant 'ozone'; allowed: "
                                                  "pm25, pm10, so2, no2, co, o3 or null"),
    (["areas", 0, "days", 0, "primary"], "dust", "areas[0].days[0].primary: unknown pollutant 'dust'"),
    (["areas", 0, "days", 1, "fireworks"], "yes", "areas[0].days[1].fireworks: expected true or false, got 'yes'"),
])
def test_bad_primary_or_fireworks_named(path, value, message):
    with pytest.raises(ForecastDocumentError, match=re.escape(message)):
        check_document(_set(path, value))


# HJ 633-2012 Table 1 PM2.5 24 h: 115 → IAQI 150, 150 → 200 (REFERENCE 2.2); HJ 633-2026 Table 3: 60 → 100,
# 115 → 150. IAQI = ceil(linear interpolation) (REFERENCE 2.1).
@pytest.mark.parametrize("aqi_q50, pm25_q90, dust, date, want", [
    (160, 125.0, False, "2024-12-21", "pm25"),  # IAQI(125) = 150 + 50·10/35 = 164.3 → 165 ≥ 160: PM2.5 explains it
    (160, 120.0, False, "2024-12-21", None),  # IAQI(120) = 157.1 → 158 < 160: another pollutant leads, unnamed
    (140, 105.0, False, "2026-05-01", "pm25"),  # 2026: IAQI(105) = 100 + 50·45/55 = 140.9 → 141 ≥ 140
    (140, 105.0, False, "2024-05-01", None),  # 2012: IAQI(105) = 100 + 50·30/40 = 137.5 → 138 < 140
    (320, 60.0, True, "2024-04-02", "pm10"),  # a dust-dominated day: PM10 (the dust test asks PM10's IAQI largest)
    (50, 300.0, False, "2024-12-21", None),  # AQI ≤ 50: no primary pollutant (REFERENCE 2.1)
    (180, None, False, "2024-12-21", None),  # no PM2.5 forecast: the document cannot say
])
def test_derived_primary_pollutant(aqi_q50, pm25_q90, dust, date, want):
    from forecast.document import derive_primary

    assert derive_primary(aqi_q50, pm25_q90, dust=dust, date=date) == want


def test_an_explicit_primary_wins_and_old_documents_derive_it():
    from forecast.document import day_primary

    day = {"lead_day": 1, "date": "2024-07-10", "aqi": {"q10": 150.0, "q50": 170.0, "q90": 190.0},
           "pm25": {"q10": 20.0, "q50": 30.0, "q90": 40.0}, "dust": False}
    assert day_primary(day) is None  # the PM2.5 forecast cannot reach AQI 170: the forecast names none
    assert day_primary({**day, "primary": "o3"}) == "o3"  # a summer model or a consultation names O3
    assert day_primary({**day, "primary": None}) is None
    old = doc()  # a document from before the keys: still loads
    assert check_document(old) is old and "primary" not in old["areas"][0]["days"][0]


def _table(fireworks=True):
    import pandas as pd

    from forecast import features

    dates = pd.to_datetime(["2024-02-09", "2024-02-10", "2024-02-11"])
    rows = []
    for k, (d, aqi, pm25_q90, dust) in enumerate(zip(dates, (230.0, 180.0, 320.0), (190.0, 60.0, 80.0),
                                                     (False, False, True)), 1):
        rows.append({"area_id": "hohhot", "issue_date": pd.Timestamp("2024-02-08"), "lead": k, "target_date": d,
                     "level": "yellow", "clause": "AQI>200", "trigger_days": [1], "level_median": "yellow",
                     "rules": "MEE-2024", **{f"p_level_{v}": 0.25 for v in ("none", "yellow", "orange", "red")},
                     **{f"p_ge_{v}": 0.5 for v in ("yellow", "orange", "red")},
                     "aqi_q10": aqi - 30, "aqi_q50": aqi, "aqi_q90": aqi + 30, "pm25_q10": pm25_q90 - 40,
                     "pm25_q50": pm25_q90 - 20, "pm25_q90": pm25_q90, "p_aqi_gt150": 0.5, "p_aqi_gt200": 0.4,
                     "p_aqi_gt300": 0.1, "dust": dust, "p_dust": 0.9 if dust else 0.1, "met_source": "forecast",
                     "model_version": "m1", "lead_correlation": 0.5})
    t = pd.DataFrame(rows)
    if fireworks:
        t["fireworks_hours"] = sum(features.fireworks_hours(t["target_date"], n) for n in ("eve", "lantern"))
    return t


def test_forecast_json_days_carry_primary_and_fireworks():
    """Each day of ``forecast_json``: the derived primary pollutant and the emission calendar's fireworks flag
    (calendar.yaml: the 2024 Spring Festival is 02-10; 除夕 19:00 for 8 h → hours on 02-09 and 02-10, none on 02-11)."""
    from forecast.forecasting import forecast_json

    d = forecast_json(_table())
    days = d["areas"][0]["days"]
    assert check_document(d) is d
    # IAQI(PM2.5 190) = 200 + 100·40/100 = 240 ≥ 230 → PM2.5; IAQI(60) = 85 < 180 → none named; dust → PM10
    assert [x["primary"] for x in days] == ["pm25", None, "pm10"]
    assert [x["fireworks"] for x in days] == [True, True, False]
    old = forecast_json(_table(fireworks=False))  # a table from before the flag: no key, the document still loads
    assert "fireworks" not in old["areas"][0]["days"][0] and check_document(old) is old
    assert "duration" not in d["areas"][0]  # a table without the reading column says nothing about it
    assert forecast_json(_table().assign(duration="consecutive"))["areas"][0]["duration"] == "consecutive"


def test_the_reading_of_lasting_is_validated():
    # forecast.levels.DURATIONS (warning_rules.yaml: duration; REFERENCE 1.1)
    from tests.response.test_respond import forecast_doc

    doc = forecast_doc()
    doc["areas"][0]["duration"] = "consecutive"
    check_document(doc)
    doc["areas"][0]["duration"] = "longest"
    with pytest.raises(ForecastDocumentError, match=r"areas\[0\]\.duration: unknown reading 'longest'; allowed: summed, "
                                              r"consecutive"):
        check_document(doc)


def test_forecast_json_days_carry_the_drivers_baseline():
    """``baseline_aqi`` = expm1 of the median's baseline log(1 + AQI) (what the drivers' AQI points count from:
    :func:`forecast.products.driver_effects_aqi`); a table without it gives no key; a bad value is named."""
    import numpy as np

    from forecast.forecasting import forecast_json

    t = _table().assign(driver_baseline=np.log(100.0))  # log(1 + 99)
    d = forecast_json(t)
    assert [x["baseline_aqi"] for x in d["areas"][0]["days"]] == [99.0, 99.0, 99.0] and check_document(d) is d
    assert "baseline_aqi" not in forecast_json(_table())["areas"][0]["days"][0]
    with pytest.raises(ForecastDocumentError, match=re.escape("areas[0].days[0].baseline_aqi: expected a number ≥ 0")):
        check_document(_set(["areas", 0, "days", 0, "baseline_aqi"], -1.0))
