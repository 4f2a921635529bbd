"""The CNEMC reader: station list, daily archive files, long CSV; every skipped file, row and cell is logged."""
import pandas as pd
import pytest

from forecast import cnemc
from forecast.nomenclature import SPECIES
from tests.forecast._archive import SITES, areas, read_archive, write_archive, write_constant_archive


@pytest.fixture
def archive(tmp_path):
    return write_archive(tmp_path)


# ------------------------------------------------------------------ station list
def test_station_list_chinese_header(archive):
    sites = cnemc.read_station_list(archive / "stations" / "sites.csv", areas())
    assert list(sites["area_id"]) == ["hohhot", "hohhot", "baotou", "hohhot"]
    assert list(sites["background"]) == [False, False, False, True]


def test_station_list_english_header_and_outside_region(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("station,station_name,city,lon,lat\n1001A,a,Hohhot,111.6,40.8\n1011A,b,北京,116.4,39.9\n")
    sites = cnemc.read_station_list(path, areas())
    assert list(sites["station"]) == ["1001A"]  # Beijing is not an area of the table
    assert len(cnemc.read_station_list(path, areas(), keep_unknown=True)) == 2


@pytest.mark.parametrize("text,match", [
    ("监测点编码,城市,经度,纬度\n1001A,呼和浩特,111,40\n", r"lacks column\(s\) \['station_name'\]"),
    ("监测点编码,监测点名称,城市,经度,纬度\n1001A,a,呼和浩特,111,40\n1001A,b,包头,110,40\n", "duplicate station"),
    ("监测点编码,监测点名称,城市,经度,纬度\n1001A,a,呼和浩特,211,40\n", "lon outside"),
])
def test_station_list_errors_name_file(tmp_path, text, match):
    path = tmp_path / "sites.csv"
    path.write_text(text)
    with pytest.raises(cnemc.StationDataError, match=match) as info:
        cnemc.read_station_list(path, areas())
    assert str(path) in str(info.value)


def test_station_data_error_is_a_value_error():
    assert issubclass(cnemc.StationDataError, ValueError)


# ------------------------------------------------------------------ archive reading
def test_archive_round_trip_and_time_labels(archive):
    history, removed, log, sites = read_archive(archive)
    assert set(history["pollutant"]) == set(SPECIES)  # derived types (AQI, *_24h) are not read as hourly data
    assert log.files_read == 4 and not log.entries and removed.empty
    assert str(history["time"].dt.tz) == "Asia/Shanghai"
    assert list(history.columns) == list(cnemc.HISTORY_COLUMNS)
    raw = pd.read_csv(archive / "stations" / "china_sites_20240102.csv")
    cell = raw[(raw["hour"] == 0) & (raw["type"] == "PM2.5")]["1002A"].iloc[0]
    got = history[(history["station"] == "1002A") & (history["pollutant"] == "pm25")
                  & (history["time"] == pd.Timestamp("2024-01-02 00:00", tz="Asia/Shanghai"))]["value"]
    assert got.iloc[0] == cell


def test_read_one_file_matches_archive(archive):
    history, _, _, _ = read_archive(archive)
    log = cnemc.ReadLog()
    one = cnemc.read_cnemc_file(archive / "stations" / "china_sites_20240103.csv", log=log)
    assert log.files_read == 1 and not log.entries
    day = history[history["time"].dt.strftime("%Y%m%d") == "20240103"]
    assert len(one) == len(day)


def test_archive_files_date_window_and_missing_directory(archive):
    files = cnemc.archive_files(archive / "stations", start="2024-01-02", end="2024-01-03")
    assert [f.name for f in files] == ["china_sites_20240102.csv", "china_sites_20240103.csv"]
    with pytest.raises(cnemc.StationDataError, match="no such directory"):
        cnemc.archive_files(archive / "nowhere")


def test_bad_files_are_logged_and_do_not_lose_others(archive):
    d = archive / "stations"
    (d / "china_sites_20240105.csv").write_bytes(b"\x00\x01\x02 not csv")
    (d / "china_sites_20240106.csv").write_text("foo,bar\n1,2\n")
    good = (d / "china_sites_20240104.csv").read_text()
    (d / "china_sites_20240104.csv").write_text(good[: len(good) - 9])  # truncated mid-row
    history, removed, log, _ = read_archive(archive)
    frame = log.to_frame()
    skipped = frame[frame["action"] == "file skipped"]
    assert set(skipped["file"].map(lambda f: f[-12:])) == {"20240105.csv", "20240106.csv"}
    assert skipped["problem"].str.contains("binary").any() and skipped["problem"].str.contains("wrong header").any()
    trunc = frame[frame["problem"].str.contains("truncated row")]
    n_lines = len(good.splitlines())
    assert list(trunc["row"]) == [n_lines]
    assert history["time"].max() == pd.Timestamp("2024-01-04 23:00", tz="Asia/Shanghai")
    assert history["time"].min() == pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")
    assert log.summary().startswith("4 file(s) read, 2 skipped, 1 row(s) skipped")


def test_unknown_station_and_non_numeric(archive):
    d = archive / "stations"
    text = (d / "china_sites_20240101.csv").read_text().splitlines()
    text[0] = text[0] + ",9999A"
    text = [text[0]] + [line + ",5" for line in text[1:]]
    row = next(i for i, line in enumerate(text) if ",3,PM10," in line)
    parts = text[row].split(",")
    parts[4] = "--"
    text[row] = ",".join(parts)
    (d / "china_sites_20240101.csv").write_text("\n".join(text) + "\n")
    history, removed, log, _ = read_archive(archive)
    assert "9999A" not in set(history["station"])
    assert log.to_frame()["problem"].str.contains("9999A").any()
    assert list(removed["reason"]) == ["non_numeric"] and removed["raw"].iloc[0] == "--"
    assert removed["station"].iloc[0] == "1002A"  # parts[3] is 1001A, parts[4] is 1002A


# ------------------------------------------------------------------ long CSV
def _sites_file(tmp_path):
    p = tmp_path / "sites.csv"
    SITES.to_csv(p, index=False)
    return p


def test_long_csv(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("time,station,pollutant,value\n2024-01-01 01:00,1001A,PM2.5,35\n"
                    "2024-01-01 02:00,1001A,pm10,x\n2024-01-01 02:00,1001A,o3,80\n")
    sites = cnemc.read_station_list(_sites_file(tmp_path), areas())
    history, removed = cnemc.read_long_csv(path, sites)
    assert list(history["pollutant"]) == ["o3", "pm25"]
    assert history["area_id"].iloc[0] == "hohhot"
    assert removed["reason"].tolist() == ["non_numeric"]
    path.write_text("time,station,pollutant,value\n2024-01-01 01:00,1001A,PM1,35\n")
    with pytest.raises(cnemc.StationDataError, match=r"unknown pollutant\(s\) \['PM1'\]; allowed: pm25"):
        cnemc.read_long_csv(path, sites)
    path.write_text("time,station,value\n")
    with pytest.raises(cnemc.StationDataError, match="missing column"):
        cnemc.read_long_csv(path, sites)


def test_long_csv_unparseable_time_names_line(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("time,station,pollutant,value\n2024-01-01 01:00,1001A,pm25,35\nyesterday,1001A,pm25,36\n")
    with pytest.raises(cnemc.StationDataError, match="line 3: unparseable time 'yesterday'"):
        cnemc.read_long_csv(path)


def test_long_csv_any_subset_and_name_spellings(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("time,station,pollutant,value\n2024-01-01 01:00,1001A,PM2.5,35\n"
                    "2024-01-01 02:00,1001A,pm2_5,36\n2024-01-01 03:00,1001A,PM25,37\n"
                    "2024-01-01 03:00,1001A,PM2.5_24h,99\n")  # a derived row is skipped as in the archive
    history, removed = cnemc.read_long_csv(path)
    assert list(history["pollutant"]) == ["pm25", "pm25", "pm25"] and list(history["value"]) == [35, 36, 37]
    assert removed.empty


@pytest.mark.parametrize("row,match", [(",1001A,pm25,3", "line 2: unparseable time"), ("2024-01-01 01:00,,pm25,3",
                                       "line 2: no station"), ("2024-01-01 01:00,1001A,,3", "line 2: no pollutant")])
def test_long_csv_row_without_time_station_or_pollutant(tmp_path, row, match):
    path = tmp_path / "long.csv"
    path.write_text(f"time,station,pollutant,value\n{row}\n")
    with pytest.raises(cnemc.StationDataError, match=match):
        cnemc.read_long_csv(path)


# ------------------------------------------------------------------ stations of cities outside the area table
def _national_sites():
    """The test list plus stations of two Hebei cities (4 in 石家庄, 3 in 保定), as a national list has them."""
    extra = pd.DataFrame({"监测点编码": [f"{1100 + i}A" for i in range(7)], "监测点名称": [f"s{i}" for i in range(7)],
                          "城市": ["石家庄"] * 4 + ["保定"] * 3, "经度": [114.5] * 4 + [115.5] * 3,
                          "纬度": [38.0] * 4 + [38.9] * 3, "对照点": ["N"] * 7})
    return pd.concat([SITES, extra], ignore_index=True)


def test_stations_outside_the_areas_reported_once_with_cities_and_counts(tmp_path):
    sites = _national_sites()
    write_constant_archive(tmp_path, {c: 50.0 for c in sites["监测点编码"]}, sites=sites)
    log = cnemc.ReadLog()
    path = tmp_path / "stations" / "sites.csv"
    kept = cnemc.read_station_list(path, areas(), log=log)
    assert list(kept["station"]) == list(SITES["监测点编码"])
    assert log.entries == [{"file": str(path), "row": None, "action": "stations dropped",
                            "problem": "stations of cities not in the area table: 石家庄 (4), 保定 (3)"}]
    assert log.stations_dropped == log.entries
    # their archive columns are dropped without a note per file (the station list's note said it once)
    listed = cnemc.read_station_list(path, areas(), keep_unknown=True)
    assert listed["area_id"].isna().sum() == 7
    history, _, log2 = cnemc.read_cnemc_archive(tmp_path / "stations", kept, listed=listed["station"])
    assert set(history["station"]) == set(kept["station"]) and log2.entries == []
    # without the full list they are unknown codes, noted per file
    _, _, log3 = cnemc.read_cnemc_archive(tmp_path / "stations", kept)
    assert len(log3.entries) == 3 and "1100A" in log3.entries[0]["problem"]


def test_no_station_in_any_area_names_cities_and_how_to_add_one(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("监测点编码,监测点名称,城市,经度,纬度\n1101A,a,石家庄,114.50,38.00\n1102A,b,石家庄,114.52,38.08\n"
                    "1103A,c,石家庄,114.51,38.04\n")
    with pytest.raises(cnemc.StationDataError) as info:
        cnemc.read_station_list(path, areas())
    assert str(info.value) == (
        f"{path}: none of its 3 stations is in an area of the area table (cities found: 石家庄 (3)); add the city "
        "to the region's areas.csv, e.g. \"<area_id>,石家庄市,石家庄,<name_en>,city,,<GB/T 2260 code>,114.51,38.04\", "
        "or give --region PATH (README: A region of your own)")
    assert len(cnemc.read_station_list(path, areas(), keep_unknown=True)) == 3


def test_no_station_in_any_area_latin_city_fills_the_id(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("station,station_name,city,lon,lat\nX1,a,Shijiazhuang,114.5,38.0\nX2,b,Baoding,115.5,38.9\n")
    with pytest.raises(cnemc.StationDataError, match=r"cities found: Baoding \(1\), Shijiazhuang \(1\)\); "
                                                     r".*e\.g\. \"baoding,<name_zh>,<short_zh>,Baoding,city,"):
        cnemc.read_station_list(path, areas())
    path.write_text("station,station_name,city,lon,lat\n")
    with pytest.raises(cnemc.StationDataError, match="the station list has no stations"):
        cnemc.read_station_list(path, areas())


# ------------------------------------------------------------------ a row dated otherwise than its file
def test_row_dated_otherwise_than_its_file_is_logged_and_skipped(archive):
    path = archive / "stations" / "china_sites_20240102.csv"
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("20240102,5,PM2.5,"))
    lines[number] = lines[number].replace("20240102", "20230102", 1)  # a year earlier
    path.write_text("\n".join(lines) + "\n")
    history, _, log, _ = read_archive(archive)
    assert log.entries == [{"file": str(path), "row": number + 1, "action": "row skipped (dated otherwise)",
                            "problem": f"line {number + 1}: row dated 2023-01-02 in the file of 2024-01-02"}]
    assert not (history["time"] < pd.Timestamp("2024-01-01", tz="Asia/Shanghai")).any()  # not moved a year back
    at5 = history[(history["time"] == pd.Timestamp("2024-01-02 05:00", tz="Asia/Shanghai"))
                  & (history["pollutant"] == "pm25")]
    assert at5.empty  # and not kept at the file's date either
