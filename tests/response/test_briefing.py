"""The consultation briefing (会商材料): the document model, the Word file (sections, tables, images), the PDF
converter's absence, and the ``lantian briefing`` command."""
import re
import stat

import numpy as np
import pandas as pd
import pytest

from forecast.levels import LEVEL_COLOURS
from forecast.region import load_region
from lantian.cli import main
from response import briefing as BR

ZH_SECTIONS = ["一、预报概况", "二、预警级别分布", "三、未来7天空气质量预报", "四、气象条件影响分析",
               "五、关键日气象要素场", "六、各级建议预警级别", "七、近期预报检验"]
EN_SECTIONS = ["1. The forecast", "2. Level map", "3. The 7-day forecast", "4. Meteorological drivers",
               "5. Meteorological maps of the key days", "6. Proposed levels per tier",
               "7. How the last days' forecasts verified"]
AREAS = ("hohhot", "baotou", "bayannur", "ulanqab", "alxa")


def area_doc(area_id, level="none", aqi=(100,) * 7, trigger=(), p=(0.1, 0.05, 0.0), drivers=None):
    drivers = drivers if drivers is not None else [{"family": "ventilation", "effect": 0.4},
                                                   {"family": "persistence", "effect": 0.3},
                                                   {"family": "humidity", "effect": -0.2}]
    days = [{"lead_day": k + 1, "date": f"2024-12-{21 + k}",
             "aqi": {"q10": a * 0.8, "q50": a, "q90": a * 1.2 + 0.4},
             "p_aqi_gt": {"150": 0.1, "200": 0.1, "300": 0.0}, "dust": False, "drivers": drivers}
            for k, a in enumerate(aqi)]
    return {"area_id": area_id, "level": level, "clause": "", "trigger_days": list(trigger), "rules": "MEE-2024",
            "level_probabilities": {"none": 0.5, "yellow": 0.3, "orange": 0.2, "red": 0.0},
            "p_at_least": dict(zip(("yellow", "orange", "red"), p)), "days": days}


def forecast_doc():
    areas = [area_doc(a) for a in AREAS]
    areas[1] = area_doc("baotou", "orange", (230.4, 240, 160, 120, 100, 100, 100), (1, 2), p=(0.9, 0.61, 0.049))
    areas[0] = area_doc("hohhot", "yellow", (210, 140, 120, 100, 100, 100, 100), (1,), p=(0.55, 0.2, 0.0))
    return {"issue_date": "2024-12-20", "issue_time": "2024-12-20T16:00:00+08:00", "model": "lantian-aqi",
            "model_version": "m-test", "met_source": "forecast", "warnings": [],
            "decision": {"thresholds": {"yellow": 0.4, "orange": 0.3, "red": 0.2}, "source": "shipped defaults"},
            "areas": areas}


def fields(n=12):
    lat, lon = np.linspace(37, 53, n), np.linspace(97, 126, n)
    grid = np.add.outer(lat, lon)
    return {"lat": lat, "lon": lon, "blh": grid * 2, "wind_speed": grid / 50, "wind_u": grid / 60,
            "wind_v": -grid / 70, "inversion": grid - grid.mean(), "relative_humidity": grid / 3}


