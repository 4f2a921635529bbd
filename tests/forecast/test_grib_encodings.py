"""Every producer's encoding of the same variables, written with ecCodes samples and the keys each producer sets, read
into one nomenclature by both engines: ERA5 GRIB1 from the CDS, ERA5/IFS GRIB2, ECMWF open data, NCEP GFS, CMA."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast import meteorology
from forecast.gribread import UNIT_CONVERSIONS, GribReadError, _lookup, read_grib
from simulate.grib import Grid

from ._grib import (GRID, MessageWriter, era5_grib1_keys, field, ifs_grib2_keys, regular_ll_keys, wmo_keys,
                    write_surface_hourly)

HOURS = pd.date_range("2024-01-01 00:00", periods=8, freq="1h")
INIT = pd.Timestamp("2024-01-02 00:00")
STEPS = [0, 6, 12, 18, 24]
#: ECMWF open data: global 0.25°-like grid starting at 180°W (a coarse 2° version)
OPEN_DATA_GRID = Grid(west=-180.0, east=178.0, south=-90.0, north=90.0, step=2.0)


@pytest.fixture(params=["eccodes", "cfgrib"])
def engine(request):
    return request.param


def at(ds, name, t, lat, lon):
    return float(ds[name].sel(valid_time=np.datetime64(t), lat=lat, lon=lon))


def surface_fields(times, grid=GRID, tp=0.0004):
    """ERA5 hourly fields in GRIB units; tp = ``tp`` m per hour."""
    out = {n: np.stack([field(n, t, grid) for t in times]) for n in ("2t", "2d", "10u", "10v", "sp")}
    out["tp"] = np.full((len(times),) + grid.shape, tp)
    return out


@pytest.mark.parametrize("edition", [1, 2])
def test_era5_surface_hourly_as_the_cds_delivers_it(engine, tmp_path, edition):
    """GRIB1: 2t/2d/10u/10v coded at typeOfLevel=surface, paramIds 167/168/165/166 (the file lantian ingest refused);
    GRIB2: at heightAboveGround. Both give the same nomenclature variables, units and values."""
    path = tmp_path / f"era5_{edition}.grib"
    write_surface_hourly(path, HOURS, GRID, surface_fields(HOURS), edition=edition)
    ds, rep = read_grib(path, engine=engine)
    assert rep.kind == "analysis" and not rep.problems
    assert rep.variables == ["dewpoint", "precip", "pressure", "temp_air", "wind_u", "wind_v"]
    t = HOURS[3]
    assert at(ds, "temp_air", t, 42.0, 110.0) == pytest.approx(field("2t", t)[4, 6] - 273.15, abs=2e-3)
    assert at(ds, "dewpoint", t, 45.0, 105.0) == pytest.approx(field("2d", t)[1, 1] - 273.15, abs=2e-3)
    assert at(ds, "wind_v", t, 40.0, 112.0) == pytest.approx(field("10v", t)[6, 8], abs=1e-3)
    assert at(ds, "pressure", t, 38.0, 116.0) == pytest.approx(field("sp", t)[8, 12] / 100, abs=1e-2)
    # tp: 1-h buckets from the 06/18 UTC base, in m → mm per hour ending at the valid time
    np.testing.assert_allclose(ds["precip"].isel(lat=0, lon=0).values, 0.4, atol=1e-4)
    assert (ds["precip_hours"] == 1).all()
    np.testing.assert_array_equal(ds["valid_time"].values, HOURS.values)
    assert ds["temp_air"].attrs["units"] == "degC" and ds["pressure"].attrs["units"] == "hPa"
    assert ds["precip"].attrs["units"] == "mm"


def test_era5_grib1_and_grib2_identical(tmp_path):
    fields = surface_fields(HOURS)
    write_surface_hourly(tmp_path / "a.grib1", HOURS, GRID, fields, edition=1, bits=24)
    write_surface_hourly(tmp_path / "b.grib2", HOURS, GRID, fields, edition=2, bits=24)
    a, _ = read_grib(tmp_path / "a.grib1")
    b, _ = read_grib(tmp_path / "b.grib2")
    for name in a.data_vars:
        np.testing.assert_allclose(a[name].values, b[name].values, atol=1e-3)


def test_era5_grib1_single_levels_and_pressure_levels(engine, tmp_path):
    """The rest of the CDS GRIB1 request: msl and blh (also surface-coded) and t on pressure levels."""
    path = tmp_path / "era5_more.grib"
    times = HOURS[:3]
    with open(path, "wb") as fh:
        w = MessageWriter(fh, "regular_ll_sfc_grib1", regular_ll_keys(GRID), bits_per_value=24)
        for t in times:
            w.write(era5_grib1_keys("msl"), field("msl", t), time=t)
            w.write(era5_grib1_keys("blh"), field("blh", t), time=t)
            for lv in (850, 925):
                w.write(era5_grib1_keys("t", lv), field("t", t, level=lv), time=t)
        w.close()
    ds, rep = read_grib(path, engine=engine)
    assert set(rep.variables) == {"pressure_msl", "blh", "temp_850", "temp_925"}
    t = times[1]
    assert at(ds, "pressure_msl", t, 44.0, 108.0) == pytest.approx(field("msl", t)[2, 4] / 100, abs=1e-2)
    assert at(ds, "blh", t, 44.0, 108.0) == pytest.approx(field("blh", t)[2, 4], abs=1e-2)
    assert at(ds, "temp_925", t, 43.0, 107.0) == pytest.approx(field("t", t, level=925)[3, 3] - 273.15, abs=1e-3)


def write_run(path, keys, *, grid=GRID, msl="msl", blh="blh", tp_layout="from_start", tp_units="m",
              sample="regular_ll_sfc_grib2", names=("2t", "2d", "10u", "10v", "sp")):
    """One forecast run from ``INIT`` at ``STEPS``; tp 0.5 mm/h, accumulated from step 0 or in 6-h buckets."""
    scale = 0.001 if tp_units == "m" else 1.0
    with open(path, "wb") as fh:
        w = MessageWriter(fh, sample, regular_ll_keys(grid), bits_per_value=24)
        for s in STEPS:
            t = INIT + pd.Timedelta(hours=s)
            for n in names:
                w.write(keys(n), field(n, t, grid), time=INIT, step=s)
            if msl:
                w.write(keys(msl), field("msl", t, grid), time=INIT, step=s)
            if blh:
                w.write(keys(blh), field("blh", t, grid), time=INIT, step=s)
            for lv in (850, 925):
                w.write(keys("t", lv), field("t", t, grid, lv), time=INIT, step=s, )
            if tp_layout == "from_start":
                w.write(keys("tp"), np.full(grid.shape, 0.5 * s * scale), time=INIT, step=s, start_step=0)
            elif s:  # buckets of the period since the previous step
                w.write(keys("tp"), np.full(grid.shape, 0.5 * 6 * scale), time=INIT, step=s, start_step=s - 6)
        w.close()


PRODUCERS = {
    # ERA5/IFS GRIB2 (and IFS HRES): ECMWF shortNames, tp in m accumulated from the start of the run
    "ifs": dict(keys=ifs_grib2_keys),
    # ECMWF open data: the same encoding on a global grid from 180°W; no blh
    "opendata": dict(keys=ifs_grib2_keys, grid=OPEN_DATA_GRID, blh=None),
    # NCEP GFS: WMO numbers, PRMSL, HPBL (NCEP local 0/3/196), APCP in kg m-2 in 6-h buckets
    "gfs": dict(keys=lambda n, lv=None: wmo_keys(n, "kwbc", lv), msl="prmsl", blh="hpbl", tp_layout="buckets",
                tp_units="kg m-2"),
    # NCEP GFS with the WMO number of the boundary-layer height (0/3/18)
    "gfs_wmo_blh": dict(keys=lambda n, lv=None: wmo_keys(n, "kwbc", lv), msl="prmsl", blh="blh",
                        tp_layout="buckets", tp_units="kg m-2"),
    # CMA GRAPES / CMA-GFS: the same WMO numbers; ecCodes does not name APCP for babj ("unknown")
    "cma": dict(keys=lambda n, lv=None: wmo_keys(n, "babj", lv), msl="prmsl", blh="blh", tp_units="kg m-2"),
}


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
def test_forecast_runs_of_every_producer(engine, tmp_path, producer):
    opts = PRODUCERS[producer]
    grid = opts.get("grid", GRID)
    path = tmp_path / f"{producer}.grib2"
    write_run(path, **opts)
    ds, rep = read_grib(path, engine=engine)
    assert rep.kind == "forecast" and ds.attrs["init_time"] == INIT.isoformat()
    expected = {"temp_air", "dewpoint", "wind_u", "wind_v", "pressure", "pressure_msl", "temp_850", "temp_925",
                "precip"} | ({"blh"} if opts.get("blh", "blh") else set())
    assert set(rep.variables) == expected, rep.problems
    assert not rep.problems
    np.testing.assert_array_equal(ds["lead_hours"].values, STEPS)
    t = INIT + pd.Timedelta(hours=12)
    i, j = int(np.flatnonzero(grid.lat == 42.0)[0]), int(np.flatnonzero(grid.lon == 110.0)[0])
    assert at(ds, "temp_air", t, 42.0, 110.0) == pytest.approx(field("2t", t, grid)[i, j] - 273.15, abs=1e-3)
    assert at(ds, "pressure_msl", t, 42.0, 110.0) == pytest.approx(field("msl", t, grid)[i, j] / 100, abs=1e-2)
    assert at(ds, "temp_850", t, 42.0, 110.0) == pytest.approx(field("t", t, grid, 850)[i, j] - 273.15, abs=1e-3)
    if "blh" in expected:
        assert at(ds, "blh", t, 42.0, 110.0) == pytest.approx(field("blh", t, grid)[i, j], abs=1e-2)
    # 0.5 mm/h whatever the units (m or kg m-2) and the accumulation layout: 3 mm per 6-h period
    precip = ds["precip"].sel(lat=42.0, lon=110.0).values
    assert np.isnan(precip[0])
    np.testing.assert_allclose(precip[1:], 3.0, atol=1e-3)
    np.testing.assert_array_equal(ds["precip_hours"].values[1:], 6.0)


@pytest.mark.parametrize("producer", ["gfs", "cma"])
def test_engines_identical_on_wmo_encodings(tmp_path, producer):
    path = tmp_path / f"{producer}.grib2"
    write_run(path, **PRODUCERS[producer])
    a, ra = read_grib(path, engine="eccodes")
    b, rb = read_grib(path, engine="cfgrib")
    xr.testing.assert_identical(a[sorted(a.data_vars)], b[sorted(b.data_vars)])
    assert (ra.kind, ra.variables, ra.messages) == (rb.kind, rb.variables, rb.messages)


def test_local_parameter_of_another_centre_is_not_guessed(engine, tmp_path):
    """NCEP's local number for HPBL (0/3/196) means nothing for another centre: reported, not read as blh."""
    path = tmp_path / "cma_local.grib2"
    write_run(path, keys=lambda n, lv=None: wmo_keys(n, "babj", lv), msl="prmsl", blh="hpbl", tp_units="kg m-2")
    ds, rep = read_grib(path, engine=engine)
    assert "blh" not in ds and "blh" in rep.missing
    assert any("unknown(0/3/196)@surface" in p for p in rep.problems)


