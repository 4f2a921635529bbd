"""The forecast archive: one file per model version and issue date, written atomically; versions are names."""
import pandas as pd
import pytest

from forecast import archive


def table():
    return pd.DataFrame({"area_id": ["baotou"], "lead": [1], "aqi_q50": [180.0]})


def test_store_and_read_back(tmp_path):
    path = archive.store(table(), tmp_path, "20241231-abcd1234", "2025-01-05", cache=tmp_path / "c")
    assert path.name == "20250105.parquet" and not list(path.parent.glob("*.tmp"))
    back = archive.archived_forecasts(tmp_path, cache=tmp_path / "c")
    assert back["aqi_q50"].tolist() == [180.0] and "issued_at" in back


@pytest.mark.parametrize("version", ["/tmp/evil", "../up", "a/b", "", ".hidden", "x" * 101])
def test_a_version_is_never_a_path(tmp_path, version):
    with pytest.raises(archive.ArchiveError, match="cannot name an archive folder"):
        archive.store(table(), tmp_path, version, "2025-01-05", cache=tmp_path / "c")
    assert not (tmp_path / "evil").exists()


def test_a_link_planted_in_the_archive_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (archive.archive_dir(tmp_path, cache=tmp_path / "c") / "v1").symlink_to(outside)
    with pytest.raises(archive.ArchiveError, match="leads outside the archive"):
        archive.store(table(), tmp_path, "v1", "2025-01-05", cache=tmp_path / "c")
    assert not list(outside.iterdir())
