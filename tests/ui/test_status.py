"""The status page (ui/status.py) with AppTest: the last cycle, freshness per source, degraded flags and the
notifications, in Chinese (no check, state or source code shown) and in English; a data folder without a cycle says
how to run one."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from forecast import labels
from lantian import cycle

RECORD = {
    "run_id": "20231222T070000Z-ab12", "finished": "2023-12-22T07:01:05+00:00", "issue_date": "2023-12-22",
    "state": "degraded", "unchanged": False, "reason": None, "model_version": "20231220-8a79270d",
    "checks": [{"check": "meteorology_age", "state": "degraded", "value": 55.0, "limit": 24.0,
                "zh": "最新气象预报场 2023-12-20 00 UTC，时效 55 小时（限值 24 小时）：沿用较早的预报场",
                "en": "newest forecast run 2023-12-20 00 UTC, 55 h old (limit 24 h): an older run stands in"},
               {"check": "station_share", "state": "ok", "value": 0.89, "limit": 0.75,
                "zh": "12-22 15时 56/63 个站点有数据（89%，要求 ≥ 75%）",
                "en": "56/63 stations report at 12-22 15:00 CST (89%, required ≥ 75%)"}],
    "degraded": {"reasons": ["最新气象预报场 2023-12-20 00 UTC，时效 55 小时（限值 24 小时）：沿用较早的预报场"],
                 "reasons_en": ["newest forecast run 2023-12-20 00 UTC, 55 h old (limit 24 h): an older run stands "
                                "in"]},
    "sources": {"meteorology": {"source": "opendata", "files": [], "problems": ["open data 2023-12-22 00 UTC: "
                                                                                "URLError: timed out"]},
                "stations": {"source": "folder", "files": [{"file": "china_sites_20231222.csv", "state": "grown"}],
                             "problems": []}},
    "notifications": [{"kind": "email", "target": "duty@example.org (127.0.0.1:25)", "ok": True,
                       "error": None, "sent_at": "2023-12-22T07:01:04+00:00"},
                      {"kind": "webhook", "target": "http://127.0.0.1:9/hook", "ok": False,
                       "error": "URLError: Connection refused", "sent_at": "2023-12-22T07:01:05+00:00"}],
    "changes": [], "briefing": {"docx": "/tmp/x/briefing.docx"},
}


@pytest.fixture()
def data(tmp_path, monkeypatch):
    root = tmp_path / "cycle"
    root.mkdir(parents=True)
    monkeypatch.setenv("LANTIAN_DATA", str(tmp_path))
    return tmp_path


def _write(data, record):
    folder = data / ".lantian" / "cycle"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / cycle.STATUS_FILE).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    (folder / cycle.RUNS_FILE).write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")


def _page(lang="zh"):
    at = AppTest.from_string("from ui import status\nstatus.render()", default_timeout=60)
    at.session_state["lang"] = lang
    return at.run()


def _texts(at) -> str:
    out = []
    for kind in ("header", "subheader", "markdown", "caption", "info", "warning", "error"):
        out += [str(e.value) for e in at.get(kind)]
    for m in at.get("metric"):
        out += [str(m.label), str(m.value)]
    for df in at.dataframe:
        frame = df.value.data if hasattr(df.value, "data") else df.value
        out += [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]
    return "\n".join(out)


def test_status_page_in_chinese(data):
    _write(data, RECORD)
    at = _page("zh")
    assert not at.exception
    text = _texts(at)
    assert "运行状态" in text and "数据降级" in text and "时效 55 小时" in text
    assert "气象预报场时效" in text and "站点到报率" in text and "ECMWF 开放数据" in text
    assert "成功" in text and "失败" in text and "2023-12-22 15:01" in text  # times in CST
    for code in (*labels.codes("cycle_checks"), "degraded", "opendata", "webhook"):
        assert not labels.shows_token(text, code), code


def test_status_page_in_english(data):
    _write(data, RECORD)
    at = _page("en")
    assert not at.exception
    text = _texts(at)
    assert "Daily run" in text and "an older run stands in" in text and "Forecast-run age" in text
    assert "failed" in text and "Connection refused" in text


def test_status_page_without_a_cycle(data):
    at = _page("zh")
    assert not at.exception
    assert "尚未运行日常任务" in at.info[0].value
