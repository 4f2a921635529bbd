"""Bulletins: the content the rules ask for, every kind, Word output, editable templates."""
import pytest

from response import bulletins as B


def issue(**kw):
    args = dict(area_id="baotou", level="orange", window="12月21日至12月23日", start="2024年12月21日0时",
                aqi_range="210–260（可能范围 180–300）", met_cause="期间风速小、边界层低，扩散条件差。",
                clause="AQI>200 持续≥48h", issued_at="2024年12月20日")
    args.update(kw)
    return B.render("issue", **args)


def test_issue_bulletin_content():
    b = issue()
    text = b.markdown
    for needle in ("包头市重污染天气应急指挥部关于发布重污染天气橙色预警的通知", "12月21日至12月23日",  # window
                   "包头市",  # area
                   "橙色预警", "Ⅱ级",  # level and response
                   "PM2.5",  # primary pollutant
                   "210–260",  # expected AQI range
                   "扩散条件差",  # meteorological cause
                   "减排比例不低于 20%", "生态环境部门", "教育部门",  # measures
                   "包头市重污染天气应急预案", "AQI>200 持续≥48h"):
        assert needle in text, needle
    assert b.title.startswith("包头市") and len(b.sha256) == 64


@pytest.mark.parametrize("kind, level, previous, needle", [
    ("upgrade", "red", "orange", "由橙色预警升级为**红色预警**"),
    ("downgrade", "yellow", "orange", "由橙色预警调整为**黄色预警**"),
    ("lift", "none", "yellow", "解除重污染天气黄色预警"),
    ("advisory", "none", "none", "不启动重污染天气预警和企业应急减排"),
])
def test_every_kind(kind, level, previous, needle):
    b = B.render(kind, area_id="hohhot", level=level, previous=previous, window="1月5日", start="2025年1月5日0时",
                 aqi_range="160–220", issued_at="2025年1月4日", cause="dust")
    assert needle in b.markdown


def test_county_and_region_authorities():
    assert "达拉特旗重污染天气应急指挥部" in issue(area_id="dalad").markdown
    region = B.render("issue", area_id="inner_mongolia", level="yellow", window="1月5日", start="x", aqi_range="y",
                      issued_at="z", area_name="呼包巴区域")
    assert "内蒙古自治区重污染天气应对指挥部" in region.markdown and "呼包巴区域" in region.markdown


def test_docx(tmp_path):
    from docx import Document

    path = B.to_docx(issue(), tmp_path / "b.docx")
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0].startswith("包头市重污染天气应急指挥部关于发布")
    assert any("减排比例不低于 20%" in t for t in texts)
    bold = [r.text for p in doc.paragraphs for r in p.runs if r.bold]
    assert "橙色预警" in bold


def test_edited_templates(tmp_path):
    (tmp_path / "issue.md").write_text("# ${authority}：${level_zh}\n${area_name} ${window}\n", encoding="utf-8")
    b = issue(template_dir=tmp_path)
    assert b.markdown.startswith("# 包头市重污染天气应急指挥部：橙色预警")
    (tmp_path / "issue.md").write_text("# ${authority} ${mayor_name}\n", encoding="utf-8")
    with pytest.raises(B.BulletinError, match=r"unknown placeholder\(s\) \['mayor_name'\]"):
        issue(template_dir=tmp_path)
    with pytest.raises(B.BulletinError, match="unknown bulletin kind 'memo'"):
        B.render("memo", area_id="baotou", level="red", window="", start="", aqi_range="", issued_at="")


def test_bulletins_of_a_region_without_plans_of_its_own(tmp_path):
    """Hebei areas with the default plans: each city's own office and plan; a county without a plan entry
    issues under its default plan (its own office, implementing its city's); the region plan's authority and measures for the region."""
    from response import plans

    from ._region import hebei_areas, shipped_words_in

    table = hebei_areas(tmp_path, ("shijiazhuang", "baoding", "zhengding"))
    p = plans.load_plans(areas=table)
    b = issue(area_id="shijiazhuang", plans=p, areas=table)
    assert b.title == "石家庄市重污染天气应急指挥部关于发布重污染天气橙色预警的通知"
    assert "石家庄市将出现" in b.markdown and "《石家庄市重污染天气应急预案》" in b.markdown
    county = issue(area_id="zhengding", plans=p, areas=table)
    # REFERENCE 4.2: every banner/county has its own plan (the default one implements its city's) and office
    assert county.title.startswith("正定县重污染天气应急指挥部") and "正定县将出现" in county.markdown
    assert B.plan_name("zhengding", plans=p, areas=table) == "正定县重污染天气应急预案"
    region = issue(area_id=p["region"]["id"], plans=p, areas=table)
    assert region.title.startswith("河北省重污染天气应对指挥部") and "河北省将出现" in region.markdown
    assert shipped_words_in(b.markdown + county.markdown + region.markdown) == []
    with pytest.raises(B.BulletinError, match="no plan .* for area 'baotou'"):
        issue(area_id="baotou", plans=p, areas=table)


def test_word_refuses_nothing_lantian_writes(tmp_path):
    """Control characters (from an area table's name, a registry, a template) never make the document fail."""
    import docx

    from response.bulletins import markdown_to_docx

    path = markdown_to_docx("# 标题\x0b\n\n| a\x01 | b |\n|---|---|\n| 包头\x0c | \ufffe1 |\n\n**粗\x1f体**文字\r\n",
                            tmp_path / "x.docx")
    doc = docx.Document(path)
    assert doc.paragraphs[0].text == "标题" and doc.tables[0].cell(1, 0).text == "包头"
    assert doc.paragraphs[-1].text == "粗体文字" and doc.paragraphs[-1].runs[0].bold


def test_aqi_range_text_whole_numbers_and_the_top_of_the_scale():
    assert B.aqi_range_text(209.6, 260.2, 180.0, 300.4) == "210–260（可能范围 180–300）"
    # an upper quantile shifted past 500 by a consultation adjustment: shown as the top of the scale, said so
    assert B.aqi_range_text(450.0, 500.0, 380.0, 640.0) == "450–500（可能范围 380–500，指数上限为500）"


@pytest.mark.parametrize("values", [(9999.0, float("nan"), 0.0, 1.0), (-5.0, 10.0, -8.0, 12.0),
                                    (100.0, 120.0, 130.0, 150.0), ("100", 120.0, 80.0, 150.0)])
def test_aqi_range_text_refuses_what_is_not_an_aqi(values):
    with pytest.raises(B.BulletinError, match="AQI range .* expected numbers 0 … 500"):
        B.aqi_range_text(*values)

