"""GRIB reading: layouts, hypercubes, units, accumulations and damaged files — on GRIB the tests write with ecCodes."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from simulate.grib import Grid, GribWriter
from forecast import gribread
from forecast.gribread import GribReadError, read_grib

from ._grib import GRID, field, write_analysis, write_forecast

TIMES = pd.date_range("2024-01-01 00:00", periods=8, freq="6h")


@pytest.fixture(params=["eccodes", "cfgrib"])
def engine(request):
    """Both readers must give the same answers."""
    return request.param


def at(ds, name, t, lat, lon):
    return float(ds[name].sel(valid_time=np.datetime64(t), lat=lat, lon=lon))


def test_analysis_units_and_times(engine, tmp_path):
    path = tmp_path / "an.grib2"
    write_analysis(path, TIMES, tp_rate=lambda t: 0.5)
    ds, rep = read_grib(path, index_dir=tmp_path / "idx", engine=engine)
    assert rep.kind == "analysis" and ds.attrs["kind"] == "analysis"
    assert set(ds.sizes) == {"valid_time", "lat", "lon"}
    t = TIMES[3]
    # K → °C, Pa → hPa, m/s and m unchanged, independent of the reader
    assert at(ds, "temp_air", t, 42.0, 110.0) == pytest.approx(field("2t", t)[4, 6] - 273.15, abs=1e-3)
    assert at(ds, "dewpoint", t, 45.0, 105.0) == pytest.approx(field("2d", t)[1, 1] - 273.15, abs=1e-3)
    assert at(ds, "pressure", t, 38.0, 116.0) == pytest.approx(field("sp", t)[8, 12] / 100, abs=1e-3)
    assert at(ds, "wind_u", t, 46.0, 104.0) == pytest.approx(field("10u", t)[0, 0], abs=1e-4)
    assert at(ds, "blh", t, 40.0, 112.0) == pytest.approx(field("blh", t)[6, 8], abs=1e-2)
    # tp: 6-h buckets of 0.5 mm/h → 3 mm per period, in mm, ending at the valid time
    assert at(ds, "precip", t, 42.0, 110.0) == pytest.approx(3.0, abs=1e-3)
    assert (ds["precip_hours"] == 6).all()
    np.testing.assert_array_equal(ds["valid_time"].values, TIMES.values)
    assert rep.missing == ["temp_850", "temp_925"]
    assert not rep.problems


def test_forecast_run_accumulation_differenced(engine, tmp_path):
    steps = [0, 6, 12, 18, 24, 36, 48]
    rate = lambda t: 1.0 if t.hour in (6, 12) else 0.25  # mm/h over the period ending at t
    path = tmp_path / "fc.grib2"
    write_forecast(path, "2024-01-02 00:00", steps, tp_rate=rate)
    ds, rep = read_grib(path, engine=engine)
    assert rep.kind == "forecast"
    assert ds.attrs["init_time"] == "2024-01-02T00:00:00"
    lead = ds["lead_hours"].values
    np.testing.assert_array_equal(lead, steps)
    # per-period amounts = rate × period length; the empty step-0 period is missing
    precip = ds["precip"].isel(lat=0, lon=0).to_series()
    hours = ds["precip_hours"].to_series()
    for s, prev in zip(steps[1:], steps[:-1]):
        t = pd.Timestamp("2024-01-02") + pd.Timedelta(hours=s)
        assert precip[t] == pytest.approx(rate(t) * (s - prev), abs=1e-3)
        assert hours[t] == s - prev
    assert np.isnan(precip.iloc[0])
    assert {"temp_850", "temp_925"} <= set(ds.data_vars)
    t = pd.Timestamp("2024-01-03 12:00")
    assert at(ds, "temp_925", t, 43.0, 107.0) == pytest.approx(field("t", t, level=925)[3, 3] - 273.15, abs=1e-3)
    assert at(ds, "temp_850", t, 43.0, 107.0) == pytest.approx(field("t", t, level=850)[3, 3] - 273.15, abs=1e-3)


def test_mixed_hypercubes_in_one_file_all_read(engine, tmp_path):
    """2-m, 10-m, surface, mean-sea, isobaric and accumulated fields in one file: nothing dropped."""
    path = tmp_path / "mixed.grib2"
    write_analysis(path, TIMES[:4], names=("2t", "10u", "10v", "sp", "msl", "blh"), levels=(850, 925),
                   tp_rate=lambda t: 0.1)
    ds, rep = read_grib(path, engine=engine)
    assert set(rep.variables) == {"temp_air", "wind_u", "wind_v", "pressure", "pressure_msl", "blh", "temp_850",
                                  "temp_925", "precip"}
    assert rep.missing == ["dewpoint"]
    assert at(ds, "pressure_msl", TIMES[1], 44.0, 108.0) == pytest.approx(field("msl", TIMES[1])[2, 4] / 100,
                                                                          abs=1e-3)


def test_era5_hourly_buckets_kept_as_periods(engine, tmp_path):
    """ERA5 style: tp from 06/18 UTC, steps 1…12, each a 1-h bucket (startStep = step − 1)."""
    path = tmp_path / "era5_tp.grib2"
    with open(path, "wb") as fh:
        w = GribWriter(fh, GRID, bits_per_value=24)
        for init in pd.to_datetime(["2024-01-01 06:00", "2024-01-01 18:00"]):
            for s in range(1, 13):
                w.write("tp", np.full(GRID.shape, s / 1000.0), time=init, step=s, start_step=s - 1)
        w.close()
    ds, rep = read_grib(path, engine=engine)
    assert rep.kind == "analysis"
    series = ds["precip"].isel(lat=0, lon=0).to_series()
    assert len(series) == 24 and (ds["precip_hours"] == 1).all()
    assert series[pd.Timestamp("2024-01-01 09:00")] == pytest.approx(3.0, abs=1e-3)
    assert series[pd.Timestamp("2024-01-02 06:00")] == pytest.approx(12.0, abs=1e-3)


def test_global_grid_cut_to_region(engine, tmp_path):
    grid = Grid(west=0.0, east=358.0, south=-90.0, north=90.0, step=2.0)
    path = tmp_path / "global.grib2"
    write_analysis(path, TIMES[:2], names=("2t",), grid=grid)
    ds, _ = read_grib(path, engine=engine)
    assert float(ds["lon"].min()) >= 96 and float(ds["lon"].max()) <= 127
    assert float(ds["lat"].min()) >= 36 and float(ds["lat"].max()) <= 55
    lon_i = int(np.flatnonzero(grid.lon == 110.0)[0])
    lat_i = int(np.flatnonzero(grid.lat == 42.0)[0])
    assert at(ds, "temp_air", TIMES[1], 42.0, 110.0) == pytest.approx(
        field("2t", TIMES[1], grid)[lat_i, lon_i] - 273.15, abs=1e-3)


def test_grid_outside_region_refused(engine, tmp_path):
    grid = Grid(west=0.0, east=20.0, south=40.0, north=55.0, step=1.0)  # Europe
    path = tmp_path / "europe.grib2"
    write_analysis(path, TIMES[:1], names=("2t",), grid=grid)
    with pytest.raises(GribReadError, match="europe.grib2.*does not cover the region.s areas"):
        read_grib(path, engine=engine)


def test_truncated_file_keeps_earlier_messages(engine, tmp_path):
    path = tmp_path / "an.grib2"
    write_analysis(path, TIMES, names=("2t", "sp"))
    data = path.read_bytes()
    cut = tmp_path / "cut.grib2"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    ds, rep = read_grib(cut, engine=engine)
    assert 0 < ds.sizes["valid_time"] < len(TIMES)
    assert any("truncated" in p for p in rep.problems)


def test_not_grib(engine, tmp_path):
    path = tmp_path / "junk.grib2"
    path.write_bytes(b"\x00garbage" * 500)
    with pytest.raises(GribReadError, match="junk.grib2: not a GRIB file"):
        read_grib(path, engine=engine)
    with pytest.raises(GribReadError, match="nothere.grib2: no such file"):
        read_grib(tmp_path / "nothere.grib2", engine=engine)


def test_no_usable_variable(engine, tmp_path):
    import eccodes

    path = tmp_path / "snow.grib2"
    h = eccodes.codes_grib_new_from_samples("regular_ll_sfc_grib2")
    for k, v in (("centre", "ecmf"), ("Ni", 13), ("Nj", 9), ("latitudeOfFirstGridPointInDegrees", 46.0),
                 ("longitudeOfFirstGridPointInDegrees", 104.0), ("latitudeOfLastGridPointInDegrees", 38.0),
                 ("longitudeOfLastGridPointInDegrees", 116.0), ("iDirectionIncrementInDegrees", 1.0),
                 ("jDirectionIncrementInDegrees", 1.0), ("numberOfDataPoints", 117), ("shortName", "sd")):
        eccodes.codes_set(h, k, v)
    eccodes.codes_set_values(h, np.zeros(117))
    with open(path, "wb") as fh:
        eccodes.codes_write(h, fh)
    eccodes.codes_release(h)
    with pytest.raises(GribReadError, match=r"snow.grib2: no usable variable \(found sd@surface"):
        read_grib(path, engine=engine)


def test_celsius_written_as_kelvin_is_dropped_with_a_warning(engine, tmp_path):
    path = tmp_path / "wrong_units.grib2"
    with open(path, "wb") as fh:
        w = GribWriter(fh, GRID, bits_per_value=16)
        for t in TIMES[:2]:
            w.write("2t", field("2t", t) - 273.15, time=t)  # °C in a K field
            w.write("sp", field("sp", t), time=t)
        w.close()
    ds, rep = read_grib(path, engine=engine)
    assert "temp_air" not in ds and "pressure" in ds
    assert any("2t: median" in p and "wrong units" in p and "degC where K is expected" in p for p in rep.problems)


def test_implausible_single_values_become_missing(engine, tmp_path):
    path = tmp_path / "spike.grib2"
    with open(path, "wb") as fh:
        w = GribWriter(fh, GRID, bits_per_value=16)
        bad = field("blh", TIMES[0])
        bad[2, 3] = 50000.0
        w.write("blh", bad, time=TIMES[0])
        w.close()
    ds, rep = read_grib(path, engine=engine)
    assert np.isnan(ds["blh"].values[0, 2, 3]) and np.isfinite(ds["blh"].values[0, 2, 4])
    assert any("1 value(s) outside" in p for p in rep.problems)


def test_index_files_go_to_the_cache_not_beside_the_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    path = data / "an.grib2"
    write_analysis(path, TIMES[:2])
    idx = tmp_path / "cache" / "grib-index"
    first, _ = read_grib(path, index_dir=idx, engine="cfgrib")
    assert list(idx.glob("an.grib2.*.idx")) and not list(data.glob("*.idx"))
    second, _ = read_grib(path, index_dir=idx, engine="cfgrib")  # reuses the index
    assert first.identical(second)


class _Planted:
    """A pickle whose loading creates a folder: proof that a planted index file was unpickled (ran code)."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        import os

        return os.mkdir, (self.sentinel,)


