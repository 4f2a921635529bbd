"""Loaders: the requests they would send, and that what they write is read by the same reader (no network)."""
import numpy as np
import pandas as pd
import pytest

from forecast import loaders, meteorology
from simulate.grib import Grid, GribWriter
from forecast.gribread import read_grib

from ._grib import field

GLOBAL = Grid(west=0.0, east=359.0, south=-90.0, north=90.0, step=1.0)


def test_era5_requests_monthly_and_complete(tmp_path):
    reqs = loaders.era5_requests("2024-01-30", "2024-03-02", tmp_path)
    assert [r.target.name for r in reqs] == ["era5_sfc_202401.grib", "era5_pl_202401.grib", "era5_sfc_202402.grib",
                                             "era5_pl_202402.grib", "era5_sfc_202403.grib", "era5_pl_202403.grib"]
    sfc, pl = reqs[0], reqs[1]
    assert sfc.dataset == "reanalysis-era5-single-levels" and pl.dataset == "reanalysis-era5-pressure-levels"
    assert sfc.request["day"] == ["30", "31"] and reqs[2].request["day"][-1] == "29"  # leap February
    assert reqs[4].request["day"] == ["01", "02"]
    assert sfc.request["area"] == [54.0, 97.0, 37.0, 126.0] and sfc.request["grid"] == [0.25, 0.25]
    assert sfc.request["time"] == ["00:00", "06:00", "12:00", "18:00"]
    assert sfc.request["data_format"] == "grib" and sfc.request["product_type"] == ["reanalysis"]
    assert {"2m_temperature", "boundary_layer_height", "total_precipitation"} <= set(sfc.request["variable"])
    assert pl.request["pressure_level"] == ["850", "925"] and pl.request["variable"] == ["temperature"]
    assert sfc.target.parent == tmp_path / "meteorology" / "analysis"


@pytest.mark.parametrize("kwargs, match", [({"hours": (0, 24)}, "hours"), ({"variables": ("2t", "o3")}, "o3")])
def test_era5_bad_requests(tmp_path, kwargs, match):
    with pytest.raises(loaders.LoaderError, match=match):
        loaders.era5_requests("2024-01-01", "2024-01-02", tmp_path, **kwargs)
    with pytest.raises(loaders.LoaderError, match="before start"):
        loaders.era5_requests("2024-02-01", "2024-01-02", tmp_path)


def test_opendata_requests(tmp_path):
    reqs = loaders.opendata_requests("2024-12-01 00:00", tmp_path)
    sfc, pl = reqs
    assert sfc.request["date"] == "2024-12-01" and sfc.request["time"] == 0 and sfc.request["type"] == "fc"
    assert sfc.request["levtype"] == "sfc" and "blh" not in sfc.request["param"]
    assert pl.request["levelist"] == [850, 925] and pl.request["param"] == ["t"]
    assert sfc.request["step"][-1] == 168 and 150 in sfc.request["step"]
    assert sfc.target == tmp_path / "meteorology" / "forecast" / "2024120100" / "ifs_open_2024120100_sfc.grib2"
    with pytest.raises(loaders.LoaderError, match="not 00, 06, 12 or 18"):
        loaders.opendata_requests("2024-12-01 03:00", tmp_path)
    with pytest.raises(loaders.LoaderError, match="reach 90 h"):
        loaders.opendata_requests("2024-12-01 06:00", tmp_path)
    with pytest.raises(loaders.LoaderError, match="not open-data steps"):
        loaders.opendata_requests("2024-12-01 00:00", tmp_path, steps=[0, 4])


