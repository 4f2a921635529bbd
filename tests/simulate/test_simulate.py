"""The demo world: real GRIB2 and CNEMC files, and pollution that responds to the meteorology."""
import hashlib
import json
import tempfile

import cfgrib
import numpy as np
import pandas as pd
import pytest

from shapely.geometry import Point, box

from forecast import cnemc
from forecast.areas import AreaError, boundaries, load_areas
from forecast.nomenclature import DUST_RATIO, HEAVY_AQI
from forecast.qc import quality_control
from simulate import SimulationError, simulate
from simulate import world as W
from simulate.registry import DEFAULT_MIX, make_registry
from simulate.weather import Weather


_INDEX_DIR = tempfile.mkdtemp(prefix="lantian-test-idx-")


def _open_all(path):
    """Every hypercube with cfgrib itself (independent of lantian's reader); the index is written once per file to
    a scratch directory so that cfgrib's several passes over a file do not rescan it."""
    tag = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return cfgrib.open_datasets(str(path), backend_kwargs={"indexpath": f"{_INDEX_DIR}/{tag}.{{short_hash}}.idx"})


def test_layout(winter_world):
    for part in ("meteorology/analysis", "meteorology/forecast", "stations/sites.csv", "truth/area_daily.csv",
                 "truth/warnings.csv", "truth/area_hourly.parquet", "README.md"):
        assert (winter_world / part).exists(), part
    assert len(list((winter_world / "meteorology" / "forecast").iterdir())) == 28
    assert len(list((winter_world / "stations").glob("china_sites_*.csv"))) == 28


def test_cfgrib_opens_every_analysis_file(winter_world):
    files = sorted((winter_world / "meteorology" / "analysis").glob("*.grib2"))
    assert files
    names = set()
    for path in files:
        for ds in _open_all(path):
            names |= set(ds.data_vars)
            assert ds.sizes["latitude"] == 69 and ds.sizes["longitude"] == 117
    assert {"t2m", "d2m", "u10", "v10", "sp", "blh", "tp", "t"} <= names


def test_analysis_values_physical(winter_world):
    path = winter_world / "meteorology" / "analysis" / "era5_sfc_202312.grib2"
    by_var = {v: ds[v] for ds in _open_all(path) for v in ds.data_vars}
    t2m = by_var["t2m"] - 273.15
    assert -45 < float(t2m.min()) and float(t2m.max()) < 20  # December over Inner Mongolia
    assert float(by_var["blh"].min()) >= 30 and float(by_var["blh"].max()) < 4000
    assert 600e2 < float(by_var["sp"].min()) and float(by_var["sp"].max()) < 1050e2
    assert float(by_var["tp"].min()) >= 0
    # west-east terrain gradient: the plateau in the west has lower surface pressure
    sp = by_var["sp"].mean("time")
    assert float(sp.sel(longitude=100, latitude=40)) < float(sp.sel(longitude=123, latitude=43))


def test_forecast_run_hypercubes(winter_world):
    run = winter_world / "meteorology" / "forecast" / "2023121000" / "ifs_2023121000.grib2"
    datasets = _open_all(run)
    assert len(datasets) >= 3  # heightAboveGround / surface instant / accum / isobaric: several hypercubes
    by_var = {v: ds for ds in datasets for v in ds.data_vars}
    assert {"t2m", "u10", "blh", "tp", "t"} <= set(by_var)
    tp = by_var["tp"]["tp"]
    steps = tp["step"].values / np.timedelta64(1, "h")
    assert steps[0] == 0 and steps[-1] == 168
    assert np.all(np.diff(tp.mean(("latitude", "longitude")).values) >= -1e-6)  # accumulated from step 0
    assert "isobaricInhPa" in by_var["t"].coords and set(by_var["t"]["isobaricInhPa"].values) == {850, 925}


