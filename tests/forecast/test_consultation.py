"""Consultation adjustments: validated records, append-only store, adjusted forecast drives levels, scoring."""
import json

import numpy as np
import pandas as pd
import pytest

from forecast import consultation as C


def doc(aqi=(120, 130, 110, 100, 90, 90, 90), dust=(False,) * 7):
    days = [{"lead_day": k + 1, "date": f"2024-12-{21 + k}", "aqi": {"q10": a * 0.7, "q50": a, "q90": a * 1.4},
             "p_aqi_gt": {"150": 0.1, "200": 0.02, "300": 0.0}, "dust": dust[k], "p_dust": 0.0, "drivers": []}
            for k, a in enumerate(aqi)]
    area = {"area_id": "baotou", "level": "none", "clause": "", "trigger_days": [], "rules": "MEE-2024",
            "level_probabilities": {"none": 0.9, "yellow": 0.1, "orange": 0.0, "red": 0.0}, "days": days}
    other = json.loads(json.dumps(area)) | {"area_id": "hohhot"}
    return {"issue_date": "2024-12-20", "model_version": "m1", "lead_correlation": 0.7, "areas": [area, other]}


def test_record_validation_names_the_bad_value():
    d = doc()
    with pytest.raises(C.ConsultationError, match="'xanadu'.*allowed"):
        C.make_record(d, "xanadu", 1, 250, "why")
    with pytest.raises(C.ConsultationError, match="lead day 9"):
        C.make_record(d, "baotou", 9, 250, "why")
    with pytest.raises(C.ConsultationError, match="AQI 900"):
        C.make_record(d, "baotou", 1, 900, "why")
    with pytest.raises(C.ConsultationError, match="reason"):
        C.make_record(d, "baotou", 1, 250, "  ")
    rec = C.make_record(d, "baotou", 1, 250, "静稳加剧", participants="环境、气象")
    assert rec["model_aqi"] == 120 and rec["consultation_aqi"] == 250 and rec["model_version"] == "m1"


