"""The Streamlit pages with streamlit.testing (AppTest): each shows what it should in Chinese and in English — no
code, area id, None or English phrase in the Chinese UI (the forbidden tokens come from the nomenclature) —, issuing
writes an audit event (the edited bulletin), a wrong password cannot issue."""
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from forecast import labels
from forecast.areas import load_areas, response_units
from forecast.levels import LEVEL_NAMES_ZH, LEVELS
from response import audit

TIMEOUT = 240
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def env(winter_world, winter_model, tmp_path, monkeypatch):
    from forecast import workspace
    from response import accounts

    monkeypatch.setenv("LANTIAN_DATA", str(winter_world))
    monkeypatch.setenv("LANTIAN_MODEL", str(winter_model))
    monkeypatch.setenv("LANTIAN_AUDIT", str(tmp_path / "audit.db"))
    monkeypatch.setenv("LANTIAN_ACCOUNTS", str(ROOT / "config" / "accounts.yaml"))
    logins = workspace.cache_dir(winter_world) / accounts.LOG_FILE  # the shared world's login record
    logins.unlink(missing_ok=True)
    yield tmp_path / "audit.db"
    logins.unlink(missing_ok=True)


def page(name):
    return AppTest.from_string(f"from ui import {name}\n{name}.render()", default_timeout=TIMEOUT)


def log_in(at, user, password="lantian-demo"):
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    return next(b for b in at.button if b.label == "登录").click().run()


@pytest.fixture()
def issued_warnings(winter_world):
    """The winter world's issued-warnings record (``DIR/warnings/issued.csv``, written by the simulator): what the
    review page evaluates against without an audit store."""
    from response import episodes

    path = winter_world / episodes.ISSUED_WARNINGS
    assert path.exists()
    return path


def _texts(at, kind):
    return [str(el.value) for el in at.get(kind)]


def _shown(at) -> list[str]:
    """Every text a user reads on the page: headers, markdown, captions, alerts, metrics, widget labels and options,
    expander labels, table headers and cells (code blocks and JSON views are technical and left out)."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        texts += _texts(at, kind)
    for m in at.get("metric"):
        texts += [str(m.label), str(m.value)]
    for kind in ("button", "selectbox", "radio", "text_input", "text_area", "toggle", "slider", "select_slider",
                 "number_input", "date_input", "checkbox"):
        for w in at.get(kind):
            texts.append(str(w.label))
            texts += [str(o) for o in getattr(w, "options", None) or []]
    texts += [str(e.label) for e in at.expander]
    for d in at.dataframe:
        texts += [str(c) for c in d.value.columns] + [str(v) for v in d.value.to_numpy().ravel()]
    return texts


#: what a Chinese page may show in Latin letters: symbols, units, the model's and the app's names
_LATIN_OK = re.compile(r"PM2\.5|PM10|SO2|NO2|NOx|VOCs|CO|O3|AQI|TS|Brier|lantian[-\w]*|Excel|Word|CSV|HTML|JSON|CST|"
                       r"[A-Z]\d?|Ⅱ|µg/m³|\d+[a-z]*")


def _visible(text: str) -> str:
    """The text without HTML tags and `code` spans (file paths)."""
    return re.sub(r"`[^`]*`", "", re.sub(r"<[^>]+>", "", str(text)))


def forbidden(at, world) -> list[str]:
    """The texts of a Chinese page that show a code of the nomenclature, an area id, None/nan or an English phrase."""
    ids = set(response_units()["area_id"]) | {"hohhot_baotou_bayannur", "wuhai_and_surroundings"}
    tokens = labels.forbidden_tokens(area_ids=ids) | {"None", "nan", "NaN"}
    bad = []
    for text in _shown(at) + _chart_texts(at):
        text = _visible(text)
        hits = [tok for tok in tokens if labels.shows_token(text, tok)]
        words = [w.strip(".-") for w in re.findall(r"[\w.\-]+", text, re.ASCII) if not w[0].isdigit()]
        english = [w for w in words if re.search("[A-Za-z]{3}", w) and not _LATIN_OK.fullmatch(w)]
        if hits or english:
            bad.append(f"{text[:120]!r}: {sorted(hits) + english}")
    return bad


def _no_cjk(texts) -> bool:
    return not any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


def _names_zh(world) -> list[str]:
    """The names an English page may show in Chinese: places (response units without an English name, control
    zones) and enterprises (the world's registry), longest first."""
    from response.plans import load_plans

    names = set(response_units()["name_zh"])
    region = load_plans()["region"]
    names |= {z["name_zh"] for z in region.get("control_zones", [])} | {region["name_zh"]}
    if world is not None and (world / "enterprises.csv").exists():
        names |= set(pd.read_csv(world / "enterprises.csv", usecols=["name"])["name"].dropna())
    return sorted(names, key=len, reverse=True)


def _svg_texts(at) -> list[list[str]]:
    """The texts of each SVG image of the page (response.charts: text kept as text), one list per image."""
    import base64
    import xml.etree.ElementTree as ET

    out = []
    for element in at.get("image"):
        for img in element.proto.imgs:
            head, _, body = img.url.partition(",")
            if head == "data:image/svg+xml;base64":
                root = ET.fromstring(base64.b64decode(body))
                out.append(["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")])
    return out


