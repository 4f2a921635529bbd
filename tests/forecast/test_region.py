"""A region as configuration: which folder applies, what falls back to the shipped files, the rules in force."""
import pytest

from forecast import levels
from forecast.region import REGION_ENV, RegionError, load_region

HEBEI = """area_id,name_zh,short_zh,name_en,tier,parent_id,gb,seat_lon,seat_lat
shijiazhuang,石家庄市,石家庄,Shijiazhuang,city,,156130100,114.51,38.04
baoding,保定市,保定,Baoding,city,,156130600,115.46,38.87
"""


@pytest.fixture()
def hebei(tmp_path):
    folder = tmp_path / "hebei"
    folder.mkdir()
    (folder / "areas.csv").write_text(HEBEI, encoding="utf-8")
    return folder


def test_shipped_region_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv(REGION_ENV, raising=False)
    r = load_region(data=tmp_path)
    assert r.is_shipped and "hohhot" in r.area_ids and r.rules_path is None


def test_which_folder_applies(hebei, tmp_path, monkeypatch):
    monkeypatch.delenv(REGION_ENV, raising=False)
    assert load_region(hebei).area_ids == ["shijiazhuang", "baoding"]
    data = tmp_path / "data"
    (data / "region").mkdir(parents=True)
    (data / "region" / "areas.csv").write_text(HEBEI, encoding="utf-8")
    assert load_region(data=data).area_ids == ["shijiazhuang", "baoding"]  # DIR/region/
    monkeypatch.setenv(REGION_ENV, str(hebei))
    assert load_region(data=tmp_path / "elsewhere").root == hebei  # the environment variable
    with pytest.raises(RegionError, match="no such region folder"):
        load_region(tmp_path / "missing")


def test_any_province_has_boundaries_and_neighbours(hebei):
    r = load_region(hebei)
    assert set(r.boundaries) == {"shijiazhuang", "baoding"}
    assert r.adjacency("city") == {"shijiazhuang": {"baoding"}, "baoding": {"shijiazhuang"}}  # they border


def test_a_region_without_rules_of_its_own_grades_with_the_national_rules_of_the_time(hebei):
    r = load_region(hebei)
    # Inner Mongolia adopted the 2024 grading on 2024-04-25 (its own history); nationally it is in force earlier
    assert levels.rules_in_force("2024-04-01") == "MEE-2019"
    with pytest.warns(levels.RulesFallbackWarning):
        assert r.rules_in_force("2024-04-01") == "MEE-2024"


def test_bad_files_name_themselves(hebei):
    (hebei / "plans.yaml").write_text("a: [1, 2", encoding="utf-8")
    with pytest.raises(RegionError, match="plans.yaml: not a readable YAML file"):
        load_region(hebei)
    (hebei / "plans.yaml").unlink()
    (hebei / "boundaries.geojson").write_text("{}", encoding="utf-8")
    with pytest.raises(RegionError, match="boundaries.geojson: not a GeoJSON FeatureCollection"):
        load_region(hebei)
