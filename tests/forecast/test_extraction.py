"""Area-mean and point weights, checked against independent computations."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import Polygon, box

from forecast import areas
from forecast.extraction import ExtractionError, GridKey, apply_weights, extract, point_weights, polygon_weights

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


def test_irregular_grid_refused():
    with pytest.raises(ExtractionError, match="grid lon is not regular"):
        GridKey.of(LAT, np.array([100.0, 101.0, 103.0]))


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