def test_forecast_error_grows_with_lead(winter_world):
    """RMSE of 2-m temperature and BLH against the analysis at the same valid time, by lead day."""
    ana = {v: ds[v] for ds in _open_all(winter_world / "meteorology/analysis/era5_sfc_202312.grib2")
           for v in ds.data_vars}
    errors = {}
    for run_dir in sorted((winter_world / "meteorology" / "forecast").iterdir()):
        ds = {v: d[v] for d in _open_all(next(run_dir.glob("*.grib2"))) for v in d.data_vars}
        for var in ("t2m", "blh"):
            fc = ds[var].sel(latitude=slice(48, 38), longitude=slice(100, 124))
            for step in fc["step"].values:
                lead = step / np.timedelta64(24, "h")
                if lead not in (1, 3, 6):
                    continue
                valid = pd.Timestamp(fc["time"].values) + pd.Timedelta(step)
                if valid not in ana[var]["time"].to_index():
                    continue
                truth = ana[var].sel(time=valid).interp_like(fc.sel(step=step))
                err = float(np.sqrt(((fc.sel(step=step) - truth) ** 2).mean()))
                errors.setdefault((var, lead), []).append(err)
    for var in ("t2m", "blh"):
        rmse = [np.mean(errors[(var, lead)]) for lead in (1, 3, 6)]
        assert rmse[0] < rmse[1] < rmse[2], (var, rmse)


def test_station_files_parse_and_qc_finds_faults(winter_world):
    sites = cnemc.read_station_list(winter_world / "stations" / "sites.csv")
    assert set(sites["area_id"]) >= {"hohhot", "baotou", "wuhai", "alxa", "jungar"}
    assert sites["background"].sum() == 3
    history, removed, log = cnemc.read_cnemc_archive(winter_world / "stations", sites)
    assert log.files_read == 28 and not log.files_skipped
    raw = pd.read_csv(winter_world / "stations" / "china_sites_20231205.csv")
    assert {"AQI", "PM2.5_24h", "O3_8h", "CO_24h"} <= set(raw["type"])
    clean, qc = quality_control(history)
    reasons = set(qc["reason"])
    assert {"stuck", "negative", "implausible"} <= reasons


def _truth_daily(world):
    h = pd.read_parquet(world / "truth" / "area_hourly.parquet")
    h["ws"] = np.hypot(h["wind_u"], h["wind_v"])
    h["vent"] = h["ws"] * h["blh"]
    h["date"] = (h["time"] - pd.Timedelta(hours=1)).dt.floor("D")
    return h.groupby(["area_id", "date"]).mean(numeric_only=True).reset_index()


def test_pm25_higher_on_low_ventilation_days(winter_world):
    daily = _truth_daily(winter_world)
    for area in ("hohhot", "baotou", "wuhai", "chifeng"):
        d = daily[daily["area_id"] == area]
        low = d["vent"] <= d["vent"].quantile(0.25)
        high = d["vent"] >= d["vent"].quantile(0.75)
        assert d.loc[low, "pm25_actual"].mean() > 1.5 * d.loc[high, "pm25_actual"].mean(), area


def test_heavy_episodes_exist_and_are_haze(winter_world):
    truth = pd.read_csv(winter_world / "truth" / "area_daily.csv")
    heavy = truth[truth["aqi_actual"] > 200]
    assert len(heavy) >= 10
    assert heavy["area_id"].nunique() >= 3
    ratio = heavy["pm25_24h_actual"] / heavy["pm10_24h_actual"]
    assert ratio.median() > 0.6  # winter haze is PM2.5-dominated


