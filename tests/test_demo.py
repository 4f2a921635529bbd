"""The demo preparation (lantian/demo.py) on a small world: verification scores where the consultation page and
the model card read them, the held-out days' forecasts archived, a demo warning history in the audit store (every
event marked demo, the chain intact), the status file, and a second run that does nothing again."""
import json
import os
import shutil

import pandas as pd
import pytest

from lantian import demo

TRAIN_UNTIL, VERIFY = "2023-12-20", ("2023-12-21", "2023-12-26")
N_DAYS = 6


@pytest.fixture(scope="module")
def prepared(winter_world, winter_inputs, winter_model, tmp_path_factory):
    """Copies of the winter world (its workspace too: the inputs are cached; not what other tests left in it — the
    audit store, the archive, the page cache the app's tests filled, a demo's status and history marker) and of its
    small model (trained until 20 Dec, few rounds: mechanics, not skill), prepared as the demo is."""
    root = tmp_path_factory.mktemp("demo")
    world = root / "world"
    shutil.copytree(winter_world, world, ignore=shutil.ignore_patterns(
        "audit.db*", "archive", "demo_status.json", "pages", demo.HISTORY_MARKER))
    shutil.copytree(winter_model, root / "model")
    lines = []
    done = demo.prepare(world, root / "model", train_until=TRAIN_UNTIL, verify_start=VERIFY[0],
                        verify_end=VERIFY[1], shipped=None, log=lines.append)
    return world, root / "model", done, lines


def test_every_step_ran_and_the_status_says_so(prepared):
    world, _, done, _ = prepared
    status = demo.read_status(demo.status_path(world))
    assert status["state"] == "done" and status["pid"] == os.getpid()
    assert [(s["key"], s["state"]) for s in status["steps"]] == [
        ("simulate", "skipped"), ("inputs", "done"), ("model", "skipped"), ("verify", "done"), ("archive", "done"),
        ("history", "done"), ("review", "done"), ("documents", "done")]
    assert done["model"] == "present" and done["archive"] == N_DAYS and demo.progress_text(status) == "正在准备…（8/8）："


def test_the_model_is_verified_on_the_held_out_days(prepared):
    from forecast import forecasting, products

    _, model_dir, done, _ = prepared
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["training_period"][1] == TRAIN_UNTIL
    assert card["verification"]["period"] == list(VERIFY) and card["verification"]["cases"] == done["verify"] > 0
    assert products.verification_table(card) is not None  # what the consultation page shows
    record, what = forecasting.level_record(model_dir)
    assert what == "verification" and record["issue_date"].min() == pd.Timestamp(VERIFY[0])


def test_the_held_out_forecasts_are_archived(prepared):
    from forecast import archive
    from forecast.model import Forecaster

    world, model_dir, _, _ = prepared
    version = Forecaster.load(model_dir).version
    arch = archive.archived_forecasts(world, model_version=version)
    assert sorted(arch["issue_date"].dt.strftime("%Y-%m-%d").unique()) == [
        str(d.date()) for d in pd.date_range(*VERIFY)]
    assert set(arch["lead"]) == set(range(1, 8)) and arch["aqi_q50"].notna().all()


def test_the_demo_history_of_the_held_out_days(prepared):
    from forecast import workspace
    from response import audit

    world, _, done, _ = prepared
    with audit.open_store(workspace.audit_path(world)) as store:
        events = store.events()
        assert store.verify().intact
    counts = done["history"]
    assert counts["issue_dates"] == N_DAYS
    assert len(events) == counts["proposed"] + counts["decisions"] + counts["advisories"]
    assert all(demo.is_demo_event(e) for e in events)


@pytest.fixture()
def forced(prepared):
    """The prepared world's archived forecasts with two areas forced (mechanics, whatever the small model says):
    Baotou orange on 21 and 22 Dec (day 1–2 AQI 260, particulate), Hohhot a dust episode on 21 Dec (day 1–2 AQI 260,
    dust-dominated, PM2.5 low: a health advisory, not a colour)."""
    from forecast import archive
    from forecast.model import Forecaster

    world, model_dir, _, _ = prepared
    table = archive.archived_forecasts(world, model_version=Forecaster.load(model_dir).version)
    table = table.sort_values(["issue_date", "area_id", "lead"]).reset_index(drop=True)

    def force(area, days, **cols):
        rows = (table["area_id"] == area) & table["issue_date"].isin(pd.to_datetime(days))
        table.loc[rows, "level"] = "orange"
        table.loc[rows, "clause"] = "AQI>200 持续48小时"
        table.loc[rows, "trigger_days"] = pd.Series([[1, 2]] * rows.sum(), index=table.index[rows])
        near = rows & table["lead"].isin([1, 2])
        for col, value in {"aqi_q10": 220.0, "aqi_q50": 260.0, "aqi_q90": 300.0, **cols}.items():
            table.loc[near, col] = value

    force("baotou", ["2023-12-21", "2023-12-22"], pm25_q90=250.0)
    force("hohhot", ["2023-12-21"], dust=True, pm25_q10=20.0, pm25_q50=30.0, pm25_q90=40.0)
    return table


