"""Emission-reduction lists: measures per grade and level, A never forced, D stops, 保障类, shares, bad rows,
the 39 key industries, the standardised list (credit codes, version and year, 一厂一策 units) and roster coverage."""
import numpy as np
import pandas as pd
import pytest

from simulate.registry import make_registry
from response import reduction as R

#: GB 32100-2015: character set (values 0…30) and the weights 3^(i-1) mod 31 of positions 1…17, written out from the
#: standard (independent of response.reduction)
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def code(i: int, admin: str = "150200") -> str:
    """A valid unified social credit code for test enterprise ``i`` (check character per GB 32100-2015)."""
    first = f"91{admin}{i:08d}5"
    return first + _CHARS[(31 - sum(_CHARS.index(c) * w for c, w in zip(first, _WEIGHTS)) % 31) % 31]


LIST = {"list_version": "2024-v1", "list_year": 2024}


def reg(rows):
    base = {"name": "测试企业（演示）", "area_id": "baotou", "county_id": "", "industry": "cement", "grade": "B",
            "guarantee": 0, "guarantee_reason": "", "guarantee_load": "", "so2_t": 365.0, "nox_t": 730.0,
            "pm_t": 365.0, "vocs_t": 0.0, **LIST}
    frame = pd.DataFrame([{**base, "enterprise_id": f"E{i}", "credit_code": code(i), **r} for i, r in enumerate(rows)])
    good, bad = R.validate_registry(frame)
    assert bad.empty, bad
    return good


SOURCED = {  # industry, grade, level → SO2 cut fraction from response/data/measures.csv (REFERENCE 3.3)
    ("cement", "B", "yellow"): 0.02, ("cement", "B", "orange"): 0.20, ("cement", "B", "red"): 1.0,
    ("cement", "C", "yellow"): 0.50, ("cement", "C", "orange"): 1.0, ("cement", "C", "red"): 1.0,
    ("cement", "D", "yellow"): 1.0, ("cement", "D", "orange"): 1.0, ("cement", "D", "red"): 1.0,
    ("steel_long", "B", "orange"): 0.45, ("steel_long", "C", "orange"): 0.65, ("coking", "B", "orange"): 0.30,
}


@pytest.mark.parametrize("key, want", list(SOURCED.items()))
def test_sourced_measures(key, want):
    industry, grade, level = key
    act = R.activate(reg([{"industry": industry, "grade": grade}]), {"baotou": level})
    assert act.loc[0, "cut_so2"] == pytest.approx(want)
    assert act.loc[0, "cut_so2_td"] == pytest.approx(want * 1.0)  # 365 t/a = 1 t/d


A_GRADES = [(i, g) for i in ("cement", "steel_long", "coking", "glass", "packaging_printing", "furniture",
                               "lead_zinc", "vehicles") for g in ("A+", "A")] + [("electrolytic_mn", "引领性")]


@pytest.mark.parametrize("industry, grade", A_GRADES)
@pytest.mark.parametrize("level", ["yellow", "orange", "red"])
def test_a_grades_never_forced(industry, grade, level):
    """REFERENCE 3.2: A (and A+, 引领性 for leading-only industries) reduce on their own (自主减排)."""
    act = R.activate(reg([{"industry": industry, "grade": grade}]), {"baotou": level})
    assert act.loc[0, ["cut_so2", "cut_nox", "cut_pm", "cut_vocs"]].sum() == 0
    assert act.loc[0, "action_zh"] == "自主减排"


@pytest.mark.parametrize("industry", ["packaging_printing", "furniture", "wood_panels", "carbon_black", "inks",
                                      "pesticides", "mineral_wool", "vehicles"])
def test_a_grade_plant_of_a_new_key_industry_is_never_cut_as_non_key(industry):
    """An A-grade plant of one of the 39 key industries (REFERENCE 3.1) among big non-key emitters: it gets
    self-determined cuts (REFERENCE 3.2), never the non-key percentile cut (REFERENCE 3.4), even as the largest
    emitter of the city (top percentile: the non-key rule would cut it 30 % at orange)."""
    rows = [{"industry": "other", "grade": "非重点", "so2_t": s_, "nox_t": s_, "pm_t": s_, "vocs_t": s_}
            for s_ in (10, 20, 30)] + [{"industry": industry, "grade": "A", "so2_t": 9000, "nox_t": 9000,
                                        "pm_t": 9000, "vocs_t": 9000}]
    act = R.activate(reg(rows), {"baotou": "orange"}).set_index("enterprise_id")
    assert act.loc["E3", "action_zh"] == "自主减排" and act.loc["E3", "cut_vocs"] == 0
    assert "排放量" not in act.loc["E3", "action_zh"]
    b = R.activate(reg([{"industry": industry, "grade": "B"}]), {"baotou": "orange"})
    assert b.loc[0, "cut_so2"] > 0 and "排放量" not in b.loc[0, "action_zh"]  # graded measure, not percentile


def test_thirty_nine_key_industries():
    """REFERENCE 3.1: the 2020 guide covers 39 industries ([V] count; names UNVERIFIED, from memory)."""
    table = R.industries()
    key = table[table["key"] == 1]
    assert key["guide_industry"].nunique() == 39
    named = {"铅锌冶炼", "钼冶炼", "再生铜铝铅锌", "有色金属压延", "炭黑", "农药", "油墨", "岩矿棉", "玻璃钢", "防水建筑材料",
             "纤维素醚", "包装印刷", "人造板", "塑料人造革与合成革", "橡胶制品", "制鞋", "家具", "汽车整车", "工程机械整机", "工业涂装"}
    assert named <= set(key["guide_industry"])
    # electrolytic manganese: inside the ferroalloy scope, 引领性 only (REFERENCE 3.1 [V2])
    assert table.loc["electrolytic_mn", "guide_industry"] == "铁合金"
    assert R.ladder("electrolytic_mn") == ("引领性", "B", "C", "D")
    # cement clinker A–D (REFERENCE 3.3 [V2]); the non-key industries of REFERENCE 3.1 stay outside
    assert R.ladder("cement") == ("A+", "A", "B", "B-", "C", "D") and table.loc["cement", "ladder_status"] == "V2"
    assert set(table.index[table["key"] == 0]) >= {"coal_power", "chlor_alkali", "calcium_carbide", "coal_chemical"}
    assert set(key["listed_status"]) <= {"V2", "UNVERIFIED"}


