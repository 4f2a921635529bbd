"""The page cache (lantian/pagecache.py): an entry is read back instead of computed again; a changed input, model,
threshold setting or warnings record gives another key (computed again); a damaged or partial entry is ignored,
computed again and rewritten with a note, never an error; the documents computed together are those computed one
by one; the review of an episode is kept too."""
import dataclasses
import json
import shutil
import warnings

import pandas as pd
import pytest

from forecast.history import CacheNote
from lantian import pagecache

KEY = "0123456789abcdef0123456789abcdef01234567"


# ---- the entries (no world) ----------------------------------------------------------------------------------------

def test_an_entry_is_computed_once_then_read(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"issue_date": pd.Timestamp("2024-01-02"), "aqi": 123.5}

    first, note = pagecache.cached(tmp_path, "forecast", KEY, compute, cache=tmp_path)
    second, note2 = pagecache.cached(tmp_path, "forecast", KEY, compute, cache=tmp_path)
    assert calls == [1] and note is None and note2 is None
    assert first == second == {"issue_date": "2024-01-02 00:00:00", "aqi": 123.5}  # as it reads back, both times
    assert (tmp_path / "pages" / "forecast" / f"{KEY}.json").exists()


@pytest.mark.parametrize("damage", ["", "{\"format\": \"1\", \"kind\": \"forecast\", \"ke", "not json at all",
                                    "[1, 2]", '{"format": "0", "kind": "forecast", "key": "K", "value": {}}',
                                    "WRONG_KEY"])
def test_a_damaged_or_partial_entry_is_computed_again_with_a_note(tmp_path, damage):
    pagecache.cached(tmp_path, "forecast", KEY, lambda: {"v": 1}, cache=tmp_path)
    path = pagecache.entry_path(tmp_path, "forecast", KEY, cache=tmp_path)
    if damage == "WRONG_KEY":  # another key's entry copied over this one
        entry = json.loads(path.read_text())
        damage = json.dumps({**entry, "key": "f" * 40})
    path.write_text(damage.replace('"K"', json.dumps(KEY)))
    with pytest.warns(CacheNote, match="unreadable"):
        value, note = pagecache.cached(tmp_path, "forecast", KEY, lambda: {"v": 2}, cache=tmp_path)
    assert value == {"v": 2} and str(path) in note
    assert pagecache.read(tmp_path, "forecast", KEY, cache=tmp_path) == ({"v": 2}, None)  # rewritten whole


def test_an_entry_that_cannot_be_written_is_still_shown(tmp_path):
    (tmp_path / "pages").write_text("a file where the folder should be")
    with pytest.warns(CacheNote, match="not written"):
        value, note = pagecache.cached(tmp_path, "review", KEY, lambda: {"v": 3}, cache=tmp_path)
    assert value == {"v": 3} and note is None


def test_keys_and_kinds_are_checked(tmp_path):
    with pytest.raises(ValueError, match="allowed: forecast, review"):
        pagecache.entry_path(tmp_path, "other", KEY, cache=tmp_path)
    with pytest.raises(ValueError, match="not a SHA-1"):
        pagecache.entry_path(tmp_path, "forecast", "../../etc/passwd", cache=tmp_path)


def test_file_digest_follows_the_content_and_the_write_ahead_log(tmp_path):
    db = tmp_path / "audit.db"
    assert pagecache.file_digest(db) == pagecache.file_digest(None) == "absent"
    db.write_bytes(b"events")
    a = pagecache.file_digest(db)
    (tmp_path / "audit.db-wal").write_bytes(b"one more")
    assert pagecache.file_digest(db) != a
    (tmp_path / "audit.db-wal").unlink()
    assert pagecache.file_digest(db) == a


# ---- on the winter world -------------------------------------------------------------------------------------------

@pytest.fixture()
def fresh(tmp_path):
    return tmp_path / "cache"


def test_the_forecast_document_is_kept_and_read_back(winter_world, winter_inputs, winter_model, fresh,
                                                     monkeypatch):
    from forecast import forecasting

    doc, note = pagecache.forecast_document(winter_world, winter_model, "2023-12-22", inputs=winter_inputs,
                                            cache=fresh)
    assert note is None and doc["issue_date"] == "2023-12-22" and len(doc["areas"]) > 5
    assert doc == pagecache.plain(forecasting.forecast_json(
        forecasting.run_forecast(winter_world, winter_model, "2023-12-22", cache=fresh, inputs=winter_inputs)))
    monkeypatch.setattr(forecasting, "run_forecast", lambda *a, **k: pytest.fail("computed again"))
    again, _ = pagecache.forecast_document(winter_world, winter_model, "2023-12-22", inputs=winter_inputs,
                                           cache=fresh)
    assert again == doc


