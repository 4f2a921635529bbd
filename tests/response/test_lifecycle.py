"""The warning life cycle on sequences of successive forecasts."""
import pytest

from response.lifecycle import WarningState, lowest_trigger, run_sequence, step


def actions(seq, rules="MEE-2024"):
    return [(t.action, t.level) for t in run_sequence(seq, rules=rules)]


def test_issue_upgrade_downgrade_lift():
    seq = [("d1", "yellow", [210, 120, 100]),
           ("d2", "orange", [220, 230, 120]),
           ("d3", "yellow", [205, 140, 100]),   # lower once: the higher level stays
           ("d4", "yellow", [205, 140, 100]),   # lower twice: downgrade
           ("d5", "none", [140, 120, 100]),     # below 150 for > 36 h: lift
           ("d6", "none", [100, 90, 80])]
    assert actions(seq) == [("issue", "yellow"), ("upgrade", "orange"), ("maintain", "orange"),
                            ("downgrade", "yellow"), ("lift", "none"), ("none", "none")]


def test_crossing_boundaries_keeps_the_higher_level():
    seq = [("d1", "orange", [230, 230]), ("d2", "yellow", [210, 120]), ("d3", "orange", [230, 230]),
           ("d4", "yellow", [210, 120])]
    assert [a for a, _ in actions(seq)] == ["issue", "maintain", "maintain", "maintain"]
    assert all(level == "orange" for _, level in actions(seq))


def test_no_lift_while_the_next_36h_stay_above_the_trigger():
    seq = [("d1", "yellow", [210, 120]), ("d2", "none", [120, 180, 100])]  # day 2 still > 150
    assert actions(seq)[1] == ("maintain", "yellow")
    seq = [("d1", "yellow", [210, 120]), ("d2", "none", [120, 140, 190])]  # day 3 is beyond 36 h
    assert actions(seq)[1] == ("lift", "none")


def test_lift_threshold_depends_on_rule_set():
    assert lowest_trigger("MEE-2024") == 150 and lowest_trigger("MEE-2019") == 200
    seq = [("d1", "yellow", [210, 210]), ("d2", "none", [180, 170])]
    assert actions(seq, "MEE-2019")[1] == ("lift", "none")    # below 200
    assert actions(seq, "MEE-2024")[1] == ("maintain", "yellow")  # still above 150


def test_lead_time_flag():
    _, t = step(WarningState(), "yellow", [100, 210, 220], issue_date="d", first_trigger_day=2)
    assert t.lead_hours == 32 and t.lead_time_ok
    _, t = step(WarningState(), "yellow", [210, 220], issue_date="d", first_trigger_day=1)
    assert t.lead_hours == 8 and t.lead_time_ok is False


def test_direct_jump_to_red_is_an_issue():
    assert actions([("d1", "red", [320, 330, 310])]) == [("issue", "red")]
