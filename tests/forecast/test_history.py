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
