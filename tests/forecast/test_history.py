"""The parquet store of the station history and the cached orchestrator."""
import numpy as np
import pandas as pd
import pytest

from forecast import history as H
from tests.forecast._archive import read_archive, write_archive


@pytest.fixture
def archive(tmp_path):
    return write_archive(tmp_path / "data")


def test_store_round_trip_and_failed_write_keeps_old(tmp_path, archive, monkeypatch):
    history, _, _, _ = read_archive(archive)
    path = H.save_history(history, tmp_path / "h.parquet")
    back = H.load_history(path)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), history.reset_index(drop=True), check_dtype=False)

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError):
        H.save_history(history.iloc[:5], path)
    assert len(H.load_history(path)) == len(history)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_load_history_rejects_foreign_file(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_text("not parquet")
    with pytest.raises(H.StationDataError, match="cannot read station history"):
        H.load_history(p)


def test_load_history_rejects_parquet_without_history_columns(tmp_path):
    p = tmp_path / "x.parquet"
    pd.DataFrame({"time": [1], "value": [2.0]}).to_parquet(p)
    with pytest.raises(H.StationDataError, match=r"missing \['station', 'area_id', 'pollutant'\]"):
        H.load_history(p)


def test_build_history_reuses_cache_until_files_change(archive, tmp_path):
    cache = tmp_path / "cache"
    first, sites, meta = H.build_history(archive, cache=cache)
    assert not meta["cached"] and meta["files"] == 4 and meta["rows"] == len(first)
    again, _, meta = H.build_history(archive, cache=cache)
    assert meta["cached"]
    pd.testing.assert_frame_equal(again, first, check_dtype=False)
    (archive / "stations" / "china_sites_20240104.csv").unlink()
    fewer, _, meta = H.build_history(archive, cache=cache)
    assert not meta["cached"] and meta["files"] == 3 and len(fewer) < len(first)


def test_build_history_without_archive_files(archive, tmp_path):
    for f in (archive / "stations").glob("china_sites_*.csv"):
        f.unlink()
    with pytest.raises(H.StationDataError, match="no china_sites_YYYYMMDD.csv files"):
        H.build_history(archive, cache=tmp_path / "cache")


def test_area_table_filters_areas(archive, tmp_path):
    table = H.area_table(archive, cache=tmp_path / "cache", areas=["baotou"])
    assert set(table["area_id"]) == {"baotou"} and table["aqi"].notna().any()


def _with_hebei(sites):
    extra = pd.DataFrame({"监测点编码": [f"{1100 + i}A" for i in range(7)], "监测点名称": [f"s{i}" for i in range(7)],
                          "城市": ["石家庄"] * 4 + ["保定"] * 3, "经度": [114.5] * 7, "纬度": [38.0] * 7,
                          "对照点": ["N"] * 7})
    return pd.concat([sites, extra], ignore_index=True)


def test_report_names_stations_outside_the_areas_once(tmp_path):
    from tests.forecast._archive import SITES, write_constant_archive

    sites = _with_hebei(SITES)
    data = write_constant_archive(tmp_path / "data", {c: 50.0 for c in sites["监测点编码"]}, sites=sites,
                                  others={"PM10": 80, "SO2": 10, "NO2": 30, "CO": 0.5, "O3": 60})
    cache = tmp_path / "cache"
    history, kept, meta = H.build_history(data, cache=cache)
    entry = {"file": str(data / "stations" / "sites.csv"), "row": None, "action": "stations dropped",
             "problem": "stations of cities not in the area table: 石家庄 (4), 保定 (3)"}
    assert meta["skipped"] == [entry]  # one entry, no per-file notes for their archive columns
    assert len(kept) == 4 and set(history["station"]) <= set(kept["station"])
    log = pd.read_csv(cache / "read_log.csv")
    assert log["problem"].tolist() == [entry["problem"]] and log["action"].tolist() == ["stations dropped"]
    assert H.report_lines(meta) == [f"{entry['file']}: {entry['problem']} — dropped"]
    assert meta["pollutants"] == ["pm25", "pm10", "so2", "no2", "co", "o3"] and meta["notes"] == []
    _, _, again = H.build_history(data, cache=cache)
    assert again["cached"] and H.report_lines(again) == H.report_lines(meta)
    assert H.last_report(data, cache)["skipped"] == [entry]


def test_report_lines_name_rows_dated_otherwise_than_their_file(archive, tmp_path):
    path = archive / "stations" / "china_sites_20240102.csv"
    lines = path.read_text().splitlines()
    moved = [i for i, line in enumerate(lines) if line.startswith("20240102,5,")]
    for i in moved:
        lines[i] = lines[i].replace("20240102", "20230102", 1)  # a stale row of a year earlier
    path.write_text("\n".join(lines) + "\n")
    _, _, meta = H.build_history(archive, cache=tmp_path / "cache")
    [line] = H.report_lines(meta)
    assert line.startswith(f"{path}: {len(moved)} row(s) dated otherwise than the file (line {moved[0] + 1}: row "
                           "dated 2023-01-02 in the file of 2024-01-02 …) — skipped, not moved")
    _, _, again = H.build_history(archive, cache=tmp_path / "cache")
    assert again["cached"] and H.report_lines(again) == [line]


def test_changed_station_list_rebuilds_the_store(archive, tmp_path):
    cache = tmp_path / "cache"
    H.build_history(archive, cache=cache)
    path = archive / "stations" / "sites.csv"
    path.write_text(path.read_text().replace("包头", "呼和浩特"))  # 1003A moves to Hohhot
    history, _, meta = H.build_history(archive, cache=cache)
    assert not meta["cached"] and set(history["area_id"]) == {"hohhot"}


def test_pm25_only_archive_report_notes_partial_aqi_and_no_dust(tmp_path):
    from tests.forecast._archive import write_constant_archive

    data = write_constant_archive(tmp_path / "data", {"1001A": 80.0, "1003A": 40.0})
    _, _, meta = H.build_history(data, cache=tmp_path / "cache")
    assert meta["pollutants"] == ["pm25"]
    assert meta["notes"] == [
        "the archive carries PM2.5 only (no PM10, SO2, NO2, CO, O3): every daily AQI is a partial AQI, the largest "
        "IAQI of PM2.5 (a lower bound of the full AQI; flagged aqi_partial in the area tables); without PM10 no day "
        "is flagged dust-dominated (the dust test needs PM10's IAQI and PM2.5/PM10); QC check not applied: "
        "pm25_gt_pm10 (no PM10 values)"]
    table = H.area_table(data, cache=tmp_path / "cache")
    assert table.loc[table["aqi"].notna(), "aqi_partial"].all()


def test_coverage_notes():
    assert H.coverage_notes(["pm25", "pm10", "so2", "no2", "co", "o3"]) == []
    assert H.coverage_notes([]) == ["the archive holds no hourly value of any species: no AQI can be computed"]
    (note,) = H.coverage_notes(["pm10", "pm25"])
    assert note.startswith("the archive carries PM2.5, PM10 only (no SO2, NO2, CO, O3)") and "dust" not in note


def test_no_station_in_any_area_stops_the_build(tmp_path):
    from tests.forecast._archive import SITES, write_constant_archive

    data = write_constant_archive(tmp_path / "data", {"1001A": 50.0}, sites=SITES.assign(城市="石家庄"))
    with pytest.raises(H.StationDataError, match=r"none of its 4 stations is in an area of the area table "
                                                 r"\(cities found: 石家庄 \(4\)\)"):
        H.build_history(data, cache=tmp_path / "cache")


# ------------------------------------------------------------------------------- area observations kept in the workspace
def _write_days(root, days, *, seed=1):
    """Daily CNEMC files for ``days`` (the rows of a day depend on the day only, so a file written again for the
    same day is the same file)."""
    from simulate.cnemc import write_cnemc_day
    from tests.forecast._archive import CODES, hourly_values

    for day in pd.DatetimeIndex(days):
        rng = np.random.default_rng(seed + day.day_of_year)
        write_cnemc_day(root / "stations" / f"china_sites_{day:%Y%m%d}.csv", day,
                        hourly_values(day.day_of_year % 7, rng), CODES)


@pytest.fixture
def long_archive(tmp_path):
    from tests.forecast._archive import SITES, write_region

    root = tmp_path / "data"
    write_region(root)
    (root / "stations").mkdir(parents=True)
    SITES.to_csv(root / "stations" / "sites.csv", index=False)
    _write_days(root, pd.date_range("2024-01-01", "2024-01-10"))
    return root


def _observe(root, **kw):
    from tests.forecast._archive import areas

    return H.area_observations(root, cache=root / "ws", areas=areas(), **kw)


def _from_scratch(root):
    """The observations derived from the whole history, without any kept table."""
    from forecast import features
    from tests.forecast._archive import areas

    history, sites, _ = H.build_history(root, cache=root / "scratch", areas=areas())
    return features.observations(history, sites)


def _assert_same(a, b):
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.rolling, b.rolling, check_freq=False)
    assert sorted(a.hourly) == sorted(b.hourly)
    for p in a.hourly:
        pd.testing.assert_frame_equal(a.hourly[p], b.hourly[p], check_freq=False)
    assert a.pollutants == b.pollutants