@pytest.mark.parametrize("row, problem", [
    ({"industry": "glass", "grade": "引领性"}, "grade 引领性 is not on the ABCD ladder of industry glass"),
    ({"industry": "electrolytic_mn", "grade": "A"}, "grade A is not on the leading ladder of industry electrolytic_mn"),
    ({"industry": "furniture", "grade": "非重点"}, "家具 enterprise is of a key industry and needs its performance grade"),
    ({"industry": "coal_power", "grade": "A"}, "industry outside the key industries must have grade 非重点"),
])
def test_grade_must_be_on_the_industrys_ladder(row, problem):
    frame = pd.DataFrame([{"enterprise_id": "E1", "credit_code": code(1), "name": "x", "area_id": "baotou",
                           "so2_t": 1, "nox_t": 1, "pm_t": 1, "vocs_t": 1, **LIST, **row}])
    good, bad = R.validate_registry(frame)
    assert good.empty and problem in bad["problem"].iloc[0]


def test_three_tier_ladder_has_no_d(tmp_path):
    """REFERENCE 3.2: 3-tier industries use only A/B/C (C = legal minimum); which industries are 3-tier is not in
    REFERENCE, so the ladder is set in industries.csv (here a user's table)."""
    table = R.industries().copy()
    table.loc["furniture", "grading"] = "ABC"
    frame = pd.DataFrame([{"enterprise_id": f"E{i}", "credit_code": code(i), "name": "x", "area_id": "baotou",
                           "industry": "furniture", "grade": g, "so2_t": 1, "nox_t": 1, "pm_t": 1, "vocs_t": 1,
                           **LIST} for i, g in enumerate(["C", "D"])])
    good, bad = R.validate_registry(frame, industry_table=table)
    assert good["grade"].tolist() == ["C"] and "not on the ABC ladder" in bad["problem"].iloc[0]


@pytest.mark.parametrize("grade", ["B", "B-", "C", "D"])
def test_every_grade_every_level_has_a_measure_and_stricter_up(grade):
    cuts = []
    for level in ("yellow", "orange", "red"):
        act = R.activate(reg([{"industry": "glass", "grade": grade}]), {"baotou": level})
        assert act.loc[0, "action_zh"] and act.loc[0, "status"] in ("V2", "UNVERIFIED")
        cuts.append(act.loc[0, "cut_nox"])
    assert cuts == sorted(cuts) and cuts[0] > 0


def test_stricter_grades_cut_more():
    by_grade = {g: R.activate(reg([{"industry": "glass", "grade": g}]), {"baotou": "orange"}).loc[0, "cut_nox"]
                for g in ("A", "B", "B-", "C", "D")}
    assert by_grade["A"] < by_grade["B"] < by_grade["B-"] < by_grade["C"] < by_grade["D"]


@pytest.mark.parametrize("grade, level, current, want", [
    # REFERENCE 3.4: the approved maximum load is a ceiling on output (以热定产/以量定产): cut = max(0, current load −
    # approved maximum) of the normal-load emissions. Worked by hand, approved maximum 60 %:
    ("B", "yellow", "", 0.40),     # load unknown → normal (100 %): 100 − 60 = 40 % (cement B yellow alone: 2 %)
    ("B", "yellow", 0.9, 0.30),    # at 90 %: down to 60 % = 30 % of normal-load emissions
    ("D", "red", 0.7, 0.10),       # D would stop; the duty keeps it running at most at 60 %: 70 − 60 = 10 %
    ("C", "orange", 0.5, 0.0),     # already below the ceiling: no cut
])
def test_guarantee_load_is_a_ceiling(grade, level, current, want):
    g = reg([{"industry": "cement", "grade": grade, "guarantee": 1, "guarantee_reason": "供暖",
              "guarantee_load": 0.6, "current_load": current}])
    act = R.activate(g, {"baotou": level})
    assert act.loc[0, "cut_so2"] == pytest.approx(want) and act.loc[0, "cut_nox"] == pytest.approx(want)
    assert act.loc[0, "cut_so2_td"] == pytest.approx(want * 1.0)  # 365 t/a = 1 t/d at normal load
    text = act.loc[0, "action_zh"]
    assert "保障类（供暖）" in text and "负荷不高于60%" in text and "不低于" not in text


def test_a_grade_guarantee_plant_is_still_not_forced():
    g = reg([{"grade": "A", "guarantee": 1, "guarantee_reason": "供暖", "guarantee_load": 0.6}])
    act = R.activate(g, {"baotou": "red"})
    assert act.loc[0, "cut_so2"] == 0 and act.loc[0, "action_zh"] == "自主减排"  # REFERENCE 3.2: A self-determined