def test_dust_days_are_lifted_dust_and_haze_is_not(winter_world, spring_world):
    """The library's dust-day test (forecast.aqi.dust_dominated) finds the days the box model lifted dust on, and
    not the winter haze."""
    spring = pd.read_csv(spring_world / "truth" / "area_daily.csv", parse_dates=["date"])
    dust = spring[spring["dust_actual"]]
    assert len(dust) >= 5
    assert set(dust["area_id"]) & {"alxa", "bayannur", "wuhai", "urad_front"}
    assert dust["pm10_24h_actual"].max() > 400  # a dust storm, far above haze PM10
    lifted = _truth_daily(spring_world).set_index(["area_id", "date"])
    lifted = lifted["pm10_dust"] / lifted["pm10_actual"]
    on_dust_days = lifted.loc[list(zip(dust["area_id"], dust["date"]))]
    assert on_dust_days.min() > 0.5 and lifted.median() < 0.2  # the flagged days' PM10 is mostly lifted dust
    winter = pd.read_csv(winter_world / "truth" / "area_daily.csv")
    haze = winter[winter["aqi_actual"] > HEAVY_AQI]
    assert not haze["dust_actual"].any()
    assert (haze["pm25_24h_actual"] / haze["pm10_24h_actual"]).min() > DUST_RATIO


def test_warnings_cut_emissions_and_truth_records_counterfactual(winter_world):
    warnings = pd.read_csv(winter_world / "truth" / "warnings.csv")
    # the duty team's record of the same warnings, where the evaluation reads it (no cut share: not a truth)
    from response import episodes

    issued = pd.read_csv(winter_world / episodes.ISSUED_WARNINGS)
    assert list(issued.columns) == ["area_id", "date", "level", "issued"] and len(issued) == len(warnings)
    assert issued[["area_id", "date", "level"]].equals(warnings[["area_id", "date", "level"]])
    assert len(warnings) > 0 and set(warnings["level"]) <= {"yellow", "orange", "red"}
    assert set(warnings["cut_share"]) <= {0.1, 0.2, 0.3}
    truth = pd.read_csv(winter_world / "truth" / "area_daily.csv", parse_dates=["date"])
    warned = truth.merge(warnings.assign(date=pd.to_datetime(warnings["date"])), on=["area_id", "date"])
    effect = warned["pm25_24h_counterfactual"] - warned["pm25_24h_actual"]
    assert (effect > 0).mean() > 0.9  # cuts lower PM2.5 on warned days
    calm = truth[~truth.set_index(["area_id", "date"]).index.isin(warned.set_index(["area_id", "date"]).index)]
    # outside warnings the two runs agree except for carry-over and transport from warned neighbours
    assert (calm["pm25_24h_counterfactual"] - calm["pm25_24h_actual"]).abs().median() < effect.median()


def test_same_seed_identical_files(tmp_path):
    digests = []
    for k in range(2):
        out = tmp_path / f"w{k}"
        simulate(out, seed=3, start="2024-01-01", end="2024-01-15", forecasts="none", progress=False, workers=1)
        h = hashlib.sha256()
        for p in sorted(out.rglob("*")):
            if p.is_file():
                h.update(p.relative_to(out).as_posix().encode())
                h.update(p.read_bytes())
        digests.append(h.hexdigest())
    assert digests[0] == digests[1]


def test_weather_deterministic_and_seed_dependent():
    t = pd.date_range("2024-01-01", periods=48, freq="h")
    a = Weather("2023-12-01", "2024-02-01", 5).evaluate(t, [111.0], [40.0])["temp_air"]
    b = Weather("2023-12-01", "2024-02-01", 5).evaluate(t, [111.0], [40.0])["temp_air"]
    c = Weather("2023-12-01", "2024-02-01", 6).evaluate(t, [111.0], [40.0])["temp_air"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs,match", [
    ({"start": "2024-01-10", "end": "2024-01-01"}, "must be after"),
    ({"start": "2024-01-01", "end": "2024-01-05"}, "shorter than 14 days"),
    ({"start": "2024-01-01", "end": "2024-02-01", "forecasts": "weekly"}, "allowed: all, heating, none"),
    ({"start": "2024-01-01", "end": "2024-02-01", "analysis_step": 5.0}, "allowed 0.1–2.0"),
])
def test_bad_settings(tmp_path, kwargs, match):
    with pytest.raises(SimulationError, match=match):
        simulate(tmp_path, progress=False, **kwargs)


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None for p in folder.rglob("*")}


