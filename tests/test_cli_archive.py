"""The command line on archives as they come: one stderr line for the stations outside the areas and for a partial
AQI, one error line when no station is in an area."""
import pandas as pd

from lantian.cli import main
from tests.forecast._archive import SITES, write_constant_archive

HEBEI = pd.DataFrame({"监测点编码": ["1101A", "1102A", "1103A"], "监测点名称": ["a", "b", "c"], "城市": ["石家庄"] * 3,
                      "经度": [114.50, 114.52, 114.51], "纬度": [38.00, 38.08, 38.04], "对照点": ["N"] * 3})


def test_stations_and_daily_print_the_archive_report(tmp_path, capsys):
    sites = pd.concat([SITES, HEBEI], ignore_index=True)
    write_constant_archive(tmp_path, {c: 50.0 for c in sites["监测点编码"]}, sites=sites)
    assert main(["stations", "--data", str(tmp_path), "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"lantian stations: note: {tmp_path / 'stations' / 'sites.csv'}: stations of cities not in the "
                   "area table: 石家庄 (3) — dropped",
                   "lantian stations: note: the archive carries PM2.5 only (no PM10, SO2, NO2, CO, O3): every daily "
                   "AQI is a partial AQI, the largest IAQI of PM2.5 (a lower bound of the full AQI; flagged "
                   "aqi_partial in the area tables); without PM10 no day is flagged dust-dominated (the dust test "
                   "needs PM10's IAQI and PM2.5/PM10); QC check not applied: pm25_gt_pm10 (no PM10 values)"]
    out = tmp_path / "daily.csv"
    assert main(["daily", "--data", str(tmp_path), "--quiet", "--out", str(out)]) == 0
    assert [line.split(": note: ")[0] for line in capsys.readouterr().err.splitlines()] == ["lantian daily"] * 2
    daily = pd.read_csv(out)
    assert daily.loc[daily["aqi"].notna(), "aqi_partial"].all()


def test_no_station_in_any_area_is_one_error_line(tmp_path, capsys):
    write_constant_archive(tmp_path, {"1101A": 50.0}, sites=HEBEI)
    assert main(["stations", "--data", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"lantian stations: error: {tmp_path / 'stations' / 'sites.csv'}: none of its 3 stations is in an area of "
        "the area table (cities found: 石家庄 (3)); add the city to the region's areas.csv, e.g. \"<area_id>,石家庄市,"
        "石家庄,<name_en>,city,,<GB/T 2260 code>,114.51,38.04\"")
