"""Bad input through the command line (issue 18, "Bad input"): every case ends in one clear line on stderr naming
the file/field/option and the problem, and exit status 2 — or, where the input is usable, in the documented exit
status and a correct result with the problem reported — never a traceback or a plausible answer from nothing.

The table runs through :func:`lantian.cli.main` (fast); a few cases also through ``python -m lantian`` in a new
process, to prove that no traceback reaches the terminal. Data fixtures are built small inside each test; the cases
that need a data directory with stations and meteorology and a trained model use the session's winter world
(``winter_world``, ``winter_model``: marked slow).
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from lantian.cli import main

# ---- small inputs ------------------------------------------------------------------------------------------------


def _day(lead, aqi=(80.0, 100.0, 120.0)):
    return {"lead_day": lead, "date": f"2024-12-{20 + lead}", "aqi": dict(zip(("q10", "q50", "q90"), aqi)),
            "p_aqi_gt": {"150": 0.1, "200": 0.05, "300": 0.0}, "dust": False, "p_dust": 0.0,
            "drivers": [{"family": "ventilation", "name_zh": "通风扩散", "effect": 0.3}]}


def forecast_doc() -> dict:
    """A valid forecast document: Baotou orange on days 1–2, Hohhot clean, three lead days."""
    heavy = [(190.0, 230.0, 270.0), (200.0, 240.0, 280.0), (90.0, 120.0, 150.0)]
    return {"issue_date": "2024-12-20", "model_version": "m-test", "lead_correlation": 0.6, "areas": [
        {"area_id": "baotou", "level": "orange", "clause": "AQI>200 持续≥48h", "trigger_days": [1, 2],
         "rules": "MEE-2024", "level_probabilities": {"none": 0.1, "yellow": 0.2, "orange": 0.6, "red": 0.1},
         "days": [_day(k + 1, q) for k, q in enumerate(heavy)]},
        {"area_id": "hohhot", "level": "none", "clause": "", "trigger_days": [], "rules": "MEE-2024",
         "days": [_day(k) for k in (1, 2, 3)]}]}


def _forecast_file(tmp: Path, change: Callable[[dict], object] | None = None, *, text: str | None = None,
                   name: str = "f.json") -> str:
    path = tmp / name
    if text is None:
        doc = forecast_doc()
        if change is not None:
            change(doc)
        text = json.dumps(doc, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _respond(change=None, *extra, text=None):
    """``lantian respond`` on a forecast document changed by ``change``."""
    return lambda tmp: ["respond", "--forecast", _forecast_file(tmp, change, text=text), "--out", str(tmp / "out"),
                        *extra]


def _baotou_day(key, value, day=0):
    def change(doc):
        doc["areas"][0]["days"][day]["aqi"][key] = value
    return change


def _set(path, value):
    """A change setting ``doc[path...]`` (keys and indices) to ``value``."""
    def change(doc):
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return change


def _audit_store(tmp: Path) -> str:
    from response import audit

    path = tmp / "audit.db"
    with audit.open_store(path) as store:
        store.append(audit.Event("issued", "baotou", "city", "orange", "李值班", issue_date="2024-12-19"))
    return str(path)


def _garbage(tmp: Path, name: str = "audit.db", data: bytes = b"this is not an SQLite database, only text\n") -> str:
    (tmp / name).write_bytes(data)
    return str(tmp / name)


def _station_data(tmp: Path) -> Path:
    """A three-day CNEMC archive of four stations in Hohhot and Baotou (tests/forecast/_archive.py)."""
    from tests.forecast._archive import write_archive

    return write_archive(tmp / "data")


def _registry_data(tmp: Path, **bad) -> str:
    """``enterprises.csv`` with one good and one bad enterprise (``bad``: the column values that make it bad), and
    ``inventory.csv``."""
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    row = {"name": "测试企业（演示）", "area_id": "baotou", "industry": "cement", "grade": "C", "lon": 109.8,
           "lat": 40.6, "capacity": 100, "so2_t": 365, "nox_t": 365, "pm_t": 365, "vocs_t": 0,
           "list_version": "v1", "list_year": 2024}
    # valid unified social credit codes (GB 32100-2015 check character)
    pd.DataFrame([{**row, "enterprise_id": "E1", "credit_code": "91350100M000100Y43"},
                  {**row, "enterprise_id": "E2", "credit_code": "914403001922038216", **bad}]).to_csv(
        data / "enterprises.csv", index=False)
    pd.DataFrame([{"area_id": a, "sector": "industry", "so2": 3650, "nox": 3650, "pm": 3650, "vocs": 3650}
                  for a in ("baotou", "hohhot")]).to_csv(data / "inventory.csv", index=False)
    return str(data)


def _write(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text, encoding="utf-8")
    return str(tmp / name)


def _nonempty(tmp: Path) -> str:
    (tmp / "mine").mkdir()
    (tmp / "mine" / "enterprises.csv").write_text("my own registry\n")
    return str(tmp / "mine")


# ---- the table ---------------------------------------------------------------------------------------------------

@dataclass
class Case:
    id: str
    argv: Callable[[Path], list]
    needles: tuple  # what the stderr line must contain (file/field/option, the problem, the allowed values)
    code: int = 2
    env: dict = field(default_factory=dict)


CASES = [
    # -- respond: the forecast document's schema (forecast/document.py) ---------------------------------------
    Case("respond-areas-of-strings", _respond(_set(["areas"], ["hohhot"])),
         ("f.json: areas[0]: expected an object with area_id, level, clause, trigger_days, days", "got 'hohhot'")),
    Case("respond-aqi-as-string", _respond(_baotou_day("q50", "230")),
         ("f.json: areas[0].days[0].aqi.q50: expected a number in 0 … 500", "got '230'")),
    Case("respond-days-empty", _respond(_set(["areas", 0, "days"], [])),
         ("f.json: areas[0].days: empty", "at least one day")),
    Case("respond-areas-empty", _respond(_set(["areas"], [])),
         ("f.json: areas: empty", "at least one area")),
    Case("respond-control-character-in-id", _respond(_set(["areas", 0, "area_id"], "baotou\x0b")),
         ("f.json: areas[0].area_id: control character '\\x0b'", "allowed: printable text")),
    Case("respond-unknown-level", _respond(_set(["areas", 0, "level"], "purple")),
         ("f.json: areas[0].level: unknown level 'purple'", "allowed: none, yellow, orange, red")),
    Case("respond-missing-level", _respond(lambda d: d["areas"][0].pop("level")),
         ("f.json: areas[0]: missing key(s) level", "needs area_id, level, clause, trigger_days, days")),
    Case("respond-issue-date-not-a-date", _respond(_set(["issue_date"], "yesterday")),
         ("f.json: issue_date: expected a date (YYYY-MM-DD)", "got 'yesterday'")),
    Case("respond-issue-date-a-number", _respond(_set(["issue_date"], 20241220)),
         ("f.json: issue_date: expected a date", "got 20241220")),
    Case("respond-aqi-9999", _respond(_baotou_day("q90", 9999)),
         ("f.json: areas[0].days[0].aqi.q90: expected a number in 0 … 500 (HJ 633's AQI scale)", "got 9999")),
    Case("respond-aqi-negative", _respond(_baotou_day("q10", -5)),
         ("f.json: areas[0].days[0].aqi.q10: expected a number in 0 … 500", "got -5")),
    Case("respond-aqi-nan", _respond(text=json.dumps(forecast_doc()).replace("230.0", "NaN", 1)),
         ("f.json: areas[0].days[0].aqi.q50: expected a number in 0 … 500", "got nan")),
    Case("respond-quantiles-out-of-order", _respond(_baotou_day("q10", 260.0)),
         ("f.json: areas[0].days[0].aqi: expected q10 ≤ q50 ≤ q90", "got 260, 230, 270")),
    Case("respond-lead-day-zero", _respond(_set(["areas", 0, "days", 0, "lead_day"], 0)),
         ("f.json: areas[0].days[0].lead_day: expected a whole number ≥ 1", "got 0")),
    Case("respond-lead-day-twice", _respond(_set(["areas", 0, "days", 1, "lead_day"], 1)),
         ("f.json: areas[0].days[1].lead_day: 1 appears twice", "also areas[0].days[0]")),
    Case("respond-day-date-not-a-date", _respond(_set(["areas", 0, "days", 2, "date"], "2024-02-30")),
         ("f.json: areas[0].days[2].date: expected a date", "got '2024-02-30'")),
    Case("respond-trigger-day-not-a-lead-day", _respond(_set(["areas", 0, "trigger_days"], [1, 9])),
         ("f.json: areas[0].trigger_days[1]: 9 is not a lead day of the area", "allowed: 1, 2, 3")),
    Case("respond-probability-above-one", _respond(_set(["areas", 0, "days", 0, "p_aqi_gt", "200"], 1.5)),
         ("f.json: areas[0].days[0].p_aqi_gt.200: expected a probability in 0 … 1", "got 1.5")),
    Case("respond-dust-as-text", _respond(_set(["areas", 1, "days", 0, "dust"], "yes")),
         ("f.json: areas[1].days[0].dust: expected true or false", "got 'yes'")),
    Case("respond-driver-effect-as-text", _respond(_set(["areas", 0, "days", 0, "drivers", 0, "effect"], "big")),
         ("f.json: areas[0].days[0].drivers[0].effect: expected a number", "got 'big'")),
    Case("respond-lead-correlation-3", _respond(_set(["lead_correlation"], 3)),
         ("f.json: lead_correlation: expected a number in -1 … 1", "got 3")),
    Case("respond-area-twice", _respond(_set(["areas", 1, "area_id"], "baotou")),
         ("f.json: areas[1].area_id: 'baotou' appears twice", "also areas[0]")),
    Case("respond-unknown-area", _respond(_set(["areas", 1, "area_id"], "atlantis")),
         ("f.json: areas[1].area_id: unknown area 'atlantis'", "allowed: the region's areas (", "baotou")),
    Case("respond-unknown-rule-set-in-file", _respond(_set(["areas", 0, "rules"], "MEE-2099")),
         ("f.json: areas[0].rules: unknown warning rule set 'MEE-2099'", "allowed: MEE-2019, MEE-2024")),
    Case("respond-unknown-rule-set-option", _respond(None, "--rules", "MEE-2099"),
         ("unknown warning rule set 'MEE-2099'", "allowed: MEE-2019, MEE-2024")),
    Case("respond-truncated-json", _respond(text=json.dumps(forecast_doc())[:200]),
         ("f.json: cannot read the forecast (not JSON:",)),
    Case("respond-empty-file", _respond(text=""), ("f.json: cannot read the forecast (not JSON:",)),
    Case("respond-a-list", _respond(text="[1, 2]"),
         ("f.json: expected a lantian forecast (an object with issue_date and areas), got a list",)),
    Case("respond-not-a-forecast", _respond(text='{"hello": 1}'),
         ("f.json: not a lantian forecast: missing issue_date, areas", "lantian forecast --out F.json")),
    Case("respond-missing-file", lambda tmp: ["respond", "--forecast", str(tmp / "nope.json"), "--out",
                                              str(tmp / "out")],
         ("nope.json: cannot read the forecast (No such file or directory)",)),
    Case("respond-malformed-audit-db", lambda tmp: _respond(None, "--audit", _garbage(tmp))(tmp),
         ("audit.db: not an SQLite database",)),
    Case("respond-negative-inventory", lambda tmp: _respond(None, "--data", _inventory_bad(tmp))(tmp),
         ("inventory.csv: so2 must be finite non-negative numbers [t/a]", "line 2 (baotou, industry): -1")),
    # -- audit ---------------------------------------------------------------------------------------------------
    Case("audit-malformed-db", lambda tmp: ["audit", "--db", _garbage(tmp)], ("audit.db: not an SQLite database",)),
    Case("audit-empty-file", lambda tmp: ["audit", "--db", _garbage(tmp, data=b"")],
         ("audit.db: an empty file, not an audit store",)),
    Case("audit-missing-db", lambda tmp: ["audit", "--db", str(tmp / "typo.db")],
         ("typo.db: no audit store there",)),
    Case("audit-malformed-anchor", lambda tmp: ["audit", "--db", _audit_store(tmp), "--anchor", "7:abc"],
         ("anchor '7:abc' is not ID:SHA256",)),
    Case("audit-export-onto-the-store", lambda tmp: ["audit", "--db", _audit_store(tmp), "--export",
                                                     str(tmp / "audit.db")],
         ("audit.db",)),
    # -- aqi -----------------------------------------------------------------------------------------------------
    Case("aqi-negative-value", lambda tmp: ["aqi", "--pollutant", "pm25_24h", "--value", "-5"],
         ("--value -5.0: a concentration is a finite number >= 0",)),
    Case("aqi-nan-value", lambda tmp: ["aqi", "--pollutant", "pm25_24h", "--value", "nan"],
         ("--value nan: a concentration is a finite number >= 0",)),
    Case("aqi-value-not-a-number", lambda tmp: ["aqi", "--pollutant", "pm25_24h", "--value", "abc"],
         ("lantian aqi: error: argument --value: invalid float value: 'abc'", "lantian aqi --help")),
    Case("aqi-unknown-pollutant", lambda tmp: ["aqi", "--pollutant", "pm2", "--value", "3"],
         ("unknown pollutant 'pm2'; allowed: pm25_24h",)),
    Case("aqi-unknown-standard", lambda tmp: ["aqi", "--pollutant", "pm25_24h", "--value", "3", "--standard",
                                              "HJ633-1999"],
         ("unknown AQI standard 'HJ633-1999'; allowed: HJ633-2012, HJ633-2026",)),
    Case("aqi-nothing-to-do", lambda tmp: ["aqi"], ("give --table FILE, or --pollutant KEY --value",)),
    Case("aqi-table-text-cell", lambda tmp: ["aqi", "--table", _write(tmp, "c.csv", "pm25_24h,o3_8h\n80,5\nabc,4\n")],
         ("c.csv: column pm25_24h, line 3: 'abc' is not a number",)),
    Case("aqi-table-no-pollutant-column", lambda tmp: ["aqi", "--table", _write(tmp, "c.csv", "pm25,o3\n80,5\n")],
         ("no pollutant column in table; expected any of pm25_24h", "found pm25, o3")),
    Case("aqi-table-missing", lambda tmp: ["aqi", "--table", str(tmp / "none.csv")], ("none.csv",)),
    # -- stations, daily -----------------------------------------------------------------------------------------
    Case("stations-no-data-directory", lambda tmp: ["stations", "--data", str(tmp / "nodir"), "--quiet"],
         ("nodir: no such data directory",)),
    Case("stations-no-archive-files", lambda tmp: ["stations", "--data", _no_archive(tmp), "--quiet"],
         ("no china_sites_YYYYMMDD.csv files",)),
    Case("stations-station-list-without-columns", lambda tmp: ["stations", "--data", _bad_sites(tmp), "--quiet"],
         ("sites.csv",)),
    Case("daily-unknown-standard", lambda tmp: ["daily", "--data", str(_station_data(tmp)), "--quiet",
                                                "--standard", "HJ633-1999"],
         ("unknown AQI standard 'HJ633-1999'", "allowed: HJ633-2012, HJ633-2026")),
    # -- simulate ------------------------------------------------------------------------------------------------
    Case("simulate-start-after-end", lambda tmp: ["simulate", "--out", str(tmp / "w"), "--start", "2024-02-01",
                                                  "--end", "2024-01-01", "--quiet"],
         ("end 2024-01-01 must be after start 2024-02-01",)),
    Case("simulate-start-not-a-date", lambda tmp: ["simulate", "--out", str(tmp / "w"), "--start", "01/02/yy",
                                                   "--quiet"],
         ("start '01/02/yy' is not a date (expected YYYY-MM-DD)",)),
    Case("simulate-analysis-step-zero", lambda tmp: ["simulate", "--out", str(tmp / "w"), "--start", "2024-01-01",
                                                     "--end", "2024-01-31", "--analysis-step", "0", "--quiet"],
         ("analysis_step 0.0° outside the allowed 0.1–2.0°",)),
    Case("simulate-into-a-users-folder", lambda tmp: ["simulate", "--out", _nonempty(tmp), "--quiet"],
         ("mine: the folder is not empty", "nothing was changed")),
    Case("simulate-unknown-forecasts-choice", lambda tmp: ["simulate", "--out", str(tmp / "w"), "--forecasts",
                                                           "some"],
         ("argument --forecasts: invalid choice: 'some'", "'all', 'heating', 'none'")),
    # -- ingest, train -------------------------------------------------------------------------------------------
    Case("ingest-no-data-directory", lambda tmp: ["ingest", "--data", str(tmp / "nodir"), "--quiet"],
         ("nodir: no such data directory",)),
    Case("ingest-no-grib-files", lambda tmp: ["ingest", "--data", str(_station_data(tmp)), "--quiet"],
         ("meteorology: no GRIB files",)),
    Case("ingest-unknown-at", lambda tmp: ["ingest", "--data", str(tmp), "--at", "cities"],
         ("argument --at: invalid choice: 'cities'",)),
    Case("train-until-not-a-date", lambda tmp: ["train", "--data", str(tmp), "--model", str(tmp / "m"), "--until",
                                                "2024-02-30", "--quiet"],
         ("--until '2024-02-30' is not a date (expected YYYY-MM-DD)",)),
    Case("train-start-not-a-date", lambda tmp: ["train", "--data", str(tmp), "--model", str(tmp / "m"), "--start",
                                                "soon", "--quiet"],
         ("--start 'soon' is not a date",)),
    Case("train-no-data-directory", lambda tmp: ["train", "--data", str(tmp / "nodir"), "--model", str(tmp / "m"),
                                                 "--quiet"],
         ("nodir: no such data directory",)),
    # -- forecast, verify (dates checked before the data are read; against the data in the slow cases below) ------
    Case("forecast-issued-not-a-date", lambda tmp: ["forecast", "--data", str(tmp), "--model", str(tmp / "m"),
                                                    "--issued", "yesterday", "--quiet"],
         ("--issued 'yesterday' is not a date (expected YYYY-MM-DD)",)),
    Case("forecast-issued-impossible-day", lambda tmp: ["forecast", "--data", str(tmp), "--model", str(tmp / "m"),
                                                        "--issued", "2024-02-30", "--quiet"],
         ("--issued '2024-02-30' is not a date",)),
    Case("verify-start-after-end", lambda tmp: ["verify", "--data", str(tmp), "--model", str(tmp / "m"), "--start",
                                                "2024-02-01", "--end", "2024-01-01", "--quiet"],
         ("--start 2024-02-01 is after --end 2024-01-01",)),
    Case("verify-end-not-a-date", lambda tmp: ["verify", "--data", str(tmp), "--model", str(tmp / "m"), "--start",
                                               "2024-02-01", "--end", "later", "--quiet"],
         ("--end 'later' is not a date",)),
    # -- thresholds, accounts ------------------------------------------------------------------------------------
    Case("thresholds-set-without-value", lambda tmp: ["thresholds", "set", "--data", str(tmp)],
         ("`lantian thresholds set` needs --value",)),
    Case("thresholds-above-one", lambda tmp: ["thresholds", "set", "--data", str(tmp), "--value", "2"],
         ("--value: threshold of yellow is 2.0; allowed: a probability in (0, 1]",)),
    Case("thresholds-unknown-level", lambda tmp: ["thresholds", "set", "--data", str(tmp), "--value",
                                                  "purple=0.3"],
         ("--value: thresholds for yellow, orange, red needed; unknown ['purple']",)),
    Case("thresholds-show-zero", lambda tmp: ["thresholds", "show", "--data", str(tmp), "--thresholds", "0"],
         ("--thresholds: threshold of yellow is 0.0",)),
    Case("accounts-add-without-user", lambda tmp: ["accounts", "add", "--file", str(tmp / "a.yaml")],
         ("`lantian accounts add` needs --user, --name and --role",)),
    Case("accounts-unknown-role", lambda tmp: ["accounts", "add", "--file", str(tmp / "a.yaml"), "--user", "u",
                                               "--name", "n", "--role", "god"],
         ("argument --role: invalid choice: 'god'", "'viewer', 'consultant', 'officer', 'admin'")),
    Case("accounts-malformed-yaml", lambda tmp: ["accounts", "list", "--file",
                                                 _write(tmp, "a.yaml", "accounts: [unclosed\n")],
         ("a.yaml: cannot read the accounts file",)),
    Case("accounts-not-a-mapping", lambda tmp: ["accounts", "list", "--file", _write(tmp, "a.yaml", "- a\n- b\n")],
         ("a.yaml: needs an 'accounts' mapping",)),
    # -- evaluate (the window is checked before the data are read; against the data in the slow case below) -------
    Case("evaluate-end-before-start", lambda tmp: ["evaluate", "--data", str(tmp), "--episode",
                                                   "2024-01-10:2024-01-01", "--out", str(tmp / "ev"), "--quiet"],
         ("episode '2024-01-10:2024-01-01': end before start",)),
    Case("evaluate-episode-garbage", lambda tmp: ["evaluate", "--data", str(tmp), "--episode", "last winter",
                                                  "--out", str(tmp / "ev"), "--quiet"],
         ("episode 'last winter': expected START:END (YYYY-MM-DD:YYYY-MM-DD)",)),
    Case("evaluate-episode-open-end", lambda tmp: ["evaluate", "--data", str(tmp), "--episode", "2024-01-01:",
                                                   "--out", str(tmp / "ev"), "--quiet"],
         ("episode '2024-01-01:': expected START:END",)),
    Case("evaluate-season-reversed", lambda tmp: ["evaluate", "--data", str(tmp), "--season",
                                                  "2025-03-31:2024-10-01", "--out", str(tmp / "ev"), "--quiet"],
         ("episode '2025-03-31:2024-10-01': end before start",)),
    # -- the command itself --------------------------------------------------------------------------------------
    Case("unknown-command", lambda tmp: ["forcast"], ("lantian: error: argument COMMAND: invalid choice: 'forcast'",)),
]


def _inventory_bad(tmp: Path) -> str:
    data = Path(_registry_data(tmp))
    pd.DataFrame([{"area_id": "baotou", "sector": "industry", "so2": -1, "nox": 1, "pm": 1, "vocs": 1}]).to_csv(
        data / "inventory.csv", index=False)
    return str(data)


def _no_archive(tmp: Path) -> str:
    data = _station_data(tmp)
    for f in (data / "stations").glob("china_sites_*.csv"):
        f.unlink()
    return str(data)


def _bad_sites(tmp: Path) -> str:
    data = _station_data(tmp)
    (data / "stations" / "sites.csv").write_text("code,name\n1001A,x\n", encoding="utf-8")
    return str(data)


def _check_one_line(err: str, command: str, needles) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    line = lines[0]
    assert line.startswith(f"lantian {command}: error: " if command else "lantian: error: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def _command(argv) -> str:
    return argv[0] if argv and argv[0] in _SUBCOMMANDS else ""


_SUBCOMMANDS = {"stations", "daily", "aqi", "simulate", "ingest", "train", "forecast", "verify", "thresholds",
                "accounts", "respond", "audit", "evaluate"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_clear_line(case, tmp_path, capsys):
    argv = case.argv(tmp_path)
    capsys.readouterr()  # what building the inputs printed
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit through the parser
        code = exc.code
    out = capsys.readouterr()
    assert code == case.code, out.err
    _check_one_line(out.err, _command(argv), case.needles)
    if argv[0] == "respond":  # a refused forecast writes nothing
        assert not (tmp_path / "out" / "decisions.json").exists()


def test_the_table_covers_every_subcommand_and_the_issue():
    assert len(CASES) >= 45 and len({c.id for c in CASES}) == len(CASES)
    covered = {c.id.split("-")[0] for c in CASES}
    assert _SUBCOMMANDS <= covered | {"unknown"}


#: cases run in a new process too: what a user sees at the terminal (no traceback, exit 2, one line)
IN_A_PROCESS = ["respond-areas-of-strings", "respond-aqi-as-string", "respond-days-empty",
                "respond-control-character-in-id", "respond-malformed-audit-db", "respond-aqi-9999",
                "aqi-value-not-a-number"]


@pytest.mark.parametrize("case_id", IN_A_PROCESS)
def test_bad_input_in_a_new_process(case_id, tmp_path):
    case = next(c for c in CASES if c.id == case_id)
    argv = case.argv(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "lantian", *argv], capture_output=True, text=True)
    assert proc.returncode == case.code, proc.stderr
    _check_one_line(proc.stderr, _command(argv), case.needles)


# ---- usable input with a problem: the documented exit and a correct result, the problem reported ----------------

@pytest.mark.parametrize("bad,problem", [
    ({"lon": "abc"}, "lon 'abc' is not a number"),
    ({"lat": 999}, "lat 999 outside -90 … 90"),
    ({"capacity": -7}, "capacity -7 outside 0 … inf"),
])
def test_bad_registry_rows_go_to_the_registry_problems(bad, problem, tmp_path, capsys):
    """Enterprise longitude ``abc``, latitude 999, capacity −7: the row is left out of the lists and named in
    ``registry_problems.csv``; the good rows are used (exit 0)."""
    data = _registry_data(tmp_path, **bad)
    argv = _respond(None, "--data", data)(tmp_path)
    assert main(argv) == 0
    assert "emission-reduction lists: 1 of 1 enterprises activated; 1 bad registry row(s)" in capsys.readouterr().out
    problems = pd.read_csv(tmp_path / "out" / "reduction" / "registry_problems.csv", encoding="utf-8-sig")
    assert problems[["row", "enterprise_id", "problem"]].values.tolist() == [[3, "E2", problem]]
    listed = pd.read_csv(tmp_path / "out" / "reduction" / "reduction_list.csv", encoding="utf-8-sig")
    assert "E2" not in set(listed.iloc[:, 0].astype(str)) and "E1" in set(listed.astype(str).values.ravel())


def _stale_row(data: Path) -> tuple[Path, int]:
    """A row of 2024-01-02's file dated a year earlier (a stale row); returns the file and its line number."""
    path = data / "stations" / "china_sites_20240102.csv"
    lines = path.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("20240102,5,PM2.5,"))
    lines[i] = lines[i].replace("20240102", "20230102", 1)
    path.write_text("\n".join(lines) + "\n")
    return path, i + 1


