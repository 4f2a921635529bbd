"""The warning decision: thresholds on P(level ≥ L), their sources, and their consequences on a record."""
import numpy as np
import pandas as pd
import pytest

from forecast import decision
from forecast.decision import DecisionError, Thresholds, decide


@pytest.mark.parametrize("p_ge, t, expected", [
    ([0.9, 0.6, 0.2], (0.3, 0.3, 0.3), "orange"),
    ([0.9, 0.6, 0.2], (0.3, 0.7, 0.3), "yellow"),
    ([0.9, 0.6, 0.2], (0.3, 0.7, 0.15), "red"),  # red reached: the highest level reached is proposed
    ([0.29, 0.1, 0.0], (0.3, 0.3, 0.3), "none"),
    ([0.3, 0.1, 0.0], (0.3, 0.3, 0.3), "yellow"),  # at the threshold counts as reaching it
    ([1.0, 1.0, 1.0], (1.0, 1.0, 1.0), "red"),
])
def test_decision_follows_the_thresholds(p_ge, t, expected):
    assert decide(np.array([p_ge]), Thresholds(*t))[0] == expected


def test_lower_thresholds_never_lower_the_level():
    rng = np.random.default_rng(0)
    p = np.sort(rng.uniform(size=(500, 3)), axis=1)[:, ::-1]  # non-increasing yellow → red
    rank = {k: i for i, k in enumerate(decision.ALL_LEVELS)}
    high = [rank[v] for v in decide(p, Thresholds(0.6, 0.6, 0.6))]
    low = [rank[v] for v in decide(p, Thresholds(0.2, 0.3, 0.4))]
    assert all(lo >= hi for lo, hi in zip(low, high)) and sum(low) > sum(high)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan")])
def test_thresholds_outside_zero_one_are_refused(bad):
    with pytest.raises(DecisionError, match=r"threshold of yellow is .*allowed: a probability in \(0, 1\]"):
        Thresholds(bad, 0.3, 0.3)


def test_parse_thresholds():
    assert parse("0.25").as_dict() == {"yellow": 0.25, "orange": 0.25, "red": 0.25}
    assert parse("yellow=0.4, orange=0.3,red=0.2").as_dict() == {"yellow": 0.4, "orange": 0.3, "red": 0.2}
    with pytest.raises(DecisionError, match="unknown \\['blue'\\]"):
        parse("yellow=0.4,orange=0.3,red=0.2,blue=0.1")
    with pytest.raises(DecisionError, match="missing \\['red'\\]"):
        parse("yellow=0.4,orange=0.3")
    with pytest.raises(DecisionError, match="give one probability"):
        parse("high")
    with pytest.raises(DecisionError, match="must be numbers"):
        parse("yellow=a,orange=0.3,red=0.2")


def parse(text):
    return decision.parse_thresholds(text)


def test_shipped_region_and_consultation_thresholds(tmp_path):
    shipped = decision.load_thresholds()
    assert shipped.source == "shipped defaults"
    data = tmp_path / "data"
    data.mkdir()
    assert decision.thresholds_in_force(data) == shipped

    class Region:
        decision_path = tmp_path / "decision.yaml"
    Region.decision_path.write_text("thresholds: {yellow: 0.5, orange: 0.4, red: 0.3}\n")
    assert decision.thresholds_in_force(data, region=Region).as_dict() == {"yellow": 0.5, "orange": 0.4, "red": 0.3}
    decision.save_setting(Thresholds(0.2, 0.2, 0.15), data=data, by="会商组 张三", reason="春节前后从严")
    t = decision.thresholds_in_force(data, region=Region)
    assert t.as_dict() == {"yellow": 0.2, "orange": 0.2, "red": 0.15} and "张三" in t.source
    given = Thresholds(0.9, 0.9, 0.9, source="given")
    assert decision.thresholds_in_force(data, region=Region, given=given) is given
    with pytest.raises(DecisionError, match="who sets it and why"):
        decision.save_setting(Thresholds(0.2, 0.2, 0.2), data=data, by="", reason="x")


