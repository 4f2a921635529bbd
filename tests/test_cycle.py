"""The daily cycle (lantian/cycle.py, `lantian cycle`) over a small world: a fake open-data client and a station
folder feed it; it forecasts, proposes, briefs and notifies on loopback; a rerun the same day is a no-op apart from
what changed; stale meteorology gives a degraded forecast and a notification; missing everything is refused with a
reason; --dry-run writes nothing."""
import json
import os
import shutil

import pandas as pd
import pytest

from lantian import cycle
from lantian.cli import main
from tests.response._servers import smtp_sink, webhook_server

ISSUED = "2023-12-22"


# ---- a world to run on -------------------------------------------------------------------------------------------

def _world(winter_world, root, *, runs_until: str, stations_until: str):
    """A data folder of the winter world: analyses and the forecast runs up to ``runs_until`` (YYYYMMDDHH) linked
    (their extraction cache copied, so nothing is decoded again), station files up to ``stations_until`` copied,
    the registry files for the reduction lists."""
    data = root / "data"
    met = data / "meteorology"
    (met / "forecast").mkdir(parents=True)
    os.symlink(winter_world / "meteorology" / "analysis", met / "analysis")
    for run in sorted((winter_world / "meteorology" / "forecast").iterdir()):
        if run.name <= runs_until:
            os.symlink(run, met / "forecast" / run.name)
    (data / "stations").mkdir()
    shutil.copy2(winter_world / "stations" / "sites.csv", data / "stations")
    for f in sorted((winter_world / "stations").glob("china_sites_*.csv")):
        if f.stem[-8:] <= stations_until:
            shutil.copy2(f, data / "stations")
    for name in ("enterprises.csv", "processes.csv", "inventory.csv"):
        if (winter_world / name).exists():
            shutil.copy2(winter_world / name, data)
    shutil.copytree(winter_world / ".lantian" / "meteorology", data / ".lantian" / "meteorology")
    return data


class FakeOpenData:
    """Stands in for ``ecmwf.opendata.Client``: "downloads" a run of the winter world, split as open data comes
    (surface parameters, pressure levels)."""

    def __init__(self, winter_world):
        self.world, self.calls = winter_world, []

    def retrieve(self, *, target, **request):
        import eccodes

        self.calls.append(request)
        tag = f"{pd.Timestamp(request['date']):%Y%m%d}{int(request['time']):02d}"
        src = self.world / "meteorology" / "forecast" / tag / f"ifs_{tag}.grib2"
        want_pl = request["levtype"] == "pl"
        with open(src, "rb") as fh, open(target, "wb") as out:
            while (gid := eccodes.codes_grib_new_from_file(fh)) is not None:
                if (eccodes.codes_get(gid, "typeOfLevel") == "isobaricInhPa") == want_pl:
                    out.write(eccodes.codes_get_message(gid))
                eccodes.codes_release(gid)


