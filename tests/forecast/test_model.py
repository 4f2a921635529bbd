"""The forecaster: determinism, model card round trip, missing features, level probabilities."""
import json

import numpy as np
import pandas as pd
import pytest

from forecast import archive
from forecast import features as F
from forecast import forecasting as FC
from forecast import levels
from forecast import decision
from forecast import model as M
from forecast.model import LEVEL_RECORD, Forecaster, ModelError


@pytest.fixture(scope="module")
def table(winter_inputs):
    clim = F.climatology(winter_inputs.obs.daily, until="2023-12-20")
    return FC.training_table(winter_inputs, until="2023-12-20", clim=clim)


def test_training_is_deterministic(table):
    a = Forecaster.fit(table, seed=3, rounds=30).predict(table.iloc[:300])
    b = Forecaster.fit(table, seed=3, rounds=30).predict(table.iloc[:300])
    pd.testing.assert_frame_equal(a, b)


def test_quantiles_ordered_probabilities_nested(winter_model, table):
    m = Forecaster.load(winter_model)
    p = m.predict(table)
    assert (p["aqi_q10"] <= p["aqi_q50"]).all() and (p["aqi_q50"] <= p["aqi_q90"]).all()
    assert (p["p_aqi_gt300"] <= p["p_aqi_gt200"]).all() and (p["p_aqi_gt200"] <= p["p_aqi_gt150"]).all()
    assert p[[c for c in p.columns if c.startswith("p_")]].stack().between(0, 1).all()


def test_model_card_round_trip(winter_model, table, tmp_path):
    m = Forecaster.load(winter_model)
    card = json.loads((winter_model / "model_card.json").read_text())
    assert card["training_period"][1] == "2023-12-20" and card["met_source"] == "forecast"
    assert card["met_source_rows"] == {"forecast": card["rows"]} and card["met_missing"] == {}
    assert card["trained_months"] == [12] and card["features_left_out"] == []
    assert {"lightgbm", "numpy", "pandas"} <= set(card["libraries"]) and len(card["data_hash"]) == 16
    assert set(card["areas"]) == set(m.areas) and "ventilation" in card["met_variables"]
    m.save(tmp_path / "copy")
    again = Forecaster.load(tmp_path / "copy")
    assert again.card == m.card and again.decision == m.decision
    pd.testing.assert_frame_equal(m.predict(table.iloc[:200]), again.predict(table.iloc[:200]))


def test_missing_features_refused(winter_model, table):
    m = Forecaster.load(winter_model)
    with pytest.raises(ModelError, match="cannot supply the model's features.*met_blh"):
        m.predict(table.drop(columns=[c for c in table.columns if c.startswith("met_blh")]))


def test_not_a_model_directory(tmp_path):
    with pytest.raises(ModelError, match="not a lantian model directory"):
        Forecaster.load(tmp_path)


def test_too_little_data(table):
    with pytest.raises(ModelError, match="training rows"):
        Forecaster.fit(table.iloc[:100], rounds=5)


def test_level_probabilities_use_the_models_fitted_copula_and_calibration(winter_model):
    m = Forecaster.load(winter_model)
    assert 0.0 <= m.lead_correlation <= 0.95
    record = pd.read_csv(winter_model / LEVEL_RECORD)
    assert {"p_ge_yellow", "p_ge_yellow_raw", "obs_level", "rules"} <= set(record.columns) and len(record) > 50
    days = [260, 270, 320, 180, 100, 90, 80]
    pred = pd.DataFrame({"area_id": "baotou", "issue_date": pd.Timestamp("2024-01-01"), "lead": range(1, 8),
                         "aqi_q10": days, "aqi_q50": days, "aqi_q90": days, "dust": False,
                         **{f"p_aqi_gt{t}": [float(d > t) for d in days] for t in (150, 200, 300)}})
    lv = m.level_probabilities(pred, rules="MEE-2024").iloc[0]
    expected = m.level_calibration.apply(np.array([[1.0, 1.0, 1.0]]))[0]
    assert [lv["p_ge_yellow"], lv["p_ge_orange"], lv["p_ge_red"]] == pytest.approx(expected, abs=1e-4)
    strict = m.level_probabilities(pred, rules="MEE-2024", thresholds=decision.Thresholds(1.0, 1.0, 1.0)).iloc[0]
    assert strict["level"] == decision.decide(np.array([expected]), decision.Thresholds(1.0, 1.0, 1.0))[0]