def test_observations_kept_are_read_back_without_the_history(long_archive, monkeypatch):
    first, sites, meta = _observe(long_archive)
    assert meta["observations"] == "derived"

    def no_history(*a, **k):
        raise AssertionError("the station history was read")
    monkeypatch.setattr(H, "build_history", no_history)
    again, sites2, meta2 = _observe(long_archive)
    assert meta2["observations"] == "cached" and meta2["cached"] is True
    _assert_same(again, first)
    pd.testing.assert_frame_equal(sites2, sites)
    monkeypatch.undo()
    _assert_same(again, _from_scratch(long_archive))


def test_appended_day_derives_only_the_new_hours_and_equals_a_run_from_scratch(long_archive, monkeypatch):
    from forecast import features

    _observe(long_archive)
    _write_days(long_archive, ["2024-01-11"])  # its 00:00 value is the last hour of 2024-01-10
    seen = []
    real = features.observations
    monkeypatch.setattr(features, "observations", lambda h, *a, **k: seen.append(h["time"].min()) or real(h, *a, **k))
    obs, _, meta = _observe(long_archive)
    assert meta["observations"] == "updated from 2024-01-10"
    assert seen == [pd.Timestamp("2024-01-07 01:00", tz="Asia/Shanghai")]  # the changed day and the 3 before it
    monkeypatch.setattr(features, "observations", real)
    _assert_same(obs, _from_scratch(long_archive))
    assert obs.rolling.index.max() == pd.Timestamp("2024-01-11 23:00", tz="Asia/Shanghai")


