"""The GRIB → area series → daily drivers pipeline: cache, bad files, dask.distributed, the demo world."""
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from forecast import areas, drivers, gribread, meteorology
from forecast.extraction import point_weights, apply_weights

from ._grib import GRID, field, write_analysis, write_forecast

TIMES = pd.date_range("2024-01-01 00:00", "2024-01-03 18:00", freq="6h")


@pytest.fixture()
def small_areas():
    """Two areas inside the test grid: one rectangle, one irregular polygon (as an area table + boundaries)."""
    return {"rect": box(105.5, 39.5, 108.5, 42.5),
            "poly": shapely.Polygon([(109.2, 40.1), (114.6, 39.3), (115.2, 44.8), (110.0, 45.5)])}


@pytest.fixture()
def data_dir(tmp_path):
    d = tmp_path / "data"
    (d / "meteorology" / "analysis").mkdir(parents=True)
    (d / "meteorology" / "forecast" / "2024010200").mkdir(parents=True)
    write_analysis(d / "meteorology" / "analysis" / "sfc_202401.grib2", TIMES, tp_rate=lambda t: 0.5)
    write_analysis(d / "meteorology" / "analysis" / "pl_202401.grib2", TIMES, names=(), levels=(850, 925))
    write_forecast(d / "meteorology" / "forecast" / "2024010200" / "run.grib2", "2024-01-02 00:00",
                   [0, 6, 12, 18, 24, 30, 36, 42, 48], tp_rate=lambda t: 1.0)
    (d / "meteorology" / "analysis" / "broken.grib2").write_bytes(b"GRIB" + b"\x00" * 100)
    return d


def brute_force(values, geom, lat, lon, step=0.01):
    minx, miny, maxx, maxy = geom.bounds
    X, Y = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    inside = shapely.contains_xy(geom, X, Y)
    X, Y = X[inside], Y[inside]
    i = np.rint((lat[0] - Y) / (lat[0] - lat[1])).astype(int)
    j = np.rint((X - lon[0]) / (lon[1] - lon[0])).astype(int)
    w = np.cos(np.deg2rad(Y))
    return float((values[i, j] * w).sum() / w.sum())


def ingest(data_dir, small_areas, monkeypatch, **kw):
    monkeypatch.setattr(areas, "boundaries", lambda table=None: small_areas)
    return meteorology.ingest(data_dir, cache=data_dir.parent / "cache", workers=1, **kw)


def test_area_means_units_and_bad_file(data_dir, small_areas, monkeypatch):
    met = ingest(data_dir, small_areas, monkeypatch)
    errors = met.errors
    assert len(errors) == 1 and errors[0]["file"].endswith("broken.grib2")
    s = met.summary()
    assert s["analysis_files"] == 2 and s["forecast_files"] == 1 and s["runs"] == 1 and s["failed"] == 1
    assert s["missing"] == []
    a = met.analysis.set_index(["area_id", "valid_time"])
    t = TIMES[5]
    for area, geom in small_areas.items():
        want = brute_force(field("2t", t) - 273.15, geom, GRID.lat, GRID.lon)
        assert a.loc[(area, t), "temp_air"] == pytest.approx(want, abs=0.02)
        want850 = brute_force(field("t", t, level=850) - 273.15, geom, GRID.lat, GRID.lon)
        assert a.loc[(area, t), "temp_850"] == pytest.approx(want850, abs=0.02)  # merged from the second file
        assert a.loc[(area, t), "precip"] == pytest.approx(3.0, abs=1e-3)
    r = met.runs
    assert set(r["init_time"]) == {pd.Timestamp("2024-01-02")}
    assert r["lead_hours"].max() == 48


def test_second_run_decodes_nothing(data_dir, small_areas, monkeypatch):
    first = ingest(data_dir, small_areas, monkeypatch)

    real = gribread.read_grib

    def no_decoding(path, **k):
        if "broken" not in str(path):  # only the failed file is tried again
            raise AssertionError(f"{path} decoded again")
        return real(path, **k)

    monkeypatch.setattr(gribread, "read_grib", no_decoding)
    second = ingest(data_dir, small_areas, monkeypatch)
    pd.testing.assert_frame_equal(first.analysis, second.analysis)
    pd.testing.assert_frame_equal(first.runs, second.runs)
    assert second.summary()["from_cache"] == 3  # the broken file is retried, and fails again
    assert len(second.errors) == 1