def test_the_demo_officer_decides_on_the_proposals(forced, tmp_path):
    from response import audit, episodes, lifecycle

    with audit.open_store(tmp_path / "audit.db") as store:
        counts = demo.warning_history(store, forced)
        events = store.events()
        assert store.verify().intact
    assert counts["issue_dates"] == N_DAYS and len(events) == counts["proposed"] + counts["decisions"] + \
        counts["advisories"]
    assert all(demo.is_demo_event(e) and e["reason"].startswith("【演示】") for e in events)
    issued = [e for e in events if e["action"] == "issued"]
    # Baotou's orange, and the cascade's for its banner with a forecast of its own (plans never laxer)
    assert [(e["area_id"], e["level"]) for e in issued if e["issue_date"] == "2023-12-21"] == [
        ("baotou", "orange"), ("tumed_right", "orange")]
    lifted = [(e["area_id"], e["issue_date"], e["reason"]) for e in events if e["action"] == "lifted"]
    assert ("baotou", "2023-12-23", "【演示】演示值班员按系统建议解除预警：空气质量预计降至预警启动条件以下并持续36小时以上") \
        in lifted
    assert issued[0]["officer"] == demo.DEMO_OFFICER_ZH and issued[0]["details"]["login"] == demo.DEMO_USER
    assert issued[0]["details"]["demo"] is True and issued[0]["bulletin_text"]
    assert {e["officer"] for e in events if e["action"] == "proposed"} == {demo.DEMO_SYSTEM_ZH}
    # Hohhot's dust episode: a health advisory over the next days, never a colour warning
    adv = [e for e in events if e["action"] == "advisory"]
    assert [(e["area_id"], e["issue_date"]) for e in adv] == [("hohhot", "2023-12-21")]
    assert not [e for e in events if e["area_id"] == "hohhot" and e["action"] in lifecycle.DECISIONS
                and e["issue_date"] == "2023-12-21"]
    # the review evaluates these decisions: Baotou warned orange from 22 Dec
    w = episodes.read_warnings(tmp_path / "audit.db")
    assert ("baotou", pd.Timestamp("2023-12-22"), "orange") in set(zip(w["area_id"], w["date"], w["level"]))


def test_the_pages_first_content_is_kept(prepared, monkeypatch):
    """The review page's first episode and the forecast documents of the held-out days and of the last issue date
    are in the page cache: read back, never computed again."""
    import pandas as pd

    from forecast import forecasting, products, workspace
    from lantian import pagecache
    from response import episodes, evaluation

    world, model_dir, done, _ = prepared
    inputs = forecasting.load_inputs(world)
    dates = products.issue_dates(inputs.obs.daily, inputs.met_lead)
    wanted = demo.document_dates(inputs, *VERIFY, model_dir)
    assert wanted[0] == dates[-1] and set(pd.date_range(*VERIFY)) <= set(wanted)
    assert done["documents"] == len(wanted)
    monkeypatch.setattr(forecasting, "run_forecast", lambda *a, **k: pytest.fail("computed again"))
    monkeypatch.setattr(evaluation, "evaluate_episode", lambda *a, **k: pytest.fail("evaluated again"))
    for day in wanted:
        doc, note = pagecache.forecast_document(world, model_dir, day, inputs=inputs)
        assert doc["issue_date"] == str(day.date()) and note is None
    ep = demo.review_episode(inputs, model_dir)
    assert done["review"] == f"{ep[0]:%Y-%m-%d} … {ep[1]:%Y-%m-%d}"
    warnings = episodes.warnings_record(world, workspace.audit_path(world))
    report, _ = pagecache.episode_review(world, ep[0], ep[1], model_dir=str(model_dir), warnings=warnings,
                                         inputs=inputs)
    assert report["episode"]["start"] == str(ep[0].date())


def test_a_second_run_does_nothing_again(prepared):
    from forecast import workspace
    from response import audit

    world, model_dir, _, _ = prepared
    with audit.open_store(workspace.audit_path(world)) as store:
        before = len(store.events())
    done = demo.prepare(world, model_dir, train_until=TRAIN_UNTIL, verify_start=VERIFY[0], verify_end=VERIFY[1],
                        shipped=None, rounds=20, log=lambda line: None)
    assert [s["state"] for s in done["status"]["steps"]] == ["skipped"] * 8
    with audit.open_store(workspace.audit_path(world)) as store:
        assert len(store.events()) == before


def test_a_shipped_model_is_used_only_for_its_own_world(prepared, tmp_path):
    world, model_dir, _, _ = prepared
    shipped = demo.ship_model(model_dir, world, shipped=tmp_path / "shipped")
    assert json.loads((shipped / "model_card.json").read_text())["verification"] is None
    assert demo.shipped_model_fits(world, shipped)
    assert not demo.shipped_model_fits(world, shipped, fingerprint="another world")
    lines = []
    model, source = demo._model_at_hand(tmp_path / "model", world, shipped, lines.append)
    assert source == "shipped" and model.version == json.loads((model_dir / "model_card.json").read_text())["version"]
    assert not (tmp_path / "model" / demo.FINGERPRINT_FILE).exists()


def test_a_second_preparation_while_one_runs_is_refused(tmp_path):
    status = tmp_path / "status.json"
    status.write_text(json.dumps({"state": "running", "pid": 1, "steps": []}))  # pid 1 is alive
    with pytest.raises(demo.DemoError, match="already running"):
        demo.prepare(tmp_path / "world", tmp_path / "model", status_file=status)


def test_a_folder_that_is_not_a_demo_world_is_refused_before_anything_is_written(tmp_path):
    import subprocess
    import sys

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "notes.txt").write_text("a user's file")
    proc = subprocess.run([sys.executable, "-m", "lantian", "demo", "prepare", "--data", str(tmp_path / "real"),
                           "--model", str(tmp_path / "model")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("lantian demo: error: ") and "is not a lantian demo world" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["notes.txt"] and not (tmp_path / "model").exists()