def test_a_folder_with_a_users_files_is_refused_and_unchanged(tmp_path, monkeypatch):
    import simulate as S

    (tmp_path / "enterprises.csv").write_bytes("enterprise_id,name\nE1,我的企业\n".encode())
    (tmp_path / "stations").mkdir()
    (tmp_path / "stations" / "sites.csv").write_bytes(b"station,name\n1001A,mine\n")
    before = _snapshot(tmp_path)

    def no_work(*args, **kwargs):
        raise AssertionError("the world was being built before the folder was checked")

    monkeypatch.setattr(S, "world_areas", no_work)
    monkeypatch.setattr(S, "Weather", no_work)
    with pytest.raises(SimulationError, match=f"{tmp_path}: the folder is not empty \\(enterprises.csv, stations\\)"):
        simulate(tmp_path, seed=3, start="2024-01-01", end="2024-01-15", forecasts="none", progress=False)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("content, allowed", [
    ({}, True),  # empty
    ({".lantian/audit.db": b"x"}, True),  # only lantian's workspace, which simulate never writes to
    ({"README.md": b"# lantian demo world (simulated)\n\nSimulated ...", "enterprises.csv": b"x"}, True),
    ({".lantian-simulating": b"", "stations/sites.csv": b"x"}, True),  # a world left unfinished
    ({"README.md": b"# my data\n", "enterprises.csv": b"x"}, False),
    ({"notes.txt": b"x"}, False),
])
def test_which_folders_a_world_may_be_written_to(tmp_path, content, allowed):
    import simulate as S

    out = tmp_path / "out"
    out.mkdir()
    for name, data in content.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    if allowed:
        assert S.check_out_folder(out) == out
    else:
        with pytest.raises(SimulationError, match="not empty.*nothing was changed"):
            S.check_out_folder(out)


def test_a_world_is_written_to_a_folder_not_a_file(tmp_path):
    import simulate as S

    assert S.check_out_folder(tmp_path / "new") == tmp_path / "new" and not (tmp_path / "new").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(SimulationError, match="exists and is not a folder"):
        S.check_out_folder(tmp_path / "file")


def test_summary_written(winter_world):
    summary = json.loads((winter_world / "truth" / "summary.json").read_text())
    assert summary["stations"] == 63 and summary["areas"] == 21


def test_decision_forecasts_are_the_warnings_basis(winter_world):
    """The forecasts the authorities decided on are kept (outside truth/); every warned day was forecast at a lead
    of one or two days, and a warned day's forecasts are higher than the typical day's."""
    dec = pd.read_csv(winter_world / "forecasts" / "decision_forecasts.csv", parse_dates=["issue_date", "target_date"])
    assert set(dec.columns) == {"area_id", "issue_date", "target_date", "lead_day", "aqi"}
    assert set(dec["lead_day"]) == {1, 2, 3}
    assert ((dec["target_date"] - dec["issue_date"]).dt.days == dec["lead_day"]).all()
    w = pd.read_csv(winter_world / "truth" / "warnings.csv", parse_dates=["date", "issued"])
    assert len(w)
    near = dec[dec["lead_day"] <= 2].set_index(["area_id", "target_date"])
    warned = near.loc[near.index.isin(list(zip(w["area_id"], w["date"])))]
    assert set(zip(w["area_id"], w["date"])) <= set(near.index)
    assert warned["aqi"].median() > 1.5 * near["aqi"].median()
    truth = pd.read_csv(winter_world / "truth" / "area_daily.csv", parse_dates=["date"])
    one = dec[dec["lead_day"] == 1].merge(truth, left_on=["area_id", "target_date"], right_on=["area_id", "date"])
    one = one[~one["dust_counterfactual"]]
    err = np.log(one["aqi"]) - np.log(one["aqi_counterfactual"])  # the authorities' day-1 error (lognormal 0.15)
    assert 0.08 < err.std() < 0.25


def test_coarse_analysis_grid(season_world):
    ds = cfgrib.open_dataset(season_world / "meteorology" / "analysis" / "era5_sfc_202401.grib2",
                             backend_kwargs={"indexpath": ""}, filter_by_keys={"shortName": "blh"})
    assert float(ds["longitude"].diff("longitude")[0]) == 1.0 and ds.sizes["latitude"] == 18


