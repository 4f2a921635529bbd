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


# ---- a region of another province without plans of its own: the national default plans -------------------------

def test_default_plans_for_a_region_of_another_province(tmp_path):
    from ._region import hebei_areas, shipped_words_in

    table = hebei_areas(tmp_path)
    p = plans.load_plans(areas=table, name="hebei")  # the shipped plans do not fit: the default ones
    shipped = plans.load_plans()
    assert p["departments"] == shipped["departments"]
    assert p["measure_sets"] == {"default": shipped["measure_sets"]["default"]}
    assert p["region"]["name_zh"] == "河北省" and p["region"]["control_zones"] == []
    assert p["region"]["dynamic_zone"]["min_adjacent"] == shipped["region"]["dynamic_zone"]["min_adjacent"] == 3
    assert p["cities"] == {"shijiazhuang": {"office_zh": "石家庄市重污染天气应急指挥部办公室"},
                           "baoding": {"office_zh": "保定市重污染天气应急指挥部办公室"}}
    assert p["counties"] == {}
    for level in ("yellow", "orange", "red", "health_advisory"):
        items = plans.measures("shijiazhuang", level, plans=p, areas=table)
        assert items == plans.measures("hohhot", level)  # the default measure set
        assert items == plans.measures(p["region"]["id"], level, plans=p, areas=table)  # the region plan's too
    # the national default measures name no Inner Mongolia area
    text = repr(shipped["measure_sets"]["default"]) + repr(p)
    assert shipped_words_in(text) == []


def test_default_plans_counties_follow_their_city(tmp_path):
    from ._region import hebei_areas

    table = hebei_areas(tmp_path, ("shijiazhuang", "baoding", "zhengding"))
    p = plans.load_plans(areas=table)
    # every banner/county has a plan of its own (REFERENCE 4.2: the league/city plan system includes the
    # banners/counties' plans): the default one, its own office implementing its league/city's plan
    owner, plan = plans.plan_of("zhengding", plans=p, areas=table)
    assert "zhengding" not in p["counties"] and owner == "zhengding"
    assert plan["office_zh"] == "正定县重污染天气应急指挥部办公室" and plan["implements"] == "shijiazhuang"
    final, _ = plans.cascade({"shijiazhuang": "orange"}, plans=p, areas=table, adjacency={})
    assert final["zhengding"] == {"level": "orange", "own_level": "none", "source": "parent:shijiazhuang"}
    assert final["baoding"]["level"] == "none"


def test_shipped_plans_only_where_they_fit(tmp_path):
    from forecast import areas

    assert plans.load_plans(areas=areas.load_areas()) is plans.load_plans()
    # a table of only some Inner Mongolia cities: the shipped plans name areas it lacks → the default plans
    some = areas.load_areas().query("area_id in ['hohhot', 'baotou']")
    p = plans.load_plans(areas=some)
    assert set(p["cities"]) == {"hohhot", "baotou"} and p["region"]["control_zones"] == []


def test_plan_file_checked_against_the_region(tmp_path):
    from ._region import hebei_areas

    table = hebei_areas(tmp_path / "hebei")
    with pytest.raises(plans.PlanError, match="cities plan for unknown area 'hohhot'"):
        plans.load_plans(plans.SHIPPED_PLANS, areas=table)
    with pytest.raises(plans.PlanError, match="unknown area 'hohhot'"):
        plans.measures("hohhot", "red", plans=plans.default_plans(table), areas=table)


def test_bad_measure_set_and_region_plan_rejected():
    p = copy.deepcopy(plans.load_plans())
    p["cities"]["hohhot"]["measures"] = "strict"
    with pytest.raises(plans.PlanError, match="unknown measure set 'strict'"):
        plans.validate(p)
    p = copy.deepcopy(plans.load_plans())
    del p["region"]["id"]
    with pytest.raises(plans.PlanError, match="region plan: missing id"):
        plans.validate(p)


def test_dynamic_zone_of_another_province_from_real_adjacency(tmp_path):
    """Hebei: 石家庄, 保定 and 衡水 border one another, 沧州 borders 保定 and 衡水 only (offline boundaries)."""
    from forecast.region import load_region

    from ._region import FOUR, write_areas

    write_areas(tmp_path / "hebei", FOUR)
    region = load_region(tmp_path / "hebei")
    p = plans.load_plans(region.plans_file, areas=region.areas, name=region.name)
    adj = region.adjacency("city")
    assert adj["shijiazhuang"] == {"baoding", "hengshui"} and "shijiazhuang" not in adj["cangzhou"]
    own = {"shijiazhuang": "orange", "baoding": "yellow", "hengshui": "yellow"}
    final, regional = plans.cascade(own, plans=p, areas=region.areas, adjacency=adj)
    assert [(w.zone_id, w.level, w.members) for w in regional] == \
        [("dynamic:baoding+hengshui+shijiazhuang", "yellow", ["baoding", "hengshui", "shijiazhuang"])]
    assert regional[0].name_zh == "相邻城市联动区域"
    assert final["cangzhou"]["level"] == "none" and final["shijiazhuang"]["level"] == "orange"
    # two warned cities make no zone; the adjacency is then not even asked for
    _, regional = plans.cascade({"shijiazhuang": "red", "baoding": "red"}, plans=p, areas=region.areas,
                                adjacency=lambda: pytest.fail("adjacency computed for two warned cities"))
    assert regional == []