def test_a_planted_index_file_is_never_unpickled(tmp_path, monkeypatch):
    import os
    import pickle
    import stat

    from forecast import gribread

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data = tmp_path / "data"
    data.mkdir()
    path = data / "an.grib2"
    write_analysis(path, TIMES[:2])
    learn = tmp_path / "learn"  # the names cfgrib gives lantian's index files, learnt from one read
    read_grib(path, index_dir=learn, engine="cfgrib")
    names = sorted(p.name for p in learn.glob("*.idx"))
    default = sorted({f"{path.name}.{n.split('.')[-2]}.idx" for n in names})  # cfgrib's own default: beside the file
    sentinel = tmp_path / "pwned"
    shared = tmp_path / "shared"  # a folder anyone may write to
    shared.mkdir()
    shared.chmod(0o777)
    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    link = tmp_path / "link"  # a symbolic link to a folder someone else chose
    link.symlink_to(other)
    for folder in (data, data / ".lantian" / "grib-index", shared, other):
        folder.mkdir(parents=True, exist_ok=True)
        for name in names + default:
            (folder / name).write_bytes(pickle.dumps(_Planted(sentinel)))
    for lazy in (False, True):
        _, report = read_grib(path, index_dir=gribread.private_index_dir(), engine="cfgrib", lazy=lazy)
        assert not any("not private" in p for p in report.problems)
        for folder in (shared, link):
            _, report = read_grib(path, index_dir=folder, engine="cfgrib", lazy=lazy)
            assert any(f"index folder {folder} is not private" in p for p in report.problems)
    assert not sentinel.exists()
    private = gribread.private_index_dir()
    assert private.parent.parent == tmp_path / "xdg" and list(private.glob("an.grib2.*.idx"))
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o700
    # the check is what protects: the same files in a folder of one's own are unpickled
    read_grib(path, index_dir=other, engine="cfgrib")
    assert sentinel.exists()