def test_a_damaged_setting_line_is_reported_not_used(tmp_path):
    decision.save_setting(Thresholds(0.2, 0.2, 0.2), data=tmp_path, by="a", reason="b")
    with open(decision.settings_path(tmp_path), "a") as fh:
        fh.write('{"yellow": 5, "orange": 0.3, "red": 0.3, "by": "x", "saved_at": "now"}\n{not json\n')
    records, problems = decision.settings(tmp_path)
    assert len(records) == 1 and len(problems) == 2 and "decision_thresholds.jsonl:2" in problems[0]
    assert decision.thresholds_in_force(tmp_path).yellow == 0.2


def test_bad_region_file_names_the_file(tmp_path):
    path = tmp_path / "decision.yaml"
    path.write_text("thresholds: {yellow: 0.5, orange: 2}\n")
    with pytest.raises(DecisionError, match=f"{path}.*missing \\['red'\\]"):
        decision.load_thresholds(path)
    path.write_text("nothing: here\n")
    with pytest.raises(DecisionError, match="no 'thresholds' mapping"):
        decision.load_thresholds(path)


def record():
    # four cases: a red episode, an orange one, a quiet day with some risk, a quiet day
    return pd.DataFrame({"p_ge_yellow": [0.9, 0.5, 0.35, 0.05], "p_ge_orange": [0.8, 0.3, 0.1, 0.0],
                         "p_ge_red": [0.4, 0.1, 0.0, 0.0], "obs_level": ["red", "orange", "none", "none"]})


def test_consequences_count_by_hand():
    c = decision.consequences(record(), Thresholds(0.3, 0.3, 0.3))
    # decided: red (0.4 ≥ 0.3), orange, yellow, none
    assert (c["hits"], c["misses"], c["false_alarms"], c["correct_negatives"]) == (2, 0, 1, 1)
    assert c["by_level"]["orange"] == {"hits": 2, "misses": 0, "false_alarms": 0, "correct_negatives": 2}
    assert c["by_level"]["red"] == {"hits": 1, "misses": 0, "false_alarms": 0, "correct_negatives": 3}
    assert c["exact"] == 0.75 and c["too_high"] == 1 and c["too_low"] == 0
    strict = decision.consequences(record(), Thresholds(0.6, 0.6, 0.6))  # decided: orange, none, none, none
    assert (strict["hits"], strict["misses"], strict["false_alarms"]) == (1, 1, 0)


def test_sweep_trades_misses_for_false_alarms():
    s = decision.sweep(record(), values=(0.1, 0.3, 0.6, 0.95))
    assert s["misses"].is_monotonic_increasing and s["false_alarms"].is_monotonic_decreasing
    assert s.iloc[0][["hits", "misses", "false_alarms"]].tolist() == [2, 0, 1]


def test_unknown_observed_level_is_refused():
    with pytest.raises(DecisionError, match="unknown level\\(s\\) \\['blue'\\]"):
        decision.consequences(record().assign(obs_level=["blue", "none", "none", "none"]), Thresholds(0.3, 0.3, 0.3))


def test_a_disk_full_setting_leaves_the_settings_readable(tmp_path, monkeypatch):
    from .test_workspace import disk_full_after_half

    decision.save_setting(Thresholds(0.2, 0.2, 0.2), data=tmp_path, by="a", reason="b")
    before = decision.settings_path(tmp_path).read_bytes()
    disk_full_after_half(monkeypatch, b"DISKFULL")
    with pytest.raises(DecisionError, match="not saved.*No space left"):
        decision.save_setting(Thresholds(0.5, 0.5, 0.5), data=tmp_path, by="c", reason="DISKFULL")
    monkeypatch.undo()
    assert decision.settings_path(tmp_path).read_bytes() == before
    records, problems = decision.settings(tmp_path)
    assert len(records) == 1 and problems == [] and decision.thresholds_in_force(tmp_path).yellow == 0.2
