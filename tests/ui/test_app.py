"""The Streamlit pages with streamlit.testing (AppTest): each renders, issuing writes an audit event, a wrong
password cannot issue."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from response import audit

TIMEOUT = 240
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def env(winter_world, winter_model, tmp_path, monkeypatch):
    monkeypatch.setenv("LANTIAN_DATA", str(winter_world))
    monkeypatch.setenv("LANTIAN_MODEL", str(winter_model))
    monkeypatch.setenv("LANTIAN_AUDIT", str(tmp_path / "audit.db"))
    monkeypatch.setenv("LANTIAN_ACCOUNTS", str(ROOT / "config" / "accounts.yaml"))
    return tmp_path / "audit.db"


def page(name):
    return AppTest.from_string(f"from ui import {name}\n{name}.render()", default_timeout=TIMEOUT)


@pytest.mark.parametrize("name", ["consultation", "duty", "review", "data"])
def test_every_page_renders(env, name):
    at = page(name).run()
    assert not at.exception, at.exception


def test_app_routes_to_consultation(env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert any("会商" in h.value for h in at.header)
    at.sidebar.radio[0].set_value("en").run()
    assert any("Consultation" in h.value for h in at.header)


def test_issue_flow_writes_an_audit_event(env):
    at = page("duty").run()
    at.text_input[0].input("duty")
    at.text_input[1].input("lantian-demo")
    at.button[0].click().run()  # log in
    assert not at.exception and at.session_state["officer"]["user"] == "duty"
    at.selectbox[2].set_value("red").run()  # override the proposed level …
    at.text_input[0].input("会商认为污染将加重").run()  # … with a reason
    issue = next(b for b in at.button if "发布" in b.label)
    issue.click().run()
    assert not at.exception, at.exception
    with audit.open_store(env) as store:
        events = store.events()
    assert len(events) == 1 and events[0]["level"] == "red" and events[0]["officer"] == "值班员（演示）"
    assert events[0]["details"]["override"] is True


def test_wrong_password_cannot_issue(env):
    at = page("duty").run()
    at.text_input[0].input("duty")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("错误" in e.value for e in at.error)
    issue = next(b for b in at.button if "发布" in b.label)
    assert issue.disabled
    assert not env.exists() or audit.open_store(env).events() == []