def test_a_changed_file_in_the_middle_derives_from_its_day(long_archive):
    _observe(long_archive)
    _write_days(long_archive, ["2024-01-05"], seed=99)
    obs, _, meta = _observe(long_archive)
    assert meta["observations"] == "updated from 2024-01-04"  # the file's 00:00 value ends 2024-01-04
    _assert_same(obs, _from_scratch(long_archive))


def test_a_touched_file_with_the_same_rows_keeps_the_tables(long_archive):
    import os

    _observe(long_archive)
    path = long_archive / "stations" / "china_sites_20240103.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    obs, _, meta = _observe(long_archive)
    assert meta["observations"] == "cached" and meta["cached"] is False  # the history was read again
    _assert_same(obs, _from_scratch(long_archive))


@pytest.mark.parametrize("damage", ["manifest", "table", "missing"])
def test_a_damaged_keep_is_derived_again_with_a_note(long_archive, damage):
    _observe(long_archive)
    odir = long_archive / "ws" / "observations"
    gen = next(odir.glob("gen-*"))
    if damage == "manifest":
        (odir / "manifest.json").write_text("{not json")
    elif damage == "table":
        (gen / "rolling.parquet").write_bytes(b"PAR1 garbage")
    else:
        (gen / "daily.parquet").unlink()
    with pytest.warns(H.CacheNote, match="derived again"):
        obs, _, meta = _observe(long_archive)
    assert meta["observations"] == "derived" and meta["cache_notes"]
    _assert_same(obs, _from_scratch(long_archive))
    assert _observe(long_archive)[2]["observations"] == "cached"  # and kept again


