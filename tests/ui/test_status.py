"""The status page (ui/status.py) with AppTest: the last cycle, freshness per source, degraded flags and the
notifications, in Chinese (no check, state or source code shown) and in English; a data folder without a cycle says
how to run one."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from forecast import labels
from lantian import cycle

MET = {"code": "met_run_stale", "params": {"run": "2023-12-20 00", "age": 55.0, "limit": 24.0, "fallback": 96.0}}
RECORD = {
    "run_id": "20231222T070000Z-ab12", "finished": "2023-12-22T07:01:05+00:00", "issue_date": "2023-12-22",
    "state": "degraded", "unchanged": False, "reason": None, "model_version": "20231220-8a79270d",
    "checks": [{"check": "meteorology_age", "state": "degraded", "value": 55.0, "limit": 24.0, "reason": MET},
               {"check": "forecast_steps", "state": "degraded", "value": 4, "limit": 7,
                "reason": {"code": "lead_days_gap_steps", "params": {"n": 4, "total": 7, "required": 7,
                                                                     "missing": [5, 6, 7], "steps": [120, 132],
                                                                     "run": "2023-12-20 00"}}},
               {"check": "station_share", "state": "ok", "value": 0.89, "limit": 0.75,
                "reason": {"code": "station_share", "params": {"hour": "12-22 15", "reporting": 56, "listed": 63,
                                                               "share": 0.89, "required": 0.75}}}],
    "degraded": {"checks": ["meteorology_age", "forecast_steps"], "reasons": [MET]},
    "sources": {"meteorology": {"source": "opendata", "files": [], "problems": [
                    {"code": "opendata_failed", "params": {"run": "2023-12-22 00", "error": "URLError: timed out"}},
                    {"code": "run_not_yet", "params": {"run": "2023-12-22 12"}}]},
                "stations": {"source": "folder", "files": [{"file": "china_sites_20231222.csv", "state": "grown"}],
                             "problems": [{"code": "file_kept", "params": {"file": "/d/stations/china_sites_20231221"
                                                                                   ".csv", "source": "/feed/x.csv"}}]}},
    "notifications": [{"kind": "email", "target": "duty@example.org (127.0.0.1:25)", "ok": True,
                       "error": None, "sent_at": "2023-12-22T07:01:04+00:00"},
                      {"kind": "webhook", "target": "http://127.0.0.1:9/hook", "ok": False,
                       "error": "URLError: Connection refused", "sent_at": "2023-12-22T07:01:05+00:00"}],
    "changes": [], "briefing": {"docx": "/tmp/x/briefing.docx"},
}
REFUSED = {**RECORD, "state": "refused", "degraded": None, "reason": {
    "code": "no_forecast_run", "params": {"fallback": 96.0, "check": {
        "code": "met_run_too_old", "params": {"run": "2023-12-15 00", "age": 175.0, "limit": 24.0,
                                              "fallback": 96.0}}}}}
#: the technical details a record carries as they came (exception texts, targets, paths): not reason text
TECHNICAL = ("URLError: timed out", "URLError: Connection refused", "duty@example.org", "http://127.0.0.1:9/hook",
             "/tmp/x/briefing.docx", "/d/stations/china_sites_20231221.csv", "/feed/x.csv", "ECMWF", "ERA5",
             "china_sites_20231222.csv", "AQI", "20231222T070000Z-ab12", "20231220-8a79270d")


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
    assert "运行状态" in text and "数据降级" in text and "时效 55 小时" in text and "沿用较早的预报场" in text
    assert "缺第 5、6、7 天" in text and "缺少预报时效 120、132 小时" in text
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
    assert "lead day(s) 5, 6, 7 missing" in text and "the run 2023-12-22 12 UTC is not initialised yet" in text
    assert "failed" in text and "Connection refused" in text


def test_status_page_without_a_cycle(data):
    at = _page("zh")
    assert not at.exception
    assert "尚未运行日常任务" in at.info[0].value


@pytest.mark.parametrize("record", [RECORD, REFUSED], ids=["degraded", "refused"])
def test_the_chinese_page_shows_no_english_reason_text(data, record):
    """Refusal, degraded and problem reasons are codes rendered through the nomenclature: in Chinese, no English
    sentence of the nomenclature and no English words at all beyond the record's technical details."""
    import re

    _write(data, record)
    text = _texts(_page("zh"))
    if record is REFUSED:
        assert "未能预报" in text and "发布时刻前 96 小时内没有气象预报场" in text and "175 小时" in text
    for code in labels.codes("cycle_reasons"):  # the English sentences' fixed words
        words = [w for w in re.split(r"\{[^}]*\}", labels.label("cycle_reasons", code, "en")) if len(w.strip()) > 3]
        for w in words:
            assert w.strip() not in text, (code, w)
    rest = text
    for t in TECHNICAL:
        rest = rest.replace(t, "")
    assert not re.findall(r"[A-Za-z]{3,}", rest), re.findall(r"[A-Za-z]{3,}", rest)