def test_celsius_in_a_grib1_kelvin_field_keeps_the_clear_error(engine, tmp_path):
    path = tmp_path / "wrong.grib"
    fields = surface_fields(HOURS[:2])
    fields["2t"] = fields["2t"] - 273.15
    write_surface_hourly(path, HOURS[:2], GRID, fields, edition=1)
    ds, rep = read_grib(path, engine=engine)
    assert "temp_air" not in ds and "dewpoint" in ds
    assert any("2t: median" in p and "wrong units" in p and "degC where K is expected" in p for p in rep.problems)


@pytest.mark.parametrize("short, param_id, wmo, centre, tol, level, units, name, factor, offset", [
    ("2t", 167, None, "ecmf", "surface", None, "K", "temp_air", 1.0, 0.0),  # ERA5 GRIB1
    ("2t", 167, "0/0/0", "kwbc", "heightAboveGround", 2, "K", "temp_air", 1.0, 0.0),  # GFS
    ("2t", 167, None, "ecmf", "surface", None, "degC", "temp_air", 1.0, 273.15),  # declared °C → K
    ("sp", 134, "0/3/0", "babj", "surface", None, "hPa", "pressure", 100.0, 0.0),  # declared hPa → Pa
    ("tp", 228, None, "ecmf", "surface", None, "m", "precip", 1.0, 0.0),  # ECMWF: m
    ("tp", 228228, "0/1/8", "kwbc", "surface", None, "kg m**-2", "precip", 1.0, 0.0),  # GFS: kg m-2 row
    ("tp", 228, None, "ecmf", "surface", None, "mm", "precip", 0.001, 0.0),  # declared mm → m
    ("unknown", 0, "0/1/8", "babj", "surface", None, "unknown", "precip", 1.0, 0.0),  # CMA APCP by WMO number
    ("unknown", 0, "0/3/196", "kwbc", "surface", None, "unknown", "blh", 1.0, 0.0),  # GFS HPBL (NCEP local)
    ("blh", 159, "0/3/18", "kwbc", "surface", None, "m", "blh", 1.0, 0.0),  # WMO PBL height
    ("t", 130, "0/0/0", "kwbc", "isobaricInhPa", 850, "K", "temp_850", 1.0, 0.0),
])
def test_translation_rows(short, param_id, wmo, centre, tol, level, units, name, factor, offset):
    row, f, o = _lookup(short, tol, level, units, param_id=param_id, wmo=wmo, centre=centre)
    assert (row["name"], f, o) == (name, factor, offset)