def test_a_keep_from_another_code_version_is_ignored(long_archive, monkeypatch):
    import warnings

    _observe(long_archive)
    monkeypatch.setattr(H, "_code_version", lambda: "another version")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs, _, meta = _observe(long_archive)
    assert meta["observations"] == "derived"
    _assert_same(obs, _from_scratch(long_archive))


def test_another_station_list_is_derived_again(long_archive):
    from tests.forecast._archive import SITES

    _observe(long_archive)
    SITES.assign(对照点=["N", "N", "N", "N"]).to_csv(long_archive / "stations" / "sites.csv", index=False)
    obs, _, meta = _observe(long_archive)
    assert meta["observations"] == "derived"
    _assert_same(obs, _from_scratch(long_archive))


def test_day_digest_changes_with_any_row_of_the_day_only(long_archive):
    history, _, _ = H.build_history(long_archive, cache=long_archive / "x")
    base = H._day_hashes(history)
    changed = history.copy()
    i = int(np.flatnonzero(changed["time"] == pd.Timestamp("2024-01-05 00:00", tz="Asia/Shanghai"))[0])
    changed.loc[changed.index[i], "value"] += 1
    other = H._day_hashes(changed)
    assert (base != other).tolist() == [d == pd.Timestamp("2024-01-04") for d in base.index]
    assert H._first_changed_day(base, other) == pd.Timestamp("2024-01-04")
    shuffled = H._day_hashes(history.sample(frac=1, random_state=0))
    assert H._first_changed_day(base, shuffled) is None


def test_forecast_is_the_same_with_and_without_the_kept_tables(winter_world, winter_model, winter_inputs):
    """A forecast from inputs read back from the workspace equals one from inputs derived from scratch (the whole
    station history through :func:`forecast.features.observations`, the meteorology through ingest)."""
    import shutil

    from forecast import features, forecasting, meteorology
    from forecast import model as M
    from forecast.region import load_region

    ws = winter_world / ".lantian"
    for kept in ("observations", "drivers"):
        shutil.rmtree(ws / kept, ignore_errors=True)
    cold = forecasting.load_inputs(winter_world)
    warm = forecasting.load_inputs(winter_world)
    assert (cold.history_meta["observations"], warm.history_meta["observations"]) == ("derived", "cached")
    region = load_region(data=winter_world)
    history, sites, meta = H.build_history(winter_world, areas=region.areas)
    met = meteorology.ingest(winter_world, at="stations", area_table=region.areas)
    scratch = forecasting.Inputs(features.observations(history, sites), *meteorology.daily(met), met.summary(),
                                 meta, region)
    _assert_same(warm.obs, scratch.obs)
    pd.testing.assert_frame_equal(warm.met_daily, scratch.met_daily)
    pd.testing.assert_frame_equal(warm.met_lead, scratch.met_lead)
    assert warm.met_summary == scratch.met_summary
    model, clim = M.Forecaster.load(winter_model), forecasting._climatology(winter_model)
    tables = [forecasting.forecast_table(model, inputs, ["2023-12-22"], clim) for inputs in (cold, warm, scratch)]
    pd.testing.assert_frame_equal(tables[1], tables[2])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def test_day_digest_does_not_depend_on_the_chunks(long_archive):
    history, _, _ = H.build_history(long_archive, cache=long_archive / "x")
    whole = H._day_hashes(history)
    pd.testing.assert_series_equal(H._day_hashes(history, chunk=997), whole)
    assert len(whole) == 11 and whole.dtype == "uint64"