def _chart_texts(at) -> list[str]:
    """The titles, axis titles and legend names of the page's plotly charts, and the texts of its SVG charts."""
    import json

    out = [t for texts in _svg_texts(at) for t in texts]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec.get("layout", {})
        for key in ("title", "xaxis", "yaxis"):
            item = layout.get(key) or {}
            title = item.get("title", item) if key != "title" else item
            out.append(str(title.get("text", "")) if isinstance(title, dict) else str(title or ""))
        out += [str(tr["name"]) for tr in spec.get("data", []) if tr.get("name")]
    return [t for t in out if t]


def chinese_in_english(at, world, names=None) -> list[str]:
    """The texts of an English page (its charts' titles and legends too) that show Chinese outside the names of
    places and enterprises."""
    names = _names_zh(world) if names is None else names
    bad = []
    for text in _shown(at) + _chart_texts(at):
        rest = _visible(text)
        if not _CJK.search(rest):
            continue
        for name in names:
            rest = rest.replace(name, "")
        left = _CJK.findall(rest)
        if left:
            bad.append(f"{text[:120]!r}: {left[:5]}")
    return bad


def _table(at, column: str) -> pd.DataFrame:
    """The one table of the page with ``column``."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _check_consultation(at, world):
    # the level map, the fan chart, the drivers' bars as SVG, no chart library on the first screen (the driver maps
    # on request); a row per area with its level probabilities
    assert not at.get("plotly_chart") and at.toggle(key="show_maps").value is False
    level_map, fan, bars = _svg_texts(at)[:3]
    assert {"黄色预警", "橙色预警", "红色预警"} <= set(level_map) and set(level_map) & set(load_areas()["name_zh"])
    assert {"10–90%", "中位数", "实况", "AQI"} <= set(fan) and "对AQI的贡献" in bars
    areas = _table(at, "P(无)")
    assert len(areas) == N_AREAS and {"地区", "预警级别", "P(无)", "P(红色)", "D1", "D7"} <= set(areas.columns)
    assert set(areas["地区"]) <= set(load_areas()["name_zh"]) and areas["P(红色)"].str.endswith("%").all()
    decided = _table(at, "P(≥黄色)")  # the level probabilities against the thresholds, the proposed level
    assert len(decided) == N_AREAS and {"P(≥黄色)", "P(≥橙色)", "P(≥红色)", "预警级别"} <= set(decided.columns)
    assert any(c.startswith("建议级别：达到某级别的概率") and "阈值来源：系统默认设定" in c for c in _texts(at, "caption"))
    drivers = [d.value for d in at.dataframe if "时效" in d.value.columns]
    assert len(drivers) == 1 and list(drivers[0]["时效"]) == [f"D{k}" for k in range(1, 8)]  # a row per lead day
    assert all(re.fullmatch(r"[+-]\d+|—", v) for v in drivers[0].drop(columns="时效").to_numpy().ravel())
    # the reading of the largest drivers, in AQI points
    assert any(re.match(r"\d+月\d+日（第\d天）：.*(使AQI(升高|降低)约\d+|影响均较小)", m) for m in _texts(at, "markdown"))
    assert any(c.startswith("模型说明：lantian-aqi") and "训练期 2023年12月" in c for c in _texts(at, "caption"))
    assert any(c.startswith("模型预报中位数：D1") for c in _texts(at, "caption"))
    assert {"气象驱动因子贡献", "气象要素场", "会商订正", "预警级别建议与概率"} <= set(_texts(at, "subheader"))
    assert "生成会商材料（Word）" in [b.label for b in at.button]  # the consultation briefing (ui/briefing.py)


def _check_consultation_en(at, world):
    assert {"Driver contributions", "Meteorological driver maps", "Consultation adjustment",
            "Proposed levels and their probabilities"} <= set(_texts(at, "subheader"))
    areas = _table(at, "P(none)")
    assert {"Area", "Warning level", "P(none)", "P(red)"} <= set(areas.columns)
    assert set(areas["Area"]) <= set(load_areas()["name_en"])
    assert set(areas["Warning level"].str.rstrip(" ✎")) <= {labels.label("levels", lv, "en") for lv in LEVELS}
    assert any(re.match(r"\d+ \w{3} \(day \d\): ", m) for m in _texts(at, "markdown"))
    level_map, fan, bars = _svg_texts(at)[:3]
    assert "Orange warning" in level_map and "median" in fan and "effect on AQI" in bars
    assert _no_cjk(_texts(at, "subheader") + [c for d in at.dataframe for c in d.value.columns])


def _proposals(at) -> pd.DataFrame:
    """Every proposal table of the duty page (region, leagues/cities, banners/counties per league/city), stacked."""
    return pd.concat([d.value for d in at.dataframe if "建议级别" in d.value.columns or "Proposed" in d.value.columns])


def _check_duty(at, world):
    proposals = _proposals(at)
    names = set(response_units()["name_zh"])
    units = proposals[proposals["地区"].isin(names)]
    # every banner/county of the region (REFERENCE 4.2), not only the areas with forecasts, by name
    assert len(units) == N_UNITS and set(proposals["建议级别"]) <= set(LEVEL_NAMES_ZH.values())
    assert set(proposals["现行级别"]) == {"无预警"}  # an empty audit store: nothing in force
    assert set(proposals["操作"]) <= {labels.label("actions", a) for a in ("issue", "none")}
    # counties grouped by league/city, the groups with warnings first
    groups = [e.label for e in at.expander if "所辖旗县" in e.label]
    assert len(groups) == len(set(response_units().query("tier == 'county'")["parent_id"])), groups
    warned = [int(re.search(r"其中 (\d+) 个有预警", g).group(1)) for g in groups]
    assert warned[0] > 0 and warned[-1] == 0
    assert "应急减排清单" in _texts(at, "subheader")
    summary = _table(at, "可补足缺口的企业")
    assert {"地区", "结论", "SO2", "NOx", "颗粒物", "VOCs"} <= set(summary.columns)
    assert set(summary["结论"]) <= {labels.label("verdicts", v) for v in labels.codes("verdicts")}
    assert all(re.fullmatch(r"[✓△✗?] \d+\.\d% / \d+%", v) for v in summary["SO2"])
    full = _table(at, "全社会排放量（吨/日）")
    assert all(re.fullmatch(r"\d+\.\d|—", v) for v in full["全社会排放量（吨/日）"])  # t/d to 0.1
    assert next(b for b in at.button if "发布" in b.label).disabled  # nobody logged in
    assert any("请先在左侧登录" in c for c in _texts(at, "caption"))
    assert any(m.startswith("# ") and "通知" in m for m in _texts(at, "markdown"))  # the bulletin, rendered


def _check_duty_en(at, world):
    proposals = _proposals(at)
    assert {"Area", "In force", "Proposed", "Action", "Reason"} <= set(proposals.columns)
    assert set(proposals["Proposed"]) <= {labels.label("levels", lv, "en") for lv in LEVELS}
    assert "Emission-reduction lists" in _texts(at, "subheader")
    assert any("Enterprises that close the gap" in d.value.columns for d in at.dataframe)
    # the reasons in English: a rule clause, or whose warning a unit follows
    assert all(re.match(r"AQI [>≥] \d+ for ≥ \d+ h|follows |as |Regional warning: |—", r) for r in proposals["Reason"]), \
        set(proposals["Reason"])
    # the bulletin: an English rendering, labelled as one (the Chinese original is what is issued)
    assert any(c.startswith("English rendering for reading only") for c in _texts(at, "caption"))
    assert any(m.startswith("# Notice of the ") for m in _texts(at, "markdown"))
    assert _no_cjk(_texts(at, "subheader") + [c for d in at.dataframe for c in d.value.columns])


def _check_review(at, world):
    # four weeks of history: the effect is flagged as learned from too little
    assert any("采暖季" in w for w in _texts(at, "warning"))
    assert any("warnings/issued.csv" in c for c in _texts(at, "caption"))  # the record it evaluated against
    metrics = {m.label: m.value for m in at.get("metric")}
    assert any(k.startswith("减排效果") for k in metrics) and int(metrics["预警地区日"]) > 0
    assert any("预警方面" in m for m in _texts(at, "markdown"))  # the Chinese summary
    quality = _table(at, "评估结果")
    assert len(quality) > 0 and {"地区", "评估结果", "发布级别", "提前时间（小时）"} <= set(quality.columns)
    assert set(quality["评估结果"]) <= {labels.label("outcomes", o) for o in labels.codes("outcomes")}
    assert len(at.get("plotly_chart")) >= 2  # one area's timeline, the outcomes (and the effect when estimated)
    # one timeline at a time, the highest observed peak first; another area redraws it
    box = next(b for b in at.selectbox if b.label == "过程曲线：地区")
    fq = _table(at, "实况AQI峰值")
    peaks = dict(zip(fq["地区"], pd.to_numeric(fq["实况AQI峰值"], errors="coerce")))
    assert box.options[box.index] == max(peaks, key=lambda a: peaks[a] if peaks[a] == peaks[a] else -1)
    first = _chart_texts(at)
    box.select_index(1).run()
    assert not at.exception and _chart_texts(at) != first


def _check_review_en(at, world):
    assert {"Warning quality", "Forecast quality"} <= set(_texts(at, "subheader"))
    quality = _table(at, "Outcome")
    assert {"Area", "Outcome", "Issued level"} <= set(quality.columns)
    assert set(quality["Outcome"]) <= {labels.label("outcomes", o, "en") for o in labels.codes("outcomes")}
    assert not any("采暖季" in w for w in _texts(at, "warning"))  # the bilingual caveat in English
    assert any(m.startswith("From ") and "Warnings: " in m for m in _texts(at, "markdown"))  # the summary
    assert re.fullmatch(r"\S+ – \S+ \(\d+ area-days, peak \d+\)", at.selectbox[0].options[0])
    charts = _chart_texts(at)  # the figures in English too
    assert "Warning outcomes (areas)" in charts and any(c.endswith(": observed, forecast and warnings") for c in charts)


def _check_data(at, world):
    metrics = {m.label: m.value for m in at.get("metric")}
    assert int(metrics["站点文件"]) == len(list((world / "stations").glob("china_sites_*.csv")))
    assert int(metrics["小时数据"].replace(",", "")) > 0 and metrics["时段"].startswith("2023年12月1日至")
    assert {"训练模型", "运行预报", "运行检验"} <= {b.label for b in at.button}


def _check_data_en(at, world):
    metrics = {m.label: m.value for m in at.get("metric")}
    assert {"Station files", "Hourly values", "Period"} <= set(metrics) and metrics["Period"].startswith("1 Dec 2023")
    assert {"Train model", "Run forecast", "Run verification"} <= {b.label for b in at.button}


#: the winter world is built for the shipped area table: every area has stations and a forecast
N_AREAS = len(load_areas())
#: the response units: the areas and every banner/county of their leagues/cities (12 + 103 for Inner Mongolia)
N_UNITS = len(response_units())
CHECKS = {"consultation": _check_consultation, "duty": _check_duty, "review": _check_review, "data": _check_data}
CHECKS_EN = {"consultation": _check_consultation_en, "duty": _check_duty_en, "review": _check_review_en,
             "data": _check_data_en}


@pytest.fixture()
def seven_day_window(tmp_path, monkeypatch):
    """A plan that issues on the whole 7-day forecast (the shipped policy issues within 3 days; the test world's
    last forecasts reach a level on days 4–7 only): the duty page then has warnings to issue and bulletins."""
    import streamlit as st

    from response import lifecycle

    policy = tmp_path / "lifecycle.yaml"
    policy.write_text("lift_hours: 36\nissue_window_days: 7\n", encoding="utf-8")
    monkeypatch.setattr(lifecycle, "SHIPPED_POLICY", policy)
    st.cache_data.clear()  # proposals drafted under the shipped policy are not reused
    yield policy
    st.cache_data.clear()


def test_the_duty_page_issues_nothing_for_an_episode_beyond_the_issuing_window(env):
    """With the shipped policy (issue within 3 lead days) the test world's last forecasts — a level on days 4–7
    only — propose no action; the reason says when the episode is expected, and no bulletin is drafted."""
    import streamlit as st

    st.cache_data.clear()
    at = page("duty").run()
    assert not at.exception, at.exception
    proposals = _proposals(at)
    assert set(proposals["操作"]) == {labels.label("actions", "none")}
    assert set(proposals["建议级别"]) == {"无预警"}  # what would be put in force: nothing yet
    outlook = [r for r in proposals["理由"] if "暂不发布" in r]
    assert outlook and all(re.search(r"预计第[4-7]天起可能达到(黄色|橙色|红色)预警条件", r) for r in outlook), outlook
    assert not any(m.startswith("# ") and "通知" in m for m in _texts(at, "markdown"))


@pytest.mark.parametrize("name", ["consultation", "duty", "review", "data"])
def test_every_page_shows_what_it_should_in_chinese_and_in_english(env, winter_world, name, request):
    if name == "review":
        request.getfixturevalue("issued_warnings")
    if name == "duty":
        request.getfixturevalue("seven_day_window")
    at = page(name).run()
    assert not at.exception, at.exception
    CHECKS[name](at, winter_world)
    assert forbidden(at, winter_world) == []
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    CHECKS_EN[name](at, winter_world)
    assert chinese_in_english(at, winter_world) == []  # no Chinese but the names of places and enterprises


def test_the_chinese_in_english_check_can_fail():
    import json

    chart = type("Chart", (), {"proto": type("P", (), {"spec": json.dumps(
        {"layout": {"title": {"text": "包头市：实况、预报与预警"}}, "data": [{"name": "observed daily AQI"}]})})()})()

    class Page:  # an English page with library text left in Chinese, next to names it may show in Chinese
        def get(self, kind):
            if kind == "plotly_chart":
                return [chart]
            return [type("El", (), {"value": v})() for v in
                    {"caption": ["执行包头市橙色预警（本地无独立预报）", "Baotou: 包头源源钢铁有限公司（演示） +4.1",
                                 "follows 土默特左旗's Orange warning", "2023-12-15 – 2023-12-22（28 地区日，峰值 243）"],
                     "markdown": ["# 包头市重污染天气应急指挥部关于发布重污染天气橙色预警的通知"]}.get(kind, [])]

        dataframe = expander = []

    names = ["包头市", "包头源源钢铁有限公司（演示）", "土默特左旗"]
    bad = chinese_in_english(Page(), None, names)
    words = ("执行", "地区日", "重污染天气应急指挥部", "实况、预报与预警")
    assert len(bad) == 4 and all(any(w in x for x in bad) for w in words), bad
    assert not any("Baotou" in x or "土默特左旗" in x for x in bad)  # names alone are allowed


def test_the_forbidden_token_check_can_fail():
    class Page:  # a page showing what the issue found: raw codes, an area id, None, English in the Chinese UI
        def get(self, kind):
            return [type("El", (), {"value": v})() for v in
                    {"caption": ["建议 orange / issue", "区域预警（hohhot、baotou）", "None", "no days with measures"],
                     "markdown": ["<span style='color:red'>橙色预警</span> `warnings/issued.csv`"]}.get(kind, [])]

        dataframe = expander = []

    bad = forbidden(Page(), None)
    assert len(bad) == 4 and "orange" in bad[0] and "hohhot" in bad[1] and "None" in bad[2] and "days" in bad[3]


def test_app_routes_to_consultation(env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert any("会商" in h.value for h in at.header)
    at.sidebar.radio[0].set_value("en").run()
    assert any("Consultation" in h.value for h in at.header)


def test_issue_flow_writes_an_audit_event(env):
    at = log_in(page("duty").run(), "duty")
    assert not at.exception and at.session_state["account"].user == "duty"
    assert by_label(at.selectbox, "地区").value == "baotou"  # the officer's own area first
    by_label(at.selectbox, "调整级别").set_value("red").run()  # override the proposed level …
    by_label(at.text_input, "理由").input("会商认为污染将加重").run()  # … with a reason
    issue = next(b for b in at.button if "发布" in b.label)
    issue.click().run()
    assert not at.exception, at.exception
    with audit.open_store(env) as store:
        events = store.events()
    assert len(events) == 1 and events[0]["level"] == "red" and events[0]["officer"] == "包头市值班员（演示）"
    assert events[0]["details"]["override"] is True and events[0]["details"]["login"] == "duty"


def test_the_edited_bulletin_is_previewed_and_is_what_is_issued(env, seven_day_window):
    at = log_in(page("duty").run(), "duty")
    draft = next(m for m in _texts(at, "markdown") if m.startswith("# ") and "包头市" in m)  # the preview
    assert not [a for a in at.text_area if a.label == "通知草稿"]  # no editor until asked for
    next(w for w in at.toggle if w.label == "编辑").set_value(True).run()
    edited = draft + "\n\n会商补充：加强夜间巡查。"
    by_label(at.text_area, "通知草稿").input(edited).run()
    assert any("通知已修改" in i.value for i in at.info)
    next(w for w in at.toggle if w.label == "编辑").set_value(False).run()  # back to the preview: still edited
    assert any(m.endswith("会商补充：加强夜间巡查。") for m in _texts(at, "markdown"))
    next(b for b in at.button if "发布" in b.label).click().run()
    assert not at.exception, at.exception
    with audit.open_store(env) as store:
        events = store.events()
    assert len(events) == 1 and events[0]["bulletin_text"] == edited and events[0]["area_id"] == "baotou"
    assert any(c.startswith("审计日志哈希链完整：共 1 条记录") for c in _texts(at, "caption"))


def test_duty_page_shows_the_audit_chain_and_a_tampered_level(env):
    import sqlite3

    at = log_in(page("duty").run(), "duty")
    next(b for b in at.button if "发布" in b.label).click().run()
    assert any(c.value.startswith("审计日志哈希链完整") for c in at.caption)
    con = sqlite3.connect(env)
    con.execute("DROP TRIGGER IF EXISTS events_no_update")
    con.execute("UPDATE events SET level = 'none'")
    con.commit()
    con.close()
    at = page("duty").run()
    assert any(e.value.startswith("审计日志可能被篡改") for e in at.error), [e.value for e in at.error]


def test_wrong_password_cannot_issue(env):
    at = log_in(page("duty").run(), "duty", "wrong")
    assert any("错误" in e.value for e in at.error)
    issue = next(b for b in at.button if "发布" in b.label)
    assert issue.disabled
    assert not env.exists() or audit.open_store(env).events() == []


@pytest.mark.parametrize("user, why", [("viewer", "无此权限"), ("consult", "无此权限"),
                                       ("hohhot", "只能发布本地区预警")])
def test_only_the_areas_own_officer_can_issue(env, user, why):
    at = log_in(page("duty").run(), user)
    by_label(at.selectbox, "地区").set_value("baotou").run()
    assert next(b for b in at.button if "发布" in b.label).disabled
    assert any(why in c.value for c in at.caption)
    assert not env.exists() or audit.open_store(env).events() == []


def test_repeated_failed_logins_lock_the_user_out(env):
    from response import accounts

    at = page("duty").run()
    for _ in range(accounts.MAX_FAILURES):
        log_in(at, "viewer", "guess")
    log_in(at, "viewer")  # the right password, too late
    assert any("锁定" in e.value for e in at.error) and "account" not in at.session_state


def test_logout_and_session_expiry(env):
    from datetime import timedelta

    at = log_in(page("duty").run(), "duty")
    at.session_state["last_seen"] = at.session_state["last_seen"] - timedelta(hours=1)  # idle for an hour
    at.run()
    assert "account" not in at.session_state and any("过期" in i.value for i in at.info)
    at = log_in(at, "duty")
    next(b for b in at.button if b.label == "退出登录").click().run()
    assert "account" not in at.session_state


def test_demo_accounts_are_refused_on_real_data(env, tmp_path, monkeypatch):
    real = tmp_path / "real"
    (real / "stations").mkdir(parents=True)
    monkeypatch.setenv("LANTIAN_DATA", str(real))
    at = page("duty").run()
    assert any("演示账号" in e.value and "lantian accounts add" in e.value for e in at.error)
    assert not at.button  # nothing else rendered


@pytest.fixture()
def clean_consultations(winter_world):
    """The consultation store of the shared winter world, emptied after the test."""
    from forecast import consultation

    path = consultation.store_path(winter_world)
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


def by_label(widgets, label):
    return next(w for w in widgets if w.label == label)


def test_consultation_page_shows_driver_maps_and_verification(env):
    at = page("consultation").run()
    assert not at.exception, at.exception
    n = len(at.get("plotly_chart"))
    assert not [r for r in at.radio if r.label == "要素"]  # the GRIB fields are read on request only
    at.toggle(key="show_maps").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == n + 1  # the driver map
    field = by_label(at.radio, "要素")
    for value in ("wind_speed", "inversion"):
        field.set_value(value).run()
        assert not at.exception, at.exception
    assert any("预报场" in c.value for c in at.caption)  # the winter world has a run every day


def test_consultation_sets_thresholds_signed_and_they_decide_the_levels(env, winter_world):
    from forecast import decision

    path = decision.settings_path(winter_world)
    path.unlink(missing_ok=True)
    try:
        at = log_in(page("consultation").run(), "consult")
        assert not at.exception, at.exception
        for name in ("黄色预警", "橙色预警", "红色预警"):
            by_label(at.slider, f"阈值 {name}").set_value(0.05)
        at.run()
        shown = [d.value for d in at.dataframe if "命中" in d.value.columns]
        assert len(shown) == 1 and len(shown[0]) == 4  # any warning, ≥ yellow, ≥ orange, ≥ red
        by_label(at.button, "设定为会商阈值（记录设定人和理由）").click().run()
        assert any("须填写理由" in e.value for e in at.error) and not path.exists()  # no reason: refused
        by_label(at.text_input, "设定理由").input("春节前后从严")
        by_label(at.button, "设定为会商阈值（记录设定人和理由）").click().run()
        assert not at.exception, at.exception
        assert decision.thresholds_in_force(winter_world).as_dict() == dict.fromkeys(decision.WARNING_LEVELS, 0.05)
        assert any("阈值来源：会商设定" in c and "(consult)" in c for c in _texts(at, "caption"))
    finally:
        path.unlink(missing_ok=True)


def test_consultation_adjustment_is_stored_and_drives_the_proposals(env, clean_consultations):
    at = page("consultation").run()
    assert not [n for n in at.number_input if n.label == "AQI"]  # anonymous: no adjustment form
    assert any("请先在左侧登录" in c.value for c in at.caption)
    at = log_in(at, "consult")
    by_label(at.selectbox, "地区").set_value("baotou").run()
    by_label(at.number_input, "AQI").set_value(350)
    by_label(at.button, "保存会商记录").click().run()
    assert any("理由" in e.value for e in at.error) and not clean_consultations.exists()  # no reason: refused
    for day in (1, 2, 3):
        by_label(at.selectbox, "预报时效（天）").set_value(day)
        by_label(at.number_input, "AQI").set_value(350)
        by_label(at.text_input, "理由").input("静稳持续，区域传输加重")
        by_label(at.text_input, "参会人员").input("环境、气象")
        by_label(at.button, "保存会商记录").click().run()
        assert not at.exception, at.exception
    from forecast import consultation

    records, problems = consultation.load(clean_consultations.parent.parent)
    assert len(records) == 3 and not problems
    assert set(records["lead_day"]) == {1, 2, 3} and (records["consultation_aqi"] == 350).all()
    assert records["participants"].iloc[0] == "环境、气象" and records["saved_by"].iloc[0] == "会商专家（演示） (consult)"
    duty = page("duty").run()
    assert not duty.exception, duty.exception
    assert any("会商订正" in i.value for i in duty.info)
    table = _proposals(duty).set_index("地区")
    assert table.loc["包头市", "建议级别"] in ("橙色预警", "红色预警") and "会商订正" in table.loc["包头市", "理由"]


def test_data_page_trains_with_progress_and_runs_a_forecast(env, winter_world, tmp_path, monkeypatch):
    monkeypatch.setenv("LANTIAN_MODEL", str(tmp_path / "model"))
    monkeypatch.setattr("forecast.model.N_ROUNDS", 30)
    at = page("data").run()
    assert not at.exception and any("尚未训练" in i.value for i in at.info)
    assert by_label(at.button, "训练模型").disabled  # training replaces the production model: admins only
    at = log_in(at, "admin")
    by_label(at.button, "训练模型").click().run()
    assert not at.exception, at.exception
    assert (tmp_path / "model" / "model.json").exists()
    by_label(at.button, "运行预报").click().run()
    assert not at.exception, at.exception
    day1 = at.dataframe[-1].value  # a row per area, by name, the level in words
    assert len(day1) == len(day1["地区"].unique()) > 10 and set(day1["地区"]) <= set(load_areas()["name_zh"])
    assert set(day1["预警级别"]) <= set(LEVEL_NAMES_ZH.values())


def test_first_start_prepares_the_demo_with_progress(tmp_path, monkeypatch):
    from ui import common

    monkeypatch.setenv("LANTIAN_DATA", str(tmp_path / "demo"))
    monkeypatch.setenv("LANTIAN_MODEL", str(tmp_path / "models" / "demo"))
    monkeypatch.setenv("LANTIAN_PREPARE", "1")
    monkeypatch.setitem(common.DEMO, "start", "2023-12-01")
    monkeypatch.setitem(common.DEMO, "end", "2023-12-21")
    monkeypatch.setitem(common.DEMO, "train_until", "2023-12-15")
    monkeypatch.setitem(common.DEMO, "rounds", 20)
    at = page("consultation").run()
    assert not at.exception, at.exception
    assert (tmp_path / "demo" / "README.md").exists() and (tmp_path / "models" / "demo" / "model.json").exists()
    assert any("就绪" in s.label for s in at.get("expandable")) or at.get("status")
    assert len(_svg_texts(at)) >= 2  # the page went on to show the forecast: its level map and fan chart


def linked(name: str, issued: str):
    """The page ``name`` opened through a link carrying ``?issued=``, run."""
    at = page(name)
    at.query_params["issued"] = issued
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_opens_the_consultation_on_its_issue_date(env):
    at = linked("consultation", "2023-12-22")
    assert str(by_label(at.select_slider, "预报发布日期").value) == "2023-12-22"
    assert at.query_params["issued"] == "2023-12-22" and not at.warning
    by_label(at.select_slider, "预报发布日期").set_value(by_label(at.select_slider, "预报发布日期").options[-1]).run()
    latest = str(by_label(at.select_slider, "预报发布日期").value)
    assert latest != "2023-12-22" and at.query_params["issued"] == latest  # the address follows: a link to share


@pytest.mark.parametrize("value", ["2023-02-30", "1999-01-01", "yesterday"])
def test_a_link_with_an_unusable_issue_date_says_so_and_shows_the_latest(env, value):
    at = linked("consultation", value)
    slider = by_label(at.select_slider, "预报发布日期")
    assert str(slider.value) == str(slider.options[-1])
    assert any(value in w.value and "不可用" in w.value for w in at.warning)


def test_a_link_opens_the_duty_page_on_its_issue_date(env):
    at = linked("duty", "2023-12-21")
    assert str(by_label(at.selectbox, "预报发布日期").value) == "2023-12-21"


def test_the_english_duty_page_renders_only_the_bulletin_shown(env, monkeypatch, seven_day_window):
    import ui.duty

    calls = []

    def spy(*args, **kw):
        calls.append((kw.get("lang"), kw.get("translate")))
        return respond(*args, **kw)

    from response.respond import respond

    monkeypatch.setattr(ui.duty, "respond", spy)
    import streamlit as st

    st.cache_data.clear()  # a fresh app: nothing drafted yet
    at = page("duty").run()
    assert not at.exception, at.exception
    assert calls and all(translate == () for _, translate in calls)  # in Chinese: no English rendering at all
    n = len(calls)
    by_label(at.toggle, "编辑").set_value(True).run()  # the page's own interaction: nothing drafted again
    assert not at.exception, at.exception
    assert len(calls) == n and any(a.label == "通知草稿" for a in at.text_area)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    shown = by_label(at.selectbox, "Area").value
    english = calls[n:]
    assert english and all(lang == "en" and translate is not None and set(translate) <= {shown, f"region_{shown}"}
                           for lang, translate in english), english
    assert any(m.startswith("# Notice of the ") for m in _texts(at, "markdown"))  # the one shown is rendered


def test_the_review_is_read_from_the_page_cache_on_a_later_visit(env, issued_warnings, monkeypatch):
    import streamlit as st

    from response import evaluation

    st.cache_data.clear()
    first = page("review").run()
    assert not first.exception, first.exception
    summary = [m for m in _texts(first, "markdown") if "预警方面" in m]
    st.cache_data.clear()  # a new app process: only the page cache on disk is left
    monkeypatch.setattr(evaluation, "evaluate_episode", lambda *a, **k: pytest.fail("evaluated again"))
    again = page("review").run()
    assert not again.exception, again.exception
    assert [m for m in _texts(again, "markdown") if "预警方面" in m] == summary and summary