@pytest.mark.parametrize("short, wmo, centre, tol, level", [
    ("t", "0/0/0", "kwbc", "surface", None),  # skin temperature is not the 2-m temperature
    ("unknown", "0/3/196", "babj", "surface", None),  # NCEP's local number, another centre
    ("t", "0/0/0", "ecmf", "isobaricInhPa", 500),
])
def test_translation_refuses_other_fields(short, wmo, centre, tol, level):
    assert _lookup(short, tol, level, "K", param_id=130 if short == "t" else 0, wmo=wmo, centre=centre) is None


def test_unit_conversions_are_consistent():
    # every conversion goes to a unit some row expects
    from forecast.gribread import variable_table

    assert {to for _, to in UNIT_CONVERSIONS} <= set(variable_table()["units"])


def test_era5_grib1_file_ingested(tmp_path, monkeypatch):
    """The file `lantian ingest` refused ("no usable variable (found 2t@surface)") now gives area series."""
    from shapely.geometry import box

    from forecast import areas

    d = tmp_path / "data"
    (d / "meteorology" / "analysis").mkdir(parents=True)
    write_surface_hourly(d / "meteorology" / "analysis" / "era5_sfc_202401.grib", HOURS, GRID,
                         surface_fields(HOURS), edition=1)
    monkeypatch.setattr(areas, "boundaries", lambda table=None: {"a": box(105.5, 39.5, 108.5, 42.5)})
    met = meteorology.ingest(d, cache=tmp_path / "cache", workers=1)
    assert met.summary()["failed"] == 0
    assert {"temp_air", "dewpoint", "wind_u", "precip"} <= set(met.analysis.columns)
    assert len(met.analysis) == len(HOURS)


