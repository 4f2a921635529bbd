"""A region that is not Inner Mongolia, through the command line: areas of another province from the shipped
boundaries, a station archive and surface-only hourly GRIB written here, trained, verified, forecast and responded
to; and the smallest region, one area with one station and PM2.5 only.

Nothing here relies on Inner Mongolia's area ids: the output is checked to name none of them.
"""
import json

import numpy as np
import pandas as pd
import pytest

from forecast.areas import load_areas
from lantian.cli import main
from simulate.cnemc import write_cnemc_day
from simulate.grib import Grid

from .forecast._grib import write_surface_hourly

pytestmark = pytest.mark.slow

HEBEI = """area_id,name_zh,short_zh,name_en,tier,parent_id,gb,seat_lon,seat_lat
shijiazhuang,石家庄市,石家庄,Shijiazhuang,city,,156130100,114.51,38.04
baoding,保定市,保定,Baoding,city,,156130600,115.46,38.87
hengshui,衡水市,衡水,Hengshui,city,,156131100,115.67,37.74
"""
START, END = pd.Timestamp("2023-12-01"), pd.Timestamp("2024-01-25")
INNER_MONGOLIA_IDS = set(load_areas()["area_id"])


def _weather(times: pd.DatetimeIndex, lat, lon, rng):
    """Hourly surface fields with synoptic cycles: stagnant spells (weak wind, humid, warm) between fronts."""
    hours = np.asarray((times - times[0]) / pd.Timedelta(hours=1), float)
    cycle = np.sin(2 * np.pi * hours / (24 * 6.5))  # a front every ~6.5 days
    stagnation = np.clip(cycle, 0, None)[:, None, None]
    diurnal = np.sin(2 * np.pi * ((hours + 8) % 24 - 8) / 24)[:, None, None]
    shape = (len(times), len(lat), len(lon))
    t2m = 268.0 + 4 * diurnal + 3 * stagnation + rng.normal(0, 0.3, shape)
    wind = 1.0 + 6.0 * (1 - stagnation) + rng.normal(0, 0.3, shape)
    return {"2t": t2m, "2d": t2m - 12 + 8 * stagnation, "10u": wind * 0.8, "10v": -wind * 0.6,
            "sp": 101500.0 - 600 * stagnation + np.zeros(shape), "tp": np.zeros(shape)}, stagnation[:, 0, 0]


def _world(root, areas_csv: str, stations: pd.DataFrame, species=("PM2.5", "PM10"), seed=0):
    """A data directory: region/areas.csv, stations/ (CNEMC files) and meteorology/analysis/ (surface-only,
    hourly, ERA5 GRIB1 as the CDS writes it). PM2.5 builds up in stagnant spells and is flushed by the fronts."""
    rng = np.random.default_rng(seed)
    (root / "region").mkdir(parents=True)
    (root / "region" / "areas.csv").write_text(areas_csv, encoding="utf-8")
    grid = Grid(west=113.0, east=117.0, south=36.0, north=40.0, step=0.5)
    times = pd.date_range(START - pd.Timedelta(hours=8), END + pd.Timedelta(hours=16), freq="h")
    fields, stagnation = _weather(times, grid.lat, grid.lon, rng)
    met = root / "meteorology" / "analysis"
    met.mkdir(parents=True)
    for month, idx in pd.Series(np.arange(len(times)), index=times).groupby(times.to_period("M")):
        sel = idx.to_numpy()
        write_surface_hourly(met / f"era5_sfc_{month}.grib", times[sel], grid,
                             {k: v[sel] for k, v in fields.items()}, edition=1)
    # PM2.5: accumulation under stagnation, flushed when it ends; CST hours ending 01:00 … 24:00
    pm = np.empty(len(times))
    level = 40.0
    for i, s in enumerate(stagnation):
        level = level + 9.0 * s - 0.06 * (level - 35) * (1 - s) + rng.normal(0, 3)
        pm[i] = max(level, 5.0)
    (root / "stations").mkdir()
    stations.to_csv(root / "stations" / "sites.csv", index=False)
    local = times + pd.Timedelta(hours=8)
    n = len(stations)
    for day in pd.date_range(START, END):
        sel = (local > day) & (local <= day + pd.Timedelta(days=1))
        base = pm[sel][:, None] * rng.uniform(0.85, 1.15, (1, n))
        values = {"PM2.5": np.round(base)}
        if "PM10" in species:
            values["PM10"] = np.round(base * 1.5)
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, values,
                        stations["监测点编码"].tolist())
    return root