def test_true_effect(winter_world, tmp_path):
    from simulate import truth as T

    table = T.read_area_daily(winter_world)
    w = pd.read_csv(winter_world / "truth" / "warnings.csv", parse_dates=["date"])
    rows = [[a, str(d.date())] for a, d in zip(w["area_id"][:5], w["date"][:5])]
    want = np.mean([table.loc[(a, pd.Timestamp(d)), "pm25_24h_actual"] -
                    table.loc[(a, pd.Timestamp(d)), "pm25_24h_counterfactual"] for a, d in rows])
    assert T.true_effect(table, rows) == pytest.approx(want) and want < 0  # cuts lower PM2.5
    with pytest.raises(SimulationError, match="unknown target 'so2'; allowed: pm25, aqi"):
        T.true_effect(table, rows, target="so2")
    with pytest.raises(SimulationError, match="no truth for 1 area-days, e.g. baotou 1999-01-01"):
        T.true_effect(table, [["baotou", "1999-01-01"]])
    with pytest.raises(SimulationError, match="no simulator truth here"):
        T.read_area_daily(tmp_path)


# --------------------------------------------------------------------------------------------------- area tables
#: a league that is not in the shipped table (nor in the simulator's profiles), seated inside the shipped grid
TEST_LEAGUE = {"area_id": "testleague", "name_zh": "测试盟", "short_zh": "测试", "name_en": "Test League",
               "tier": "city", "parent_id": None, "gb": "156159900", "seat_lon": 114.5, "seat_lat": 45.5}


def _short_world(out, **kwargs):
    return simulate(out, seed=5, start="2024-01-01", end="2024-01-15", forecasts="none", analysis_step=1.0,
                    progress=False, workers=1, **kwargs)


def _grid_of(world):
    ds = cfgrib.open_dataset(world / "meteorology" / "analysis" / "era5_sfc_202401.grib2",
                             backend_kwargs={"indexpath": ""}, filter_by_keys={"shortName": "blh"})
    return ds["longitude"].values, ds["latitude"].values


@pytest.mark.parametrize("polygon", [None, box(114.3, 45.35, 114.7, 45.65)], ids=["no-polygon", "square"])
def test_league_added_to_area_table_simulates(tmp_path, polygon):
    areas = pd.concat([load_areas(), pd.DataFrame([TEST_LEAGUE])], ignore_index=True)
    geoms = boundaries(load_areas())
    if polygon is None:
        with pytest.warns(UserWarning, match="no boundary polygon for testleague: their stations stand at the seat"):
            summary = _short_world(tmp_path, areas=areas, boundaries=geoms)
    else:
        summary = _short_world(tmp_path, areas=areas, boundaries={**geoms, "testleague": polygon})
    assert summary["areas"] == 22 and summary["stations"] == 63 + 3  # a city without a profile: 3 stations
    sites = cnemc.read_station_list(tmp_path / "stations" / "sites.csv", areas)
    mine = sites[sites["area_id"] == "testleague"]
    assert len(mine) == 3 and not mine["background"].any()
    if polygon is None:
        assert (mine["lon"] == 114.5).all() and (mine["lat"] == 45.5).all()
    else:
        assert all(polygon.contains(Point(x, y)) for x, y in zip(mine["lon"], mine["lat"]))
    history, _, _ = cnemc.read_cnemc_archive(tmp_path / "stations", sites)
    observed = history[history["area_id"] == "testleague"]
    assert set(observed["station"]) == set(mine["station"]) and observed["value"].notna().sum() > 1000
    truth = pd.read_csv(tmp_path / "truth" / "area_daily.csv")
    league = truth[truth["area_id"] == "testleague"]
    assert len(league) == 15 and league["aqi_actual"].notna().all()
    registry = pd.read_csv(tmp_path / "enterprises.csv")
    assert (registry["area_id"] == "testleague").sum() == DEFAULT_MIX[0]
    lon, lat = _grid_of(tmp_path)  # the league lies inside the shipped domain: the grid is unchanged
    assert (lon.min(), lon.max(), lat.min(), lat.max()) == (97, 126, 37, 54)


