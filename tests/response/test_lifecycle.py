"""The warning life cycle on sequences of successive forecasts."""
import pytest

from response.accounts import Account, PermissionDenied
from response.lifecycle import (LifecycleError, WarningState, decision_event, lowest_trigger, officer_action,
                                reason_text, run_sequence, states_from_events, step, valid_from)


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
    _, t = step(WarningState(), "yellow", [100, 210, 220], issue_date="d", rules="MEE-2024", first_trigger_day=2)
    assert t.lead_hours == 32 and t.lead_time_ok
    _, t = step(WarningState(), "yellow", [210, 220], issue_date="d", rules="MEE-2024", first_trigger_day=1)
    assert t.lead_hours == 8 and t.lead_time_ok is False


def test_direct_jump_to_red_is_an_issue():
    assert actions([("d1", "red", [320, 330, 310])]) == [("issue", "red")]


# ---- the state from the audit store's events ------------------------------------------------------------------

def _ev(i, action, level, issue_date, proposed=None, area="baotou"):
    return {"id": i, "action": action, "area_id": area, "level": level, "issue_date": issue_date,
            "valid_from": None, "recorded_at": "t", "details": {"proposed": proposed} if proposed else None}


def test_state_from_events_level_and_pending_lower():
    events = [_ev(1, "issued", "orange", "2024-12-01"),
              _ev(2, "proposed", "orange", "2024-12-02", proposed="yellow")]   # maintain, a lower level pending
    s = states_from_events(events, before="2024-12-03")["baotou"]
    assert (s.level, s.pending_lower) == ("orange", "yellow")
    # a re-run of the same consultation never confirms itself
    assert states_from_events(events, before="2024-12-02")["baotou"].pending_lower is None
    # a proposal at the level in force clears the pending lower level; an officer's decision too
    assert states_from_events(events + [_ev(3, "proposed", "orange", "2024-12-03", proposed="orange")],
                              before="2024-12-04")["baotou"].pending_lower is None
    assert states_from_events(events + [_ev(3, "lifted", "none", "2024-12-03")])["baotou"] == WarningState(
        "none", "2024-12-03", None)


def test_two_consecutive_lower_proposals_from_the_store_downgrade():
    events = [_ev(1, "issued", "orange", "2024-12-01"), _ev(2, "proposed", "orange", "2024-12-02", "yellow")]
    state = states_from_events(events, before="2024-12-03")["baotou"]
    _, t = step(state, "yellow", [205, 140, 100], issue_date="2024-12-03", rules="MEE-2024")
    assert (t.action, t.level) == ("downgrade", "yellow")


@pytest.mark.parametrize("current, chosen, action", [("none", "yellow", "issued"), ("yellow", "red", "upgraded"),
                                                     ("red", "orange", "downgraded"), ("orange", "none", "lifted"),
                                                     ("orange", "orange", "maintained")])
def test_officer_action(current, chosen, action):
    assert officer_action(current, chosen) == action


def test_decision_event_needs_a_reason_for_an_override():
    rec = {"area_id": "baotou", "tier": "city", "level": "orange", "model_level": "orange", "reason": "r",
           "valid_from": "2024-12-21T00:00:00+08:00"}
    li = Account("li", "李", "officer", "city", "baotou")
    with pytest.raises(LifecycleError, match="needs a reason"):
        decision_event(rec, chosen="red", current="none", account=li, issue_date="2024-12-20")
    e = decision_event(rec, chosen="orange", current="none", account=li, issue_date="2024-12-20")
    assert (e.action, e.level, e.valid_from, e.details["override"]) == ("issued", "orange",
                                                                        "2024-12-21T00:00:00+08:00", False)
    assert e.officer == "李" and (e.details["login"], e.details["role"]) == ("li", "officer")


@pytest.mark.parametrize("account, why", [
    (None, "log in first"),
    (Account("v", "观察员", "viewer"), "may not issue"),
    (Account("c", "专家", "consultant"), "may not issue"),
    (Account("h", "呼市值班", "officer", "city", "hohhot"), "issues for hohhot only, not baotou"),
    (Account("q", "旗县值班", "officer", "county", "togtoh"), "issues county-tier warnings only"),
    (Account("r", "自治区值班", "officer", "region"), "issues region-tier warnings only"),
])
def test_only_the_officer_of_the_tier_and_area_may_issue(account, why):
    rec = {"area_id": "baotou", "tier": "city", "level": "orange", "model_level": "orange", "reason": "r",
           "valid_from": "2024-12-21T00:00:00+08:00"}
    with pytest.raises(PermissionDenied, match=why):
        decision_event(rec, chosen="orange", current="none", account=account, issue_date="2024-12-20")