@pytest.mark.parametrize("command", ["stations", "daily"])
def test_cnemc_row_dated_a_year_earlier_is_reported_not_moved(command, tmp_path, capsys):
    data = _station_data(tmp_path)
    path, line = _stale_row(data)
    out_csv = tmp_path / "daily.csv"
    argv = [command, "--data", str(data), "--quiet"] + (["--out", str(out_csv)] if command == "daily" else [])
    assert main(argv) == 0
    err = capsys.readouterr().err
    note = (f"lantian {command}: note: {path}: 1 row(s) dated otherwise than the file (line {line}: row dated "
            "2023-01-02 in the file of 2024-01-02) — skipped, not moved")
    assert note in err.splitlines() and "Traceback" not in err
    if command == "daily":  # the row was not moved a year back (31 Dec 2023 holds the 24:00 value of 1 Jan's file)
        daily = pd.read_csv(out_csv)
        assert pd.to_datetime(daily["date"]).min() == pd.Timestamp("2023-12-31")


def test_a_huge_concentration_is_iaqi_500_the_top_of_the_scale(capsys):
    """Not an AQI but a concentration: beyond the last breakpoint the IAQI is 500 (HJ 633's cap), not 9999."""
    assert main(["aqi", "--pollutant", "pm25_24h", "--value", "1e9"]) == 0
    assert json.loads(capsys.readouterr().out)["iaqi"] == 500.0