def test_a_changed_input_model_or_setting_computes_again(winter_world, winter_inputs, winter_model, fresh,
                                                         tmp_path):
    from forecast import decision

    def key(model=winter_model, inputs=winter_inputs):
        return pagecache.forecast_key(winter_world, model, "2023-12-22", inputs=inputs, cache=fresh)

    base = key()
    assert key() == base and len(base) == 40
    # one observed value changed
    daily = winter_inputs.obs.daily.copy()
    daily.iloc[3, daily.columns.get_loc("aqi")] += 1
    changed = dataclasses.replace(winter_inputs, obs=dataclasses.replace(winter_inputs.obs, daily=daily))
    assert key(inputs=changed) != base
    # another model (a new version of the same folder)
    other = tmp_path / "model"
    shutil.copytree(winter_model, other)
    assert key(model=other) == base  # a copy is the same model
    card = json.loads((other / "model_card.json").read_text())
    (other / "model_card.json").write_text(json.dumps({**card, "version": "retrained"}))
    assert key(model=other) != base
    doc, _ = pagecache.forecast_document(winter_world, other, "2023-12-22", inputs=winter_inputs, cache=fresh)
    assert doc["model_version"] == "retrained"
    # the consultation sets other decision thresholds
    decision.save_setting(decision.Thresholds(yellow=0.2, orange=0.3, red=0.4, source="trial"), data=winter_world,
                          cache=fresh, by="test", reason="test")
    assert key() != base


def test_the_documents_computed_together_are_those_computed_one_by_one(winter_world, winter_inputs, winter_model,
                                                                       fresh, tmp_path):
    days = ["2023-12-21", "2023-12-24", "2023-12-27"]
    assert pagecache.precompute_forecasts(winter_world, winter_model, days, inputs=winter_inputs, cache=fresh) == 3
    assert pagecache.precompute_forecasts(winter_world, winter_model, days, inputs=winter_inputs, cache=fresh) == 0
    alone = tmp_path / "alone"
    for day in days:
        kept, _ = pagecache.forecast_document(winter_world, winter_model, day, inputs=winter_inputs, cache=fresh)
        computed, _ = pagecache.forecast_document(winter_world, winter_model, day, inputs=winter_inputs,
                                                  cache=alone)
        assert kept == computed and kept["issue_date"] == day


def test_the_episode_review_is_kept_and_a_new_warning_computes_again(winter_world, winter_inputs, winter_model,
                                                                      fresh, tmp_path, monkeypatch):
    from response import evaluation

    record = tmp_path / "issued.csv"
    record.write_text("area_id,date,level\nhohhot,2023-12-10,orange\n")
    calls = []

    def fake(data, start, end, **kw):
        calls.append(kw["warnings"])
        return {"episode": {"start": str(start), "end": str(end)}, "n": len(calls)}

    monkeypatch.setattr(evaluation, "evaluate_episode", fake)

    def review():
        return pagecache.episode_review(winter_world, "2023-12-08", "2023-12-12", model_dir=str(winter_model),
                                        warnings=record, inputs=winter_inputs, cache=fresh)[0]

    assert review() == review() == {"episode": {"start": "2023-12-08", "end": "2023-12-12"}, "n": 1}
    record.write_text("area_id,date,level\nhohhot,2023-12-10,red\n")
    assert review()["n"] == 2 and len(calls) == 2


def test_the_kept_review_is_what_the_evaluation_gives(winter_world, winter_inputs, winter_model, fresh):
    from response import episodes, evaluation

    warned = winter_world / episodes.ISSUED_WARNINGS
    report, _ = pagecache.episode_review(winter_world, "2023-12-08", "2023-12-12", model_dir=str(winter_model),
                                         warnings=warned, inputs=winter_inputs, cache=fresh)
    direct = evaluation.evaluate_episode(winter_world, "2023-12-08", "2023-12-12", model_dir=str(winter_model),
                                         warnings=warned, cache=fresh, inputs=winter_inputs)
    assert report == pagecache.plain(direct) and report["episode"]["start"] == "2023-12-08"
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheNote)
        assert pagecache.episode_review(winter_world, "2023-12-08", "2023-12-12", model_dir=str(winter_model),
                                        warnings=warned, inputs=winter_inputs, cache=fresh)[0] == report