def _sites(rows):
    return pd.DataFrame(rows, columns=["监测点编码", "监测点名称", "城市", "经度", "纬度", "对照点"])


def _no_inner_mongolia(text: str):
    found = {a for a in INNER_MONGOLIA_IDS if f'"{a}"' in text or f"{a}_" in text}
    assert not found, found


def test_three_cities_of_hebei_through_the_command_line(tmp_path, capsys):
    stations = _sites([("1001A", "石家庄站1", "石家庄", 114.52, 38.05, "N"), ("1002A", "石家庄站2", "石家庄", 114.45, 38.0, "N"),
                       ("1011A", "保定站1", "保定", 115.47, 38.86, "N"), ("1021A", "衡水站1", "衡水", 115.68, 37.73, "N"),
                       ("1031A", "北京站", "北京", 116.4, 39.9, "N")])  # a city outside the region: reported
    data = _world(tmp_path / "hebei", HEBEI, stations)
    model = tmp_path / "model"
    assert main(["train", "--data", str(data), "--model", str(model), "--until", "2024-01-05", "--rounds", "40",
                 "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "3 areas" in out and "北京 (1)" in err  # the unmatched station's city, once
    card = json.loads((model / "model_card.json").read_text())
    assert sorted(card["areas"]) == ["baoding", "hengshui", "shijiazhuang"]
    # no forecast runs: perfect prog, said plainly
    assert "analysis" in json.dumps(card["met_source"]) and "forecast" not in json.dumps(card["met_source"])
    assert main(["verify", "--data", str(data), "--model", str(model), "--start", "2024-01-06", "--end",
                 "2024-01-18", "--out", str(tmp_path / "v.json"), "--quiet"]) == 0
    scores = json.loads((tmp_path / "v.json").read_text())
    day1 = [r for r in scores["continuous"] if r["model"] == "lantian" and r["lead_day"] == 1
            and r["variable"] == "aqi"]
    assert day1 and np.isfinite(day1[0]["mae"])
    assert main(["forecast", "--data", str(data), "--model", str(model), "--issued", "2024-01-15", "--out",
                 str(tmp_path / "f.json"), "--quiet"]) == 0
    doc = json.loads((tmp_path / "f.json").read_text())
    assert sorted(a["area_id"] for a in doc["areas"]) == ["baoding", "hengshui", "shijiazhuang"]
    assert main(["respond", "--forecast", str(tmp_path / "f.json"), "--out", str(tmp_path / "out"), "--data",
                 str(data)]) == 0
    decisions = (tmp_path / "out" / "decisions.json").read_text()
    assert "石家庄市" in decisions
    _no_inner_mongolia(decisions + (tmp_path / "f.json").read_text())


def test_one_area_one_station_pm25_only(tmp_path, capsys):
    areas = HEBEI.splitlines()[0] + "\n" + HEBEI.splitlines()[1] + "\n"
    data = _world(tmp_path / "sjz", areas, _sites([("1001A", "石家庄站1", "石家庄", 114.52, 38.05, "N")]),
                  species=("PM2.5",), seed=1)
    model = tmp_path / "model"
    assert main(["train", "--data", str(data), "--model", str(model), "--until", "2024-01-05", "--rounds", "30",
                 "--quiet"]) == 0
    assert "partial" in capsys.readouterr().err.lower()  # an AQI from PM2.5 alone is flagged
    assert main(["verify", "--data", str(data), "--model", str(model), "--start", "2024-01-06", "--end",
                 "2024-01-18", "--quiet"]) == 0
    assert main(["forecast", "--data", str(data), "--model", str(model), "--issued", "2024-01-15", "--out",
                 str(tmp_path / "f.json"), "--quiet"]) == 0
    doc = json.loads((tmp_path / "f.json").read_text())
    assert [a["area_id"] for a in doc["areas"]] == ["shijiazhuang"]