def test_lazy_read_is_dask_backed_and_equal(tmp_path):
    path = tmp_path / "an.grib2"
    write_analysis(path, TIMES[:4], tp_rate=lambda t: 0.2)
    lazy, _ = read_grib(path, lazy=True)
    eager, _ = read_grib(path)
    assert hasattr(lazy["temp_air"].data, "dask")
    np.testing.assert_allclose(lazy["temp_air"].values, eager["temp_air"].values)
    np.testing.assert_allclose(lazy["precip"].values, eager["precip"].values)


@pytest.mark.parametrize("kind", ["analysis", "forecast", "mixed"])
def test_engines_identical(tmp_path, kind):
    path = tmp_path / f"{kind}.grib2"
    if kind == "analysis":
        write_analysis(path, TIMES, tp_rate=lambda t: 0.3, levels=(850,))
    elif kind == "forecast":
        write_forecast(path, "2024-01-02", [0, 6, 12, 24, 36], tp_rate=lambda t: 0.7)
    else:
        write_analysis(path, TIMES[:3], names=("2t", "10u", "msl"), levels=(925,), tp_rate=lambda t: 0.1)
    a, ra = read_grib(path, engine="eccodes")
    b, rb = read_grib(path, engine="cfgrib")
    xr.testing.assert_identical(a[sorted(a.data_vars)], b[sorted(b.data_vars)])
    assert (ra.kind, ra.variables, ra.missing, ra.messages) == (rb.kind, rb.variables, rb.missing, rb.messages)