def test_changed_file_is_extracted_again(data_dir, small_areas, monkeypatch):
    ingest(data_dir, small_areas, monkeypatch)
    write_analysis(data_dir / "meteorology" / "analysis" / "sfc_202401.grib2", TIMES, tp_rate=lambda t: 1.0)
    met = ingest(data_dir, small_areas, monkeypatch)
    assert met.summary()["from_cache"] == 2
    assert met.analysis["precip"].dropna().round(3).eq(6.0).all()


def test_no_usable_file(tmp_path):
    d = tmp_path / "data" / "meteorology" / "analysis"
    d.mkdir(parents=True)
    (d / "junk.grib2").write_bytes(b"nothing")
    with pytest.raises(gribread.GribReadError, match="no usable GRIB file.*junk.grib2: not a GRIB file"):
        meteorology.ingest(tmp_path / "data", cache=tmp_path / "c", workers=1)
    with pytest.raises(ValueError, match="no GRIB files"):
        meteorology.ingest(tmp_path, cache=tmp_path / "c", workers=1)


def test_distributed_client_gives_the_same_result(data_dir, small_areas, monkeypatch):
    from distributed import Client, LocalCluster

    local = ingest(data_dir, small_areas, monkeypatch, refresh=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        remote = ingest(data_dir, small_areas, monkeypatch, refresh=True, client=client)
    pd.testing.assert_frame_equal(local.analysis, remote.analysis)
    pd.testing.assert_frame_equal(local.runs, remote.runs)
    assert remote.summary()["from_cache"] == 0 and remote.summary()["failed"] == 1


def test_reducing_scan_gives_the_series_of_the_full_read(data_dir, small_areas, monkeypatch):
    """Ingest's default reduces each message as it decodes it; reading each file's fields in full and reducing them
    afterwards gives the same series (to float32 rounding)."""
    fast = ingest(data_dir, small_areas, monkeypatch, refresh=True)
    full = ingest(data_dir, small_areas, monkeypatch, refresh=True, reduce=False)
    assert len(fast.analysis) == len(TIMES) * 2 and len(fast.runs) == 9 * 2
    pd.testing.assert_frame_equal(fast.analysis, full.analysis, rtol=1e-5, atol=1e-4)
    pd.testing.assert_frame_equal(fast.runs, full.runs, rtol=1e-5, atol=1e-4)
    assert [{k: v for k, v in r.items() if k != "cached"} for r in fast.files] == \
        [{k: v for k, v in r.items() if k != "cached"} for r in full.files]


def test_cli_ingest_on_a_scheduler_address(data_dir, small_areas, monkeypatch, capsys):
    """`lantian ingest --scheduler ADDRESS` runs the file tasks on that cluster's workers: the same series as a
    serial ingest; a scheduler that does not answer is one line on stderr."""
    from distributed import LocalCluster

    from lantian.cli import main

    monkeypatch.setattr(areas, "boundaries", lambda table=None, **kw: small_areas)  # the region's polygons
    serial, _ = meteorology.ingest_drivers(data_dir, at="areas", workers=1, cache=data_dir.parent / "serial")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        assert main(["ingest", "--data", str(data_dir), "--cache", str(data_dir.parent / "remote"), "--quiet",
                     "--at", "areas", "--scheduler", cluster.scheduler_address]) == 1  # 1: a file failed
        assert "4 GRIB file(s): 0 from cache, 1 failed" in capsys.readouterr().out
    cached, _ = meteorology.ingest_drivers(data_dir, at="areas", workers=1, cache=data_dir.parent / "remote")
    assert cached.summary()["from_cache"] == 3  # everything the cluster extracted is in the cache
    assert sorted(serial.analysis["area_id"].unique()) == ["poly", "rect"]
    pd.testing.assert_frame_equal(serial.analysis, cached.analysis)
    pd.testing.assert_frame_equal(serial.runs, cached.runs)
    assert main(["ingest", "--data", str(data_dir), "--quiet", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "dask scheduler tcp://127.0.0.1:9: cannot connect" in err and "Traceback" not in err
    assert main(["ingest", "--data", str(data_dir), "--quiet", "--workers", "0"]) == 2
    assert "--workers 0: need at least 1 worker process" in capsys.readouterr().err


def test_index_files_are_kept_private_not_in_the_data_folder(data_dir, small_areas, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    ingest(data_dir, small_areas, monkeypatch, engine="cfgrib")
    meteorology.map_fields(data_dir, "2024-01-02", cache=data_dir.parent / "cache")
    assert list((tmp_path / "xdg" / "lantian" / "grib-index").glob("*.idx"))
    assert not list(data_dir.rglob("*.idx")) and not list((data_dir.parent / "cache").rglob("*.idx"))


def test_open_fields_lazy_over_files(data_dir):
    files = sorted((data_dir / "meteorology" / "analysis").glob("[sp]*_202401.grib2"))
    ds = meteorology.open_fields(files)
    assert hasattr(ds["temp_air"].data, "dask") and {"temp_air", "temp_850", "blh"} <= set(ds.data_vars)
    assert float(ds["blh"].sel(valid_time=TIMES[2], lat=42.0, lon=110.0)) == pytest.approx(
        field("blh", TIMES[2])[4, 6], abs=0.01)


def test_map_fields_run_of_the_day_else_analyses(data_dir):
    ds = meteorology.map_fields(data_dir, "2024-01-02", cache=data_dir.parent / "cache")
    assert ds.attrs["kind"] == "forecast" and {"blh", "wind_speed", "inversion"} <= set(ds.data_vars)
    t = ds["valid_time"].values[2]
    point = ds.sel(valid_time=t, lat=42.0, lon=110.0)
    assert float(point["inversion"]) == pytest.approx(float(point["temp_850"] - point["temp_air"]), abs=1e-4)
    assert float(point["wind_speed"]) == pytest.approx(float(np.hypot(point["wind_u"], point["wind_v"])), abs=1e-4)
    ana = meteorology.map_fields(data_dir, "2024-01-01", cache=data_dir.parent / "cache")
    assert ana.attrs["kind"] == "analysis" and pd.Timestamp(ana["valid_time"].values[0]) == TIMES[0]
    with pytest.raises(meteorology.workspace.DataLayoutError, match="2024-06-01.*nothing to map"):
        meteorology.map_fields(data_dir, "2024-06-01", cache=data_dir.parent / "cache")


# ---- the demo world: the whole pipeline on simulated ERA5 and IFS files --------------------------------------------

@pytest.fixture(scope="session")
def winter_met(winter_world):
    return meteorology.ingest(winter_world, workers=2)


def test_demo_world_ingest(winter_met):
    s = winter_met.summary()
    assert s["failed"] == 0 and s["missing"] == []
    assert s["runs"] == 28
    assert set(winter_met.analysis["area_id"]) == set(areas.load_areas()["area_id"])
    by_day, by_lead = meteorology.daily(winter_met)
    assert by_day.index.get_level_values("date").nunique() >= 28
    assert by_lead.index.get_level_values("lead_day").max() == 7
    assert by_day["stagnation"].dropna().between(0, 3).all() and by_day["stagnation"].notna().mean() > 0.9


def test_demo_world_points_match_the_simulators_truth(winter_world):
    """Bilinear values at the area seats from the analysis GRIB equal the simulator's own values there (CST)."""
    truth = pd.read_parquet(winter_world / "truth" / "area_hourly.parquet")
    table = areas.load_areas()
    files = sorted((winter_world / "meteorology" / "analysis").glob("era5_sfc_*.grib2"))
    ds, _ = gribread.read_grib(files[0])
    pts = table.rename(columns={"area_id": "id", "seat_lon": "lon", "seat_lat": "lat"})
    w, ids = point_weights(ds["lat"].values, ds["lon"].values, pts)
    got = apply_weights(ds["temp_air"], w, ids, dim="area_id").to_series().rename("grib").reset_index()
    got["time"] = got["valid_time"] + pd.Timedelta(hours=8)  # UTC → CST
    t = truth.assign(time=pd.to_datetime(truth["time"]).dt.tz_localize(None))
    merged = got.merge(t[["time", "area_id", "temp_air"]], on=["time", "area_id"])
    assert len(merged) > 500
    diff = (merged["grib"] - merged["temp_air"]).abs()
    # 12-bit packing and bilinear interpolation; a few frontal passages (sharp gradients within a cell) differ more
    assert diff.median() < 0.05 and diff.quantile(0.98) < 0.1
    # an 8-hour slip would show: the diurnal cycle makes CST-vs-UTC mismatches large
    slipped = got.assign(time=got["valid_time"]).merge(t[["time", "area_id", "temp_air"]], on=["time", "area_id"])
    assert (slipped["grib"] - slipped["temp_air"]).abs().median() > 3 * diff.median()


def test_demo_world_drivers_relate_to_pollution(winter_world, winter_met):
    """Low ventilation days are the polluted days (the simulator's physics, found back through GRIB)."""
    by_day, _ = meteorology.daily(winter_met)
    truth = pd.read_csv(winter_world / "truth" / "area_daily.csv", parse_dates=["date"])
    truth["date"] = truth["date"].dt.date
    m = by_day.reset_index().merge(truth, on=["area_id", "date"])
    rho = m[["ventilation", "pm25_24h_actual"]].corr(method="spearman").iloc[0, 1]
    assert rho < -0.3


def test_a_region_far_from_inner_mongolia_ingests(tmp_path):
    """The grid is cut to the region's areas, not to a fixed Inner Mongolia box: Guangzhou (Guangdong) from an
    ERA5-like GRIB1 file of surface fields, hourly, on a grid a few cells wide around it."""
    from forecast import areas as areas_mod
    from simulate.grib import Grid
    from tests.forecast._grib import write_surface_hourly

    table = tmp_path / "areas.csv"
    table.write_text("area_id,name_zh,short_zh,name_en,tier,parent_id,gb,seat_lon,seat_lat\n"
                     "guangzhou,广州市,广州,Guangzhou,city,,156440100,113.26,23.13\n", encoding="utf-8")
    areas = areas_mod.load_areas(table)
    grid = Grid(west=112.0, east=115.0, south=22.0, north=25.0, step=0.25)
    times = pd.date_range("2024-01-01", periods=24, freq="h")
    shape = (len(times), len(grid.lat), len(grid.lon))
    (tmp_path / "meteorology" / "analysis").mkdir(parents=True)
    write_surface_hourly(tmp_path / "meteorology" / "analysis" / "era5_202401.grib",
                         times, grid, {"2t": np.full(shape, 288.15), "sp": np.full(shape, 101000.0)}, edition=1)
    met = meteorology.ingest(tmp_path, area_table=areas, at="areas", workers=1)
    assert not met.errors, met.errors
    assert met.analysis["area_id"].unique().tolist() == ["guangzhou"]
    np.testing.assert_allclose(met.analysis["temp_air"], 15.0, atol=0.01)
    np.testing.assert_allclose(met.analysis["pressure"], 1010.0, atol=0.01)


def test_a_data_folder_copied_with_its_times_keeps_its_extracted_series(data_dir, small_areas, monkeypatch):
    """The cache key is a file's folder/name, size and time, not its absolute path: a copy made with the times kept
    (cp -a) reads every series from the moved cache; a file touched since is extracted again."""
    import os
    import shutil

    monkeypatch.setattr(areas, "boundaries", lambda table=None, **kw: small_areas)
    first, _ = meteorology.ingest_drivers(data_dir, at="areas", workers=1, cache=data_dir.parent / "cache")
    assert first.summary()["from_cache"] == 0
    moved = data_dir.parent / "moved"
    shutil.copytree(data_dir, moved)  # copy2: times kept
    shutil.copytree(data_dir.parent / "cache", data_dir.parent / "moved_cache")
    again, _ = meteorology.ingest_drivers(moved, at="areas", workers=1, cache=data_dir.parent / "moved_cache")
    assert again.summary()["from_cache"] == 3
    pd.testing.assert_frame_equal(first.analysis, again.analysis)
    run = moved / "meteorology" / "forecast" / "2024010200" / "run.grib2"
    os.utime(run, ns=(run.stat().st_atime_ns, run.stat().st_mtime_ns + 10**9))
    touched, _ = meteorology.ingest_drivers(moved, at="areas", workers=1, cache=data_dir.parent / "moved_cache")
    assert touched.summary()["from_cache"] == 2


def test_a_cache_keyed_by_absolute_paths_is_renamed_not_extracted_again(data_dir, small_areas, monkeypatch):
    """Entries written under the former key (the absolute path) are taken over on first use, not re-extracted."""
    monkeypatch.setattr(areas, "boundaries", lambda table=None, **kw: small_areas)
    cache = data_dir.parent / "cache"
    first, _ = meteorology.ingest_drivers(data_dir, at="areas", workers=1, cache=cache)
    store = cache / "meteorology"
    sig = meteorology._areas_signature(meteorology.targets(data_dir, "areas"))
    renamed = 0
    for path in (data_dir / "meteorology").rglob("*.grib2"):
        new, old = meteorology._file_key(path, sig), meteorology._file_key(path, sig, absolute=True)
        for suffix in (".parquet", ".json"):
            if (store / f"{new}{suffix}").exists():
                (store / f"{new}{suffix}").rename(store / f"{old}{suffix}")
                renamed += 1
    assert renamed == 6  # the three good files' entries now sit under the former key only
    again, _ = meteorology.ingest_drivers(data_dir, at="areas", workers=1, cache=cache)
    assert again.summary()["from_cache"] == 3
    pd.testing.assert_frame_equal(first.analysis, again.analysis)
