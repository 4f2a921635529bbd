"""The Streamlit pages with streamlit.testing (AppTest): each renders, issuing writes an audit event, a wrong
password cannot issue."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from forecast.areas import load_areas, response_units
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


def _check_consultation(at, world):
    # the level map, the fan chart and a driver map; a row per area with its level probabilities and 7 days
    assert len(at.get("plotly_chart")) >= 3
    areas = at.dataframe[0].value
    assert len(areas) == N_AREAS and {"预警级别", "P(none)", "P(red)", "D1", "D7"} <= set(areas.columns)
    decided = at.dataframe[1].value  # the level probabilities against the thresholds, the proposed level
    assert len(decided) == N_AREAS and {"P(≥黄色)", "P(≥橙色)", "P(≥红色)", "预警级别"} <= set(decided.columns)
    assert any(c.startswith("建议级别：达到某级别的概率") and "阈值来源" in c for c in _texts(at, "caption"))
    drivers = [d.value for d in at.dataframe if "D" in d.value.columns]
    assert len(drivers) == 1 and len(drivers[0]) == 7  # the chosen area's driver contributions, a row per lead day
    assert any(c.startswith("模型说明") and "lantian-aqi" in c for c in _texts(at, "caption"))
    assert any(c.startswith("模型预报中位数：D1") for c in _texts(at, "caption"))
    assert {"气象驱动因子贡献", "气象要素场", "会商订正", "预警级别建议与概率"} <= set(_texts(at, "subheader"))


def _check_duty(at, world):
    proposals = at.dataframe[0].value
    areas = proposals[proposals["tier"] != "region"]  # region-tier (zone) rows come on top when triggered
    # every banner/county of the region (REFERENCE 4.2), not only the areas with forecasts
    assert len(areas) == N_UNITS and set(proposals["proposed"]) <= {"none", "yellow", "orange", "red"}
    assert set(proposals["in_force"]) == {"none"}  # an empty audit store: nothing in force
    assert "应急减排清单" in _texts(at, "subheader")
    assert next(b for b in at.button if "发布" in b.label).disabled  # nobody logged in
    assert any("请先在左侧登录" in c for c in _texts(at, "caption"))


def _check_review(at, world):
    # four weeks of history: the effect is flagged as learned from too little
    assert any("采暖季" in w for w in _texts(at, "warning"))
    assert any("warnings/issued.csv" in c for c in _texts(at, "caption"))  # the record it evaluated against
    metrics = {m.label: m.value for m in at.get("metric")}
    assert any(k.startswith("减排效果") for k in metrics) and int(metrics["预警地区日 warned area-days"]) > 0
    assert any("预警方面" in m for m in _texts(at, "markdown"))  # the Chinese summary
    quality = at.dataframe[0].value
    assert len(quality) > 0 and {"outcome", "issued_level", "lead_time_h"} <= set(quality.columns)
    assert set(quality["outcome"]) <= {"hit", "miss", "false_alarm", "correct_negative"}
    assert len(at.get("plotly_chart")) >= 3


def _check_data(at, world):
    metrics = {m.label: m.value for m in at.get("metric")}
    assert int(metrics["站点文件 station files"]) == len(list((world / "stations").glob("china_sites_*.csv")))
    assert int(metrics["小时数据 hourly values"]) > 0 and metrics["时段 period"].startswith("2023-12-01")
    assert {"训练模型", "运行预报", "运行检验"} <= {b.label for b in at.button}


#: the winter world is built for the shipped area table: every area has stations and a forecast
N_AREAS = len(load_areas())
#: the response units: the areas and every banner/county of their leagues/cities (12 + 103 for Inner Mongolia)
N_UNITS = len(response_units())
CHECKS = {"consultation": _check_consultation, "duty": _check_duty, "review": _check_review, "data": _check_data}


@pytest.mark.parametrize("name", ["consultation", "duty", "review", "data"])
def test_every_page_renders_what_it_should(env, winter_world, name, request):
    if name == "review":
        request.getfixturevalue("issued_warnings")
    at = page(name).run()
    assert not at.exception, at.exception
    CHECKS[name](at, winter_world)


def test_app_routes_to_consultation(env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert any("会商" in h.value for h in at.header)
    at.sidebar.radio[0].set_value("en").run()
    assert any("Consultation" in h.value for h in at.header)


def test_issue_flow_writes_an_audit_event(env):
    at = log_in(page("duty").run(), "duty")
    assert not at.exception and at.session_state["account"].user == "duty"
    assert by_label(at.selectbox, "地区 area").value == "baotou"  # the officer's own area first
    by_label(at.selectbox, "调整级别").set_value("red").run()  # override the proposed level …
    by_label(at.text_input, "理由").input("会商认为污染将加重").run()  # … with a reason
    issue = next(b for b in at.button if "发布" in b.label)
    issue.click().run()
    assert not at.exception, at.exception
    with audit.open_store(env) as store:
        events = store.events()
    assert len(events) == 1 and events[0]["level"] == "red" and events[0]["officer"] == "包头市值班员（演示）"
    assert events[0]["details"]["override"] is True and events[0]["details"]["login"] == "duty"


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
    by_label(at.selectbox, "地区 area").set_value("baotou").run()
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
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # level map, fan chart, driver map
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
        shown = [d.value for d in at.dataframe if "命中 hits" in d.value.columns]
        assert len(shown) == 1 and len(shown[0]) == 4  # any warning, ≥ yellow, ≥ orange, ≥ red
        by_label(at.button, "设定为会商阈值（记录设定人和理由）").click().run()
        assert any("须填写理由" in e.value for e in at.error) and not path.exists()  # no reason: refused
        by_label(at.text_input, "设定理由").input("春节前后从严")
        by_label(at.button, "设定为会商阈值（记录设定人和理由）").click().run()
        assert not at.exception, at.exception
        assert decision.thresholds_in_force(winter_world).as_dict() == dict.fromkeys(decision.WARNING_LEVELS, 0.05)
        assert any("consultation setting of" in c and "(consult)" in c for c in _texts(at, "caption"))
    finally:
        path.unlink(missing_ok=True)


def test_consultation_adjustment_is_stored_and_drives_the_proposals(env, clean_consultations):
    at = page("consultation").run()
    assert not [n for n in at.number_input if n.label == "AQI"]  # anonymous: no adjustment form
    assert any("请先在左侧登录" in c.value for c in at.caption)
    at = log_in(at, "consult")
    by_label(at.selectbox, "地区 area").set_value("baotou").run()
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
    table = duty.dataframe[0].value.set_index("area_id")
    assert table.loc["baotou", "proposed"] in ("orange", "red") and "会商订正" in table.loc["baotou", "reason"]


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
    assert len(at.dataframe[-1].value) == len(at.dataframe[-1].value["area_id"].unique()) > 10


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
    assert len(at.get("plotly_chart")) >= 2  # the page went on to show the forecast