# ---- dates against the data: a data directory with stations, meteorology and a model (slow) ---------------------

def _slow(argv, capsys, needles, command):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    return _check_one_line(err, command, needles)


def test_forecast_issued_four_years_before_the_data(winter_world, winter_model, tmp_path, capsys):
    """Today a plausible forecast from nothing, archived: now an error naming the data's first and last day, and
    nothing archived."""
    from forecast import archive

    before = len(archive.archived_forecasts(winter_world))
    _slow(["forecast", "--data", str(winter_world), "--model", str(winter_model), "--issued", "2019-12-10",
           "--out", str(tmp_path / "f.json"), "--quiet"], capsys,
          ("issue date 2019-12-10 is before the first observed day 2023-12-01",
           "the station data cover 2023-12-01 … 2023-12-28", "no observations to start from"), "forecast")
    assert not (tmp_path / "f.json").exists() and len(archive.archived_forecasts(winter_world)) == before


def test_forecast_issued_after_the_data(winter_world, winter_model, capsys):
    _slow(["forecast", "--data", str(winter_world), "--model", str(winter_model), "--issued", "2024-06-01",
           "--quiet"], capsys,
          ("issue date 2024-06-01 is after the last observed day 2023-12-28 + 1",
           "the station data cover 2023-12-01 … 2023-12-28"), "forecast")