def test_valid_from_is_the_first_trigger_day_in_cst():
    assert valid_from("2024-12-20", [2, 3]).isoformat() == "2024-12-22T00:00:00+08:00"
    assert valid_from("2024-12-20").isoformat() == "2024-12-21T00:00:00+08:00"


def test_periods_in_force_from_decisions_with_cst_valid_from():
    """A decision recorded by the duty page (valid_from 00:00 CST, tz-aware) counts from that CST day; proposals
    never make a warning; the next decision ends the previous level the day before it takes effect."""
    import pandas as pd

    from response.lifecycle import periods_in_force

    events = [dict(_ev(1, "proposed", "orange", "2024-12-19", "orange"), valid_from="2024-12-20T00:00:00+08:00"),
              dict(_ev(2, "issued", "orange", "2024-12-19"), valid_from="2024-12-20T00:00:00+08:00"),
              dict(_ev(3, "upgraded", "red", "2024-12-21"), valid_from="2024-12-22T00:00:00+08:00"),
              dict(_ev(4, "lifted", "none", "2024-12-23"), valid_from="2024-12-24T00:00:00+08:00")]
    p = periods_in_force(events)
    assert p["date"].dt.strftime("%m-%d").tolist() == ["12-20", "12-21", "12-22", "12-23"]
    assert p["level"].tolist() == ["orange", "orange", "red", "red"]
    assert set(p["issued"]) == {"2024-12-19"} and p["date"].dt.tz is None
    assert pd.api.types.is_datetime64_any_dtype(p["date"])


# ---- dust days do not hold a PM2.5 warning in force (REFERENCE 1.3–1.5) --------------------------------------------
# 1.3/1.4: a dust episode gets health advisories, emergency (enterprise) cuts are for PM2.5; 1.5: lift when the
# forecast stays below the trigger (MEE-2024: AQI 150) for more than 36 h (lead days 1 and 2).

ORANGE = WarningState("orange", "2024-03-18", None)


def test_dust_days_count_as_below_the_trigger_when_lifting():
    state, t = step(ORANGE, "none", [260, 240, 120, 100], issue_date="2024-03-20", rules="MEE-2024",
                    dust=[True, True, False, False])
    assert (t.action, t.level, state.level) == ("lift", "none", "none")
    assert "沙尘" in t.reason and "企业减排" in t.reason
    # the same AQI without the dust flags is PM2.5 above 150: the warning (and its cuts) stays
    state, t = step(ORANGE, "none", [260, 240, 120, 100], issue_date="2024-03-20", rules="MEE-2024")
    assert (t.action, t.level, state.level) == ("maintain", "orange", "orange")
    _, t = step(ORANGE, "none", [260, 240, 120, 100], issue_date="2024-03-20", rules="MEE-2024",
                dust=[False] * 4)
    assert t.action == "maintain"


def test_a_non_dust_day_above_the_trigger_within_36h_still_holds_the_warning():
    _, t = step(ORANGE, "none", [260, 240, 120], issue_date="2024-03-20", rules="MEE-2024", dust=[True, False, False])
    assert (t.action, t.level) == ("maintain", "orange")  # day 2 is 240 > 150 and not dust
    _, t = step(ORANGE, "none", [120, 260, 100], issue_date="2024-03-20", rules="MEE-2024", dust=[False, True, False])
    assert (t.action, t.level) == ("lift", "none")
    assert "沙尘" in t.reason


def test_dust_flags_through_run_sequence_and_their_length_is_checked():
    seq = [("d1", "orange", [230, 240, 120]), ("d2", "none", [260, 240, 120], [True, True, False])]
    assert actions(seq) == [("issue", "orange"), ("lift", "none")]
    with pytest.raises(LifecycleError, match=r"dust: 2 flag\(s\) for 3 forecast value\(s\)"):
        step(ORANGE, "none", [260, 240, 120], issue_date="d", rules="MEE-2024", dust=[True, True])


