"""Versioned model folders (forecast/registry.py) on hand-made version folders: no training, quick."""
import json
from types import SimpleNamespace

import pytest

from forecast import registry as R
from forecast.model import Forecaster, ModelError


def _write_model(folder, version, train_end, *, created="20240101T000000Z", seed=0, verification=None):
    """A folder that the registry takes for a model: model.json and a card (the boosters are not read here)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text("{}")
    card = {"name": "t", "version": version, "created": created, "training_period": ["2023-12-01", train_end],
            "data_hash": version, "seed": seed, "rounds": 20, "params": {}, "libraries": {},
            "verification": verification}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def _model(version, train_end, *, created, seed=0):
    """What ``registry.add_version`` needs of a trained Forecaster: its card, a directory, and a save."""
    card = {"name": "t", "version": version, "created": created, "training_period": ["2023-12-01", train_end],
            "data_hash": version, "seed": seed, "rounds": 20, "params": {}, "libraries": {}}
    m = SimpleNamespace(card=card, directory=None)
    return m, (lambda folder: _write_model(folder, m.card["version"], train_end, created=created, seed=seed))


def _folder(tmp_path, *versions):
    """A versioned folder with versions (name, training end), added in order (the first is promoted)."""
    root = tmp_path / "m"
    R.init(root)
    for i, (v, end) in enumerate(versions):
        m, save = _model(v, end, created=f"2024010{i + 1}T000000Z")
        R.add_version(root, m, save=save)
    return root


def _results(*versions):
    """Verification results as ``lantian verify`` returns them (the parts a comparison keeps)."""
    out = {}
    for k, v in enumerate(versions):
        out[v] = {"cases": 100 + k,
                  "scores": [{"model": "lantian", "lead_day": d, "threshold": th, "ts": 0.1 * k + d / 100, "pod": 0.5,
                              "far": 0.2, "brier_skill_score": 0.3 - d / 100} for d in (1, 2) for th in (150, 200)] +
                  [{"model": "persistence", "lead_day": 1, "threshold": 200, "ts": 0.9, "pod": 0.9, "far": 0.1,
                    "brier_skill_score": 0.9}],
                  "levels": [{"model": "lantian", "hits": 3 + k, "misses": 1, "false_alarms": 2 - k,
                              "exact_level_accuracy": 0.8}, {"model": "persistence", "hits": 9, "misses": 0,
                                                             "false_alarms": 0, "exact_level_accuracy": 1.0}]}
    return out


def test_first_version_of_an_empty_folder_is_promoted_later_ones_are_not(tmp_path):
    root = tmp_path / "m"
    reg = R.init(root)
    assert reg.promoted is None and (root / R.REGISTRY_FILE).exists()
    with pytest.raises(R.RegistryError, match="no promoted model version"):
        R.resolve(root)
    m, save = _model("20231214-aaaa", "2023-12-14", created="20240101T000000Z")
    assert R.add_version(root, m, save=save) == ("20231214-aaaa", True)
    assert m.directory == root / "versions" / "20231214-aaaa"
    m2, save2 = _model("20231218-bbbb", "2023-12-18", created="20240102T000000Z")
    assert R.add_version(root, m2, save=save2) == ("20231218-bbbb", False)
    reg = R.load(root)
    assert reg.promoted == "20231214-aaaa"
    assert reg.versions() == ["20231214-aaaa", "20231218-bbbb"]
    assert R.resolve(root) == root / "versions" / "20231214-aaaa"
    assert [h["action"] for h in reg.history] == ["added", "promoted", "added"]


def test_a_plain_model_folder_loads_as_itself(tmp_path):
    plain = _write_model(tmp_path / "plain", "v1", "2023-12-14")
    assert not R.is_versioned(plain)
    assert R.resolve(plain) == plain


def test_init_adopts_a_plain_model_folder_as_its_promoted_version(tmp_path):
    plain = _write_model(tmp_path / "plain", "20231214-aaaa", "2023-12-14")
    (plain / "climatology.parquet").write_bytes(b"clim")
    reg = R.init(plain, user="boss")
    assert reg.promoted == "20231214-aaaa"
    assert not (plain / "model.json").exists() and not (plain / "climatology.parquet").exists()
    kept = plain / "versions" / "20231214-aaaa"
    assert (kept / "climatology.parquet").read_bytes() == b"clim"
    assert R.resolve(plain) == kept
    assert R.load(plain).history[0]["action"] == "adopted"
    assert R.init(plain).promoted == "20231214-aaaa"  # again: nothing changes


def test_init_refuses_a_folder_of_other_files(tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "a.txt").write_text("x")
    with pytest.raises(R.RegistryError, match="not a lantian model folder.*allowed"):
        R.init(other)
    assert sorted(p.name for p in other.iterdir()) == ["a.txt"]


def test_loading_a_folder_that_is_no_model_names_it(tmp_path):
    with pytest.raises(ModelError, match=f"{tmp_path}.*not a lantian model"):
        Forecaster.load(tmp_path)


def test_promote_needs_a_comparison_on_a_held_out_period(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"))
    with pytest.raises(R.RegistryError, match="no comparison of v2 with the promoted v1.*lantian models compare"):
        R.promote(root, "v2", user="boss")
    with pytest.raises(R.RegistryError, match="starts inside a training period"):
        R.record_comparison(root, "v1", "v2", ["2023-12-16", "2023-12-25"], _results("v1", "v2"))
    assert R.load(root).comparisons == []
    R.record_comparison(root, "v1", "v2", ["2023-12-19", "2023-12-25"], _results("v1", "v2"))
    calls = []
    entry = R.promote(root, "v2", user="boss", record=lambda e: calls.append(e) or 7)
    assert R.load(root).promoted == "v2" and R.resolve(root).name == "v2"
    assert entry["comparison"].startswith("comparisons/v1__v2__20231219_20231225") and not entry["forced"]
    assert entry["audit_event"] == 7 and calls[0]["version"] == "v2" and calls[0]["previous"] == "v1"


def test_a_comparison_with_another_promoted_version_does_not_count(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"), ("v3", "2023-12-18"))
    R.record_comparison(root, "v1", "v3", ["2023-12-19", "2023-12-25"], _results("v1", "v3"))
    R.promote(root, "v2", user="boss", force=True, reason="urgent fix")
    with pytest.raises(R.RegistryError, match="no comparison of v3 with the promoted v2"):
        R.promote(root, "v3", user="boss")


def test_force_needs_a_reason_and_is_marked(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"))
    with pytest.raises(R.RegistryError, match="--force needs --reason"):
        R.promote(root, "v2", user="boss", force=True)
    entry = R.promote(root, "v2", user="boss", force=True, reason="the old model reads a retired variable")
    assert entry["forced"] and entry["comparison"] is None and R.load(root).promoted == "v2"


def test_a_failing_record_leaves_the_registry_as_it_was(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"))
    before = (root / R.REGISTRY_FILE).read_bytes()

    def refuse(entry):
        raise ValueError("audit store read-only")

    with pytest.raises(ValueError, match="read-only"):
        R.promote(root, "v2", user="boss", force=True, reason="x", record=refuse)
    assert (root / R.REGISTRY_FILE).read_bytes() == before


def test_rollback_undoes_one_promotion_at_a_time(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-16"), ("v3", "2023-12-18"))
    R.promote(root, "v2", user="boss", force=True, reason="a")
    R.promote(root, "v3", user="boss", force=True, reason="b")
    assert R.rollback(root, user="boss")["version"] == "v2"
    assert R.resolve(root).name == "v2"
    entry = R.rollback(root, user="boss", reason="v2 misses the dust days")
    assert (entry["version"], entry["previous"], entry["reason"]) == ("v1", "v2", "v2 misses the dust days")
    with pytest.raises(R.RegistryError, match="no earlier promoted version.*promotions on record: v1"):
        R.rollback(root, user="boss")
    assert R.load(root).promoted == "v1" and R.load(root).versions() == ["v1", "v2", "v3"]


def test_unknown_and_already_promoted_versions_are_refused(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"))
    with pytest.raises(R.RegistryError, match="unknown model version 'v9'; allowed: v1, v2"):
        R.promote(root, "v9", user="boss", force=True, reason="x")
    with pytest.raises(R.RegistryError, match="v1 is already the promoted version"):
        R.promote(root, "v1", user="boss", force=True, reason="x")


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"format": 9, "promoted": "v1"}', "format 9 is not 1"),
    ('{"format": 1, "promoted": "v7", "history": [], "comparisons": []}',
     "promoted version 'v7' is not in .*allowed: v1, v2"),
    ('{"format": 1, "promoted": "v1", "history": [{"action": "deleted", "version": "v1"}]}',
     "history record 1 has action 'deleted'.*allowed actions: adopted, added, promoted, rolled_back"),
])
def test_a_damaged_registry_is_refused_and_loses_no_version(tmp_path, text, problem):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"))
    (root / R.REGISTRY_FILE).write_text(text)
    kept = "versions are kept \\(v1, v2 in .*registry.json.bak"
    with pytest.raises(R.RegistryError, match=f"registry.json: {problem}.*{kept}"):
        Forecaster.load(root)
    m, save = _model("v3", "2023-12-20", created="20240105T000000Z")
    with pytest.raises(R.RegistryError, match="registry.json"):
        R.add_version(root, m, save=save)
    with pytest.raises(R.RegistryError, match="registry.json"):
        R.promote(root, "v2", user="boss", force=True, reason="x")
    with pytest.raises(R.RegistryError, match="registry.json"):
        R.rollback(root, user="boss")
    assert (root / R.REGISTRY_FILE).read_text() == text  # never rewritten
    assert R.versions_on_disk(root) == ["v1", "v2"]  # no version written, none lost


def test_a_missing_registry_beside_versions_is_refused(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"))
    (root / R.REGISTRY_FILE).unlink()
    with pytest.raises(R.RegistryError, match="registry.json: missing.*v1"):
        R.resolve(root)


def test_the_same_model_again_adds_nothing_another_seed_gets_a_suffix(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"))
    m, save = _model("v1", "2023-12-14", created="20240101T000000Z")
    assert R.add_version(root, m, save=save) == ("v1", False)
    m, save = _model("v1", "2023-12-14", created="20240102T000000Z", seed=3)
    assert R.add_version(root, m, save=save) == ("v1-2", False)
    assert json.loads((root / "versions" / "v1-2" / "model_card.json").read_text())["version"] == "v1-2"
    assert R.load(root).versions() == ["v1", "v1-2"]


def test_a_comparison_keeps_both_versions_scores_side_by_side(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"), ("v2", "2023-12-18"))
    doc = R.record_comparison(root, "v1", "v2", ["2023-12-19", "2023-12-25"], _results("v1", "v2"))
    side = {(r["version"], r["lead_day"]): r for r in doc["side_by_side"]}
    assert set(side) == {("v1", 1), ("v1", 2), ("v2", 1), ("v2", 2)}  # AQI > 200, lantian only
    assert side[("v2", 1)]["ts"] == pytest.approx(0.11) and side[("v1", 2)]["bss"] == pytest.approx(0.28)
    assert doc["levels"] == {"v1": {"hits": 3, "misses": 1, "false_alarms": 2, "exact_level_accuracy": 0.8},
                             "v2": {"hits": 4, "misses": 1, "false_alarms": 1, "exact_level_accuracy": 0.8}}
    kept = json.loads((root / R.load(root).comparisons[0]["file"]).read_text())
    assert kept["period"] == ["2023-12-19", "2023-12-25"] and kept["side_by_side"] == doc["side_by_side"]


def test_listing_shows_periods_scores_and_the_promoted_version(tmp_path):
    root = _folder(tmp_path, ("v1", "2023-12-14"))
    ver = {"period": ["2023-12-19", "2023-12-25"], "cases": 10,
           "aqi_gt200": [{"lead_day": 1, "ts": 0.4, "pod": 0.5, "far": 0.3, "brier_skill_score": 0.2}]}
    _write_model(root / "versions" / "v2", "v2", "2023-12-18", created="20240109T000000Z", verification=ver)
    rows = R.listing(root)
    assert [(r["version"], r["promoted"]) for r in rows] == [("v1", True), ("v2", False)]
    assert rows[1]["training_period"] == ["2023-12-01", "2023-12-18"]
    assert rows[1]["verification_period"] == ["2023-12-19", "2023-12-25"] and rows[1]["day1"]["ts"] == 0.4
    assert rows[0]["day1"] is None


def test_listing_a_plain_folder_shows_its_one_unversioned_model(tmp_path):
    ver = {"period": ["2023-12-19", "2023-12-25"],
           "aqi_gt200": [{"lead_day": 3, "ts": 0.25, "pod": 0.5, "far": 0.3, "brier_skill_score": 0.1}]}
    plain = _write_model(tmp_path / "plain", "20231214-aaaa", "2023-12-14", verification=ver)
    rows = R.listing(plain)
    assert len(rows) == 1 and rows[0]["version"] == "20231214-aaaa"
    assert rows[0]["promoted"] and not rows[0]["versioned"]
    assert rows[0]["training_period"] == ["2023-12-01", "2023-12-14"] and rows[0]["day3"]["ts"] == 0.25
    assert not (plain / R.REGISTRY_FILE).exists()  # listing changes nothing
    R.init(plain)
    rows = R.listing(plain)
    assert [(r["version"], r["promoted"], r["versioned"]) for r in rows] == [("20231214-aaaa", True, True)]
    assert rows[0]["day3"]["ts"] == 0.25


def test_listing_a_folder_that_is_no_model_names_it(tmp_path):
    with pytest.raises(R.RegistryError, match=f"{tmp_path}: not a lantian model folder"):
        R.listing(tmp_path)
