"""`lantian models`: versions trained into a versioned folder, compared on a held-out period, promoted and rolled back
by an admin, each change recorded in the audit trail — and `lantian forecast` uses whatever is promoted."""
import contextlib
import io
import json
import sys

import pytest

from lantian.cli import main

PASSWORD = "a long admin password"


def _cli(*args, stdin: str = ""):
    """Run the command line in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in args])
    finally:
        sys.stdin = old
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def versions(winter_world, winter_inputs, tmp_path_factory):
    """A versioned folder with two versions of the winter world (trained until 12-14, promoted as the first, and
    until 12-18), an accounts file (admin, officer, viewer), and the command line's answers before and after the
    comparison on 12-19 … 12-25."""
    from forecast import forecasting, registry
    from response import accounts

    tmp = tmp_path_factory.mktemp("models")
    root = tmp / "aqi"
    assert _cli("models", "init", "--model", root)[0] == 0
    v1 = forecasting.train(winter_world, root, until="2023-12-14", inputs=winter_inputs, rounds=20).version
    v2 = forecasting.train(winter_world, root, until="2023-12-18", inputs=winter_inputs, rounds=20).version
    acc = tmp / "accounts.yaml"
    accounts.add_account(acc, "boss", PASSWORD, name_zh="管理员", role="admin")
    accounts.add_account(acc, "wang", PASSWORD, name_zh="王某", role="officer", tier="city", area="baotou")
    accounts.add_account(acc, "guest", PASSWORD, name_zh="访客", role="viewer")
    who = ["--accounts", acc, "--audit", tmp / "audit.db", "--password-stdin"]
    before = _cli("models", "promote", "--model", root, v2, "--user", "boss", *who, stdin=PASSWORD + "\n")
    compared = _cli("models", "compare", "--model", root, "--candidate", v2, "--data", winter_world,
                    "--start", "2023-12-19", "--end", "2023-12-25", "--quiet")
    assert registry.load(root).promoted == v1 != v2
    return {"root": root, "v1": v1, "v2": v2, "who": who, "audit": tmp / "audit.db", "before": before,
            "compared": compared, "data": winter_world, "tmp": tmp}


def _forecast_version(v, name):
    out = v["tmp"] / f"{name}.json"
    rc, _, err = _cli("forecast", "--data", v["data"], "--model", v["root"], "--issued", "2023-12-22", "--out", out,
                      "--quiet")
    assert rc == 0, err
    return json.loads(out.read_text())["model_version"]


def test_train_adds_versions_and_list_shows_which_is_promoted(versions):
    rc, out, _ = _cli("models", "list", "--model", versions["root"])
    assert rc == 0
    lines = {line.split()[1] if line.startswith("* ") else line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert lines[versions["v1"]].startswith("* ") and lines[versions["v2"]].startswith("  ")
    assert "2023-12-03 … 2023-12-14" in lines[versions["v1"]] and "2023-12-03 … 2023-12-18" in lines[versions["v2"]]
    assert "2023-12-19 … 2023-12-25" in lines[versions["v2"]]  # the candidate's card has its comparison scores


def test_promote_without_a_comparison_is_refused(versions):
    rc, out, err = versions["before"]
    assert rc == 2 and not out
    assert f"no comparison of {versions['v2']} with the promoted {versions['v1']}" in err
    assert len(err.strip().splitlines()) == 1


def test_compare_prints_both_models_scores_on_the_same_period(versions):
    from forecast import registry

    rc, out, err = versions["compared"]
    assert rc == 0, err
    v1, v2 = versions["v1"], versions["v2"]
    assert f"2023-12-19 … 2023-12-25: promoted {v1} (A) vs candidate {v2} (B)" in out
    kept = json.loads((versions["root"] / registry.load(versions["root"]).comparisons[-1]["file"]).read_text())
    assert kept["period"] == ["2023-12-19", "2023-12-25"]
    assert kept["results"][v1]["period"] == kept["results"][v2]["period"] == kept["period"]
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit() and len(line.split()) == 9]
    assert [int(r[0]) for r in rows] == list(range(1, 8))
    for r in rows:  # each lead day: TS, POD, FAR, BSS of A then B, as the two verifications scored them
        for k, key in enumerate(("ts", "pod", "far", "brier_skill_score")):
            for j, v in enumerate((v1, v2)):
                s = next(s for s in kept["results"][v]["scores"]
                         if s["model"] == "lantian" and s["threshold"] == 200 and s["lead_day"] == int(r[0]))
                assert r[1 + 2 * k + j] == ("-" if s[key] is None else f"{s[key]:.2f}")
    for tag, v in (("A", v1), ("B", v2)):
        lev = kept["levels"][v]
        assert f"  {tag} {v:<22} {lev['hits']:>5} {lev['misses']:>5} {lev['false_alarms']:>5}" in out


def test_a_comparison_inside_a_training_period_is_refused(versions):
    rc, _, err = _cli("models", "compare", "--model", versions["root"], "--candidate", versions["v2"], "--data",
                      versions["data"], "--start", "2023-12-16", "--end", "2023-12-25", "--quiet")
    assert rc == 2 and "inside a training period" in err and "start after 2023-12-18" in err


@pytest.mark.parametrize("user, needle", [("guest", "needs an admin account"), ("wang", "needs an admin account")])
def test_a_non_admin_may_not_promote(versions, user, needle):
    from forecast import registry

    rc, _, err = _cli("models", "promote", "--model", versions["root"], versions["v2"], "--user", user,
                      *versions["who"], stdin=PASSWORD + "\n")
    assert rc == 2 and needle in err
    assert registry.load(versions["root"]).promoted == versions["v1"]


def test_a_wrong_password_is_refused(versions):
    rc, _, err = _cli("models", "rollback", "--model", versions["root"], "--user", "boss", *versions["who"],
                      stdin="not the password\n")
    assert rc == 2 and "wrong user or password" in err


def test_promote_and_rollback_change_what_forecast_uses_and_are_audited(versions):
    from response.audit import open_store, verify_store

    v1, v2, root = versions["v1"], versions["v2"], versions["root"]
    assert _forecast_version(versions, "before") == v1
    rc, out, err = _cli("models", "promote", "--model", root, v2, "--user", "boss", *versions["who"],
                        stdin=PASSWORD + "\n")
    assert rc == 0, err
    assert f"{v2} promoted (was {v1}; compared on 2023-12-19 … 2023-12-25)" in out
    assert _forecast_version(versions, "promoted") == v2
    rc, out, err = _cli("models", "rollback", "--model", root, "--user", "boss", "--reason", "B misses episodes",
                        *versions["who"], stdin=PASSWORD + "\n")
    assert rc == 0, err
    assert _forecast_version(versions, "rolled_back") == v1
    with open_store(versions["audit"]) as store:
        events = store.events()
    assert [(e["action"], e["model_version"], e["details"]["previous"]) for e in events] == [
        ("model_promoted", v2, v1), ("model_rolled_back", v1, v2)]
    assert all(e["officer"] == "管理员 (boss, admin)" and e["details"]["model_dir"] == str(root.resolve())
               for e in events)
    assert "compared on 2023-12-19 … 2023-12-25" in events[0]["reason"] and events[1]["reason"] == "B misses episodes"
    assert verify_store(versions["audit"]).intact
    rc, _, err = _cli("models", "rollback", "--model", root, "--user", "boss", *versions["who"], stdin=PASSWORD + "\n")
    assert rc == 2 and "no earlier promoted version" in err


def test_model_events_keep_the_chain_and_stay_out_of_the_warning_life_cycle(tmp_path):
    from response import audit, lifecycle

    with audit.open_store(tmp_path / "a.db") as store:
        store.append(audit.Event("issued", "baotou", "city", "orange", "王某", issue_date="2024-01-05"))
        store.append(audit.model_event("model_promoted", version="v2", previous="v1", officer="管理员"))
        with pytest.raises(audit.AuditError, match="model_rolled_back event names the model version"):
            store.append(audit.Event("model_rolled_back", "baotou", "city", "none", "管理员"))
        events = store.events()
        assert store.verify().intact and len(events) == 2
    assert events[1]["area_id"] == audit.MODEL_AREA and events[1]["details"] == {"previous": "v1"}
    assert {a: s.level for a, s in lifecycle.states_from_events(events).items()} == {"baotou": "orange"}


def test_the_app_shows_the_promoted_version(versions, tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from forecast import registry

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("LANTIAN_DATA", str(versions["data"]))
    monkeypatch.setenv("LANTIAN_MODEL", str(versions["root"]))
    monkeypatch.setenv("LANTIAN_AUDIT", str(tmp_path / "audit.db"))
    monkeypatch.setenv("LANTIAN_ACCOUNTS", str(root / "config" / "accounts.yaml"))
    promoted = registry.load(versions["root"]).promoted
    at = AppTest.from_string("from ui import consultation\nconsultation.render()", default_timeout=240).run()
    assert not at.exception, at.exception
    captions = [str(c.value) for c in at.caption]
    assert any(f"当前启用的模型版本：{promoted}（" in c and "共 2 个版本" in c for c in captions), captions
    assert not any(v in c for c in captions for v in (versions["v1"], versions["v2"]) if v != promoted)


def test_list_shows_a_plain_folder_as_one_unversioned_model_and_init_converts_it(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "model.json").write_text("{}")
    (plain / "model_card.json").write_text(json.dumps({"version": "20231214-aaaa", "created": "20240101T000000Z",
                                                       "training_period": ["2023-12-03", "2023-12-14"]}))
    rc, out, err = _cli("models", "list", "--model", plain)
    assert rc == 0 and not err
    lines = out.splitlines()
    assert lines[1].startswith("* 20231214-aaaa") and "2023-12-03 … 2023-12-14" in lines[1]
    assert "unversioned" in lines[-1] and "models init" in lines[-1] and len(lines) == 3
    assert _cli("models", "init", "--model", plain)[0] == 0
    rc, out, _ = _cli("models", "list", "--model", plain)
    assert out.splitlines()[1].startswith("* 20231214-aaaa") and "1 version(s)" in out.splitlines()[-1]
    assert (plain / "versions" / "20231214-aaaa" / "model_card.json").exists() and not (plain / "model.json").exists()


def test_list_of_a_folder_that_is_no_model_is_one_line(tmp_path):
    rc, out, err = _cli("models", "list", "--model", tmp_path)
    assert rc == 2 and not out and "not a lantian model folder" in err and len(err.strip().splitlines()) == 1