def test_engines_identical_on_demo_world_files(winter_world):
    files = [sorted((winter_world / "meteorology" / "analysis").glob("*.grib2"))[0],
             sorted((winter_world / "meteorology" / "forecast").glob("*/*.grib2"))[0]]
    for path in files:
        a, _ = read_grib(path, engine="eccodes")
        b, _ = read_grib(path, engine="cfgrib")
        xr.testing.assert_identical(a[sorted(a.data_vars)], b[sorted(b.data_vars)])


def test_unknown_engine(tmp_path):
    path = tmp_path / "an.grib2"
    write_analysis(path, TIMES[:1], names=("2t",))
    with pytest.raises(GribReadError, match="unknown GRIB engine 'pygrib'; allowed: eccodes, cfgrib"):
        read_grib(path, engine="pygrib")


# ---- the reducing read (ingest's fast path): message by message to target means, held to the full read -----------

def _targets():
    from shapely.geometry import Polygon, box

    return {"rect": box(105.5, 39.5, 108.5, 42.5),
            "poly": Polygon([(109.2, 40.1), (114.6, 39.3), (115.2, 44.8), (110.0, 45.5)])}


def _reduce_both(path):
    """(table of the reducing read, table of the full read reduced afterwards, reducing read's report, its ds)."""
    from forecast import extraction

    targets = _targets()
    calls = []

    def reduce(lat, lon):
        calls.append(extraction.target_weights(lat, lon, targets))
        return calls[-1]

    fast, fast_rep = read_grib(path, reduce=reduce)
    full, full_rep = read_grib(path)
    w, ids = extraction.target_weights(full["lat"].values, full["lon"].values, targets)
    expected = extraction.extract(full, w, ids)
    got = extraction.extract(fast, *(calls[-1] if calls else (w, ids)))
    for rep in (fast_rep, full_rep):
        rep.path = ""
    assert fast_rep == full_rep  # kind, variables, missing, problems, messages, grid: all the same
    return got, expected, fast


