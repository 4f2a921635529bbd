"""Notifications (response/notify.py) against an SMTP sink and an HTTP server on loopback: what arrives, and that a
failing target is recorded, never raised."""
import socket

import pytest

from response import notify
from tests.response._servers import smtp_sink, webhook_server

MSG = notify.Message(subject="【蓝天】2023-12-22 日常运行：数据降级", body="数据降级：\n  - 气象预报场 56 小时",
                     payload={"lantian_cycle": {"state": "degraded", "issue_date": "2023-12-22"}})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_email_arrives_with_chinese_subject_and_body():
    with smtp_sink() as sink:
        res = notify.send(MSG, {"email": {"host": "127.0.0.1", "port": sink.port, "from": "lantian@example.org",
                                          "to": ["duty@example.org", "lead@example.org"]}})
    assert [r["ok"] for r in res] == [True] and res[0]["error"] is None
    assert len(sink.messages) == 1
    got = sink.messages[0]
    assert got["to"] == ["duty@example.org", "lead@example.org"]
    assert got["message"]["Subject"] == MSG.subject
    assert "气象预报场 56 小时" in got["message"].get_content()


def test_webhook_posts_the_record_as_json():
    with webhook_server() as hook:
        res = notify.send(MSG, {"webhook": {"url": hook.url, "headers": {"X-Token": "abc"}}})
    assert res[0]["ok"] and res[0]["status"] == 200
    post = hook.posts[0]
    assert post["json"]["subject"] == MSG.subject
    assert post["json"]["lantian_cycle"] == {"state": "degraded", "issue_date": "2023-12-22"}
    assert post["headers"]["X-Token"] == "abc"
    assert post["headers"]["Content-Type"].startswith("application/json")


def test_failures_are_recorded_per_target_not_raised():
    port = _free_port()  # nothing listens there
    with webhook_server(status=500) as hook, smtp_sink(refuse={"nobody@example.org"}) as sink:
        res = notify.send(MSG, {"email": {"host": "127.0.0.1", "port": port, "from": "a@example.org",
                                          "to": ["duty@example.org"]},
                                "webhook": {"url": hook.url}}, timeout=2)
        refused = notify.send(MSG, {"email": {"host": "127.0.0.1", "port": sink.port, "from": "a@example.org",
                                              "to": ["nobody@example.org"]}})
    by_kind = {r["kind"]: r for r in res}
    assert not by_kind["email"]["ok"] and "Connection" in by_kind["email"]["error"]
    assert not by_kind["webhook"]["ok"] and by_kind["webhook"]["error"].startswith("HTTP 500")
    assert not refused[0]["ok"] and "nobody@example.org" in refused[0]["error"]


@pytest.mark.parametrize("targets, match", [
    ({"sms": {}}, "unknown target 'sms'; allowed: email, webhook"),
    ({"email": {"host": "h", "from": "a@b", "to": ["c@d"], "pasword": "x"}}, "unknown key.*pasword.*allowed"),
    ({"email": {"host": "h", "from": "a@b"}}, r"notify.email.to: missing"),
    ({"email": {"host": "h", "from": "a@b", "to": ["not-an-address"]}}, "not a list of e-mail addresses"),
    ({"email": {"host": "h", "from": "a@b", "to": "c@d", "port": 70000}}, r"port: 70000 is not a port"),
    ({"webhook": {"url": "ftp://x"}}, "not an http:// or https:// URL"),
])
def test_bad_targets_name_the_key_and_the_allowed(targets, match):
    with pytest.raises(notify.NotifyConfigError, match=match):
        notify.check_targets(targets)


def test_a_single_recipient_is_a_list():
    assert notify.check_targets({"email": {"host": "h", "from": "a@b", "to": "c@d"}})["email"]["to"] == ["c@d"]
