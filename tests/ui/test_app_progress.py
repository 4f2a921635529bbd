"""The app while the demo is being prepared: the sidebar's progress panel reads the status file, and a page whose
parts are not ready says "正在准备…（x/y）" instead of running (no world needed)."""
import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lantian import demo

ROOT = Path(__file__).resolve().parents[2]


def _status(tmp_path, states, *, pid=None, state="running", error=None):
    data = tmp_path / "demo"
    (data / ".lantian").mkdir(parents=True)
    steps = [{"key": k, "zh": zh, "en": en, "state": s, "detail": "12/40" if s == "running" else "",
              "seconds": 3.0 if s == "done" else None} for (k, (zh, en)), s in zip(demo.STEPS.items(), states)]
    status = {"state": state, "pid": pid or os.getpid(), "steps": steps, **({"error": error} if error else {})}
    (data / ".lantian" / demo.STATUS_FILE).write_text(json.dumps(status, ensure_ascii=False))
    return data


@pytest.fixture()
def app(monkeypatch):
    def run(data, lang=None):
        monkeypatch.setenv("LANTIAN_DATA", str(data))
        monkeypatch.setenv("LANTIAN_MODEL", str(data / "no-model"))
        monkeypatch.setenv("LANTIAN_ACCOUNTS", str(ROOT / "config" / "accounts.yaml"))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        if lang:
            at.session_state["lang"] = lang
        return at.run()
    return run


def test_the_progress_panel_and_a_waiting_page(tmp_path, app):
    data = _status(tmp_path, ["done", "running", "pending", "pending", "pending", "pending", "pending", "pending"])
    at = app(data)
    assert not at.exception
    panel = at.sidebar.expander[0]
    assert panel.label == "正在准备…（1/8）：读取观测、提取气象驱动因子 12/40"
    lines = [m.value for m in panel.markdown]
    assert lines[0] == "**已完成** 模拟演示数据（三个冬季）（3 s）"
    assert lines[1] == "**进行中** 读取观测、提取气象驱动因子 12/40" and lines[2] == "**等待** 演示模型"
    # the consultation (default page) needs the model: it waits, saying how far the preparation is
    assert [h.value for h in at.header] == ["会商"]
    assert at.info[0].value == "正在准备…（1/8）：读取观测、提取气象驱动因子 12/40"


def test_the_panel_in_english(tmp_path, app):
    data = _status(tmp_path, ["done", "done", "done", "running", "pending", "pending", "pending", "pending"])
    at = app(data, lang="en")
    assert at.sidebar.expander[0].label == "Preparing … (3/8): verifying the model on the held-out winter 12/40"


def test_a_failed_preparation_says_where(tmp_path, app):
    data = _status(tmp_path, ["done", "failed"] + ["pending"] * 6, state="failed",
                   error="OSError: disk full")
    at = app(data)
    assert at.sidebar.expander[0].label.startswith("准备失败（1/8）：读取观测、提取气象驱动因子 — OSError: disk full")


def test_a_stopped_preparation_says_how_to_continue(tmp_path, app):
    data = _status(tmp_path, ["done", "running"] + ["pending"] * 6, pid=2 ** 22 + 12345)
    at = app(data)
    assert "make run" in at.sidebar.expander[0].caption[0].value


def test_no_panel_once_done():
    assert demo.step_done(None, "history")
    done = {"state": "done", "steps": [{"key": k, "state": "done"} for k in demo.STEPS]}
    assert all(demo.step_done(done, k) for k in demo.STEPS)
    half = {"state": "running", "steps": [{"key": k, "state": s} for k, s in
                                          zip(demo.STEPS, ["done", "skipped", "done", "running"] + ["pending"] * 4)]}
    assert demo.step_done(half, "model") and not demo.step_done(half, "verify")
    assert [demo.step_done(half, demo.PAGE_NEEDS[p]) for p in ("consultation", "duty", "review", "data")] == [
        True, True, False, True]
    # the review waits for its episode's evaluation, not for the forecast documents computed after it
    late = {"state": "running", "steps": [{"key": k, "state": "running" if k == "documents" else "done"}
                                          for k in demo.STEPS]}
    assert demo.step_done(late, demo.PAGE_NEEDS["review"]) and not demo.step_done(late, "documents")