def test_respond_passes_the_forecast_dust_days_to_the_life_cycle():
    from tests.response.test_respond import ADJ, area_doc, forecast_doc

    from response.respond import respond

    def doc(dust):
        d = forecast_doc()
        i = next(i for i, a in enumerate(d["areas"]) if a["area_id"] == "alxa")
        d["areas"][i] = area_doc("alxa", "none", (260, 240, 120, 100, 100, 100, 100), dust=dust)
        return d

    states = {"alxa": WarningState("orange", "2024-12-18", None)}
    city = {r["area_id"]: r for r in respond(doc((True, True) + (False,) * 5), adjacency=ADJ, states=states,
                                            write_docx=False)["city"]}
    assert city["alxa"]["action"] == "lift"
    city = {r["area_id"]: r for r in respond(doc((False,) * 7), adjacency=ADJ, states=states,
                                            write_docx=False)["city"]}
    assert (city["alxa"]["action"], city["alxa"]["in_force"]) == ("maintain", "orange")


# ---- the issuing window and lifting between two episodes (REFERENCE 1.1, 1.5; response/data/lifecycle.yaml) -----
# Lift: AQI below the start threshold and forecast to stay there > 36 h (Taiyuan 2019 §3.4.2). Window: the city
# forecast covers 3 days, the 7-day forecast is a trend outlook (Hohhot 2019 §3.2); lantian issues on the window.

CLEAN_THEN_ORANGE = [120, 110, 100, 100, 230, 240, 120]  # MEE-2024: days 1–4 below 150, orange run on days 5–6


def test_a_warning_is_lifted_between_two_episodes_when_the_next_is_beyond_the_window():
    state, t = step(ORANGE, "orange", CLEAN_THEN_ORANGE, issue_date="2024-12-20", rules="MEE-2024",
                    first_trigger_day=5)
    assert (t.action, t.level, state.level) == ("lift", "none", "none")
    assert "36小时" in t.reason and "第5天" in t.reason and "3天预报时效" in t.reason
    en = reason_text(t, "en")
    assert "day 5" in en and "3-day forecast" in en and "Orange warning" in en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)


def test_a_clean_spell_with_the_next_run_inside_the_window_keeps_the_warning():
    aqi = [120, 110, 230, 240, 120, 100, 100]  # clean 48 h, orange again from day 3
    state, t = step(ORANGE, "orange", aqi, issue_date="2024-12-20", rules="MEE-2024", first_trigger_day=3)
    assert (t.action, state.level) == ("maintain", "orange")  # lifting would mean re-issuing at once
    assert "第3天" in t.reason and "暂不解除" in t.reason
    # the same forecast with no warning in force is issued: the two answers agree
    _, t = step(WarningState(), "orange", aqi, issue_date="2024-12-20", rules="MEE-2024", first_trigger_day=3)
    assert t.action == "issue"


def test_no_issue_before_the_run_enters_the_window_then_issue():
    seq = [("d1", "orange", [100, 100, 100, 100, 230, 240, 100], None, 5),
           ("d2", "orange", [100, 100, 100, 230, 240, 100, 100], None, 4),
           ("d3", "orange", [100, 100, 230, 240, 100, 100, 100], None, 3)]
    ts = run_sequence(seq, rules="MEE-2024")
    assert [(t.action, t.level) for t in ts] == [("none", "none"), ("none", "none"), ("issue", "orange")]
    assert "暂不发布" in ts[0].reason and "第5天" in ts[0].reason and "第4天" in ts[1].reason
    assert ts[2].lead_hours == 56 and ts[2].lead_time_ok
    # a wider window (a plan that issues on the 5-day forecast) issues on d1
    assert run_sequence(seq, rules="MEE-2024", issue_window_days=5)[0].action == "issue"


def test_an_upgrade_beyond_the_window_waits_and_the_level_in_force_is_kept():
    yellow = WarningState("yellow", "2024-12-18", None)
    aqi = [180, 170, 160, 160, 230, 240, 230]  # still above 150: not clean, orange only from day 5
    state, t = step(yellow, "orange", aqi, issue_date="2024-12-20", rules="MEE-2024", first_trigger_day=5)
    assert (t.action, state.level) == ("maintain", "yellow")
    assert "维持现行级别" in t.reason and "第5天" in t.reason
    _, t = step(yellow, "orange", aqi, issue_date="2024-12-20", rules="MEE-2024", first_trigger_day=2)
    assert (t.action, t.level) == ("upgrade", "orange")