def test_non_key_more_emissions_more_cuts():
    rows = [{"industry": "coal_power", "grade": "非重点", "so2_t": s, "nox_t": s, "pm_t": s, "vocs_t": s}
            for s in (10, 20, 30, 40, 50, 60, 70, 80, 90, 1000)]
    act = R.activate(reg(rows), {"baotou": "orange"}).sort_values("baseline_so2_td")
    cuts = act["cut_so2"].to_numpy()
    assert cuts[0] == 0.10 and cuts[-1] == 0.30 and np.all(np.diff(cuts) >= 0)
    zero = R.activate(reg([{"industry": "other", "grade": "非重点", "so2_t": 0, "nox_t": 0, "pm_t": 0,
                            "vocs_t": 0}]), {"baotou": "red"})
    assert zero.loc[0, "cut_so2"] == 0  # no emissions, no cut


def test_county_level_applies_to_its_enterprises():
    g = reg([{"county_id": "tumed_right"}, {}])
    act = R.activate(g, {"baotou": "yellow", "tumed_right": "red"}).set_index("enterprise_id")
    assert act.loc["E0", "level"] == "red" and act.loc["E1", "level"] == "yellow"
    assert R.activate(g, {"hohhot": "red"}).empty


def test_share_arithmetic_by_hand():
    g = reg([{"industry": "cement", "grade": "C", "so2_t": 365 * 4, "nox_t": 365 * 2, "pm_t": 365, "vocs_t": 0},
             {"industry": "cement", "grade": "A", "so2_t": 365 * 6, "nox_t": 365, "pm_t": 365, "vocs_t": 0}])
    inv = pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": 365 * 20, "nox": 365 * 10, "pm": 365 * 5,
                         "vocs": 365}, {"area_id": "baotou", "sector": "mobile", "so2": 0, "nox": 365 * 10, "pm": 0,
                                        "vocs": 365}]).set_index(["area_id", "sector"])
    act = R.activate(g, {"baotou": "yellow"})
    chk = R.share_check(act, g, inv, {"baotou": "yellow"}, rules="MEE-2024").totals.set_index("pollutant")
    # SO2: C-grade cement at yellow stops 50 % (REFERENCE 3.3) → 2 t/d of a society total of 20 t/d = 10 %
    # (target 10 %, REFERENCE 1.2): met by the listed measures alone
    assert chk.loc["so2", "enterprise_cut_td"] == pytest.approx(2.0)
    assert chk.loc["so2", "share"] == pytest.approx(0.10) and chk.loc["so2", "met"]
    assert chk.loc["so2", "verdict"] == "met"
    # NOx: 1 t/d from the plant of 20 t/d = 5 %; the mobile coefficient (UNVERIFIED, 5 % of 10 t/d = 0.5 t/d) is
    # shown apart: 7.5 % with it, still short: not met, short by 2 − 1 = 1 t/d of verified cuts
    assert chk.loc["nox", "sector_cut_unverified_td"] == pytest.approx(0.5)
    assert chk.loc["nox", "share"] == pytest.approx(0.05)
    assert chk.loc["nox", "share_with_unverified"] == pytest.approx(0.075)
    assert not chk.loc["nox", "met"] and chk.loc["nox", "verdict"] == "not_met"
    assert chk.loc["nox", "shortfall_td"] == pytest.approx(1.0)
    assert chk.loc["so2", "target_share"] == 0.10


def test_met_only_with_unverified_sector_credits_is_not_met():
    """Enterprise cuts 1.5 of 20 t/d NOx (7.5 %) + unverified mobile 0.5 t/d = 10 %: the 10 % yellow share
    (REFERENCE 1.2) is reached only with the UNVERIFIED coefficient: never "met"."""
    g = reg([{"industry": "cement", "grade": "C", "nox_t": 365 * 3}])  # C yellow stops 50 % → 1.5 t/d
    inv = pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": 365 * 10, "nox": 365 * 10, "pm": 365 * 10,
                         "vocs": 365}, {"area_id": "baotou", "sector": "mobile", "so2": 0, "nox": 365 * 10, "pm": 0,
                                        "vocs": 0}]).set_index(["area_id", "sector"])
    act = R.activate(g, {"baotou": "yellow"})
    chk = R.share_check(act, g, inv, {"baotou": "yellow"}, rules="MEE-2024").totals.set_index("pollutant")
    assert chk.loc["nox", "share_with_unverified"] == pytest.approx(0.10)
    assert chk.loc["nox", "verdict"] == "met_with_unverified" and not chk.loc["nox", "met"]
    assert chk.loc["nox", "shortfall_td"] == pytest.approx(0.5)
    line = R.verdict_text(chk.reset_index().set_index("pollutant").loc["nox"])
    assert "met only with unverified sector credits" in line
    md = R.markdown_summary(R.share_check(act, g, inv, {"baotou": "yellow"}, rules="MEE-2024"), act)
    assert "仅计入未核实的其他行业减排系数才达标" in md and "移动源" in md


