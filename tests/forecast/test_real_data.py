"""Real data from any region: a model on surface fields alone (hourly, ERA5-like, no BLH, no pressure levels, no
forecast runs) trains, forecasts and verifies, says what it left out and where its meteorology came from, and a
model asked about months it never saw — or far worse than persistence — says so."""
import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast import features as F
from forecast import forecasting as FC
from forecast.model import Forecaster
from simulate.grib import Grid
from simulate.weather import Weather

from ._grib import write_surface_hourly

#: the winter world of tests/conftest.py (seed, first and last CST day)
SEED, START, END = 11, pd.Timestamp("2023-12-01"), pd.Timestamp("2023-12-28")
TRAIN_UNTIL = "2023-12-20"
LEFT_OUT = {"blh", "blh_min", "blh_night_min", "ventilation", "ventilation_min", "inversion_850_max",
            "inversion_925_max", "stagnation"}


@pytest.fixture(scope="module")
def surface_world(winter_world, tmp_path_factory):
    """The winter world's stations with surface-only hourly analyses of the same weather (2t, 2d, 10u, 10v, sp and
    1-h tp, GRIB1 as the CDS delivers ERA5) on a 1° grid, and no forecast runs."""
    out = tmp_path_factory.mktemp("surface_world")
    shutil.copytree(winter_world / "stations", out / "stations")
    sites = pd.read_csv(out / "stations" / "sites.csv")
    lon0, lon1 = np.floor(sites["经度"].min()) - 1, np.ceil(sites["经度"].max()) + 1
    lat0, lat1 = np.floor(sites["纬度"].min()) - 1, np.ceil(sites["纬度"].max()) + 1
    grid = Grid(west=float(lon0), east=float(lon1), south=float(lat0), north=float(lat1), step=1.0)
    lon, lat = np.meshgrid(grid.lon, grid.lat)
    times = pd.date_range(START - pd.Timedelta(hours=8), END + pd.Timedelta(hours=16), freq="h")
    m = Weather(START, END, SEED).evaluate(times, lon.ravel(), lat.ravel())
    shape = (len(times), *grid.shape)
    fields = {"2t": m["temp_air"] + 273.15, "2d": m["dewpoint"] + 273.15, "10u": m["wind_u"], "10v": m["wind_v"],
              "sp": m["pressure"] * 100.0, "tp": m["precip"] / 1000.0}
    (out / "meteorology" / "analysis").mkdir(parents=True)
    write_surface_hourly(out / "meteorology" / "analysis" / "era5_sfc_202312.grib", times, grid,
                         {k: np.asarray(v).reshape(shape) for k, v in fields.items()})
    return out


@pytest.fixture(scope="module")
def surface_inputs(surface_world):
    return FC.load_inputs(surface_world)


@pytest.fixture(scope="module")
def surface_model(surface_world, surface_inputs, tmp_path_factory):
    """A small surface-only model and the warnings its training gave."""
    model_dir = tmp_path_factory.mktemp("surface_model")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FC.train(surface_world, model_dir, until=TRAIN_UNTIL, inputs=surface_inputs, rounds=30)
    return model_dir, caught


def test_hourly_surface_drivers(surface_inputs):
    md = surface_inputs.met_daily
    assert len(surface_inputs.met_lead) == 0 and not LEFT_OUT & set(md.columns)
    assert md["n_samples"].median() == 24 and md["precip_hours"].median() == 24  # hourly, 1-h accumulations
    assert md[["temp_air", "rh", "dewpoint_depression", "wind_speed", "calm_hours", "pressure", "precip"]
              ].notna().mean().min() > 0.9


def test_surface_only_model_leaves_out_what_it_cannot_compute(surface_model):
    model_dir, caught = surface_model
    m = Forecaster.load(model_dir)
    card = m.card
    assert set(card["met_missing"]) == LEFT_OUT
    assert "boundary-layer height (blh)" in card["met_missing"]["ventilation"]
    assert "850-hPa temperature (temp_850)" in card["met_missing"]["inversion_850_max"]
    assert not [f for f in m.features if f.startswith(("met_blh", "met_ventilation", "met_inversion",
                                                       "met_stagnation"))]
    assert {"met_temp_air", "met_rh", "met_wind_speed", "met_pressure", "met_precip", "met_hdd"} <= set(m.features)
    assert card["met_source"] == "analysis" and card["met_source_rows"] == {"analysis": card["rows"]}
    assert card["trained_months"] == [12]