def test_world_builds_for_a_few_areas_only(tmp_path):
    path = tmp_path / "areas.csv"
    shipped = load_areas()
    shipped[shipped["area_id"].isin(["hohhot", "baotou", "tumed_left"])].to_csv(path, index=False)
    summary = _short_world(tmp_path / "world", areas=path)  # a path, as `lantian simulate --areas` gives it
    world = tmp_path / "world"
    assert summary["areas"] == 3 and summary["stations"] == 8 + 7 + 1  # no background station among them
    sites = pd.read_csv(world / "truth" / "stations.csv")
    assert set(sites["area_id"]) == {"hohhot", "baotou", "tumed_left"}
    truth = pd.read_csv(world / "truth" / "area_daily.csv")
    assert set(truth["area_id"]) == {"hohhot", "baotou", "tumed_left"} and len(truth) == 3 * 15
    assert set(pd.read_csv(world / "enterprises.csv")["area_id"]) == {"hohhot", "baotou"}
    lon, lat = _grid_of(world)  # bounds 109.25–112.31°E, 39.59–42.74°N + 0.25°, rounded
    assert (lon.min(), lon.max(), lat.min(), lat.max()) == (109, 113, 39, 43)


def test_profiles_listed_or_tier_defaults():
    profiles = W.load_profiles()
    areas = pd.DataFrame({"area_id": ["wuhai", "newcity", "newcounty"], "tier": ["city", "city", "county"]})
    params = W.area_parameters(areas, profiles)
    assert params.loc[0, "pm"] == 1.30 and params.loc[0, "stations"] == 4 and params.loc[0, "profile"] == "listed"
    cities = profiles[profiles["tier"] == "city"]
    assert params.loc[1, "pm"] == pytest.approx(cities["pm"].mean())
    assert params.loc[1, "dust_source"] == pytest.approx(cities["dust_source"].mean())
    assert params.loc[1, "stations"] == 3 and params.loc[2, "stations"] == 1
    assert params.loc[2, "so2"] == pytest.approx(profiles.loc[profiles["tier"] == "county", "so2"].mean())
    assert list(params["background"]) == [0, 0, 0] and not params["long_heating"].any()
    assert list(params["profile"]) == ["listed", "tier mean", "tier mean"]


def test_shipped_profiles_keep_the_demo_network():
    params = W.area_parameters(load_areas())
    assert params["stations"].sum() == 60 and (params["profile"] == "listed").all()
    assert list(load_areas().loc[params["background"] > 0, "area_id"]) == ["hulunbuir", "xilingol", "alxa"]


def test_grid_extent():
    shipped = load_areas()
    assert W.grid_extent(shipped, boundaries(shipped)) == {"west": 97, "east": 126, "south": 37, "north": 54}
    one = pd.DataFrame([TEST_LEAGUE])  # no polygon: the seat ± 1°, + 0.25°, rounded
    assert W.grid_extent(one, {}) == {"west": 113, "east": 116, "south": 44, "north": 47}
    tiny = {"testleague": box(114.4, 45.4, 114.6, 45.6)}  # at least 2° wide and high
    assert W.grid_extent(one, tiny) == {"west": 114, "east": 116, "south": 45, "north": 47}


@pytest.mark.parametrize("change,match", [
    (lambda a: a.drop(columns=["seat_lat"]), r"missing columns \['seat_lat'\]"),
    (lambda a: a.assign(tier=a["tier"].replace("county", "banner")),
     r"unknown tier\(s\) \['banner'\]; allowed: city, county"),
    (lambda a: pd.concat([a, a.iloc[:1]]), r"areas listed twice: \['hohhot'\]"),
    (lambda a: a.assign(seat_lon=a["seat_lon"].where(a["area_id"] != "wuhai")),
     r"no seat_lon/seat_lat for \['wuhai'\]"),
    (lambda a: a.iloc[:0], "no areas"),
])
def test_bad_area_table(change, match):
    with pytest.raises(AreaError, match=match):
        W.world_areas(change(load_areas()), seed=1)