def test_forecast_archive_and_json(winter_world, winter_model, winter_inputs, tmp_path):
    out = tmp_path / "fc.json"
    table = FC.run_forecast(winter_world, winter_model, "2023-12-21", out=out, inputs=winter_inputs)
    assert len(table) == 21 * 7
    doc = json.loads(out.read_text())
    assert doc["issue_date"] == "2023-12-21" and len(doc["areas"]) == 21
    assert doc["met_source"] == "forecast" and doc["warnings"] == [] == table.attrs["warnings"]
    area = doc["areas"][0]
    assert set(area["level_probabilities"]) == set(levels.LEVELS) and len(area["days"]) == 7
    assert set(area["p_at_least"]) == {"yellow", "orange", "red"} and area["level_median"] in levels.LEVELS
    assert area["duration"] == "consecutive"  # the shipped reading of "lasting N h" (warning_rules.yaml)
    assert doc["decision"]["thresholds"] == decision.load_thresholds().as_dict()
    t = decision.Thresholds(*[doc["decision"]["thresholds"][k] for k in decision.WARNING_LEVELS])
    assert all(a["level"] == decision.decide(np.array([[a["p_at_least"][k] for k in decision.WARNING_LEVELS]]), t)[0]
               for a in doc["areas"])
    day = area["days"][0]
    assert day["aqi"]["q10"] <= day["aqi"]["q50"] <= day["aqi"]["q90"] and len(day["drivers"]) == 3
    archived = archive.archived_forecasts(winter_world)
    assert (archived["issue_date"] == pd.Timestamp("2023-12-21")).sum() >= 21 * 7
    FC.write_forecast(table, tmp_path / "fc.csv")
    assert len(pd.read_csv(tmp_path / "fc.csv")) == 21 * 7
    with pytest.raises(ValueError, match="unknown output format '.xlsx'"):
        FC.write_forecast(table, tmp_path / "fc.xlsx")


def test_verify_contract_and_no_overlap(winter_world, winter_model, winter_inputs, tmp_path):
    with pytest.raises(ModelError, match="inside the training period"):
        FC.run_verify(winter_world, winter_model, "2023-12-15", "2023-12-24", inputs=winter_inputs)
    res = FC.run_verify(winter_world, winter_model, "2023-12-21", "2023-12-26", inputs=winter_inputs,
                        out=tmp_path / "v.json", update_card=False)
    keys = {"model", "lead_day", "threshold", "hits", "misses", "false_alarms", "correct_negatives", "ts", "pod",
            "far", "frequency_bias", "brier_skill_score"}
    assert all(keys <= set(r) for r in res["scores"])
    assert {r["model"] for r in res["scores"]} == {"lantian", "persistence", "climatology"}
    assert {(r["threshold"]) for r in res["scores"]} == {150, 200, 300}
    ckeys = {"model", "lead_day", "variable", "mae", "rmse", "bias", "category_accuracy"}
    assert all(ckeys <= set(r) for r in res["continuous"])
    assert json.loads((tmp_path / "v.json").read_text())["scores"] == res["scores"]
    assert "under_measures" not in res  # no warnings given: nothing to split by
    # the warnings in force (here: one area on every day): its cases counted as under measures, the false
    # alarms on them apart
    day1 = FC.hindcast(Forecaster.load(winter_model), winter_inputs, "2023-12-21", "2023-12-26",
                       FC._climatology(winter_model))
    day1 = day1[(day1["lead"] == 1) & day1["y_aqi"].notna()]
    area = day1["area_id"].iloc[0]
    in_force = pd.DataFrame({"area_id": area, "date": pd.date_range("2023-12-01", "2024-01-31")})
    res = FC.run_verify(winter_world, winter_model, "2023-12-21", "2023-12-26", inputs=winter_inputs,
                        update_card=False, in_force=in_force)
    um = {r["lead_day"]: r for r in res["under_measures"]}
    mine = day1[day1["area_id"] == area]
    assert um[1]["cases"] == len(day1) and um[1]["days_under_measures"] == len(mine)
    assert um[1]["false_alarms"] == int((day1["event_gt200"] & (day1["y_aqi"] <= 200)).sum())
    assert um[1]["false_alarms_under_measures"] == int((mine["event_gt200"] & (mine["y_aqi"] <= 200)).sum())
    assert set(um) == set(range(1, 8))