class FakeCDS:
    """Stands in for cdsapi.Client: records requests and writes GRIB the way the CDS delivers ERA5 (area-cut grid,
    instant fields at step 0, tp as hourly buckets from 06/18 UTC)."""

    def __init__(self):
        self.calls = []

    def retrieve(self, dataset, request, target):
        self.calls.append((dataset, request))
        n, w, s, e = request["area"]
        grid = Grid(west=w, east=e, south=s, north=n, step=request["grid"][0])
        days = pd.to_datetime([f"{request['year'][0]}-{request['month'][0]}-{d}" for d in request["day"]])
        hours = [int(t[:2]) for t in request["time"]]
        with open(target, "wb") as fh:
            wr = GribWriter(fh, grid, bits_per_value=16)
            for d in days:
                for h in hours:
                    t = d + pd.Timedelta(hours=h)
                    if dataset == loaders.ERA5_PRESSURE:
                        for lv in request["pressure_level"]:
                            wr.write("t", field("t", t, grid, int(lv)), time=t, level=int(lv))
                    else:
                        for short in ("2t", "10u", "10v", "sp", "blh"):
                            wr.write(short, field(short, t, grid), time=t)
            if dataset == loaders.ERA5_SINGLE:
                for d in days:
                    for init in (d - pd.Timedelta(hours=6), d + pd.Timedelta(hours=6)):
                        for step in range(1, 13):
                            wr.write("tp", np.full(grid.shape, 0.0005), time=init, step=step, start_step=step - 1)
            wr.close()


def test_era5_download_is_read_by_the_reader(tmp_path):
    reqs = loaders.era5_requests("2024-01-01", "2024-01-02", tmp_path, grid=1.0)
    client = FakeCDS()
    files = loaders.download_era5(reqs, client=client)
    assert [c[0] for c in client.calls] == [loaders.ERA5_SINGLE, loaders.ERA5_PRESSURE]
    ds, rep = read_grib(files[0])
    assert rep.kind == "analysis" and {"temp_air", "blh", "precip"} <= set(ds.data_vars)
    assert float(ds["precip"].isel(lat=0, lon=0).sel(valid_time="2024-01-01T03:00")) == pytest.approx(0.5, abs=1e-3)
    assert (ds["precip_hours"] == 1).all()
    pl, rep_pl = read_grib(files[1])
    assert set(rep_pl.variables) == {"temp_850", "temp_925"}
    # files already there are not fetched again
    loaders.download_era5(reqs, client=client)
    assert len(client.calls) == 2
    met = meteorology.ingest(tmp_path, cache=tmp_path / "cache", workers=1)
    assert met.summary()["failed"] == 0 and "blh" in met.summary()["variables"]


class FakeOpenData:
    """Stands in for ecmwf.opendata.Client: global 1° fields of one run; tp accumulated from step 0 [m]."""

    def retrieve(self, date, time, step, levtype, param, target, levelist=None, **_):
        init = pd.Timestamp(date) + pd.Timedelta(hours=time)
        with open(target, "wb") as fh:
            wr = GribWriter(fh, GLOBAL, bits_per_value=16)
            for s in step:
                t = init + pd.Timedelta(hours=s)
                for p in param:
                    if levtype == "pl":
                        for lv in levelist:
                            wr.write("t", field("t", t, GLOBAL, lv), time=init, step=s, level=lv)
                    elif p == "tp":
                        wr.write("tp", np.full(GLOBAL.shape, s * 0.0002), time=init, step=s, start_step=0)
                    elif p in ("2t", "2d", "10u", "10v", "sp", "msl"):
                        wr.write(p, field(p, t, GLOBAL), time=init, step=s)
            wr.close()


def test_opendata_download_is_read_by_the_reader(tmp_path):
    reqs = loaders.opendata_requests("2024-12-01 00:00", tmp_path, steps=[0, 6, 12, 18, 24])
    files = loaders.download_opendata(reqs, client=FakeOpenData())
    ds, rep = read_grib(files[0])
    assert rep.kind == "forecast" and "blh" in rep.missing
    assert float(ds["lon"].min()) >= 96 and float(ds["lon"].max()) <= 127  # global grid cut to the region
    assert float(ds["precip"].isel(lat=0, lon=0).sel(valid_time="2024-12-01T12:00")) == pytest.approx(1.2, abs=1e-2)
    met = meteorology.ingest(tmp_path, cache=tmp_path / "cache", workers=1)
    assert met.summary()["runs"] == 1 and "blh" in met.summary()["missing"]


def test_failed_download_keeps_the_old_file(tmp_path):
    reqs = loaders.opendata_requests("2024-12-01 00:00", tmp_path, steps=[0, 6])
    reqs[0].target.parent.mkdir(parents=True)
    reqs[0].target.write_bytes(b"old")

    class Broken:
        def retrieve(self, **kw):
            raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        loaders.download_opendata(reqs, client=Broken(), overwrite=True)
    assert reqs[0].target.read_bytes() == b"old"