def test_county_only_warning_judged_on_the_county_inventory():
    """A warning of Tumed Right alone (REFERENCE 4.2: banners have their own plans): its plants against its own
    inventory rows, not Baotou's. By hand: C cement in the county, SO2 2 t/d at yellow stops 50 % = 1 t/d of the
    county's 10 t/d = 10 %: met; the Baotou plant outside the county is not activated."""
    g = reg([{"county_id": "tumed_right", "grade": "C", "so2_t": 365 * 2},
             {"grade": "C", "so2_t": 365 * 50}])
    inv = pd.DataFrame([
        {"area_id": "baotou", "sector": "industry", "so2": 365 * 100, "nox": 365 * 100, "pm": 365 * 100, "vocs": 365},
        {"area_id": "tumed_right", "sector": "industry", "so2": 365 * 10, "nox": 365 * 10, "pm": 365 * 10,
         "vocs": 365}]).set_index(["area_id", "sector"])
    levels = {"baotou": "none", "tumed_right": "yellow"}
    act = R.activate(g, levels)
    chk = R.share_check(act, g, inv, levels, rules="MEE-2024").totals
    assert set(zip(chk["area_id"], chk["tier"])) == {("tumed_right", "county")}
    so2 = chk.set_index("pollutant").loc["so2"]
    assert so2["society_td"] == pytest.approx(10) and so2["share"] == pytest.approx(0.10) and so2["met"]
    # the same county with a city warning at the same level: only the city is judged
    both = R.share_check(act, g, inv, {"baotou": "yellow", "tumed_right": "yellow"}, rules="MEE-2024").totals
    assert set(both["area_id"]) == {"baotou"}
    # a stricter county level: both
    act2 = R.activate(g, {"baotou": "yellow", "tumed_right": "red"})
    both = R.share_check(act2, g, inv, {"baotou": "yellow", "tumed_right": "red"}, rules="MEE-2024").totals
    assert set(zip(both["area_id"], both["level"])) == {("baotou", "yellow"), ("tumed_right", "red")}


def test_area_missing_from_the_inventory_is_said_not_judged():
    g = reg([{}])
    inv = pd.DataFrame([{"area_id": "hohhot", "sector": "industry", "so2": 1, "nox": 1, "pm": 1, "vocs": 1}]
                       ).set_index(["area_id", "sector"])
    act = R.activate(g, {"baotou": "orange"})
    check = R.share_check(act, g, inv, {"baotou": "orange"}, rules="MEE-2024")
    assert set(check.totals["verdict"]) == {"no_inventory"} and not check.totals["met"].any()
    line = R.verdict_text(check.totals.iloc[0])
    assert line == "inventory has no rows for baotou: share not judged" and "nan" not in line
    assert "排放清单无该地区数据，无法核算" in R.markdown_summary(check, act) and "nan" not in R.markdown_summary(check, act)


def test_shortfall_names_enterprises_that_could_close_it():
    g = reg([{"industry": "glass", "grade": "B", "nox_t": 365 * 8}, {"industry": "glass", "grade": "A",
                                                                    "nox_t": 365 * 50}])
    inv = pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": 365, "nox": 365 * 100, "pm": 365,
                         "vocs": 365}]).set_index(["area_id", "sector"])
    act = R.activate(g, {"baotou": "red"})
    chk = R.share_check(act, g, inv, {"baotou": "red"}, rules="MEE-2024")
    sf = chk.shortfalls[chk.shortfalls["pollutant"] == "nox"]
    assert list(sf["enterprise_id"]) == ["E0"]  # the A-grade plant is never proposed
    assert sf["extra_cut_td"].iloc[0] == pytest.approx(8 * 0.7)


def test_bad_registry_rows_reported_good_rows_load():
    frame = pd.DataFrame([
        {"enterprise_id": "E1", "name": "好", "area_id": "baotou", "industry": "cement", "grade": "B", "so2_t": 1,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E1", "name": "重复", "area_id": "baotou", "industry": "cement", "grade": "B", "so2_t": 1,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E2", "name": "x", "area_id": "beijing", "industry": "cement", "grade": "B", "so2_t": 1,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E3", "name": "x", "area_id": "baotou", "industry": "mining", "grade": "B", "so2_t": 1,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E4", "name": "x", "area_id": "baotou", "industry": "cement", "grade": "E", "so2_t": 1,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E5", "name": "x", "area_id": "baotou", "industry": "cement", "grade": "B", "so2_t": -3,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E6", "name": "x", "area_id": "baotou", "county_id": "dalad", "industry": "cement",
         "grade": "B", "so2_t": 1, "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E7", "name": "x", "area_id": "baotou", "industry": "coal_power", "grade": "B",
         "so2_t": 1, "nox_t": 1, "pm_t": 1, "vocs_t": 1},
        {"enterprise_id": "E8", "name": "x", "area_id": "baotou", "industry": "cement", "grade": "B", "so2_t": 1,
         "nox_t": 1, "pm_t": 1, "vocs_t": 1, "guarantee": 1},
    ])
    frame["credit_code"] = [code(i) for i in range(len(frame))]
    frame = frame.assign(**LIST)
    good, bad = R.validate_registry(frame)
    assert list(good["enterprise_id"]) == ["E1"]
    text = " | ".join(f"{e}@{r}: {p}" for e, r, p in zip(bad["enterprise_id"], bad["row"], bad["problem"]))
    for needle in ("E1@3: duplicate", "E2@4: unknown league/city", "E3@5: unknown industry", "E4@6: unknown grade",
                   "E5@7: negative so2_t", "E6@8: banner/county does not belong", "E7@9: industry outside the key",
                   "E8@10: 保障类 enterprise needs guarantee_load"):
        assert needle in text, needle


def test_registry_file_errors(tmp_path):
    with pytest.raises(R.ReductionError, match="cannot read the enterprise registry"):
        R.load_registry(tmp_path / "none.csv")
    (tmp_path / "e.csv").write_text("enterprise_id,name\nE1,x\n")
    with pytest.raises(R.ReductionError, match="missing column"):
        R.load_registry(tmp_path / "e.csv")


