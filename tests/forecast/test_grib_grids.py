"""Grids as producers write them: regular lat/lon in both scanning directions, regular and reduced Gaussian, Lambert
conformal and polar stereographic (kept on their own points), spherical harmonics refused in one line — each read by
both engines and extracted to area means that match an analytic field."""
import eccodes
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr
from shapely.geometry import MultiPoint, Polygon, box

from forecast import extraction, meteorology
from forecast.gribread import GribReadError, read_grib

from ._grib import (GRID, MessageWriter, gaussian_latitudes, ifs_grib2_keys, lambert_keys, linear_2t, octahedral_pl,
                    polar_stereographic_keys, reduced_gg_keys, regular_gg_keys, regular_ll_keys, write_on_grid)

TIMES = pd.date_range("2024-01-01", periods=2, freq="6h")
GRIDS = {
    "regular_ll_south_to_north": ("regular_ll_sfc_grib2", regular_ll_keys(GRID, south_to_north=True)),
    "regular_gg": ("regular_gg_sfc_grib2", regular_gg_keys(48)),
    "reduced_gg": ("reduced_gg_sfc_grib2", reduced_gg_keys(96)),
    "lambert": ("GRIB2", lambert_keys()),
    "polar_stereographic": ("polar_stereographic_sfc_grib2", polar_stereographic_keys()),
}
#: a league-sized polygon inside every test grid
LEAGUE = Polygon([(105.2, 39.3), (111.8, 39.9), (113.4, 44.6), (107.9, 45.4), (105.6, 42.2)])


@pytest.fixture(params=["eccodes", "cfgrib"])
def engine(request):
    return request.param


def analytic_mean(geom, step=0.01):
    """Independent area mean of :func:`linear_2t` [degC]: a fine lattice inside the polygon, weighted by cos(lat)."""
    minx, miny, maxx, maxy = geom.bounds
    X, Y = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    inside = shapely.contains_xy(geom, X, Y)
    w = np.cos(np.deg2rad(Y[inside]))
    return float((linear_2t(X[inside], Y[inside]) * w).sum() / w.sum()) - 273.15


def write(tmp_path, name):
    sample, keys = GRIDS[name]
    path = tmp_path / f"{name}.grib2"
    lat, lon = write_on_grid(path, sample, keys, TIMES)
    return path, lat, lon


def expected_on(ds):
    lat, lon = ds["lat"].values, ds["lon"].values
    if lat.ndim == 1:
        lat, lon = np.meshgrid(lat, lon, indexing="ij")
    return linear_2t(lon, lat) - 273.15


@pytest.mark.parametrize("name", ["regular_ll_south_to_north", "regular_gg", "lambert", "polar_stereographic"])
def test_values_on_the_grids_points(engine, tmp_path, name):
    path, _, _ = write(tmp_path, name)
    ds, rep = read_grib(path, engine=engine)
    assert rep.grid == ds.attrs["grid_type"] and name.startswith(rep.grid)
    assert rep.variables == ["temp_air"] and not rep.problems
    np.testing.assert_allclose(ds["temp_air"].isel(valid_time=0).values, expected_on(ds), atol=1e-3)
    if ds["lat"].ndim == 1:
        assert (np.diff(ds["lat"].values) < 0).all() and (np.diff(ds["lon"].values) > 0).all()
    else:
        assert ds["temp_air"].dims == ("valid_time", "y", "x") and ds["lat"].dims == ("y", "x")


def test_south_to_north_scanning_gives_the_same_dataset(tmp_path):
    a, _ = read_grib(write(tmp_path, "regular_ll_south_to_north")[0])
    path = tmp_path / "n2s.grib2"
    write_on_grid(path, "regular_ll_sfc_grib2", regular_ll_keys(GRID), TIMES)
    b, _ = read_grib(path)
    xr.testing.assert_allclose(a["temp_air"], b["temp_air"])


def test_regular_gaussian_keeps_the_gaussian_latitudes(tmp_path):
    ds, _ = read_grib(write(tmp_path, "regular_gg")[0])
    lat = gaussian_latitudes(48)
    np.testing.assert_allclose(ds["lat"].values, lat[(lat >= 36) & (lat <= 55)], atol=1e-6)
    assert np.ptp(np.diff(ds["lat"].values)) > 1e-5  # not evenly spaced


def test_reduced_gaussian_nearest_point_along_each_row(engine, tmp_path):
    path, lat, lon = write(tmp_path, "reduced_gg")
    ds, rep = read_grib(path, engine=engine)
    assert rep.grid == "reduced_gg" and "nearest point along each latitude row" in ds.attrs["grid_note"]
    pl = octahedral_pl(96)
    assert ds.sizes["lon"] == int(((ds["lon"] >= 96) & (ds["lon"] <= 127)).sum())
    np.testing.assert_allclose(np.diff(ds["lon"].values), 360.0 / pl.max(), atol=1e-6)  # the fullest row's spacing
    # independent: for each output point, the source point of the same row nearest in longitude
    rows = np.round(gaussian_latitudes(96), 6)
    got = ds["temp_air"].isel(valid_time=0).values
    for i, la in enumerate(ds["lat"].values):
        n = pl[int(np.flatnonzero(np.isclose(rows, la))[0])]
        src = np.arange(n) * 360.0 / n
        d = np.abs(((ds["lon"].values[:, None] - src[None, :]) + 180) % 360 - 180)
        two = np.sort(d, axis=1)[:, :2]
        clear = two[:, 1] - two[:, 0] > 1e-6  # midway between two source points either is the nearest
        want = linear_2t(src[np.argmin(d, axis=1)], la) - 273.15
        np.testing.assert_allclose(got[i][clear], want[clear], atol=1e-3)


