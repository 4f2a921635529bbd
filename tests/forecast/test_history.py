"""The parquet store of the station history and the cached orchestrator."""
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
