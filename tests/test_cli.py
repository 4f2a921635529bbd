"""The command line: subcommands listed, domain errors as one line and a non-zero exit, never a traceback."""
import subprocess
import sys

import pytest

from response.cli import main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "response.cli", *args], capture_output=True, text=True)


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
    from tests.forecast.test_stations import CODES, SITES, _values
    import numpy as np
    import pandas as pd
    from forecast.stations import write_cnemc_day

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


def test_ingest_errors(tmp_path, capsys):
    assert main(["ingest", "--data", str(tmp_path / "missing")]) == 2
    assert "no such data directory" in capsys.readouterr().err
    bad = tmp_path / "d" / "meteorology" / "analysis"
    bad.mkdir(parents=True)
    (bad / "x.grib2").write_bytes(b"not grib")
    assert main(["ingest", "--data", str(tmp_path / "d"), "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "x.grib2: not a GRIB file" in err[0]