def _tiny_model():
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    booster = lgb.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 5},
                        lgb.Dataset(X, X[:, 0]), 2)
    return Forecaster(features=["a", "b"], areas=["baotou"], boosters={"aqi_q50": booster},
                      card={"version": "v1"})


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_failed_save_keeps_the_old_model(tmp_path):
    model_dir = tmp_path / "model"
    _tiny_model().save(model_dir)
    old = _files(model_dir)
    assert {"model.json", "model_card.json", "aqi_q50.txt", f".format-{M.MODEL_FORMAT}"} <= set(old)

    def disk_full(folder):
        (folder / "climatology.parquet").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    new = _tiny_model()
    new.card = {"version": "v2"}
    with pytest.raises(OSError, match="No space left"):
        new.save(model_dir, also=disk_full)
    assert _files(model_dir) == old and [p.name for p in tmp_path.iterdir()] == ["model"]
    assert Forecaster.load(model_dir).version == "v1"
    new.save(model_dir, also=lambda folder: (folder / "climatology.parquet").write_bytes(b"clim"))
    assert Forecaster.load(model_dir).version == "v2" and (model_dir / "climatology.parquet").read_bytes() == b"clim"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_folder_that_is_not_a_model_is_never_replaced(tmp_path):
    (tmp_path / "notes.csv").write_text("mine")
    with pytest.raises(ModelError, match="other files in it.*over a lantian model"):
        _tiny_model().save(tmp_path)
    with pytest.raises(ModelError, match="other files in it"):  # before any work: no data is read
        FC.train(tmp_path / "no-such-data", tmp_path)
    assert _files(tmp_path) == {"notes.csv": b"mine"}


def test_booster_names_from_the_model_file_are_never_paths(tmp_path):
    _tiny_model().save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["boosters"] = ["../../outside"]
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="booster name '../../outside' cannot name a file"):
        Forecaster.load(tmp_path / "m")


def test_lead_days_1_2_are_decided_by_their_own_classifiers(winter_model, table):
    m = Forecaster.load(winter_model)
    assert m.short_classifiers() == {(1, 2): ["p150_L12", "p200_L12", "p300_L12"]}
    assert M.SHORT_LEADS == (1, 2) and {f"p200_L12_f{k}" for k in range(3)} <= set(m.boosters)
    card = json.loads((winter_model / "model_card.json").read_text())
    assert card["short_lead_classifiers"]["lead_days"] == [1, 2]
    assert card["short_lead_classifiers"]["decision"]["p200_L12"] == m.decision["p200_L12"]
    assert card["short_lead_classifiers"]["params"] == M.SHORT_PARAMS == {"min_data_in_leaf": 50}
    # in the card's params too, which the registry compares: a retrain with other leaves is another model
    assert card["params"]["short_min_data_in_leaf"] == 50 and card["params"]["min_data_in_leaf"] == 300
    p = m.predict(table)
    X = m.matrix(table)
    short = table["lead"].isin([1, 2]).to_numpy()
    general = np.column_stack([m._probability(X, f"p{th}") for th in M.THRESHOLDS])
    own = np.column_stack([m._probability(X, f"p{th}_L12") for th in M.THRESHOLDS])
    expect = np.minimum.accumulate(np.where(short[:, None], own, general), axis=1)[:, 1]
    np.testing.assert_allclose(p["p_aqi_gt200"], np.round(expect, 4))
    assert not np.allclose(own[short], general[short])  # the lead-1–2 classifiers are not the general ones
    cut = np.where(short, m.decision["p200_L12"], m.decision["p200"])
    assert (p["event_gt200"].to_numpy() == (expect >= cut)).all()


def test_a_model_without_short_lead_classifiers_uses_the_general_ones(winter_model, table, monkeypatch):
    m = Forecaster.load(winter_model)
    for key in [k for k in m.boosters if "_L12_" in k]:
        del m.boosters[key]
    assert m.short_classifiers() == {}
    p = m.predict(table)
    X = m.matrix(table)
    expect = np.minimum.accumulate(np.column_stack([m._probability(X, f"p{th}") for th in M.THRESHOLDS]), axis=1)
    np.testing.assert_allclose(p["p_aqi_gt200"], np.round(expect[:, 1], 4))
    assert (p["event_gt200"] == (expect[:, 1] >= m.decision["p200"])).all()
    monkeypatch.setattr(M, "SHORT_LEADS", ())
    one = Forecaster.fit(table, rounds=5)
    assert one.short_classifiers() == {} and not any("_L" in k for k in one.boosters)
    assert set(one.decision) == {"p150", "p200", "p300"}


def test_short_lead_classifiers_have_smaller_leaves_unless_params_say_otherwise(table):
    m = Forecaster.fit(table, rounds=3)
    leaf = {name: b.params["min_data_in_leaf"] for name, b in m.boosters.items()}
    assert {leaf[f"p{th}_L12_f0"] for th in M.THRESHOLDS} == {M.SHORT_PARAMS["min_data_in_leaf"]}
    assert {leaf[f"p{th}_f0"] for th in M.THRESHOLDS} | {leaf["aqi_q50"], leaf["dust_f0"]} == \
        {M.DEFAULT_PARAMS["min_data_in_leaf"]}
    given = Forecaster.fit(table, rounds=3, params={"min_data_in_leaf": 20})  # an explicit choice wins everywhere
    assert {b.params["min_data_in_leaf"] for b in given.boosters.values()} == {20}