@pytest.mark.parametrize("name, tolerance", [("regular_gg", 0.03), ("reduced_gg", 0.03), ("lambert", 0.03),
                                             ("polar_stereographic", 0.03)])
def test_area_means_match_the_analytic_field(tmp_path, name, tolerance):
    """The ingest path (read, GridKey, weights, extraction) on each grid: a league's mean within ``tolerance`` K."""
    path, _, _ = write(tmp_path, name)
    table, info = meteorology.extract_file(path, {"league": LEAGUE})
    assert "error" not in info, info
    assert table.attrs["extraction"] == {"league": "area mean"}
    got = table["temp_air"].iloc[0]
    assert got == pytest.approx(analytic_mean(LEAGUE), abs=tolerance)


@pytest.mark.parametrize("name", ["lambert", "polar_stereographic"])
def test_station_values_on_projected_grids_are_linear(tmp_path, name):
    path, _, _ = write(tmp_path, name)
    ds, _ = read_grib(path)
    stations = MultiPoint([(111.75, 40.84), (109.84, 40.66), (110.0, 43.2)])
    w, ids = extraction.target_weights(ds["lat"].values, ds["lon"].values, {"hohhot": stations})
    got = extraction.apply_weights(ds["temp_air"], w, ids).isel(valid_time=0).item()
    want = np.mean([linear_2t(p.x, p.y) for p in stations.geoms]) - 273.15
    assert got == pytest.approx(want, abs=2e-3)
    assert w.methods["hohhot"] == "linear (triangulation) at 3 point(s)"


@pytest.mark.parametrize("sample", ["sh_sfc_grib1", "sh_ml_grib2"])
def test_spherical_harmonics_refused_in_one_line(engine, tmp_path, sample):
    path = tmp_path / "x.grib"
    h = eccodes.codes_grib_new_from_samples(sample)
    with open(path, "wb") as fh:
        eccodes.codes_write(h, fh)
    eccodes.codes_release(h)
    with pytest.raises(GribReadError) as err:
        read_grib(path, engine=engine)
    assert str(err.value) == (f"{path}: unsupported grid 'sh' (supported: regular_ll, regular_gg, reduced_gg, "
                              "lambert, polar_stereographic)")
    # the ingest reports it as the file's error, one line, and goes on
    table, info = meteorology.extract_file(path, {"league": LEAGUE}, engine=engine)
    assert table is None and info["error"] == str(err.value)


def test_unsupported_messages_skipped_in_a_mixed_file(engine, tmp_path):
    path = tmp_path / "mixed.grib"
    write_on_grid(path, "regular_ll_sfc_grib2", regular_ll_keys(GRID), TIMES)
    h = eccodes.codes_grib_new_from_samples("sh_ml_grib2")
    with open(path, "ab") as fh:
        eccodes.codes_write(h, fh)
    eccodes.codes_release(h)
    ds, rep = read_grib(path, engine=engine)
    assert "temp_air" in ds
    assert any("1 message(s) on an unsupported grid 'sh' skipped" in p for p in rep.problems)


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_engines_identical_on_every_grid(tmp_path, name):
    path, _, _ = write(tmp_path, name)
    a, ra = read_grib(path, engine="eccodes")
    b, rb = read_grib(path, engine="cfgrib")
    xr.testing.assert_identical(a, b)
    assert (ra.grid, ra.variables) == (rb.grid, rb.variables)


def test_lazy_read_of_a_reduced_gaussian_file(tmp_path):
    path, _, _ = write(tmp_path, "reduced_gg")
    lazy, _ = read_grib(path, lazy=True)
    eager, _ = read_grib(path)
    assert hasattr(lazy["temp_air"].data, "dask")
    np.testing.assert_allclose(lazy["temp_air"].values, eager["temp_air"].values)


def test_grid_around_one_city_falls_back_to_the_representative_point(tmp_path):
    """A regional archive a few cells wide around Hohhot: the league's value is the bilinear one at its
    representative point — or at its stations when given — and the extraction says so."""
    from simulate.grib import Grid

    grid = Grid(west=110.5, east=112.5, south=40.0, north=42.0, step=0.5)
    path = tmp_path / "city.grib2"
    with open(path, "wb") as fh:
        w = MessageWriter(fh, "regular_ll_sfc_grib2", regular_ll_keys(grid), bits_per_value=24)
        lon, lat = np.meshgrid(grid.lon, grid.lat)
        for t in TIMES:
            w.write(ifs_grib2_keys("2t"), linear_2t(lon, lat), time=t)
        w.close()
    league = box(109.0, 39.5, 113.5, 42.5)  # centroid (111.25, 41.0) inside the small grid
    ds, _ = read_grib(path)
    w, ids = extraction.target_weights(ds["lat"].values, ds["lon"].values, {"league": league})
    got = extraction.apply_weights(ds["temp_air"], w, ids).isel(valid_time=0).item()
    assert got == pytest.approx(linear_2t(111.25, 41.0) - 273.15, abs=1e-3)
    assert w.methods["league"].startswith("bilinear at the area's representative point (the grid covers")
    hohhot = MultiPoint([(111.75, 40.84)])
    w, ids = extraction.target_weights(ds["lat"].values, ds["lon"].values, {"league": league},
                                       stations={"league": hohhot})
    got = extraction.apply_weights(ds["temp_air"], w, ids).isel(valid_time=0).item()
    assert got == pytest.approx(linear_2t(111.75, 40.84) - 273.15, abs=1e-3)
    assert w.methods["league"].startswith("bilinear at 1 of the area's stations (the grid covers")