@pytest.mark.parametrize("kind", ["analysis", "forecast", "forecast_without_tp", "global", "grib1_hourly",
                                  "era5_buckets"])
def test_reducing_read_equals_the_full_read_reduced(tmp_path, kind):
    from ._grib import write_surface_hourly

    path = tmp_path / f"{kind}.grib2"
    if kind == "analysis":  # surface + pressure levels + 6-h precipitation buckets
        write_analysis(path, TIMES, tp_rate=lambda t: 0.3, levels=(850, 925))
    elif kind == "forecast":  # precipitation accumulated from the start: differenced and clipped on the grid
        write_forecast(path, "2024-01-02", [0, 6, 12, 24, 36], tp_rate=lambda t: 0.7 if t.hour < 12 else 0.0)
    elif kind == "forecast_without_tp":
        write_forecast(path, "2024-01-02", [0, 6, 12, 24, 36])
    elif kind == "global":  # cut to the region: the weights are composed with the cut
        write_analysis(path, TIMES[:3], names=("2t", "sp"), grid=Grid(west=0.0, east=358.0, south=-90.0,
                                                                      north=90.0, step=2.0))
    elif kind == "grib1_hourly":  # ERA5 from the CDS: GRIB1, hourly, tp in ERA5's buckets
        hours = pd.date_range("2024-01-01 03:00", periods=10, freq="h")
        rng = np.random.default_rng(3)
        fields = {n: field(n, hours[0])[None] + rng.normal(0, 1, (len(hours),) + GRID.shape)
                  for n in ("2t", "2d", "10u", "sp")}
        fields["tp"] = rng.gamma(0.5, 0.0004, (len(hours),) + GRID.shape)
        write_surface_hourly(path, hours, GRID, fields, edition=1)
    else:
        with open(path, "wb") as fh:
            w = GribWriter(fh, GRID, bits_per_value=24)
            for init in pd.to_datetime(["2024-01-01 06:00", "2024-01-01 18:00"]):
                for s in range(1, 13):
                    w.write("tp", np.full(GRID.shape, s / 1000.0), time=init, step=s, start_step=s - 1)
                    w.write("2t", field("2t", init + pd.Timedelta(hours=s)), time=init + pd.Timedelta(hours=s))
            w.close()
    got, expected, fast = _reduce_both(path)
    assert fast.attrs["reduced"] == "target" and set(fast.dims) == {"valid_time", "target"}
    assert list(got.columns) == list(expected.columns) and len(got) == len(expected) > 0
    # the same to float rounding (the full read rounds its fields to float32 before averaging; this one does not)
    pd.testing.assert_frame_equal(got, expected, rtol=1e-5, atol=1e-4)
    if kind == "forecast":
        assert got["precip"].min() == 0.0 and got["precip"].max() > 0  # differenced, clipped, then reduced


def _packing_step(path, short_name="tp") -> float:
    """The largest packing step of ``short_name``'s messages in ``path`` (simple packing: 2^E × 10^−D; a constant
    field, packed with no bit, is exact) [GRIB units]."""
    import eccodes

    step = 0.0
    with open(path, "rb") as fh:
        while (h := eccodes.codes_grib_new_from_file(fh)) is not None:
            if eccodes.codes_get(h, "shortName") == short_name and eccodes.codes_get(h, "bitsPerValue"):
                step = max(step, 2.0 ** eccodes.codes_get(h, "binaryScaleFactor")
                           * 10.0 ** -eccodes.codes_get(h, "decimalScaleFactor"))
            eccodes.codes_release(h)
    return step