def _cut_hours(path, last_hour: int):
    """Keep the rows of a CNEMC day file up to ``last_hour`` (the file as it is early in the day)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = [lines[0]] + [ln for ln in lines[1:] if int(ln.split(",")[1]) <= last_hour]
    path.write_text("".join(keep), encoding="utf-8")


def _config(*, feed=None, smtp=None, hook=None, when="change"):
    notify = {"when": when}
    if smtp is not None:
        notify["email"] = {"host": "127.0.0.1", "port": smtp.port, "from": "lantian@example.org",
                           "to": ["duty@example.org"]}
    if hook is not None:
        notify["webhook"] = {"url": hook.url}
    cfg = {"briefing": {"maps": False}, "notify": notify}
    if feed is not None:
        cfg["meteorology"] = {"source": "opendata"}
        cfg["stations"] = {"source": "folder", "folder": str(feed), "days_back": 2}
    return cfg


def _docx_text(path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


# ---- the day's run and its rerun ---------------------------------------------------------------------------------

def test_cycle_fetches_forecasts_proposes_briefs_notifies_then_rerun_is_a_noop(winter_world, winter_inputs,
                                                                           winter_model, tmp_path):
    from forecast import document, workspace

    data = _world(winter_world, tmp_path, runs_until="2023122100", stations_until="20231220")
    _cut_hours(data / "stations" / "china_sites_20231220.csv", 11)  # yesterday's file as first fetched
    feed = tmp_path / "feed"  # the folder the station archive arrives in
    feed.mkdir()
    for day in ("20231220", "20231221", "20231222"):
        shutil.copy2(winter_world / "stations" / f"china_sites_{day}.csv", feed)
    _cut_hours(feed / "china_sites_20231222.csv", 12)  # today's file at 12:30 CST
    client = FakeOpenData(winter_world)

    with smtp_sink() as smtp, webhook_server() as hook:
        cfg = _config(feed=feed, smtp=smtp, hook=hook)
        rec = cycle.run_cycle(data, winter_model, issued=ISSUED, config=cfg, now="2023-12-22T04:30Z",
                              opendata_client=client)
        assert rec["state"] == "ok", rec
        # the inputs came in: the issue date's run (two open-data files), the station files without clobbering
        assert [c["levtype"] for c in client.calls] == ["sfc", "pl"]
        assert {f["file"]: f["state"] for f in rec["sources"]["meteorology"]["files"]} == {
            "meteorology/forecast/2023122200/ifs_open_2023122200_sfc.grib2": "new",
            "meteorology/forecast/2023122200/ifs_open_2023122200_pl.grib2": "new"}
        assert {f["file"]: f["state"] for f in rec["sources"]["stations"]["files"]} == {
            "china_sites_20231220.csv": "grown", "china_sites_20231221.csv": "new",
            "china_sites_20231222.csv": "new"}
        assert (data / "stations" / "china_sites_20231220.csv").read_bytes() == \
            (feed / "china_sites_20231220.csv").read_bytes()
        # the checks: the issue date's run, 8 h … at 12:00 CST, stations reporting
        checks = {c["check"]: c for c in rec["checks"]}
        assert checks["meteorology_age"]["state"] == "ok" and checks["meteorology_age"]["value"] == 4.5
        assert checks["forecast_steps"]["value"] == 7
        assert checks["station_share"]["state"] == "ok" and checks["station_age"]["value"] == 0
        # forecast (archived), proposals (never issued), briefing
        doc = document.read_document(rec["forecast"]["document"])
        assert doc["issue_date"] == ISSUED and "degraded" not in doc and doc["met_source"] == "forecast"
        assert (workspace.cache_dir(data) / "archive" / "forecasts" / rec["model_version"] / "20231222.parquet").exists()
        decisions = json.loads(open(rec["proposals"]["file"], encoding="utf-8").read())
        assert {r["area_id"] for r in decisions["city"]} >= {"hohhot", "baotou"}
        assert not workspace.audit_path(data).exists()  # nothing recorded, nothing issued
        assert "重污染天气联合会商材料" in _docx_text(rec["briefing"]["docx"])
        # notified on loopback: e-mail and webhook
        assert [n["ok"] for n in rec["notifications"]] == [True, True]
        assert len(smtp.messages) == 1 and len(hook.posts) == 1
        mail = smtp.messages[0]["message"]
        assert mail["Subject"] == f"【蓝天】{ISSUED} 日常运行：正常"
        assert "盟市预警建议（待值班员决定）" in mail.get_content()
        assert hook.posts[0]["json"]["lantian_cycle"]["state"] == "ok"
        # status and records
        status = cycle.read_status(data)
        assert status["run_id"] == rec["run_id"] and status["notifications"][0]["ok"]
        log = [json.loads(x) for x in (workspace.cache_dir(data) / "cycle" / cycle.LOG_FILE).read_text().splitlines()]
        assert {x["step"] for x in log} >= {"start", "fetch", "freshness", "forecast", "proposals", "briefing",
                                            "notify", "end"}
        assert {x["run"] for x in log} == {rec["run_id"]}

        # a rerun with nothing new: nothing done, nothing sent
        again = cycle.run_cycle(data, winter_model, issued=ISSUED, config=cfg, now="2023-12-22T05:00Z",
                                opendata_client=client)
        assert again["unchanged"] and again["state"] == "ok" and again["previous_run"] == rec["run_id"]
        assert again["notifications"] == [] and len(smtp.messages) == 1 and len(hook.posts) == 1
        assert len(client.calls) == 2  # the run's files are there: not fetched again
        assert len(list((workspace.cache_dir(data) / "cycle" / "20231222").iterdir())) == 1

        # later, today's file has grown: forecast again, report the changes, notify only if something changed
        shutil.copy2(winter_world / "stations" / "china_sites_20231222.csv", feed)
        later = cycle.run_cycle(data, winter_model, issued=ISSUED, config=cfg, now="2023-12-22T07:30Z",
                                opendata_client=client)
        assert not later["unchanged"] and later["previous_run"] == rec["run_id"]
        assert {f["file"]: f["state"] for f in later["sources"]["stations"]["files"]}["china_sites_20231222.csv"] \
            == "grown"
        assert isinstance(later["changes"], list)
        assert len(smtp.messages) == 1 + bool(later["changes"])
        assert later["notify_reason"] == ("changed" if later["changes"] else "nothing changed")
    runs = cycle.read_runs(data)
    assert [r["run_id"] for r in runs] == [rec["run_id"], again["run_id"], later["run_id"]]


def test_stale_meteorology_gives_a_degraded_forecast_and_a_notification(winter_world, winter_inputs,
                                                                       winter_model, tmp_path):
    from forecast import document

    data = _world(winter_world, tmp_path, runs_until="2023122000", stations_until="20231222")
    with webhook_server() as hook:
        rec = cycle.run_cycle(data, winter_model, issued=ISSUED, config=_config(hook=hook),
                              now="2023-12-22T07:00Z")
    assert rec["state"] == "degraded"
    checks = {c["check"]: c for c in rec["checks"]}
    assert checks["meteorology_age"]["state"] == "degraded" and checks["meteorology_age"]["value"] == 55.0
    assert checks["forecast_steps"]["state"] == "degraded" and checks["forecast_steps"]["value"] == 5
    assert rec["degraded"]["meteorology_run"] == "2023-12-20 00 UTC"
    # the document, the archive and the briefing say so
    doc = document.read_document(rec["forecast"]["document"])
    assert any("55 小时" in r for r in doc["degraded"]["reasons"])
    assert rec["forecast"]["met_source"] in ("forecast", "forecast and analysis")  # the older run stood in
    table = pd.read_parquet(data / ".lantian" / "archive" / "forecasts" / rec["model_version"] / "20231222.parquet")
    assert table["degraded"].str.contains("55 小时").all()
    assert "【数据降级】" in _docx_text(rec["briefing"]["docx"])
    # and the duty team is told
    post = hook.posts[0]["json"]
    assert post["lantian_cycle"]["state"] == "degraded" and "数据降级" in post["subject"]
    assert rec["notify_reason"] == "degraded"


def _cut_run(src, dest, *, drop_all=(), drop=None):
    """Copy a forecast run's GRIB file without some steps (ecCodes, message by message): ``drop_all`` [h] of
    every parameter, ``drop`` {short name: steps [h]} of one."""
    import eccodes

    drop = drop or {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fh, open(dest, "wb") as out:
        while (gid := eccodes.codes_grib_new_from_file(fh)) is not None:
            step, name = eccodes.codes_get(gid, "endStep"), eccodes.codes_get(gid, "shortName")
            if step not in drop_all and step not in drop.get(name, ()):
                out.write(eccodes.codes_get_message(gid))
            eccodes.codes_release(gid)


def test_a_run_missing_steps_is_degraded_by_the_steps_of_its_files(winter_world, winter_inputs, winter_model,
                                                                  tmp_path):
    """The issue date's run without its steps from 120 h on, and its boundary layer without 96 and 108 h: lead
    day 4 still has meteorology in the processed tables (the other variables), but not every parameter — the run
    covers lead days 1–3, and the check names the missing steps."""
    from forecast import document, freshness

    data = _world(winter_world, tmp_path, runs_until="2023122100", stations_until="20231222")
    tag = "2023122200"
    _cut_run(winter_world / "meteorology" / "forecast" / tag / f"ifs_{tag}.grib2",
             data / "meteorology" / "forecast" / tag / f"ifs_{tag}.grib2", drop_all=range(120, 241),
             drop={"blh": (96, 108)})
    rec = cycle.run_cycle(data, winter_model, issued=ISSUED, config=_config(), now="2023-12-22T07:00Z")
    assert rec["state"] == "degraded"
    check = {c["check"]: c for c in rec["checks"]}["forecast_steps"]
    assert check["state"] == "degraded" and check["value"] == 3
    assert check["reason"] == {"code": "lead_days_gap_steps", "params": {
        "missing": [4, 5, 6, 7], "steps": [96, 108], "run": "2023-12-22 00", "n": 3, "total": 7, "required": 7}}
    assert rec["run_steps"]["lead_days"] == [1, 2, 3] and rec["run_steps"]["files"] == 1
    inputs = __import__("forecast.forecasting", fromlist=["x"]).load_inputs(data, cache=data / ".lantian")
    assert freshness.run_lead_days(inputs.met_lead, pd.Timestamp(tag[:8]), ISSUED) == [1, 2, 3, 4]  # the tables
    doc = document.read_document(rec["forecast"]["document"])
    assert any("缺第 4、5、6、7 天" in r and "缺少预报时效 96、108 小时" in r for r in doc["degraded"]["reasons"])
    assert any("lack the steps 96, 108 h" in r for r in doc["degraded"]["reasons_en"])
    logged = [json.loads(ln) for ln in (data / ".lantian" / "cycle" / "log.jsonl").read_text().splitlines()]
    assert any(ln.get("reason", {}).get("code") == "lead_days_gap_steps" for ln in logged)  # the log keeps codes


def test_run_coverage_reads_the_steps_of_the_runs_files(tmp_path):
    """Steps written with ecCodes: a run whose surface file stops at 84 h and whose pressure-level file lacks
    48 h covers lead days 1–3 (4 needs 88 … 112 h) and names the step only one file lacks."""
    import numpy as np

    from simulate.grib import Grid, GribWriter

    grid = Grid(west=110, east=111, south=40, north=41, step=0.5)
    run = tmp_path / "data" / "meteorology" / "forecast" / "2023122200"
    run.mkdir(parents=True)
    with open(run / "sfc.grib2", "wb") as fs, open(run / "pl.grib2", "wb") as fp:
        ws, wp = GribWriter(fs, grid), GribWriter(fp, grid)
        for step in range(0, 85, 6):
            ws.write("2t", np.full(grid.shape, 270.0), time="2023-12-22", step=step)
            ws.write("tp", np.full(grid.shape, 0.001), time="2023-12-22", step=step, start_step=0)
            if step != 48:
                wp.write("t", np.full(grid.shape, 260.0), time="2023-12-22", step=step, level=850)
        ws.close()
        wp.close()
    got = cycle.run_coverage(tmp_path / "data", pd.Timestamp("2023-12-22"), ISSUED)
    assert got == {"lead_days": [1, 2, 3], "missing_steps": [48], "parameters": 3, "files": 2}
    assert cycle.run_coverage(tmp_path / "data", pd.Timestamp("2023-12-21"), ISSUED) is None  # no such run


def test_missing_everything_is_refused_with_the_reason(winter_model, tmp_path, capsys):
    data = tmp_path / "empty"
    data.mkdir()
    cfg = tmp_path / "cycle.yaml"
    with webhook_server() as hook:
        cfg.write_text(f"notify:\n  webhook:\n    url: {hook.url}\n", encoding="utf-8")
        code = main(["cycle", "--data", str(data), "--model", str(winter_model), "--issued", ISSUED,
                     "--config", str(cfg), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("lantian cycle: error: refused: the data cannot be read:") and "sites.csv" in err[0]
    status = cycle.read_status(data)
    assert status["state"] == "refused" and status["reason"]["code"] == "data_unreadable"
    assert cycle.status_view(status, [status], "zh")["reason"].startswith("数据无法读取（技术信息：")
    assert hook.posts[0]["json"]["lantian_cycle"]["state"] == "refused"
    assert hook.posts[0]["json"]["lantian_cycle"]["reason"]["code"] == "data_unreadable"


def _tree(root):
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if not p.is_dir()}


def test_dry_run_prints_the_plan_and_writes_nothing(winter_world, winter_inputs, winter_model, tmp_path, capsys):
    data = _world(winter_world, tmp_path, runs_until="2023122100", stations_until="20231220")
    feed = tmp_path / "feed"
    feed.mkdir()
    shutil.copy2(winter_world / "stations" / "china_sites_20231221.csv", feed)
    cfg = tmp_path / "cycle.yaml"
    cfg.write_text(f"meteorology:\n  source: opendata\nstations:\n  source: folder\n  folder: {feed}\n",
                   encoding="utf-8")
    before = _tree(tmp_path)
    assert main(["cycle", "--data", str(data), "--model", str(winter_model), "--issued", ISSUED, "--config",
                 str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert _tree(tmp_path) == before
    assert "would fetch: meteorology/forecast/2023122200/ifs_open_2023122200_sfc.grib2" in out
    assert "would fetch: stations/china_sites_20231221.csv" in out
    assert "not available: stations/china_sites_20231222.csv" in out
    assert f"forecast: model {winter_model}, issue date {ISSUED}" in out


# ---- pieces ----------------------------------------------------------------------------------------------------

def test_shipped_config_loads():
    cfg = cycle.load_config(cycle.EXAMPLE_CONFIG)
    assert cfg["notify"]["when"] == "change" and cfg["limits"]["station_min_share"] == 0.75


@pytest.mark.parametrize("text, match", [
    ("meteorolgy:\n  source: none\n", "unknown section 'meteorolgy'; allowed: model, meteorology"),
    ("meteorology:\n  source: ftp\n", r"meteorology.source: 'ftp' is not allowed; allowed: opendata, folder, none"),
    ("stations:\n  source: folder\n", "stations.folder: missing"),
    ("stations:\n  source: url\n  url: https://x/y.csv\n", r"must be an http\(s\):// or file:// URL with"),
    ("limits:\n  station_min_share: 75\n", "station_min_share: 75 is not a share"),
    ("notify:\n  when: sometimes\n", "notify.when: 'sometimes' is not allowed; allowed: change, always"),
    ("notify:\n  email:\n    host: h\n", "notify.email.from: missing"),
    ("limits: [1, 2]\n", "limits: expected a mapping"),
    ("a: [\n", "not YAML"),
])
def test_bad_config_names_the_key_and_the_allowed(tmp_path, text, match):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(cycle.CycleError, match=match):
        cycle.load_config(path)


def test_bad_config_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("notify:\n  when: sometimes\n", encoding="utf-8")
    assert main(["cycle", "--data", str(tmp_path), "--model", "m", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notify.when" in err[0]


def test_land_never_clobbers(tmp_path):
    target = tmp_path / "f.csv"
    assert cycle.land(b"a\n", target) == "new" and target.read_bytes() == b"a\n"
    assert cycle.land(b"a\n", target) == "same"
    assert cycle.land(b"a\nb\n", target) == "grown" and target.read_bytes() == b"a\nb\n"
    assert cycle.land(b"x\n", target) == "kept" and target.read_bytes() == b"a\nb\n"
    assert cycle.land(b"a\n", target) == "kept"  # a shorter copy never replaces a longer file
    assert cycle.land(b"q\n", tmp_path / "g.csv", dry_run=True) == "new" and not (tmp_path / "g.csv").exists()


def test_changes_report_levels_aqi_and_proposals():
    before = {"levels": {"baotou": "none", "hohhot": "yellow"}, "aqi": {"baotou": [100, 150], "hohhot": [210, 220]},
              "proposals": {"city:baotou": {"level": "none", "action": "none"},
                            "city:hohhot": {"level": "yellow", "action": "issue"}}}
    after = {"levels": {"baotou": "orange", "hohhot": "yellow"}, "aqi": {"baotou": [104, 260], "hohhot": [212, 225]},
             "proposals": {"city:baotou": {"level": "orange", "action": "issue"},
                           "city:hohhot": {"level": "yellow", "action": "issue"}}}
    got = cycle.changes(before, after, aqi_change=10)
    assert got == [{"area_id": "baotou", "field": "level", "before": "none", "after": "orange"},
                   {"area_id": "baotou", "field": "aqi_q50", "lead_day": 2, "before": 150, "after": 260,
                    "delta": 110},
                   {"area_id": "baotou", "tier": "city", "field": "proposal",
                    "before": {"level": "none", "action": "none"}, "after": {"level": "orange", "action": "issue"}}]
    assert cycle.changes(after, after) == [] and cycle.changes(None, after) == []


@pytest.mark.parametrize("when, record, expected", [
    ("change", {"state": "ok", "first_of_day": True}, True),
    ("change", {"state": "ok", "first_of_day": False, "changes": []}, False),
    ("change", {"state": "ok", "first_of_day": False, "changes": [{"area_id": "x"}]}, True),
    ("change", {"state": "degraded", "first_of_day": False, "previous_state": "ok"}, True),
    ("change", {"state": "degraded", "first_of_day": False, "previous_state": "degraded"}, False),
    ("change", {"state": "ok", "unchanged": True, "first_of_day": False}, False),
    ("problems", {"state": "ok", "first_of_day": True}, False),
    ("problems", {"state": "refused"}, True),
    ("always", {"state": "ok", "unchanged": True}, True),
    ("never", {"state": "refused"}, False),
])
def test_when_to_notify(when, record, expected):
    assert cycle.should_notify(when, record)[0] is expected


def test_message_in_chinese_and_english():
    met = {"code": "met_run_stale", "params": {"run": "2023-12-20 00", "age": 55.0, "limit": 24.0, "fallback": 96}}
    rec = {"run_id": "r1", "issue_date": ISSUED, "state": "degraded", "unchanged": False,
           "degraded": {"checks": ["meteorology_age"], "reasons": [met]},
           "checks": [{"check": "meteorology_age", "state": "degraded", "value": 55.0, "limit": 24.0,
                       "reason": met}],
           "proposals": {"city": {"baotou": {"level": "orange", "action": "issue"}}},
           "changes": [{"area_id": "baotou", "field": "aqi_q50", "lead_day": 2, "before": 150, "after": 260}]}
    zh = cycle.message(rec, "zh", {"baotou": "包头市"})
    assert zh.subject == f"【蓝天】{ISSUED} 日常运行：数据降级"
    assert "包头市：橙色预警（发布）" in zh.body and "包头市：第2天 AQI 中位数 150 → 260" in zh.body
    assert "baotou" not in zh.body and "degraded" not in zh.body
    en = cycle.message(rec, "en", {"baotou": "Baotou"})
    assert "时效 55 小时（限值 24 小时）：沿用较早的预报场" in zh.body and "stands in" not in zh.body
    assert en.subject == f"[lantian] {ISSUED} daily run: degraded" and "55 h old (limit 24 h)" in en.body
    assert zh.payload["lantian_cycle"]["state"] == "degraded"