def test_exports(tmp_path):
    g, inv = make_registry(3)
    g, _ = R.validate_registry(g)
    inv.to_csv(tmp_path / "inv.csv", index=False)
    inventory = R.load_inventory(tmp_path / "inv.csv")
    levels = {"baotou": "orange", "wuhai": "red"}
    act = R.activate(g, levels)
    chk = R.share_check(act, g, inventory, levels, rules="MEE-2024")
    paths = R.write_outputs(act, chk, tmp_path / "out")
    import openpyxl

    wb = openpyxl.load_workbook(paths["excel"])
    assert wb.sheetnames[0] == "汇总 summary" and {"包头市", "乌海市"} <= set(wb.sheetnames)
    assert len(pd.read_csv(paths["csv"])) == len(act)
    md = open(paths["summary"], encoding="utf-8").read()
    assert "包头市（橙色预警，目标减排比例 20%）" in md and "乌海市（红色预警" in md
    notices = open(paths["notices"], encoding="utf-8").read()
    assert "一厂一策" in notices and act["name"].iloc[0] in notices
    import docx

    word = docx.Document(paths["word"])
    assert "包头市（橙色预警，目标减排比例 20%）" in [p.text for p in word.paragraphs]
    assert len(word.tables) == 2 and word.tables[0].cell(0, 0).text == "污染物"  # one share table per city
    assert any(act["name"].iloc[0] in p.text for p in word.paragraphs)


def test_demo_registry_is_fictional_and_complete():
    g, inv = make_registry(7)
    assert 300 <= len(g) <= 1000 and g["name"].str.endswith("（演示）").all() and g["name"].is_unique
    good, bad = R.validate_registry(g)
    assert bad.empty and set(good["area_id"]) == set(R.areas_mod.load_areas().query("tier == 'city'")["area_id"])
    assert set(inv["sector"]) == set(R.SECTORS)
    wuhai = good[good["area_id"] == "wuhai"]["industry"].value_counts()
    assert {"coking", "calcium_carbide", "chlor_alkali"} <= set(wuhai.index)


def test_registry_checked_against_the_callers_areas(tmp_path):
    """A region of another province: its cities are known, Inner Mongolia's are not."""
    from ._region import hebei_areas

    table = hebei_areas(tmp_path, ("shijiazhuang", "baoding", "zhengding"))
    rows = [{"enterprise_id": "H1", "area_id": "shijiazhuang", "county_id": "zhengding"},
            {"enterprise_id": "H2", "area_id": "baotou"}, {"enterprise_id": "H3", "area_id": "baoding",
                                                           "county_id": "zhengding"}]
    base = {"name": "测试企业（演示）", "county_id": "", "industry": "cement", "grade": "B", "guarantee": 0,
            "guarantee_reason": "", "guarantee_load": "", "so2_t": 365.0, "nox_t": 730.0, "pm_t": 365.0,
            "vocs_t": 0.0}
    good, bad = R.validate_registry(pd.DataFrame([{**base, "credit_code": code(i), **LIST, **r}
                                                  for i, r in enumerate(rows)]), areas=table)
    assert list(good["enterprise_id"]) == ["H1"]
    assert dict(zip(bad["enterprise_id"], bad["problem"])) == {
        "H2": "unknown league/city (area_id); allowed: baoding, shijiazhuang",
        "H3": "banner/county does not belong to the league/city"}
    act = R.activate(good, {"shijiazhuang": "orange"})
    inv = pd.DataFrame({"area_id": ["shijiazhuang"], "sector": ["industry"], "so2": [3650.0], "nox": [3650.0],
                        "pm": [3650.0], "vocs": [3650.0]}).set_index(["area_id", "sector"])
    check = R.share_check(act, good, inv, {"shijiazhuang": "orange"}, rules="MEE-2024", areas=table)
    assert set(check.totals["area_id"]) == {"shijiazhuang"}
    names = table.set_index("area_id")["name_zh"]
    paths = R.write_outputs(act, check, tmp_path / "out", names=names)
    assert "## 石家庄市（橙色预警" in open(paths["summary"], encoding="utf-8").read()
    # without the region's table, its cities are unknown: the leaf default is the shipped region
    assert R.share_check(act, good, inv, {"shijiazhuang": "orange"}, rules="MEE-2024").totals.empty


FORMULA = '=HYPERLINK("http://evil","x")'


def _registry_file(tmp_path, rows):
    base = {"name": "测试企业（演示）", "area_id": "baotou", "county_id": "", "lon": 110.0, "lat": 40.6,
            "industry": "cement", "grade": "C", "guarantee": 0, "guarantee_reason": "", "guarantee_load": "",
            "capacity": 100.0, "so2_t": 365.0, "nox_t": 730.0, "pm_t": 365.0, "vocs_t": 10.0}
    path = tmp_path / "enterprises.csv"
    pd.DataFrame([{**base, "enterprise_id": f"E{i}", "credit_code": code(i), **LIST, **r}
                  for i, r in enumerate(rows)]).to_csv(path, index=False)
    return path


def _outputs(tmp_path, registry):
    inv = pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": 3650.0, "nox": 3650.0, "pm": 3650.0,
                         "vocs": 3650.0}]).set_index(["area_id", "sector"])
    act = R.activate(registry, {"baotou": "orange"})
    return act, R.write_outputs(act, R.share_check(act, registry, inv, {"baotou": "orange"}, rules="MEE-2024"),
                                tmp_path / "out")


def test_formula_names_come_out_as_text(tmp_path):
    import openpyxl

    registry, bad = R.load_registry(_registry_file(tmp_path, [{"name": FORMULA}, {"name": "@SUM(A1)"}]))
    assert bad.empty and registry["name"].tolist() == [FORMULA, "@SUM(A1)"]  # the data keeps the name as given
    act, paths = _outputs(tmp_path, registry)
    sheet = openpyxl.load_workbook(paths["excel"])["包头市"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("name")] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["'" + FORMULA, "'@SUM(A1)"] and all(c.data_type == "s" for c in cells)
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert csv["name"].tolist() == ["'" + FORMULA, "'@SUM(A1)"]
    assert FORMULA in open(paths["notices"], encoding="utf-8").read()  # Markdown and Word are not spreadsheets


