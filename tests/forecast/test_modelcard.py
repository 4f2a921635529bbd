"""The model card: written at training, completed by verification."""
import json

import pandas as pd

from forecast import modelcard


def test_data_hash_depends_on_keys_and_targets_only():
    a = pd.DataFrame({"area_id": ["x", "y"], "issue_date": pd.to_datetime(["2024-01-01"] * 2), "lead": [1, 1],
                      "y_aqi": [100.0, 200.0], "y_pm25": [70.0, 150.0], "feature": [1.0, 2.0]})
    assert modelcard.data_hash(a) == modelcard.data_hash(a.assign(feature=[5.0, 6.0]))
    assert modelcard.data_hash(a) != modelcard.data_hash(a.assign(y_aqi=[100.0, 201.0]))
    assert len(modelcard.data_hash(a)) == 16


def test_record_verification_keeps_the_card_and_adds_day_k_scores(tmp_path):
    (tmp_path / "model_card.json").write_text(json.dumps({"name": "m", "version": "v", "verification": None}))
    result = {"period": ["2025-01-01", "2025-02-01"], "cases": 10,
              "scores": [{"model": "lantian", "threshold": 200, "lead_day": 1, "ts": 0.5, "pod": 0.6, "far": 0.2,
                          "brier_skill_score": 0.3},
                         {"model": "persistence", "threshold": 200, "lead_day": 1, "ts": 0.2, "pod": 0.3,
                          "far": 0.5, "brier_skill_score": None}]}
    modelcard.record_verification(tmp_path, result)
    card = json.loads((tmp_path / "model_card.json").read_text())
    assert card["name"] == "m" and card["verification"]["aqi_gt200"] == [
        {"lead_day": 1, "ts": 0.5, "pod": 0.6, "far": 0.2, "brier_skill_score": 0.3}]
    assert not list(tmp_path.glob("*.tmp"))


def test_training_card_records_what_the_data_lacked():
    from forecast.model import Forecaster

    days = pd.date_range("2024-03-01", "2024-10-31", freq="D")
    frame = pd.DataFrame({"area_id": "hohhot", "issue_date": days, "lead": 1,
                          "target_date": days + pd.Timedelta(days=1), "y_aqi": 80.0, "y_pm25": 50.0,
                          "met_source": "analysis"})
    model = Forecaster(features=["area", "met_temp_air"], areas=["hohhot"], left_out=["pm10_now"])
    missing = {"ventilation": "no boundary-layer height (blh) in the meteorology"}
    card = modelcard.training_card(model, frame, last="2024-11-01", name="m", seed=0, rounds=10,
                                   met_missing=missing)
    assert card["met_missing"] == missing and card["features_left_out"] == ["pm10_now"]
    assert card["met_source"] == "analysis" and card["met_source_rows"] == {"analysis": len(days)}
    assert card["trained_months"] == list(range(3, 12))  # target days 2 March … 1 November
    assert card["met_variables"] == ["temp_air"]


def test_last_training_day_from_the_card_and_none_without_one(tmp_path):
    import json

    from forecast import modelcard

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.json").write_text("{}")
    (folder / "model_card.json").write_text(json.dumps({"training_period": ["2022-10-03", "2024-05-31"]}))
    assert modelcard.last_training_day(folder) == "2024-05-31"
    (folder / "model_card.json").write_text("not json")
    assert modelcard.last_training_day(folder) is None
    assert modelcard.last_training_day(tmp_path / "missing") is None
