"""Cause rules: colour warning, health advisory, or the fireworks policy (REFERENCE 1.3–1.4)."""
import pytest

from response import causes
from response.causes import advisory, episode, for_cause, load_policy, response_kind

# REFERENCE 1.3 (环大气〔2024〕6号 [V]): PM2.5 → emergency cuts (a warning); O3 → health advisory, no colour;
# REFERENCE 1.4 (IM 2020 plan §1.3 [V]): dust/fire → health advisory.
@pytest.mark.parametrize("primary, dust, want", [("pm25", False, "warning"), ("PM2.5", False, "warning"),
                                                 ("pm10", True, "health_advisory"), ("o3", False, "health_advisory"),
                                                 ("O3_8h", False, "health_advisory"),
                                                 ("pm10", False, "warning"), ("dust", False, "health_advisory"),
                                                 ("fire", False, "health_advisory"),
                                                 (None, False, "warning")])  # none named: graded on the AQI alone
def test_cause_rules(primary, dust, want):
    assert response_kind(primary, dust=dust) == want


# REFERENCE 1.3 (2023 MEE draft [V2]): fireworks episodes → avoid plant shutdowns and site stoppages
@pytest.mark.parametrize("policy, want", [("warning_without_plant_shutdowns", "warning_without_plant_shutdowns"),
                                          ("advisory", "health_advisory")])
def test_fireworks_follow_the_policy(policy, want):
    p = {**load_policy(), "fireworks": {**load_policy()["fireworks"], "policy": policy}}
    assert response_kind("pm25", fireworks=True, policy=p) == want
    assert response_kind("o3", fireworks=True, policy=p) == "health_advisory"  # O3 stays an advisory


def test_shipped_policy_avoids_plant_shutdowns_and_says_it_is_unverified():
    p = load_policy()
    assert p["fireworks"]["policy"] == "warning_without_plant_shutdowns"  # 2023 draft / 2024 guidance default
    assert set(p["fireworks"]["withhold"]["departments"]) >= {"eco", "industry", "housing"}
    assert "UNVERIFIED" in p["fireworks"]["status"] and "未核实" in p["notes_zh"]["fireworks_warning"]


def test_unknown_pollutant():
    with pytest.raises(ValueError, match="unknown primary pollutant 'nox'; allowed"):
        response_kind("nox")


def test_bad_policy_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("fireworks: {policy: shutdown_everything}\nnotes_zh: {}\n", encoding="utf-8")
    with pytest.raises(causes.CausePolicyError, match="fireworks.policy: unknown policy 'shutdown_everything'; "
                                                      "allowed: advisory, warning_without_plant_shutdowns"):
        load_policy(path)


def _area(days, level="none", trigger=()):
    return {"area_id": "x", "level": level, "trigger_days": list(trigger),
            "days": [{"lead_day": k + 1, "date": f"2024-12-{21 + k}", "aqi": {"q10": a - 20, "q50": a, "q90": a + 20},
                      **d} for k, (a, d) in enumerate(days)]}


def test_dust_advisory_looks_at_the_coming_three_days():
    assert advisory(_area([(320, {"dust": True}), (100, {})])) == (True, "dust")
    assert advisory(_area([(150, {"dust": True}), (100, {})])) == (False, "")  # 150 is not above 150
    assert advisory(_area([(320, {}), (100, {})])) == (False, "")  # heavy but not dust: a warning matter
    assert advisory(_area([(100, {})] * 3 + [(320, {"dust": True})])) == (False, "")  # day 4 is beyond it


def test_o3_dominated_episode_gets_an_advisory_not_a_colour():
    """REFERENCE 1.3 (2024 guidance [V]): O3 episodes → health advisories, no colour warning."""
    ep = episode(_area([(210, {"primary": "o3"}), (220, {"primary": "o3"}), (120, {})], "orange", (1, 2)))
    assert ep.kind == "health_advisory" and ep.advisory and ep.cause == "o3" and ep.primary == "o3"
    assert "臭氧污染：发布健康防护提示，不启动颜色预警" in ep.notes[0]
    # an O3 day above AQI 150 in the coming days without a level: an advisory too
    assert advisory(_area([(180, {"primary": "o3"})])) == (True, "o3")


def test_mixed_episode_keeps_the_warning_and_says_so():
    ep = episode(_area([(230, {"primary": "pm25"}), (210, {"primary": "o3"})], "orange", (1, 2)))
    assert ep.kind == "warning" and ep.primary == "pm25"
    assert any("臭氧" in n and "按全部预报日判定" in n for n in ep.notes)


def test_primary_from_the_forecast_not_a_constant():
    # a derived primary: PM2.5 90 % quantile 190 µg/m³ → IAQI 240 (HJ 633-2012, REFERENCE 2.2) ≥ AQI 230
    ep = episode(_area([(230, {"pm25": {"q10": 150, "q50": 170, "q90": 190}})], "yellow", (1,)))
    assert ep.primary == "pm25" and ep.kind == "warning" and not ep.notes
    # nothing says which pollutant: the warning stands (AQI is the grading index, REFERENCE 1.3), the note says so
    ep = episode(_area([(230, {})], "yellow", (1,)))
    assert ep.primary is None and ep.kind == "warning" and "预报未给出首要污染物" in ep.notes[-1]


def test_fireworks_episode_and_its_measures():
    """A warning whose trigger days are all fireworks days (calendar flag): warning without plant shutdowns."""
    ep = episode(_area([(260, {"fireworks": True, "primary": "pm25"}), (240, {"fireworks": True})], "yellow",
                       (1, 2)))
    assert ep.kind == "warning_without_plant_shutdowns" and ep.cause == "fireworks" and not ep.enterprise_cuts
    items = [{"dept": "eco", "part": "mandatory", "zh": "启动应急减排清单"},
             {"dept": "housing", "part": "mandatory", "zh": "施工工地停止作业"},
             {"dept": "urban", "part": "mandatory", "zh": "禁止燃放烟花爆竹"},
             {"dept": "eco", "part": "advisory", "zh": "倡导排污单位自主减排"},
             {"dept": "health", "part": "health", "zh": "健康提示"},
             {"dept": "urban", "part": "mandatory", "zh": "道路冲洗", "causes": ["dust"]}]
    kept, withheld = for_cause(items, ep)
    assert [m["zh"] for m in withheld] == ["启动应急减排清单", "施工工地停止作业"]
    assert [m["zh"] for m in kept] == ["禁止燃放烟花爆竹", "倡导排污单位自主减排", "健康提示"]
    # one non-fireworks trigger day: an ordinary warning
    ep = episode(_area([(260, {"fireworks": True}), (240, {})], "yellow", (1, 2)))
    assert ep.kind == "warning" and ep.enterprise_cuts


def test_fireworks_from_the_calendar_when_the_day_has_no_flag():
    from forecast.features import calendar_facts

    # calendar.yaml: Spring Festival 2024-02-10, 除夕 from 19:00 for 8 h → 2024-02-09 and 02-10 are fireworks days
    area = {"area_id": "x", "level": "yellow", "trigger_days": [1],
            "days": [{"lead_day": 1, "date": "2024-02-09", "aqi": {"q10": 200, "q50": 240, "q90": 280}}]}
    assert episode(area, calendar=calendar_facts()).cause == "fireworks"
    assert episode(area).cause == "pm"  # no calendar, no flag: not known as fireworks