def test_control_characters_in_names_do_not_break_the_workbook_or_word(tmp_path):
    import docx
    import openpyxl

    registry, bad = R.load_registry(_registry_file(tmp_path, [{"name": "包头\x0b钢铁\x00集团\ufffe（演示）",
                                                               "guarantee": 1, "guarantee_load": 0.8,
                                                               "guarantee_reason": "供\x0c暖"}]))
    assert bad.empty and registry["name"].tolist() == ["包头钢铁集团（演示）"]
    assert registry["guarantee_reason"].tolist() == ["供暖"]
    act, paths = _outputs(tmp_path, registry)
    sheet = openpyxl.load_workbook(paths["excel"])["包头市"]
    assert "包头钢铁集团（演示）" in [c.value for row in sheet.iter_rows() for c in row]
    word = docx.Document(paths["word"])
    assert any("包头钢铁集团（演示）" in p.text for p in word.paragraphs)


@pytest.mark.parametrize("row, problem", [
    ({"lon": "abc"}, "lon 'abc' is not a number"),
    ({"lat": 999}, "lat 999 outside -90 … 90"),
    ({"lon": -181}, "lon -181 outside -180 … 180"),
    ({"lon": "inf"}, "lon inf outside -180 … 180"),
    ({"capacity": -7}, "capacity -7 outside 0 … inf"),
    ({"capacity": "很多"}, "capacity '很多' is not a number"),
    ({"capacity": "inf"}, "capacity inf outside 0 … inf"),
    ({"so2_t": "abc"}, "so2_t 'abc' is not a number [t/a]"),
    ({"nox_t": "inf"}, "nox_t inf is not a finite number [t/a]"),
    ({"pm_t": -1}, "negative pm_t emissions"),
    ({"vocs_t": ""}, "vocs_t (empty) is not a number [t/a]"),
    ({"name": "\x0b\x00"}, "missing name"),
])
def test_registry_values_out_of_range_go_to_the_problems(tmp_path, row, problem):
    registry, bad = R.load_registry(_registry_file(tmp_path, [{}, row]))
    assert registry["enterprise_id"].tolist() == ["E0"]
    assert bad["enterprise_id"].tolist() == ["E1"] and bad["row"].tolist() == [3]
    assert bad["problem"].tolist() == [problem]


def test_unknown_coordinates_and_capacity_are_allowed(tmp_path):
    registry, bad = R.load_registry(_registry_file(tmp_path, [{"lon": "", "lat": "", "capacity": ""}]))
    assert bad.empty and registry[["lon", "lat", "capacity"]].isna().all(axis=None)


@pytest.mark.parametrize("value", [-5, "abc", "inf", ""])
def test_inventory_emissions_must_be_finite_non_negative(tmp_path, value):
    rows = [{"area_id": "baotou", "sector": "industry", "so2": 1, "nox": 1, "pm": 1, "vocs": 1},
            {"area_id": "baotou", "sector": "mobile", "so2": value, "nox": 1, "pm": 1, "vocs": 1}]
    pd.DataFrame(rows).to_csv(tmp_path / "inv.csv", index=False)
    with pytest.raises(R.ReductionError, match=r"inv.csv: so2 must be finite non-negative numbers \[t/a\]; "
                                                r"found line 3 \(baotou, mobile\)"):
        R.load_inventory(tmp_path / "inv.csv")


# ---- the standardised list (清单标准化、涉气企业全覆盖, REFERENCE 3.4) -------------------------------------------

@pytest.mark.parametrize("valid", [
    "91350100M000100Y43",  # the example code printed with GB 32100-2015 (widely reproduced)
    "914403001922038216",  # a public registration (Huawei Technologies Co., Ltd.)
    "9144030071526726XG",  # a public registration (Shenzhen Tencent Computer Systems Co., Ltd.)
])
def test_credit_code_check_character_accepts_published_codes(valid):
    assert R.credit_code_problem(valid) is None


@pytest.mark.parametrize("bad, problem", [
    ("91350100M000100Y44", "check character '4' should be '3'"),  # last character changed
    ("91350100M000100Y4", "has 17 characters; a unified social credit code has 18"),
    ("91350100M000100I43", "character(s) 'I' outside the code's set"),  # I, O, S, V, Z are not used
    ("", "missing credit_code"),
])
def test_credit_code_problems(bad, problem):
    assert problem in R.credit_code_problem(bad)


def test_bad_and_repeated_credit_codes_are_findings_naming_the_line_and_never_drop_the_plant(tmp_path):
    # REFERENCE 3.4: every air-emitting enterprise is on the list; a bad code is what the list owes (清单标准化), not
    # a reason to leave the plant uncut
    path = _registry_file(tmp_path, [{}, {"credit_code": "91350100M000100Y44"}, {"credit_code": code(0)}])
    registry, bad = R.load_registry(path)
    assert registry["enterprise_id"].tolist() == ["E0", "E1", "E2"] and bad.empty
    found = R.standardisation_problems(registry, None)
    assert "第 3 行（E1）：credit_code '91350100M000100Y44': check character '4' should be '3' (GB 32100-2015)" in found
    assert f"第 4 行（E2）：统一社会信用代码 {code(0)} 与前面的企业重复" in found


