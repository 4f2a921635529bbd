"""Area-mean and point weights, checked against independent computations."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import shapely
from shapely.geometry import MultiPoint, Polygon, box

from forecast import areas
from forecast.extraction import (ExtractionError, GridKey, apply_weights, extract, point_weights, polygon_weights,
                                 target_weights)

LAT = np.arange(46.0, 37.9, -1.0)  # north → south, as GRIB scans
LON = np.arange(104.0, 116.1, 1.0)


def grid_field(f):
    lon, lat = np.meshgrid(LON, LAT)
    return xr.DataArray(f(lon, lat)[None], dims=("valid_time", "lat", "lon"),
                        coords={"valid_time": [np.datetime64("2024-01-01")], "lat": LAT, "lon": LON})


def brute_force_mean(values, geom, step=0.01):
    """Independent area mean: sample the polygon on a fine lattice, take each sample's grid-cell value, weight by
    cos(latitude)."""
    import shapely

    minx, miny, maxx, maxy = geom.bounds
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step)
    X, Y = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(geom, X, Y)
    X, Y = X[inside], Y[inside]
    i = np.rint((LAT[0] - Y) / 1.0).astype(int)
    j = np.rint((X - LON[0]) / 1.0).astype(int)
    w = np.cos(np.deg2rad(Y))
    return float((values[i, j] * w).sum() / w.sum())


def test_whole_cells_box_equals_cos_weighted_mean():
    geom = box(105.5, 39.5, 108.5, 42.5)  # exactly cells lon 106–108, lat 40–42
    w, ids = polygon_weights(LAT, LON, {"a": geom})
    f = grid_field(lambda lon, lat: lon * 10 + lat)
    got = float(apply_weights(f, w, ids).values[0, 0])
    lon, lat = np.meshgrid([106.0, 107.0, 108.0], [40.0, 41.0, 42.0])
    cw = np.cos(np.deg2rad(lat))
    assert got == pytest.approx(((lon * 10 + lat) * cw).sum() / cw.sum(), rel=1e-12)
    assert w.sum(axis=1).A1 == pytest.approx([1.0])


def test_irregular_polygon_matches_brute_force():
    geom = Polygon([(104.8, 38.7), (111.3, 39.4), (113.9, 44.2), (108.2, 45.6), (105.1, 42.0)])
    f = grid_field(lambda lon, lat: np.sin(lon) * 5 + lat ** 1.5)
    w, ids = polygon_weights(LAT, LON, {"poly": geom})
    got = float(apply_weights(f, w, ids).values[0, 0])
    assert got == pytest.approx(brute_force_mean(f.values[0], geom), rel=2e-3)


def test_small_area_inside_one_cell_gets_that_cell():
    geom = box(109.7, 41.8, 109.9, 42.1)  # within the cell centred at (110, 42)
    w, ids = polygon_weights(LAT, LON, {"tiny": geom})
    f = grid_field(lambda lon, lat: lon + 100 * lat)
    assert float(apply_weights(f, w, ids).values[0, 0]) == pytest.approx(110 + 4200)


def test_missing_cells_renormalised():
    geom = box(105.5, 39.5, 107.5, 40.5)  # cells (40,106), (40,107)
    w, ids = polygon_weights(LAT, LON, {"a": geom})
    f = grid_field(lambda lon, lat: lon)
    f.loc[dict(lat=40.0, lon=106.0)] = np.nan
    assert float(apply_weights(f, w, ids).values[0, 0]) == pytest.approx(107.0)
    f.loc[dict(lat=40.0, lon=107.0)] = np.nan
    assert np.isnan(apply_weights(f, w, ids).values[0, 0])


def test_area_outside_grid():
    with pytest.raises(ExtractionError, match="area far: outside the grid"):
        polygon_weights(LAT, LON, {"far": box(20, 20, 21, 21)})


def test_bilinear_exact_for_bilinear_field_on_descending_grid():
    pts = pd.DataFrame({"id": ["p1", "p2", "p3"], "lon": [104.0, 109.37, 115.99], "lat": [46.0, 41.21, 38.02]})
    w, ids = point_weights(LAT, LON, pts)
    f = grid_field(lambda lon, lat: 3 + 2 * lon - 0.5 * lat + 0.01 * lon * lat)
    got = apply_weights(f, w, ids, dim="id").values[0]
    want = 3 + 2 * pts["lon"] - 0.5 * pts["lat"] + 0.01 * pts["lon"] * pts["lat"]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # and on an ascending grid
    w2, _ = point_weights(LAT[::-1], LON, pts)
    got2 = apply_weights(f.isel(lat=slice(None, None, -1)), w2, ids, dim="id").values[0]
    np.testing.assert_allclose(got2, want, rtol=1e-12)


def test_point_outside_grid():
    with pytest.raises(ExtractionError, match="point longitude 130 outside the grid"):
        point_weights(LAT, LON, pd.DataFrame({"id": ["x"], "lon": [130.0], "lat": [40.0]}))


def test_non_monotonic_grid_refused():
    with pytest.raises(ExtractionError, match="grid lon is not monotonic"):
        GridKey.of(LAT, np.array([100.0, 101.0, 100.5]))


GAUSS = np.array([46.3, 45.2, 44.05, 42.95, 41.8, 40.7, 39.55, 38.45])  # not evenly spaced, north → south


def test_gridkey_keeps_irregular_and_2d_coordinates():
    key = GridKey.of(GAUSS, LON)
    assert key.nodes and key == GridKey.of(GAUSS.copy(), LON.copy())
    lat, lon = key.coordinates()
    np.testing.assert_array_equal(lat, GAUSS)
    np.testing.assert_array_equal(lon, LON)
    lat2, lon2 = np.meshgrid(GAUSS, LON, indexing="ij")
    lat, lon = GridKey.of(lat2, lon2).coordinates()
    np.testing.assert_array_equal(lat, lat2)
    regular = GridKey.of(LAT, LON)
    assert not regular.nodes
    np.testing.assert_allclose(regular.coordinates()[0], LAT)


def test_gaussian_cells_use_the_actual_latitudes():
    """Each cell reaches halfway to its neighbours: a box over whole cells weights them by their own height."""
    mid = (GAUSS[1:] + GAUSS[:-1]) / 2
    geom = box(105.5, mid[4], 108.5, mid[1])  # rows 2–4 (44.05, 42.95, 41.8), lon 106–108
    w, ids = polygon_weights(GAUSS, LON, {"a": geom})
    rows = np.array([2, 3, 4])
    height = mid[rows - 1] - mid[rows]
    want = np.repeat(height * np.cos(np.deg2rad(GAUSS[rows])), 3)
    want /= want.sum()
    cols = (rows[:, None] * LON.size + np.array([2, 3, 4])[None, :]).ravel()
    np.testing.assert_allclose(w.toarray()[0, cols], want, rtol=1e-9)
    assert w.toarray()[0].sum() == pytest.approx(1.0)
    assert not np.allclose(want, want[0])


def test_bilinear_on_gaussian_latitudes_exact():
    pts = pd.DataFrame({"id": ["p"], "lon": [109.37], "lat": [42.1]})
    w, ids = point_weights(GAUSS, LON, pts)
    lon, lat = np.meshgrid(LON, GAUSS)
    f = xr.DataArray((3 + 2 * lon - 0.5 * lat + 0.01 * lon * lat)[None], dims=("valid_time", "lat", "lon"),
                     coords={"valid_time": [np.datetime64("2024-01-01")], "lat": GAUSS, "lon": LON})
    got = apply_weights(f, w, ids, dim="id").item()
    assert got == pytest.approx(3 + 2 * 109.37 - 0.5 * 42.1 + 0.01 * 109.37 * 42.1, rel=1e-12)


def test_area_smaller_than_a_cell_takes_the_bilinear_value_at_its_representative_point():
    geom = box(109.7, 41.8, 109.9, 42.1)
    f = grid_field(lambda lon, lat: lon + 100 * lat)
    w, ids = target_weights(LAT, LON, {"tiny": geom, "big": box(105.5, 39.5, 108.5, 42.5)})
    got = apply_weights(f, w, ids).isel(valid_time=0).values
    c = geom.centroid
    assert got[0] == pytest.approx(c.x + 100 * c.y)  # bilinear is exact for this field
    assert w.methods == {"tiny": "bilinear at the area's representative point (area smaller than a grid cell)",
                         "big": "area mean"}
    # and the table says so
    ds = xr.Dataset({"wind_u": f})
    assert extract(ds, w, ids).attrs["extraction"] == w.methods


def test_area_partly_covered_takes_its_stations_or_the_covered_part():
    lon_small = np.array([104.0, 105.0, 106.0])
    lat_small = np.array([46.0, 45.0, 44.0])
    f = xr.DataArray((lambda lo, la: lo + 10 * la)(*np.meshgrid(lon_small, lat_small))[None],
                     dims=("valid_time", "lat", "lon"),
                     coords={"valid_time": [np.datetime64("2024-01-01")], "lat": lat_small, "lon": lon_small})
    league = box(104.0, 40.0, 112.0, 46.0)  # the grid covers a corner; its representative point is off the grid
    stations = MultiPoint([(105.2, 45.1), (120.0, 40.0)])  # one station on the grid, one off it
    w, ids = target_weights(lat_small, lon_small, {"a": league}, stations={"a": stations})
    assert apply_weights(f, w, ids).item() == pytest.approx(105.2 + 451.0)
    assert w.methods["a"].startswith("bilinear at 1 of the area's stations (the grid covers")
    w, ids = target_weights(lat_small, lon_small, {"a": league})
    assert w.methods["a"].startswith("mean over the covered part (the grid covers")
    covered, _ = polygon_weights(lat_small, lon_small, {"a": league})
    np.testing.assert_allclose(w.toarray(), covered.toarray())
    # mostly covered: still the area mean, said to be over the covered part
    w, ids = target_weights(LAT, LON, {"edge": box(113.0, 40.0, 117.0, 42.0)})
    assert w.methods["edge"] == "area mean over the 88% the grid covers"  # cells reach 116.5°E


def test_projected_grid_points_inside_and_fallback():
    """2-D coordinates: mean of the points inside; no point inside → linear at the representative point."""
    lon2, lat2 = np.meshgrid(LON, LAT)
    lon2 = lon2 + 0.1 * (lat2 - 42)  # a sheared (curvilinear) grid
    f = xr.DataArray((2 * lon2 - 0.5 * lat2)[None], dims=("valid_time", "y", "x"),
                     coords={"valid_time": [np.datetime64("2024-01-01")], "lat": (("y", "x"), lat2),
                             "lon": (("y", "x"), lon2)})
    big = box(105.5, 39.5, 110.5, 43.5)
    tiny = box(109.5, 41.6, 109.7, 41.8)
    w, ids = target_weights(lat2, lon2, {"big": big, "tiny": tiny})
    got = apply_weights(f, w, ids).isel(valid_time=0).values
    inside = shapely.contains_xy(big, lon2, lat2)
    assert got[0] == pytest.approx(float((2 * lon2 - 0.5 * lat2)[inside].mean()))
    assert got[1] == pytest.approx(2 * 109.6 - 0.5 * 41.7, abs=1e-9)
    assert w.methods["tiny"] == "linear (triangulation) at the area's representative point (no grid point inside " \
                                "the area)"
    with pytest.raises(ExtractionError, match="outside the grid"):
        point_weights(lat2, lon2, pd.DataFrame({"id": ["x"], "lon": [130.0], "lat": [40.0]}))


def test_real_boundaries_weights_and_constant_field():
    geoms = areas.boundaries()
    lat = np.arange(54.0, 36.99, -0.25)
    lon = np.arange(97.0, 126.01, 0.25)
    w, ids = polygon_weights(lat, lon, geoms)
    assert set(ids) == set(areas.load_areas()["area_id"])
    np.testing.assert_allclose(w.sum(axis=1).A1, 1.0)
    # every banner/county, however small, overlaps at least one cell; the large leagues many
    counts = dict(zip(ids, np.diff(w.indptr)))
    assert min(counts.values()) >= 1 and counts["alxa"] > counts["wuhai"]
    field = xr.DataArray(np.full((1, lat.size, lon.size), 7.5), dims=("valid_time", "lat", "lon"),
                         coords={"valid_time": [np.datetime64("2024-01-01")], "lat": lat, "lon": lon})
    np.testing.assert_allclose(apply_weights(field, w, ids).values, 7.5)


def test_extract_long_table():
    geom = box(105.5, 39.5, 108.5, 42.5)
    w, ids = polygon_weights(LAT, LON, {"a": geom, "b": box(110.5, 40.5, 111.5, 41.5)})
    f = grid_field(lambda lon, lat: lon)
    ds = xr.Dataset({"wind_u": f, "precip_hours": ("valid_time", [6.0])}).assign_coords(lead_hours=("valid_time",
                                                                                                   [24.0]))
    table = extract(ds, w, ids)
    assert list(table.columns) == ["area_id", "valid_time", "precip_hours", "lead_hours", "wind_u"]
    assert table.set_index("area_id")["wind_u"].to_dict() == pytest.approx({"a": 107.0, "b": 111.0}, rel=1e-3)


@pytest.mark.parametrize("method, fallback", [
    ("area mean", False), ("bilinear at 3 point(s)", False), ("linear (triangulation) at 3 point(s)", False),
    ("area mean over the 40% the grid covers", True), ("nearest grid point at 1 point(s)", True),
    ("bilinear at the area's representative point (area smaller than a grid cell)", True),
    ("bilinear at 2 of the area's stations (the grid covers 30% of the area)", True)])
def test_which_methods_are_fallbacks(method, fallback):
    from forecast.extraction import is_fallback

    assert is_fallback(method) is fallback