def test_store_is_append_only_and_skips_bad_lines(tmp_path):
    d = doc()
    C.append(tmp_path, C.make_record(d, "baotou", 1, 250, "a"))
    C.append(tmp_path, C.make_record(d, "baotou", 1, 260, "b"))
    with open(C.store_path(tmp_path), "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
        fh.write(json.dumps({"issue_date": "2024-12-20", "area_id": "baotou", "lead_day": 2, "model_aqi": 1,
                             "consultation_aqi": 9999}) + "\n")
    C.append(tmp_path, C.make_record(d, "hohhot", 2, 210, "c"))
    records, problems = C.load(tmp_path)
    assert len(records) == 3 and len(problems) == 2
    assert ":3:" in problems[0] and ":4:" in problems[1] and "9999" in problems[1]
    last = C.latest(records, "2024-12-20")
    assert len(last) == 2  # the second baotou record supersedes the first
    assert last.set_index("area_id").loc["baotou", "consultation_aqi"] == 260


def test_adjustment_drives_the_level_and_keeps_the_model_values():
    d = doc()
    recs = pd.DataFrame([C.make_record(d, "baotou", k, 260, "静稳") for k in (1, 2)])
    recs["issue_date"] = pd.to_datetime(recs["issue_date"])
    out = C.apply(d, recs)
    bt = next(a for a in out["areas"] if a["area_id"] == "baotou")
    hh = next(a for a in out["areas"] if a["area_id"] == "hohhot")
    assert d["areas"][0]["level"] == "none" and d["areas"][0]["days"][0]["aqi"]["q50"] == 120  # input unchanged
    assert bt["model_level"] == "none" and bt["level"] in ("yellow", "orange") and bt["trigger_days"][:2] == [1, 2]
    assert bt["level_probabilities"]["none"] < 0.5 and abs(sum(bt["level_probabilities"].values()) - 1) < 1e-6
    day1 = bt["days"][0]
    assert day1["aqi"]["q50"] == 260 and day1["adjusted"]["model_aqi"]["q50"] == 120
    # the band moves with the median in log space: relative widths are kept
    assert np.isclose(np.log1p(day1["aqi"]["q90"]) - np.log1p(260), np.log1p(168) - np.log1p(120))
    assert day1["p_aqi_gt"]["200"] > 0.5 > bt["days"][2]["p_aqi_gt"]["200"]
    assert "adjusted" not in hh and hh["level"] == "none"
    assert out["consultation"]["adjustments"] == 2


def test_adjusted_dust_day_stays_an_advisory():
    d = doc(dust=(True, True) + (False,) * 5)
    recs = pd.DataFrame([C.make_record(d, "baotou", k, 320, "沙尘") for k in (1, 2)])
    recs["issue_date"] = pd.to_datetime(recs["issue_date"])
    assert next(a for a in C.apply(d, recs)["areas"] if a["area_id"] == "baotou")["level"] == "none"


def test_records_of_another_day_are_refused():
    d = doc()
    recs = pd.DataFrame([C.make_record(d, "baotou", 1, 260, "x")])
    recs["issue_date"] = pd.Timestamp("2024-12-19")
    with pytest.raises(C.ConsultationError, match="2024-12-19"):
        C.apply(d, recs)


def test_score_compares_model_and_consultation_on_the_same_cases():
    recs = pd.DataFrame([
        {"saved_at": "t", "issue_date": pd.Timestamp("2024-12-20"), "area_id": "baotou", "lead_day": 1,
         "model_version": "m1", "model_aqi": 150.0, "consultation_aqi": 240.0, "reason": "r", "participants": "",
         "notes": ""},
        {"saved_at": "t", "issue_date": pd.Timestamp("2024-12-20"), "area_id": "baotou", "lead_day": 2,
         "model_version": "m1", "model_aqi": 180.0, "consultation_aqi": 150.0, "reason": "r", "participants": "",
         "notes": ""},
        {"saved_at": "t", "issue_date": pd.Timestamp("2024-12-21"), "area_id": "baotou", "lead_day": 1,
         "model_version": "m1", "model_aqi": 210.0, "consultation_aqi": 190.0, "reason": "r", "participants": "",
         "notes": ""}])
    obs = pd.DataFrame({"aqi": [250.0, 230.0, 100.0]}, index=pd.MultiIndex.from_tuples(
        [("baotou", pd.Timestamp("2024-12-21")), ("baotou", pd.Timestamp("2024-12-22")),
         ("hohhot", pd.Timestamp("2024-12-21"))], names=["area_id", "date"]))
    s = C.score(recs, obs).set_index(["model", "lead_day"])
    # lead 1: two cases (obs 250 and 230); lead 2: obs on 12-22 = 230
    assert s.loc[("lantian", 1), "n"] == 2
    assert s.loc[("lantian", 1), "mae"] == pytest.approx((100 + 20) / 2)
    assert s.loc[("consultation", 1), "mae"] == pytest.approx((10 + 40) / 2)
    assert s.loc[("consultation", 1), "hits"] == 1 and s.loc[("consultation", 1), "misses"] == 1
    assert s.loc[("lantian", 1), "hits"] == 1 and s.loc[("lantian", 1), "misses"] == 1
    assert s.loc[("lantian", 2), "mae"] == pytest.approx(50) and s.loc[("consultation", 2), "bias"] == -80
    assert C.score(recs.iloc[:0], obs).empty


def test_a_disk_full_append_leaves_earlier_records_readable(tmp_path, monkeypatch):
    from .test_workspace import disk_full_after_half

    d = doc()
    C.append(tmp_path, C.make_record(d, "baotou", 1, 250, "a"))
    C.append(tmp_path, C.make_record(d, "hohhot", 2, 210, "b"))
    before = C.store_path(tmp_path).read_bytes()
    disk_full_after_half(monkeypatch, "磁盘已满".encode())
    with pytest.raises(C.ConsultationError, match="not saved.*No space left"):
        C.append(tmp_path, C.make_record(d, "baotou", 2, 300, "磁盘已满"))
    monkeypatch.undo()
    assert C.store_path(tmp_path).read_bytes() == before
    records, problems = C.load(tmp_path)
    assert records["reason"].tolist() == ["a", "b"] and problems == []
    C.append(tmp_path, C.make_record(d, "baotou", 3, 220, "c"))  # the next record is whole too
    assert C.load(tmp_path)[0]["reason"].tolist() == ["a", "b", "c"]


def test_a_half_line_from_a_crash_is_skipped_with_its_line(tmp_path):
    d = doc()
    C.append(tmp_path, C.make_record(d, "baotou", 1, 250, "a"))
    with open(C.store_path(tmp_path), "ab") as fh:
        fh.write('{"saved_at": "2024-12-20T08:00:00+00:00", "issue_date": "2024-1'.encode())
    C.append(tmp_path, C.make_record(d, "hohhot", 1, 230, "行\u2028分隔"))
    records, problems = C.load(tmp_path)
    assert records["reason"].tolist() == ["a", "行\u2028分隔"]
    assert len(problems) == 1 and problems[0].startswith(f"{C.store_path(tmp_path)}:2:")