def test_forecast_to_an_unknown_format_before_any_work(winter_world, winter_model, tmp_path, capsys):
    from forecast import archive

    before = len(archive.archived_forecasts(winter_world))
    _slow(["forecast", "--data", str(winter_world), "--model", str(winter_model), "--issued", "2023-12-22",
           "--out", str(tmp_path / "f.txt"), "--quiet"], capsys,
          ("f.txt: unknown output format '.txt'; allowed: .json, .csv",), "forecast")
    assert len(archive.archived_forecasts(winter_world)) == before


def test_verify_period_outside_the_data(winter_world, winter_model, capsys):
    _slow(["verify", "--data", str(winter_world), "--model", str(winter_model), "--start", "2024-03-01", "--end",
           "2024-03-10", "--quiet"], capsys,
          ("verification period 2024-03-01 … 2024-03-10 has no issue date",
           "the station data cover 2023-12-01 … 2023-12-28"), "verify")


def test_evaluate_episode_outside_the_data(winter_world, tmp_path, capsys):
    _slow(["evaluate", "--data", str(winter_world), "--episode", "2020-01-01:2020-01-05", "--out",
           str(tmp_path / "ev"), "--quiet"], capsys,
          ("episode 2020-01-01:2020-01-05 lies outside the data",
           "the station data cover 2023-12-01 … 2023-12-28"), "evaluate")
    assert not (tmp_path / "ev").exists()