def test_an_accumulation_from_the_start_is_reduced_then_differenced_to_packing_precision(tmp_path):
    """A run's precipitation accumulated from step 0 at 16 bits, raining on part of the grid and dry elsewhere (the
    dry points' totals re-packed at each step: packing noise). The reducing scan averages each step's total and
    differences the means (clipping a negative one at zero); the full read differences and clips every point, then
    averages. The two agree to the packing precision; the other variables to float rounding."""
    rng = np.random.default_rng(5)
    path = tmp_path / "run.grib2"
    steps = [0, 6, 12, 18, 24, 36, 48, 60, 72]
    acc = np.zeros(GRID.shape)
    with open(path, "wb") as fh:
        w = GribWriter(fh, GRID, bits_per_value=16)
        for k, s in enumerate(steps):
            t = pd.Timestamp("2024-01-02") + pd.Timedelta(hours=s)
            if k:  # rain on a few points only; the others keep their totals, re-packed at a new scale: noise
                wet = rng.random(GRID.shape) < (0.5 if k % 3 else 0.03)
                acc = acc + np.where(wet, rng.gamma(0.6, 0.004, GRID.shape), 0.0)
            w.write("tp", acc, time="2024-01-02", step=s, start_step=0)
            for n in ("2t", "blh"):
                w.write(n, field(n, t), time="2024-01-02", step=s)
        w.close()
    got, expected, fast = _reduce_both(path)
    assert fast.attrs["reduced"] == "target"  # not the full read
    tol = _packing_step(path) * 1000.0  # m → mm
    assert 0 < tol < 0.01
    assert got["precip"].isna().equals(expected["precip"].isna())  # the run's first step: no period yet
    assert (got["precip"].dropna() >= 0).all() and got["precip"].max() > 1.0
    diff = (got["precip"] - expected["precip"]).abs()
    assert diff.max() <= tol, (diff.max(), tol)
    print(f"packing step {tol:.2e} mm, largest difference {diff.max():.2e} mm")
    pd.testing.assert_frame_equal(got.drop(columns=["precip"]), expected.drop(columns=["precip"]), rtol=1e-5,
                                  atol=1e-4)


@pytest.mark.parametrize("damage", ["spike", "celsius", "truncated", "junk"])
def test_reducing_read_hands_what_it_cannot_do_exactly_to_the_full_read(tmp_path, damage):
    path = tmp_path / f"{damage}.grib2"
    with open(path, "wb") as fh:
        w = GribWriter(fh, GRID, bits_per_value=16)
        for i, t in enumerate(TIMES):
            blh = field("blh", t)
            if damage == "spike" and i == 5:
                blh[2, 3] = 50000.0  # one implausible value: set missing on the grid, the mean renormalised
            w.write("blh", blh, time=t)
            w.write("2t", field("2t", t) - (273.15 if damage == "celsius" else 0.0), time=t)
        w.close()
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:int(path.stat().st_size * 0.6)])
    elif damage == "junk":
        path.write_bytes(path.read_bytes() + b"padding the archive added")
    got, expected, fast = _reduce_both(path)
    assert "reduced" not in fast.attrs  # the full read's dataset
    pd.testing.assert_frame_equal(got, expected)
    if damage == "spike":
        assert np.isfinite(got["blh"]).all()


def test_run_steps_reads_the_headers_and_names_a_file_that_is_no_grib(tmp_path):
    import numpy as np

    from simulate.grib import Grid, GribWriter

    grid = Grid(west=110, east=111, south=40, north=41, step=0.5)
    path = tmp_path / "run.grib2"
    with open(path, "wb") as fh:
        w = GribWriter(fh, grid)
        for step in (0, 6, 12):
            w.write("2t", np.full(grid.shape, 270.0), time="2023-12-22", step=step)
            w.write("t", np.full(grid.shape, 260.0), time="2023-12-22", step=step, level=925)
        w.write("2t", np.full(grid.shape, 270.0), time="2023-12-22 12:00", step=6)
        w.close()
    got = gribread.run_steps([path])
    assert got == {pd.Timestamp("2023-12-22 00:00"): {"2t": [0, 6, 12], "t925": [0, 6, 12]},
                   pd.Timestamp("2023-12-22 12:00"): {"2t": [6]}}
    bad = tmp_path / "notes.grib2"
    bad.write_text("not grib")
    with pytest.raises(gribread.GribReadError, match="notes.grib2: not a GRIB file"):
        gribread.run_steps([bad])
