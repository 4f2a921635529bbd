"""The plan system: measures per level, control zones, adjacency groups, and the cascade (stricter, never laxer)."""
import copy

import pytest

from response import plans


def test_every_area_has_measures_at_every_level():
    p = plans.load_plans()
    for area in list(p["cities"]) + list(p["counties"]):
        for level in ("yellow", "orange", "red"):
            items = plans.measures(area, level)
            depts = {m["dept"] for m in items}
            assert {"eco", "edu", "health"} <= depts, (area, level)
    assert plans.measures("baotou", "none") == []
    assert any("沙尘" in m["zh"] or "苫盖" in m["zh"] for m in plans.measures("alxa", "health_advisory"))


def test_reduction_share_in_enterprise_measure():
    assert any("10%" in m["zh"] for m in plans.measures("hohhot", "yellow") if m["dept"] == "eco")
    assert any("30%" in m["zh"] for m in plans.measures("dalad", "red") if m["dept"] == "eco")


def test_city_extra_measures():
    assert any("焦化" in m["zh"] for m in plans.measures("wuhai", "orange"))
    assert not any("焦化" in m["zh"] for m in plans.measures("hohhot", "orange"))


def test_unknown_level_and_area():
    with pytest.raises(plans.PlanError, match="unknown level 'purple'"):
        plans.measures("hohhot", "purple")
    with pytest.raises(plans.PlanError, match="unknown area 'beijing'"):
        plans.measures("beijing", "red")


def test_bad_plan_file_rejected(tmp_path):
    p = copy.deepcopy(plans.load_plans())
    p["measure_sets"]["default"]["red"].append({"dept": "army", "zh": "x"})
    with pytest.raises(plans.PlanError, match="unknown department 'army'"):
        plans.validate(p)
    p = copy.deepcopy(plans.load_plans())
    p["region"]["control_zones"][0]["members"].append("shanghai")
    with pytest.raises(plans.PlanError, match="unknown member"):
        plans.validate(p)


ADJ = {"hohhot": {"baotou", "ulanqab", "ordos"}, "baotou": {"hohhot", "bayannur", "ordos"},
       "ulanqab": {"hohhot", "xilingol"}, "ordos": {"hohhot", "baotou", "wuhai"}, "bayannur": {"baotou"},
       "wuhai": {"ordos", "alxa"}, "alxa": {"wuhai"}, "xilingol": {"ulanqab"}, "chifeng": {"tongliao"},
       "tongliao": {"chifeng"}}


def test_control_zone_warning_lifts_members():
    final, regional = plans.cascade({"hohhot": "orange", "baotou": "yellow", "bayannur": "none"}, adjacency=ADJ)
    zone = next(w for w in regional if w.zone_id == "hohhot_baotou_bayannur")
    assert zone.level == "yellow"  # the highest level at least 2 members reach
    assert final["bayannur"]["level"] == "yellow" and final["bayannur"]["source"] == "hohhot_baotou_bayannur"
    assert final["hohhot"]["level"] == "orange" and final["hohhot"]["source"] == "own"  # stricter stays
    # banners/counties follow their league/city, never laxer
    assert final["tumed_left"]["level"] == "orange" and final["tumed_left"]["source"] == "parent:hohhot"
    assert final["urad_front"]["level"] == "yellow"


def test_county_may_be_stricter():
    final, _ = plans.cascade({"ordos": "yellow", "dalad": "red"}, adjacency=ADJ)
    assert final["dalad"]["level"] == "red" and final["jungar"]["level"] == "yellow"


def test_three_adjacent_cities_form_a_dynamic_zone():
    own = {"hohhot": "yellow", "ulanqab": "yellow", "xilingol": "orange"}
    final, regional = plans.cascade(own, adjacency=ADJ)
    dyn = [w for w in regional if w.zone_id.startswith("dynamic:")]
    assert len(dyn) == 1 and set(dyn[0].members) == {"hohhot", "ulanqab", "xilingol"} and dyn[0].level == "yellow"
    # two non-adjacent warned cities make no dynamic zone
    _, regional = plans.cascade({"chifeng": "yellow", "alxa": "yellow"}, adjacency=ADJ)
    assert not [w for w in regional if w.zone_id.startswith("dynamic:")]


def test_real_adjacency_from_boundaries():
    from forecast import areas

    adj = areas.adjacency(tier="city")
    assert "baotou" in adj["hohhot"] and "ordos" in adj["wuhai"] and "alxa" not in adj["hohhot"]