def test_two_episodes_a_week_apart_are_two_warnings_not_one():
    """Before the window a warning stayed in force as long as any day of the 7-day horizon reached a level (the
    seed-7 demo kept Baotou warned 63 days across clean spells); now the gap lifts it and the next episode is
    issued when it enters the window — and never flips back and forth."""
    aqi = {"d1": [230, 240, 120, 100, 100, 100, 100], "d2": [240, 120, 100, 100, 100, 100, 230],
           "d3": [120, 100, 100, 100, 100, 230, 240], "d4": [100, 100, 100, 100, 230, 240, 120],
           "d5": [100, 100, 100, 230, 240, 120, 100], "d6": [100, 100, 230, 240, 120, 100, 100],
           "d7": [100, 230, 240, 120, 100, 100, 100]}
    first = {"d1": 1, "d2": 1, "d3": 6, "d4": 5, "d5": 4, "d6": 3, "d7": 2}
    seq = [(d, "orange" if d != "d2" else "yellow", a, None, first[d]) for d, a in aqi.items()]
    got = [(t.action, t.level) for t in run_sequence(seq, rules="MEE-2024")]
    assert got == [("issue", "orange"), ("maintain", "orange"), ("lift", "none"), ("none", "none"),
                   ("none", "none"), ("issue", "orange"), ("maintain", "orange")]


def test_the_policy_is_data_and_bad_values_are_named(tmp_path):
    from response.lifecycle import load_policy

    from response.lifecycle import ISSUE_WINDOW_DAYS, LIFT_HOURS

    p = load_policy()
    assert (p["lift_hours"], p["issue_window_days"], p["status"]) == (36.0, 3, "UNVERIFIED")
    assert (LIFT_HOURS, ISSUE_WINDOW_DAYS) == (p["lift_hours"], p["issue_window_days"])  # step()'s defaults
    bad = tmp_path / "lifecycle.yaml"
    bad.write_text("lift_hours: 36\nissue_window_days: 9\n", encoding="utf-8")
    with pytest.raises(LifecycleError, match=r"lifecycle.yaml: issue_window_days: 9 is not a whole number .* 1–7"):
        load_policy(bad)
    bad.write_text("lift_hours: -1\nissue_window_days: 3\n", encoding="utf-8")
    with pytest.raises(LifecycleError, match="lift_hours: -1"):
        load_policy(bad)
    bad.write_text("[not, a, mapping", encoding="utf-8")
    with pytest.raises(LifecycleError, match="cannot read the life-cycle policy"):
        load_policy(bad)


def test_respond_acts_on_the_level_in_force_after_the_life_cycle():
    """The measures, enterprise cuts and reduction lists follow what the officer would put in force: nothing for
    an episode beyond the window, nothing once lifted, the higher level while a lower one awaits confirmation.
    (Chifeng: outside the control zones, so no regional warning raises it.)"""
    from tests.response.test_respond import ADJ, area_doc, forecast_doc

    from response.respond import respond

    def doc(level, aqi, trigger):
        d = forecast_doc()
        i = next(i for i, a in enumerate(d["areas"]) if a["area_id"] == "chifeng")
        d["areas"][i] = area_doc("chifeng", level, aqi, trigger, clause="AQI>200 持续≥48h")
        return d

    later = doc("orange", CLEAN_THEN_ORANGE, (5, 6))
    rec = {r["area_id"]: r for r in respond(later, adjacency=ADJ, write_docx=False)["city"]}["chifeng"]
    assert (rec["level"], rec["action"], rec["acting_level"]) == ("orange", "none", "none")
    assert not rec["enterprise_cuts"] and not rec["measures"] and "第5天" in rec["reason"]
    rec = {r["area_id"]: r for r in respond(later, adjacency=ADJ, write_docx=False, lang="en",
                                            translate=())["city"]}["chifeng"]
    assert "day 5" in rec["reason"]
    states = {"chifeng": WarningState("orange", "2024-12-18", None)}
    rec = {r["area_id"]: r for r in respond(later, adjacency=ADJ, states=states, write_docx=False)["city"]}[
        "chifeng"]
    assert (rec["action"], rec["acting_level"], rec["measures"]) == ("lift", "none", [])
    # the lift takes effect the next day, not on the next episode's first day (its bulletin says so)
    assert rec["valid_from"] == "2024-12-21T00:00:00+08:00"
    res = respond(later, adjacency=ADJ, states=states, write_docx=False)
    lift = next(b for b in res["bulletin_objects"] if b.area_id == "chifeng")
    assert "2024年12月21日" in lift.markdown and "12月25日" not in lift.markdown
    pending = doc("yellow", (210, 190, 160, 120, 100, 100, 100), (1,))
    rec = {r["area_id"]: r for r in respond(pending, adjacency=ADJ, states=states, write_docx=False)["city"]}[
        "chifeng"]
    assert (rec["action"], rec["level"], rec["acting_level"]) == ("maintain", "yellow", "orange")
    assert rec["enterprise_cuts"] and rec["measures"] and "待下次会商确认后降级" in rec["reason"]