@pytest.mark.parametrize("change, finding", [
    (lambda f: f.drop(columns="credit_code"), "清单缺少统一社会信用代码（credit_code 列）"),
    (lambda f: f.drop(columns=["list_version", "list_year"]), "清单未注明 list_version（清单的版本和年度）"),
    (lambda f: f.assign(list_year=[2024, 2025]), "一份清单只有一个 list_year；文件中有 2024、2025"),
    (lambda f: f.assign(list_version=["v1", ""]), "list_version 为空：第 3 行"),
    (lambda f: f.assign(list_year="去年"), "list_year '去年' 不是年份（1990…2100 的四位数）"),
])
def test_list_needs_credit_codes_a_version_and_a_year(tmp_path, change, finding):
    # REFERENCE 3.4 (清单标准化): the findings say what the list owes; both plants stay on the list
    path = _registry_file(tmp_path, [{}, {}])
    change(pd.read_csv(path, dtype=str)).to_csv(path, index=False)
    registry, bad = R.load_registry(path)
    assert len(registry) == 2 and bad.empty
    assert finding in R.standardisation_problems(registry, None)


def test_list_identity(tmp_path):
    registry, _ = R.load_registry(_registry_file(tmp_path, [{}, {}]))
    assert R.list_identity(registry) == ("2024-v1", 2024)


def _processes(tmp_path, rows):
    path = tmp_path / "processes.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


UNITS = [{"enterprise_id": "E0", "process_id": "L1", "process_zh": "1#熟料生产线", "share": 0.6, "cut_yellow": 0,
          "cut_orange": 1, "cut_red": 1},
         {"enterprise_id": "E0", "process_id": "L2", "process_zh": "2#熟料生产线", "share": 0.4, "cut_yellow": 0,
          "cut_orange": 0, "cut_red": 1, "measure_red_zh": "停产并封存"}]


def test_per_process_measures_by_hand(tmp_path):
    """一厂一策 (REFERENCE 3.4): units with their measures. C cement at orange stops (REFERENCE 3.3, cut 1): the plan
    stopping only line 1 (60 % of emissions) gives 0.6 × 1 + 0.4 × 0 = 60 % < 100 %: weaker than the list, flagged;
    at red both lines stop: 100 %, enough. B cement at orange limits 20 %: 60 % ≥ 20 %: enough."""
    registry, _ = R.load_registry(_registry_file(tmp_path, [{"grade": "C"}]))
    units = R.load_processes(_processes(tmp_path, UNITS), registry)
    act = R.activate(registry, {"baotou": "orange"}, processes=units)
    assert act.loc[0, "plan_cut"] == pytest.approx(0.6) and act.loc[0, "plan_ok"] == False  # noqa: E712
    red = R.activate(registry, {"baotou": "red"}, processes=units)
    assert red.loc[0, "plan_cut"] == pytest.approx(1.0) and red.loc[0, "plan_ok"] == True  # noqa: E712
    table = R.process_measures(red, units)
    assert table[["process_zh", "measure_zh"]].values.tolist() == [["1#熟料生产线", "停产"], ["2#熟料生产线", "停产并封存"]]
    notice = R.enterprise_notice(act.iloc[0], R.process_measures(act, units))
    assert "1#熟料生产线：停产" in notice and "2#熟料生产线：正常生产" in notice and "须加严" in notice
    assert code(0) in notice  # the notice names the enterprise by its credit code
    b_reg = registry.assign(grade="B")
    assert R.activate(b_reg, {"baotou": "orange"}, processes=units).loc[0, "plan_ok"] == True  # noqa: E712