# ------------------------------------------------------------------------------- the history itself, incrementally
def _set_pm25(root, day, hours, code, value):
    """Overwrite ``code``'s PM2.5 at ``hours`` of ``day``'s file (a sensor stuck at ``value``)."""
    path = root / "stations" / f"china_sites_{pd.Timestamp(day):%Y%m%d}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = (frame["type"] == "PM2.5") & frame["hour"].astype(int).isin(hours)
    frame.loc[rows, code] = str(value)
    frame.to_csv(path, index=False)


def _build(root, cache):
    from tests.forecast._archive import areas

    return H.build_history(root, cache=root / cache, areas=areas())


def _removed_summary(root, cache):
    removed = pd.read_csv(root / cache / "qc_removed.csv")
    return removed.sort_values(["time", "station", "pollutant", "reason"]).reset_index(drop=True)


def test_an_appended_day_parses_only_its_file_and_equals_a_build_from_scratch(long_archive, monkeypatch):
    from forecast import cnemc

    # 1001A's PM2.5 stuck from 2024-01-10 16:00: 8 hours, not yet a stuck sensor (12 h) …
    _set_pm25(long_archive, "2024-01-10", range(16, 24), "1001A", 55.5)
    first, _, meta = _build(long_archive, "ws")
    assert meta["files_parsed"] == 10 and meta["derived_from"] is None
    stuck_before = first[(first["station"] == "1001A") & (first["pollutant"] == "pm25") & (first["value"] == 55.5)]
    assert len(stuck_before) == 8
    # … and 6 more hours in the appended day: 14 hours, all removed — also the 8 hours of the day kept before
    _write_days(long_archive, ["2024-01-11"])
    _set_pm25(long_archive, "2024-01-11", range(0, 6), "1001A", 55.5)
    parsed = []
    real = cnemc._validate_lines
    monkeypatch.setattr(cnemc, "_validate_lines", lambda path, log: parsed.append(path.name) or real(path, log))
    again, _, meta = _build(long_archive, "ws")
    assert parsed == ["china_sites_20240111.csv"] and meta["files_parsed"] == 1
    assert meta["derived_from"] == "2024-01-10 00:00:00" and not meta["cached"]
    monkeypatch.undo()
    scratch, _, meta_scratch = _build(long_archive, "scratch")
    pd.testing.assert_frame_equal(again, scratch)
    assert meta["removed"] == meta_scratch["removed"] and meta["files_read"] == meta_scratch["files_read"] == 11
    pd.testing.assert_frame_equal(_removed_summary(long_archive, "ws"), _removed_summary(long_archive, "scratch"))
    assert not ((again["station"] == "1001A") & (again["pollutant"] == "pm25") & (again["value"] == 55.5)).any()
    assert again["time"].max() == pd.Timestamp("2024-01-11 23:00", tz="Asia/Shanghai")


def test_a_changed_file_is_parsed_alone_and_a_removed_one_drops_its_rows(long_archive, monkeypatch):
    from forecast import cnemc

    _build(long_archive, "ws")
    _write_days(long_archive, ["2024-01-05"], seed=99)
    (long_archive / "stations" / "china_sites_20240108.csv").unlink()
    parsed = []
    real = cnemc._validate_lines
    monkeypatch.setattr(cnemc, "_validate_lines", lambda path, log: parsed.append(path.name) or real(path, log))
    again, _, meta = _build(long_archive, "ws")
    assert parsed == ["china_sites_20240105.csv"] and meta["derived_from"] == "2024-01-04 00:00:00"
    monkeypatch.undo()
    scratch, _, _ = _build(long_archive, "scratch")
    pd.testing.assert_frame_equal(again, scratch)
    days = again["time"].dt.floor("D").dt.day.unique()
    assert 8 not in days and 9 in days