def test_no_usable_variable_names_what_was_found(engine, tmp_path):
    path = tmp_path / "gh.grib2"
    with open(path, "wb") as fh:
        w = MessageWriter(fh, "regular_ll_sfc_grib2", regular_ll_keys(GRID))
        keys = [("centre", "kwbc"), ("discipline", 0), ("parameterCategory", 3), ("parameterNumber", 5),
                ("typeOfFirstFixedSurface", 100), ("scaleFactorOfFirstFixedSurface", 0),
                ("scaledValueOfFirstFixedSurface", 50000)]
        w.write(keys, np.full(GRID.shape, 5500.0), time=INIT)
        w.close()
    with pytest.raises(GribReadError, match=r"gh.grib2: no usable variable \(found gh@isobaricInhPa=500"):
        read_grib(path, engine=engine)


def test_gfs_three_hourly_apcp_with_six_hourly_resets(tmp_path):
    """GFS 0.25°: APCP 0-3, 0-6, 6-9, 6-12 (and a second 0-12 record at step 12) → 3-h amounts (direct scan)."""
    path = tmp_path / "gfs_3h.grib2"
    rate = {3: 1.0, 6: 2.0, 9: 0.5, 12: 0.25}  # mm/h in the 3 h ending at each step
    amount = {s: rate[s] * 3 for s in rate}
    with open(path, "wb") as fh:
        w = MessageWriter(fh, "regular_ll_sfc_grib2", regular_ll_keys(GRID), bits_per_value=24)
        keys = wmo_keys("tp", "kwbc")
        w.write(keys, np.full(GRID.shape, amount[3]), time=INIT, step=3, start_step=0)
        w.write(keys, np.full(GRID.shape, amount[3] + amount[6]), time=INIT, step=6, start_step=0)
        w.write(keys, np.full(GRID.shape, amount[9]), time=INIT, step=9, start_step=6)
        w.write(keys, np.full(GRID.shape, amount[9] + amount[12]), time=INIT, step=12, start_step=6)
        w.write(keys, np.full(GRID.shape, sum(amount.values())), time=INIT, step=12, start_step=0)
        w.close()
    ds, rep = read_grib(path, engine="eccodes")
    np.testing.assert_allclose(ds["precip"].isel(lat=0, lon=0).values, [amount[s] for s in (3, 6, 9, 12)], atol=1e-3)
    np.testing.assert_array_equal(ds["precip_hours"].values, 3.0)


def test_step_written_twice_is_not_guessed_by_cfgrib(tmp_path):
    path = tmp_path / "gfs_twice.grib2"
    with open(path, "wb") as fh:
        w = MessageWriter(fh, "regular_ll_sfc_grib2", regular_ll_keys(GRID), bits_per_value=24)
        for s, start, amount in [(6, 0, 6.0), (12, 0, 9.0), (12, 6, 3.0)]:
            w.write(wmo_keys("tp", "kwbc"), np.full(GRID.shape, amount), time=INIT, step=s, start_step=start)
        w.write(wmo_keys("2t", "kwbc"), field("2t", INIT), time=INIT, step=6)
        w.close()
    ds, rep = read_grib(path, engine="cfgrib")
    assert "precip" not in ds and any("tp: steps [12] accumulated over two different periods" in p
                                      for p in rep.problems)
    ds, _ = read_grib(path, engine="eccodes")
    np.testing.assert_allclose(ds["precip"].isel(lat=0, lon=0).values, [6.0, 3.0], atol=1e-3)