def test_one_warning_names_the_drivers_left_out(surface_model):
    _, caught = surface_model
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert issubclass(caught[0].category, F.MissingDriversWarning)
    text = str(caught[0].message)
    assert "ventilation" in text and "inversion_925_max" in text and "met_missing" in text and "\n" not in text


def test_cli_shows_the_warning_as_one_line(surface_world, tmp_path, capsys):
    from lantian.cli import main

    assert main(["train", "--data", str(surface_world), "--model", str(tmp_path / "m"), "--until", TRAIN_UNTIL,
                 "--rounds", "3", "--quiet"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert len(warned) == 1 and warned[0].startswith("lantian train: warning: meteorological drivers left out")


def test_surface_only_forecast_says_analysis_and_unseen_months(surface_world, surface_model, surface_inputs,
                                                              tmp_path):
    model_dir, _ = surface_model
    out = tmp_path / "fc.json"
    table = FC.run_forecast(surface_world, model_dir, "2023-12-26", out=out, inputs=surface_inputs)
    assert (table["met_source"] == "analysis").all()
    doc = json.loads(out.read_text())
    assert doc["met_source"] == "analysis"
    assert {d["met_source"] for a in doc["areas"] for d in a["days"]} == {"analysis"}
    # lead days 6 and 7 fall in January, which the model never saw; analyses end on 28 December
    assert any("never saw: Jan (trained on Dec)" in w for w in doc["warnings"])
    assert any("no meteorology for lead day(s) 3–7" in w for w in doc["warnings"])
    inside = FC.run_forecast(surface_world, model_dir, "2023-12-21", inputs=surface_inputs)
    assert not any("never saw" in w for w in inside.attrs["warnings"])


def test_surface_only_model_verifies(surface_world, surface_model, surface_inputs):
    model_dir, _ = surface_model
    res = FC.run_verify(surface_world, model_dir, "2023-12-21", "2023-12-26", inputs=surface_inputs,
                        update_card=False)
    lt = [r for r in res["continuous"] if r["model"] == "lantian" and r["variable"] == "aqi"]
    assert len(lt) == 7 and all(r["mae"] is not None for r in lt)
    assert res["trained_months"] == [12]
    assert any("never saw: Jan (trained on Dec)" in w for w in res["warnings"])


def test_verify_warns_when_far_worse_than_persistence(surface_world, surface_model, surface_inputs):
    """A season the model never met: after the training period every concentration is tripled (the model, trained
    on lower levels, cannot follow; persistence does)."""
    model_dir, _ = surface_model
    obs = surface_inputs.obs
    after = pd.Timestamp(TRAIN_UNTIL) + pd.Timedelta(days=1)
    daily = obs.daily.copy()
    late = daily.index.get_level_values("date") >= after
    daily.loc[late, ["aqi", "pm25_24h", "pm10_24h"]] *= 3
    t0 = after.tz_localize(F.TZ)
    hourly = {p: h * np.where(h.index < t0, 1.0, 3.0)[:, None] for p, h in obs.hourly.items()}
    rolling = obs.rolling * np.where(obs.rolling.index < t0, 1.0, 3.0)[:, None]
    heavy = FC.Inputs(F.Observations(daily, hourly, rolling), surface_inputs.met_daily, surface_inputs.met_lead,
                      surface_inputs.met_summary, surface_inputs.history_meta, surface_inputs.region)
    res = FC.run_verify(surface_world, model_dir, "2023-12-22", "2023-12-25", inputs=heavy, update_card=False)
    assert any("more than 1.2 × persistence's at lead day(s) 1" in w for w in res["warnings"]), res["warnings"]
    assert any("under-forecasts" in w for w in res["warnings"])


def test_cli_verify_prints_the_warnings(surface_world, surface_model, capsys):
    from lantian.cli import main

    model_dir, _ = surface_model
    assert main(["verify", "--data", str(surface_world), "--model", str(model_dir), "--start", "2023-12-21",
                 "--end", "2023-12-25", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "AQI > 200" in captured.out
    assert any(line.startswith("lantian verify: warning: the period includes months the model never saw: Jan")
               for line in captured.err.splitlines())