def past_and_observed():
    """Archive rows of two issue dates and the observed daily AQI: Hohhot 2 hits, 1 miss, 1 false alarm."""
    rows = []
    f = {"hohhot": [250, 260, 150, 230], "baotou": [100, 120, 90, 110]}
    o = {"hohhot": [240, 300, 220, 150], "baotou": [110, 100, 90, 130]}
    for area in f:
        for k in range(4):
            rows.append({"area_id": area, "issue_date": pd.Timestamp("2024-12-17") + pd.Timedelta(days=k // 2),
                         "target_date": pd.Timestamp("2024-12-18") + pd.Timedelta(days=k), "lead": 1 + k % 2,
                         "aqi_q50": f[area][k]})
    idx = pd.MultiIndex.from_tuples([(a, pd.Timestamp("2024-12-18") + pd.Timedelta(days=k)) for a in o for k in
                                     range(4)], names=["area_id", "date"])
    return pd.DataFrame(rows), pd.Series([v for a in o for v in o[a]], index=idx, name="aqi")


@pytest.fixture(scope="module")
def region():
    return load_region()


def inputs(region, **kw):
    past, observed = past_and_observed()
    base = dict(doc=forecast_doc(), region=region, forecast_source="archive", past=past, observed=observed,
                fields={pd.Timestamp("2024-12-21"): fields(), pd.Timestamp("2024-12-22"): fields()},
                fields_kind="forecast")
    base.update(kw)
    return BR.BriefingInputs(**base)


def open_docx(briefing, tmp_path):
    import docx

    return docx.Document(str(BR.write_docx(briefing, tmp_path / "b.docx")))


@pytest.fixture(scope="module")
def zh_docx(region, tmp_path_factory):
    """The Chinese briefing of the hand-made inputs, written and opened once (the figures take seconds)."""
    return open_docx(BR.build_briefing(inputs(region)), tmp_path_factory.mktemp("briefing"))


def headings(document, level):
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def fill(cell):
    from docx.oxml.ns import qn

    shd = cell._tc.tcPr.find(qn("w:shd")) if cell._tc.tcPr is not None else None
    return None if shd is None else "#" + shd.get(qn("w:fill"))


# ---- the document ----------------------------------------------------------------------------------------------

def test_sections_in_order_and_images_embedded(zh_docx):
    d = zh_docx
    assert headings(d, 1) == ZH_SECTIONS
    assert d.paragraphs[0].style.name == "Title" and "重污染天气联合会商材料" in d.paragraphs[0].text
    # the level map and one map per key day (the two days of highest regional AQI: D1 and D2)
    assert len(d.inline_shapes) == 3
    assert headings(d, 2)[:2] == ["12月21日 气象要素场", "12月22日 气象要素场"]
    text = "\n".join(p.text for p in d.paragraphs)
    assert "预报来源：预报存档" in text and "MEE-2024" in text
    assert "P(≥黄色) ≥ 40%，P(≥橙色) ≥ 30%，P(≥红色) ≥ 20%" in text
    assert "lantian-aqi m-test" in text and "发布日的气象预报场" in text


def test_seven_day_table_rows_columns_integers_percent_and_colours(zh_docx):
    d = zh_docx
    table = d.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header[0] == "地区" and header[-1] == "预报级别"
    assert header[1:8] == [f"D{k}\n12-{20 + k}" for k in range(1, 8)]
    assert header[8:11] == ["P(≥黄色)", "P(≥橙色)", "P(≥红色)"]
    assert len(table.rows) == 1 + len(AREAS)
    rows = {r.cells[0].text: [c for c in r.cells] for r in table.rows[1:]}
    assert list(rows)[:2] == ["呼和浩特市", "包头市"]
    baotou = rows["包头市"]
    assert baotou[1].text == "230\n184–277"  # median 230.4, 10 % 184.3, 90 % 276.9: integers
    for c in baotou[1:8]:
        assert re.fullmatch(r"\d+\n\d+–\d+", c.text)
    assert [c.text for c in baotou[8:11]] == ["90%", "61%", "5%"]
    assert baotou[11].text == "橙色预警" and fill(baotou[11]) == LEVEL_COLOURS["orange"].upper()
    # the trigger days carry the level's colour, the other days none
    assert fill(baotou[1]) == fill(baotou[2]) == LEVEL_COLOURS["orange"].upper() and fill(baotou[3]) is None
    assert fill(rows["呼和浩特市"][1]) == LEVEL_COLOURS["yellow"].upper()


def test_driver_reading_in_aqi_units(zh_docx):
    doc = forecast_doc()
    baotou = doc["areas"][1]
    # D2 (240) is Baotou's peak; log contributions ln 1.4 = 0.3365 (ventilation), ln 0.8 = −0.2231 (humidity),
    # ln 1.3 = 0.2624 (persistence), Σ 0.3757; no baseline in the document: B = 241·e^−0.3757 − 1 = 164.5; the
    # logarithmic mean L(241, 165.5) = 75.5 / 0.3757 = 200.9 points per unit of log (forecast.products): ventilation
    # 0.3365·200.9 = 67.6, humidity −0.2231·200.9 = −44.8, persistence 52.7 — adding up to M − B = 75.5
    effects = BR.driver_effects_aqi(baotou["days"][1])
    assert [r["family"] for r in effects] == ["ventilation", "persistence", "humidity"]
    assert round(effects[0]["aqi"], 1) == 67.6 and round(effects[2]["aqi"], 1) == -44.8
    assert BR.driver_sentence(baotou, "包头市") == \
        "包头市：12月22日（AQI中位数约240），通风扩散因素使AQI升高约68，湿度与降水因素使AQI降低约45。"
    only_persistence = area_doc("alxa", drivers=[{"family": "persistence", "effect": 0.5}])
    assert "气象因素不在主要贡献之列（主要为前期污染）" in BR.driver_sentence(only_persistence, "阿拉善盟")
    assert "预报未给出驱动因子" in BR.driver_sentence(area_doc("alxa", drivers=[]), "阿拉善盟")
    d = zh_docx
    assert "包头市：12月22日（AQI中位数约240），通风扩散因素使AQI升高约68" in "\n".join(p.text for p in d.paragraphs)


def test_levels_per_tier(zh_docx):
    d = zh_docx
    assert headings(d, 2)[-3:] == ["区域（组团）", "盟市", "旗县（市、区）"]
    city = next(t for t in d.tables if t.rows[0].cells[0].text == "地区" and t.rows[0].cells[1].text == "建议级别")
    levels = {r.cells[0].text: r.cells[1].text for r in city.rows[1:]}
    assert levels["包头市"] == "橙色预警" and levels["呼和浩特市"] == "黄色预警"
    assert all(not re.search(r"[a-z]{4,}", name) for name in levels)  # names, never ids
    county = next(t for t in d.tables if t.rows[0].cells[0].text == "所属盟市")
    baotou = [r.cells[2].text for r in county.rows[1:] if r.cells[0].text == "包头市"]
    assert baotou and "土默特右旗" in baotou[0]


def test_verification_counts_and_mae():
    past, observed = past_and_observed()
    rows = BR.verification_rows(past, observed).set_index("area_id")
    assert rows.loc["hohhot", ["n", "hits", "misses", "false_alarms"]].tolist() == [4, 2, 1, 1]
    assert rows.loc["hohhot", "mae"] == pytest.approx((10 + 40 + 70 + 80) / 4)
    assert rows.loc["baotou", ["hits", "misses", "false_alarms"]].tolist() == [0, 0, 0]
    assert rows.loc["baotou", "mae"] == pytest.approx((10 + 20 + 0 + 20) / 4)


def test_verification_table_in_the_document(zh_docx):
    d = zh_docx
    table = d.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["地区", "样本（地区·日）", "命中", "漏报", "空报", "平均绝对误差"]
    assert [c.text for c in table.rows[1].cells] == ["呼和浩特市", "4", "2", "1", "1", "50"]
    assert "统计 2024-12-17 至 2024-12-18 发布的 2 次预报" in "\n".join(p.text for p in d.paragraphs)


def test_no_archive_and_no_fields_are_said(region, tmp_path):
    b = BR.build_briefing(inputs(region, past=pd.DataFrame(), observed=None, fields=None,
                                 fields_problem="no forecast run of 2024-12-20"))
    d = open_docx(b, tmp_path)
    text = "\n".join(p.text for p in d.paragraphs)
    assert "前 7 天（2024-12-13 至 2024-12-19）尚无模型版本 m-test 的预报存档，暂无法检验。" in text
    assert "没有可用的格点气象场：no forecast run of 2024-12-20" in text
    assert len(d.inline_shapes) == 1  # the level map only
    assert headings(d, 1) == ZH_SECTIONS


def test_english(region, tmp_path):
    d = open_docx(BR.build_briefing(inputs(region, fields=None), lang="en"), tmp_path)
    assert headings(d, 1) == EN_SECTIONS
    assert [r.cells[0].text for r in d.tables[0].rows[1:3]] == ["Hohhot", "Baotou"]
    assert d.tables[0].rows[2].cells[11].text == "orange"
    with pytest.raises(BR.BriefingError, match="allowed: zh, en"):
        BR.build_briefing(inputs(region), lang="fr")


def test_key_days_are_the_highest_regional_aqi():
    assert BR.key_days(forecast_doc()) == [pd.Timestamp("2024-12-21"), pd.Timestamp("2024-12-22")]
    assert BR.key_days(forecast_doc(), n=1) == [pd.Timestamp("2024-12-22")]


def test_docx_to_a_buffer(region):
    import io

    buf = BR.write_docx(BR.build_briefing(inputs(region, fields=None)), io.BytesIO())
    assert buf.getvalue()[:2] == b"PK"


# ---- PDF --------------------------------------------------------------------------------------------------------

def test_no_pdf_converter_is_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(BR.shutil, "which", lambda name: None)
    path = tmp_path / "b.docx"
    path.write_bytes(b"PK")
    pdf, note = BR.write_pdf(path)
    assert pdf is None and note.startswith("no PDF converter found")


def test_pdf_by_the_converter_on_the_path(tmp_path, monkeypatch):
    exe = tmp_path / "bin" / "soffice"
    exe.parent.mkdir()
    # a stand-in for LibreOffice: writes OUTDIR/<name>.pdf as `soffice --convert-to pdf --outdir OUTDIR FILE` does
    exe.write_text('#!/bin/sh\nfor a; do last="$a"; done\nwhile [ "$1" != "--outdir" ]; do shift; done\n'
                   'n=$(basename "$last" .docx); printf %%PDF > "$2/$n.pdf"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{exe.parent}:/usr/bin:/bin")
    path = tmp_path / "b.docx"
    path.write_bytes(b"PK")
    pdf, note = BR.write_pdf(path)
    assert pdf == tmp_path / "b.pdf" and pdf.read_bytes() == b"%PDF" and "soffice" in note


# ---- bad inputs -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, problem", [("b.pdf", "give a file ending in .docx"),
                                           ("file.txt/b.docx", "cannot write here")])