@pytest.mark.parametrize("text,match", [
    ("area_id,tier,pm\nx,city,1\n", "missing columns"),
    ("area_id,tier,pm,so2,nox,co,dust_source,stations,background,long_heating\nx,town,1,1,1,1,0,1,0,0\n",
     r"unknown tier\(s\) \['town'\]"),
    ("area_id,tier,pm,so2,nox,co,dust_source,stations,background,long_heating\nx,city,1,1,1,1,0,1,0,0\n"
     "x,city,1,1,1,1,0,1,0,0\n", r"areas listed twice: \['x'\]"),
    ("area_id,tier,pm,so2,nox,co,dust_source,stations,background,long_heating\nx,city,1,1,1,1,0,0,0,0\n",
     r"at least 1 station, found \['x'\]"),
])
def test_bad_profiles(tmp_path, text, match):
    path = tmp_path / "profiles.csv"
    path.write_text(text)
    with pytest.raises(AreaError, match=match):
        W.load_profiles(path)


def test_registry_for_the_given_cities():
    areas = pd.concat([load_areas(), pd.DataFrame([TEST_LEAGUE])], ignore_index=True)
    shipped, _ = make_registry(3)
    extended, inventory = make_registry(3, areas=areas)
    # the shipped cities' enterprises are unchanged; the new league gets the default mix, after them
    pd.testing.assert_frame_equal(extended.iloc[:len(shipped)], shipped)
    assert (extended["area_id"] == "testleague").sum() == DEFAULT_MIX[0]
    assert set(inventory.loc[inventory["area_id"] == "testleague", "sector"]) == {"industry", "mobile", "dust",
                                                                                 "residential", "other"}


def test_demo_list_is_the_standardised_list(tmp_path):
    """清单标准化 (REFERENCE 3.4): every demo enterprise has a unified social credit code whose check character is
    right (GB 32100-2015, checked by the registry loader), the list one version and year, and 一厂一策 units whose
    shares add up to 1; every grade is on its industry's ladder (electrolytic Mn: 引领性 only at the top)."""
    from response import reduction as R
    from simulate.registry import write_registry

    reg_path, inv_path = write_registry(tmp_path, 4)
    registry, bad = R.load_registry(reg_path)
    assert bad.empty and registry["credit_code"].str.len().eq(18).all() and registry["credit_code"].is_unique
    assert R.list_identity(registry) == ("demo-v1", 2024)
    units = R.load_processes(tmp_path / "processes.csv", registry)
    assert set(units["enterprise_id"]) == set(registry["enterprise_id"])
    mn = registry[registry["industry"] == "electrolytic_mn"]
    assert not mn["grade"].isin(["A", "A+"]).any()


def test_demo_inventory_has_county_rows_inside_their_city():
    """Banners/counties hosting industry get their own inventory rows (a county-only warning is judged on them):
    the county's industry from its own enterprises (× 1.25 like the city), the other sectors a part of the
    city's by the county's share (COUNTIES), never more than the city."""
    from simulate.registry import COUNTIES

    registry, inventory = make_registry(3)
    inv = inventory.set_index(["area_id", "sector"])
    for city, hosts in COUNTIES.items():
        for county, share in hosts:
            own = registry.loc[registry["county_id"] == county, "so2_t"].sum()
            assert inv.loc[(county, "industry"), "so2"] == pytest.approx(own * 1.25, abs=0.1)
            assert inv.loc[(county, "mobile"), "nox"] == pytest.approx(inv.loc[(city, "mobile"), "nox"] * share,
                                                                       abs=0.1)
            for p in ("so2", "nox", "pm", "vocs"):
                assert inv.loc[county, p].sum() <= inv.loc[city, p].sum()
