"""The forecast document's schema: a valid document passes unchanged; each problem is one sentence naming the file,
the field path and what is allowed."""
import json

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