def test_a_damaged_month_is_parsed_again(long_archive):
    _build(long_archive, "ws")
    (long_archive / "ws" / "history_raw" / "202401.parquet").write_bytes(b"PAR1 garbage")
    _write_days(long_archive, ["2024-01-11"])
    again, _, meta = _build(long_archive, "ws")
    assert meta["files_parsed"] == 11
    pd.testing.assert_frame_equal(again, _build(long_archive, "scratch")[0])


def test_qc_by_chunks_equals_qc_of_everything(long_archive):
    """Chunks of one day, with runs of identical values across their boundaries, give the QC of the whole."""
    from forecast import qc

    _set_pm25(long_archive, "2024-01-03", range(20, 24), "1002A", 70.5)
    _set_pm25(long_archive, "2024-01-04", range(0, 24), "1002A", 70.5)  # 28 h across two day starts
    _set_pm25(long_archive, "2024-01-05", range(0, 3), "1002A", 70.5)
    _set_pm25(long_archive, "2024-01-06", range(18, 24), "1003A", 80.5)  # 6 h + 6 h: stuck only together
    _set_pm25(long_archive, "2024-01-07", range(0, 6), "1003A", 80.5)
    _build(long_archive, "ws")
    raw = pd.read_parquet(long_archive / "ws" / "history_raw" / "202401.parquet")
    raw = raw.astype({c: "string" for c in ("station", "area_id", "pollutant")})
    day = raw["time"].dt.tz_localize(None).dt.floor("D")
    chunks = [raw[day == d] for d in sorted(day.unique())]
    clean, removed = zip(*H._qc_chunks(chunks))
    whole, whole_removed = qc.quality_control(raw)
    pd.testing.assert_frame_equal(H._sorted(pd.concat(clean)), H._sorted(whole))
    assert len(pd.concat(removed)) == len(whole_removed)
    stuck = whole_removed[whole_removed["reason"] == "stuck"]
    assert ((stuck["station"] == "1002A") & (stuck["value"] == 70.5)).sum() == 31
    assert ((stuck["station"] == "1003A") & (stuck["value"] == 80.5)).sum() == 12
    runs = H._raw_runs(raw)
    assert H._cut(runs, [pd.Timestamp("2024-01-05").value], before=pd.Timestamp("2024-01-05 02:00").value) is None
    assert H._cut(runs, [pd.Timestamp("2024-01-05").value], before=pd.Timestamp("2024-01-06").value) == \
        (pd.Timestamp("2024-01-05").value, pd.Timestamp("2024-01-03 20:00").value)


def test_drivers_are_read_back_without_listing_the_grib_files(winter_world, winter_inputs, monkeypatch):
    """While no file under meteorology/, the station list or the area table changed, the kept daily drivers are read
    back without the GRIB machinery; any new file there sends the run through it again."""
    from forecast import forecasting, meteorology

    forecasting.load_inputs(winter_world)

    def listed(*a, **k):
        raise AssertionError("the GRIB files were listed")
    monkeypatch.setattr(meteorology, "grib_files", listed)
    warm = forecasting.load_inputs(winter_world)
    pd.testing.assert_frame_equal(warm.met_daily, winter_inputs.met_daily)
    pd.testing.assert_frame_equal(warm.met_lead, winter_inputs.met_lead)
    extra = winter_world / "meteorology" / "analysis" / "README.txt"
    extra.write_text("not a GRIB file")
    try:
        with pytest.raises(AssertionError, match="listed"):
            forecasting.load_inputs(winter_world)
    finally:
        extra.unlink()
    assert forecasting.load_inputs(winter_world).met_summary == warm.met_summary