@pytest.mark.parametrize("change, message", [
    ({"share": 0.5}, "lines 2, 3: the shares of E0's units add up to 0.9, not 1"),
    ({"cut_red": 1.5}, "line 2: cut_red 1.5 outside 0 … 1"),
    ({"enterprise_id": "E9"}, "line 2: enterprise_id 'E9' is not in the enterprise list"),
    ({"process_id": "L2"}, "line 3: unit 'L2' of E0 listed twice"),
])
def test_bad_process_rows_name_the_file_and_line(tmp_path, change, message):
    registry, _ = R.load_registry(_registry_file(tmp_path, [{}]))
    with pytest.raises(R.ReductionError, match="processes.csv: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        R.load_processes(_processes(tmp_path, [{**UNITS[0], **change}, UNITS[1]]), registry)
    with pytest.raises(R.ReductionError, match=r"processes.csv: missing column\(s\) \['share'\]"):
        R.load_processes(_processes(tmp_path, [{k: v for k, v in u.items() if k != "share"} for u in UNITS]))


def test_standardisation_names_enterprises_without_units(tmp_path):
    registry, _ = R.load_registry(_registry_file(tmp_path, [{}, {}]))
    units = R.load_processes(_processes(tmp_path, UNITS), registry)
    assert R.standardisation_problems(registry, units) == ["1 家企业缺少一厂一策工序措施：E1"]
    assert "processes.csv" in R.standardisation_problems(registry, None)[0]


def test_roster_coverage_lists_the_air_emitters_the_list_misses(tmp_path):
    """涉气企业全覆盖 (REFERENCE 3.4): every air-emitting enterprise of the permit / key-polluter roster is in the list;
    matched by credit code. The roster's non-air (不涉气) enterprise is not asked for."""
    registry, _ = R.load_registry(_registry_file(tmp_path, [{}, {}]))
    roster = tmp_path / "roster.csv"
    pd.DataFrame([{"credit_code": code(0), "name": "在清单", "air": "是"},
                  {"credit_code": code(7), "name": "漏报涉气企业", "air": "是", "source": "排污许可"},
                  {"credit_code": code(8), "name": "不涉气企业", "air": "否"},
                  {"credit_code": "91350100M000100Y43", "name": "重点排污单位", "air": ""}]).to_csv(roster, index=False)
    missed = R.coverage_check(registry, R.load_roster(roster))
    assert missed["name"].tolist() == ["漏报涉气企业", "重点排污单位"] and missed["line"].tolist() == [3, 5]


@pytest.mark.parametrize("rows, message", [
    ([{"credit_code": "91350100M000100Y44", "name": "x"}], r"roster.csv: 1 problem\(s\): line 2: credit_code "
                                                             r"'91350100M000100Y44': check character"),
    ([{"credit_code": "91350100M000100Y43", "name": "x", "air": "maybe"}], "line 2: air 'maybe' is not yes/no"),
    ([{"code": "91350100M000100Y43", "name": "x"}], r"roster.csv: missing column\(s\) \['credit_code'\]"),
])
def test_bad_roster_names_the_file_row_and_problem(tmp_path, rows, message):
    pd.DataFrame(rows).to_csv(tmp_path / "roster.csv", index=False)
    with pytest.raises(R.ReductionError, match=message):
        R.load_roster(tmp_path / "roster.csv")


def test_demo_list_is_standardised():
    """The simulator's list: valid credit codes, one version and year, every enterprise with 一厂一策 units whose
    plan reaches the list's cut at every level."""
    from simulate.registry import make_processes

    g, _ = make_registry(5)
    good, bad = R.validate_registry(g)
    assert bad.empty and g["credit_code"].map(R.credit_code_problem).isna().all()
    units = make_processes(g, 5)
    assert R.standardisation_problems(good, units) == []
    assert units.groupby("enterprise_id")["share"].sum().sub(1).abs().max() < 0.01
    for level in R.LEVELS:
        act = R.activate(good, {a: level for a in set(good["area_id"])}, processes=units)
        assert act["plan_ok"].all()


# ---- the command line ------------------------------------------------------------------------------------------

def test_respond_says_when_the_inventory_lacks_a_warned_area(tmp_path, capsys):
    """`lantian respond --data`: Baotou warned (orange), the inventory has only Hohhot: the line says the inventory
    has no rows for Baotou instead of printing "nan% SHORT"."""
    import json

    from lantian.cli import main
    from tests.response.test_respond import forecast_doc

    data = tmp_path / "data"
    data.mkdir()
    _registry_file(data, [{}])
    pd.DataFrame([{"area_id": "hohhot", "sector": "industry", "so2": 3650, "nox": 3650, "pm": 3650,
                   "vocs": 3650}]).to_csv(data / "inventory.csv", index=False)
    (tmp_path / "f.json").write_text(json.dumps(forecast_doc(), ensure_ascii=False))
    assert main(["respond", "--forecast", str(tmp_path / "f.json"), "--out", str(tmp_path / "out"),
                 "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "inventory has no rows for baotou: share not judged" in out and "nan" not in out
    assert "list not standardised" in out  # no processes.csv: the 一厂一策 units are missing


def test_lists_check_command(tmp_path, capsys):
    """`lantian lists check`: the demo list is clean (exit 0); an assessment that grades a B plant C by its transport
    indicator and a roster naming an air-emitting enterprise outside the list are findings (exit 1)."""
    from lantian.cli import main
    from simulate.registry import write_registry

    write_registry(tmp_path, 3)
    assert main(["lists", "check", "--data", str(tmp_path)]) == 0
    assert "list demo-v1 (2024):" in capsys.readouterr().out
    registry = pd.read_csv(tmp_path / "enterprises.csv", dtype=str)
    b = registry[(registry["grade"] == "B") & (registry["industry"] == "cement")].iloc[0]
    pd.DataFrame([{"enterprise_id": b["enterprise_id"], "industry": "cement", "indicator": x,
                   "grade": "C" if x == "transport" else "B"} for x in
                  ("equipment", "treatment", "emission", "fugitive", "monitoring", "management", "transport")]
                 ).to_csv(tmp_path / "grading.csv", index=False)
    pd.DataFrame([{"credit_code": registry["credit_code"].iloc[0], "name": "在清单", "air": 1},
                  {"credit_code": "91350100M000100Y43", "name": "漏报企业", "air": 1}]).to_csv(tmp_path / "roster.csv",
                                                                                       index=False)
    assert main(["lists", "check", "--data", str(tmp_path), "--roster", str(tmp_path / "roster.csv")]) == 1
    out = capsys.readouterr().out
    assert f"{b['enterprise_id']} {b['name']}: list B, indicators C (registry better; limited by cement/transport)" in out
    assert "coverage: 1 air-emitting enterprise(s)" in out and "line 3: 91350100M000100Y43 漏报企业" in out
    (tmp_path / "roster.csv").write_text("credit_code,name\n91350100M000100Y44,x\n")
    assert main(["lists", "check", "--data", str(tmp_path), "--roster", str(tmp_path / "roster.csv")]) == 2
    assert "roster.csv: 1 problem(s): line 2: credit_code '91350100M000100Y44': check character" in \
        capsys.readouterr().err


def test_respond_cuts_a_list_without_credit_codes_and_says_it_is_not_standardised(tmp_path, capsys):
    """A registry file without the credit_code column is not the standardised list (REFERENCE 3.4), but its plants
    are still ordered to cut: the list is activated and the output says what it owes."""
    import json

    from lantian.cli import main
    from tests.response.test_respond import forecast_doc

    data = tmp_path / "data"
    data.mkdir()
    path = _registry_file(data, [{}])
    pd.read_csv(path).drop(columns="credit_code").to_csv(path, index=False)
    pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": 1, "nox": 1, "pm": 1, "vocs": 1}]).to_csv(
        data / "inventory.csv", index=False)
    (tmp_path / "f.json").write_text(json.dumps(forecast_doc(), ensure_ascii=False))
    assert main(["respond", "--forecast", str(tmp_path / "f.json"), "--out", str(tmp_path / "out"),
                 "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "list not standardised: 清单缺少统一社会信用代码（credit_code 列）" in out
    assert "0 bad registry row(s)" in out