def test_confirming_a_proposal_records_what_it_puts_in_force_not_the_7_day_level():
    """A careless click on "confirm" follows the proposal: a lift is recorded as lifted, a kept level as kept —
    choosing the level the 7-day forecast implies instead is an override and needs a reason."""
    li = Account("li", "李", "officer", "city", "baotou")
    lift = {"area_id": "baotou", "tier": "city", "level": "orange", "acting_level": "none", "model_level": "orange",
            "reason": "r", "valid_from": "2024-12-21T00:00:00+08:00"}
    e = decision_event(lift, chosen="none", current="orange", account=li, issue_date="2024-12-20")
    assert (e.action, e.level, e.details["override"], e.details["proposed"]) == ("lifted", "none", False, "none")
    with pytest.raises(LifecycleError, match="needs a reason"):
        decision_event(lift, chosen="orange", current="orange", account=li, issue_date="2024-12-20")
    pending = {**lift, "level": "yellow", "acting_level": "orange"}  # a lower level awaiting confirmation
    e = decision_event(pending, chosen="orange", current="orange", account=li, issue_date="2024-12-20")
    assert (e.action, e.details["override"]) == ("maintained", False)


def test_a_control_zone_is_not_raised_by_episodes_beyond_the_window_and_a_region_sets_its_window(tmp_path):
    """Hohhot, Baotou and Bayannur (control zone 1) all orange from day 5: no regional warning and nothing issued;
    from day 2: the zone's warning. A region folder's lifecycle.yaml (issue on the 7-day forecast) issues at once."""
    import shutil

    from tests.response.test_respond import ADJ, area_doc, forecast_doc

    from forecast.region import load_region
    from response.respond import RespondError, respond

    def doc(first):
        d = forecast_doc()
        aqi = [100] * 7
        aqi[first - 1:first + 1] = [230, 240]
        for k, a in enumerate(d["areas"]):
            if a["area_id"] in ("hohhot", "baotou", "bayannur"):
                d["areas"][k] = area_doc(a["area_id"], "orange", aqi, (first, first + 1), clause="AQI>200 持续≥48h")
        return d

    res = respond(doc(5), adjacency=ADJ, write_docx=False)
    city = {r["area_id"]: r for r in res["city"]}
    assert res["region"] == [] and {city[a]["action"] for a in ("hohhot", "baotou", "bayannur")} == {"none"}
    res = respond(doc(2), adjacency=ADJ, write_docx=False)
    assert res["region"] and {r["area_id"]: r for r in res["city"]}["baotou"]["action"] == "issue"
    region = tmp_path / "region"
    region.mkdir()
    (region / "lifecycle.yaml").write_text("lift_hours: 36\nissue_window_days: 7\n", encoding="utf-8")
    res = respond(doc(5), adjacency=ADJ, write_docx=False, region=load_region(region))
    assert res["region"] and {r["area_id"]: r for r in res["city"]}["baotou"]["action"] == "issue"
    (region / "lifecycle.yaml").write_text("lift_hours: 36\nissue_window_days: 0\n", encoding="utf-8")
    with pytest.raises(RespondError, match=r"region/lifecycle.yaml: issue_window_days: 0"):
        respond(doc(5), adjacency=ADJ, write_docx=False, region=load_region(region))
    shutil.rmtree(region)
