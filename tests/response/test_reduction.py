"""Emission-reduction lists: measures per grade and level, A never forced, D stops, 保障类, shares, bad rows."""
import numpy as np
import pandas as pd
import pytest

from simulate.registry import make_registry
from response import reduction as R


def reg(rows):
    base = {"name": "测试企业（演示）", "area_id": "baotou", "county_id": "", "industry": "cement", "grade": "B",
            "guarantee": 0, "guarantee_reason": "", "guarantee_load": "", "so2_t": 365.0, "nox_t": 730.0,
            "pm_t": 365.0, "vocs_t": 0.0}
    frame = pd.DataFrame([{**base, "enterprise_id": f"E{i}", **r} for i, r in enumerate(rows)])
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


@pytest.mark.parametrize("grade", ["A+", "A", "引领性"])
@pytest.mark.parametrize("level", ["yellow", "orange", "red"])
@pytest.mark.parametrize("industry", ["cement", "steel_long", "coking", "glass", "electrolytic_mn"])
def test_a_grades_never_forced(grade, level, industry):
    act = R.activate(reg([{"industry": industry, "grade": grade}]), {"baotou": level})
    assert act.loc[0, ["cut_so2", "cut_nox", "cut_pm", "cut_vocs"]].sum() == 0
    assert act.loc[0, "action_zh"] == "自主减排"


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


def test_guarantee_plants_keep_their_load():
    g = reg([{"industry": "cement", "grade": "D", "guarantee": 1, "guarantee_reason": "协同处置",
              "guarantee_load": 0.8}])
    act = R.activate(g, {"baotou": "red"})
    assert act.loc[0, "cut_so2"] == pytest.approx(0.2)  # D would stop; the duty keeps 80 % load
    assert "保障类" in act.loc[0, "action_zh"] and "80%" in act.loc[0, "action_zh"]


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
    # SO2: C-grade cement at yellow stops 50 % → 2 t/d of a society total of 20 t/d = 10 % (target 10 %: met)
    assert chk.loc["so2", "enterprise_cut_td"] == pytest.approx(2.0)
    assert chk.loc["so2", "share"] == pytest.approx(0.10) and chk.loc["so2", "met"]
    # NOx: 1 t/d from the plant + mobile 10 t/d × 5 % = 0.5 → 1.5 of 20 = 7.5 %: short by 0.5 t/d
    assert chk.loc["nox", "cut_td"] == pytest.approx(1.5) and chk.loc["nox", "share"] == pytest.approx(0.075)
    assert not chk.loc["nox", "met"] and chk.loc["nox", "shortfall_td"] == pytest.approx(0.5)
    assert chk.loc["so2", "target_share"] == 0.10


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
    good, bad = R.validate_registry(pd.DataFrame([{**base, **r} for r in rows]), areas=table)
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
    pd.DataFrame([{**base, "enterprise_id": f"E{i}", **r} for i, r in enumerate(rows)]).to_csv(path, index=False)
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