def test_bad_out(tmp_path, name, problem):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(BR.BriefingError, match=problem):
        BR.check_out(tmp_path / name)


@pytest.mark.parametrize("args, problem", [
    (["--issued", "2024-12-20", "--out", "{tmp}/file.txt/b.docx"], "cannot write here"),
    (["--issued", "2024-12-20", "--out", "{tmp}/b.pdf"], "ending in .docx"),
    (["--issued", "2024-13-45", "--out", "{tmp}/b.docx"], "2024-13-45"),
    (["--issued", "2024-12-20", "--out", "{tmp}/b.docx"], "no such data directory"),
])
def test_cli_bad_inputs_are_one_line_and_exit_2(tmp_path, capsys, args, problem):
    (tmp_path / "file.txt").write_text("x")
    code = main(["briefing", "--data", str(tmp_path / "nodata"), "--model", str(tmp_path / "nomodel"), "--quiet",
                 *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("lantian briefing: error:") and problem in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "b.docx").exists()


# ---- on a small world (slow) ------------------------------------------------------------------------------------

def test_briefing_of_the_winter_world(winter_world, winter_model, winter_inputs, tmp_path):
    import docx

    from forecast import forecasting

    for day in ("2023-12-19", "2023-12-20"):  # archived forecasts of the previous days, to verify
        forecasting.run_forecast(winter_world, winter_model, day, inputs=winter_inputs)
    result = BR.make_briefing(winter_world, winter_model, "2023-12-21", tmp_path / "b.docx", inputs=winter_inputs)
    d = docx.Document(str(result["docx"]))
    assert headings(d, 1) == ZH_SECTIONS
    doc_areas = len(result["briefing"].blocks[[i for i, b in enumerate(result["briefing"].blocks)
                                               if isinstance(b, BR.Table)][0]].rows)
    assert len(d.tables[0].rows) == 1 + doc_areas and doc_areas >= 12
    for row in d.tables[0].rows[1:]:
        assert all(re.fullmatch(r"\d+\n\d+–\d+( 沙尘)?", c.text) for c in row.cells[1:8])
        assert all(re.fullmatch(r"\d+%", c.text) for c in row.cells[8:11])
    # the level map and the maps of the two key days (the world has a forecast run every day)
    assert len(d.inline_shapes) == 3 and result["fields_problem"] is None
    verify = d.tables[-1]
    assert verify.rows[0].cells[0].text == "地区" and len(verify.rows) > 1
    assert all(int(r.cells[1].text) > 0 for r in verify.rows[1:])
    if BR.pdf_converter() is None:
        assert result["pdf"] is None and result["pdf_note"].startswith("no PDF converter found")
    else:
        assert result["pdf"] is not None and result["pdf"].exists() or "failed" in result["pdf_note"]


def test_cli_briefing(winter_world, winter_model, tmp_path, capsys):
    out = tmp_path / "会商" / "b.docx"
    code = main(["briefing", "--data", str(winter_world), "--model", str(winter_model), "--issued", "2023-12-22",
                 "--out", str(out), "--quiet", "--no-maps"])
    printed = capsys.readouterr().out
    assert code == 0 and out.exists() and f"written: {out}" in printed
    assert ("PDF: no PDF converter found" in printed) == (BR.pdf_converter() is None)
    # an issue date with no archived forecast that the data cannot forecast: one line, exit 2, nothing written
    code = main(["briefing", "--data", str(winter_world), "--model", str(winter_model), "--issued", "2024-06-01",
                 "--out", str(tmp_path / "late.docx"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "after the last observed day" in err[0]
    assert not (tmp_path / "late.docx").exists()


# ---- the app's hook (ui/briefing.py) ------------------------------------------------------------------------------

def test_app_hook_makes_the_docx_for_download(tmp_path):
    import json

    from streamlit.testing.v1 import AppTest

    (tmp_path / "doc.json").write_text(json.dumps(forecast_doc(), ensure_ascii=False))
    script = (f"import json\nfrom ui.briefing import briefing_download\n"
              f"doc = json.loads(open({str(tmp_path / 'doc.json')!r}).read())\n"
              f"briefing_download({{'data': {str(tmp_path)!r}}}, doc)\n")
    at = AppTest.from_string(script, default_timeout=120).run()
    assert [b.label for b in at.button] == ["生成会商材料（Word）"] and not at.get("download_button")
    at.button[0].click().run()
    assert not at.error
    download = at.get("download_button")
    assert len(download) == 1 and download[0].proto.label == "下载会商材料"
    import io

    import docx

    made = docx.Document(io.BytesIO(at.session_state["briefing_2024-12-20_zh"]))
    assert headings(made, 1) == ZH_SECTIONS
    assert "没有可用的格点气象场" in "\n".join(p.text for p in made.paragraphs)  # the folder has no GRIB files


def test_a_fallback_rule_set_is_stated_with_its_note(region, tmp_path):
    from forecast.levels import rules_in_force_info

    doc = forecast_doc()
    doc["issue_date"], doc["issue_time"] = "2014-01-01", "2014-01-01T16:00:00+08:00"
    for a in doc["areas"]:
        a["rules"] = "IM-pre2020"
    info = rules_in_force_info("2014-01-01", region.rules_path)
    assert info.fallback
    d = open_docx(BR.build_briefing(inputs(region, doc=doc, fields=None, past=None)), tmp_path)
    text = "\n".join(p.text for p in d.paragraphs)
    assert f"预警分级规则：IM-pre2020（说明：{info.note}）" in text


def test_figures_draw_chinese_without_a_system_font(monkeypatch):
    """A server with python3 and pip only has no Chinese font: the figures fall back to the bundled subset of Noto
    Sans CJK SC (no glyph is missing, no tofu boxes in the briefing)."""
    import warnings

    from fontTools.ttLib import TTFont
    from forecast.areas import response_units

    from response import charts

    monkeypatch.setattr(charts, "CJK_FONTS", ("No Such Font SC", "DejaVu Sans"))
    fig = charts.figure(3, 1)
    from matplotlib import rcParams

    assert rcParams["font.sans-serif"][0] == charts.BUNDLED_CJK_FAMILY
    units = response_units(load_region().areas)
    text = "".join(units["name_zh"]) + "重度污染橙色预警，轻度（黄色）μg/m³ PM2.5 ≥ 150 — 逆温强度"
    fig.text(0.01, 0.5, text[:60])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.render(fig, "png")
    assert not [w for w in caught if "missing from font" in str(w.message)]
    # every name of every league/city and banner/county of the shipped region is in the font
    cmap = TTFont(charts.BUNDLED_CJK_FONT).getBestCmap()
    assert not sorted({ch for ch in text if ord(ch) not in cmap})
    assert (charts.BUNDLED_CJK_FONT.parent / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") >= 1
