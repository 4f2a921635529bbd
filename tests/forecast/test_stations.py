"""Station history: CNEMC reader, QC, validity rules and area aggregation (GB 3095-2012 / HJ 663-2013)."""
import numpy as np
import pandas as pd
import pytest

from forecast import aqi as A
from forecast import stations as S
from simulate.cnemc import write_cnemc_day

CODES = ["1001A", "1002A", "1003A", "1004A"]
SITES = pd.DataFrame({"监测点编码": CODES, "监测点名称": ["市监测站", "工业园", "昆区", "对照点"],
                      "城市": ["呼和浩特", "呼和浩特", "包头", "呼和浩特"],
                      "经度": [111.6, 111.7, 109.8, 111.9], "纬度": [40.8, 40.9, 40.6, 41.2],
                      "对照点": ["N", "N", "N", "Y"]})


def _values(day_index, rng, n=len(CODES)):
    base = 40 + 10 * day_index
    pm25 = np.round(base + rng.uniform(0, 20, (24, n)))
    return {"PM2.5": pm25, "PM10": pm25 * 1.6, "SO2": np.full((24, n), 12.0) + rng.integers(0, 3, (24, n)),
            "NO2": np.round(rng.uniform(20, 60, (24, n))), "O3": np.round(rng.uniform(10, 120, (24, n))),
            "CO": np.round(rng.uniform(0.4, 1.8, (24, n)), 3), "AQI": np.full((24, n), 99.0),
            "PM2.5_24h": np.full((24, n), 50.0)}


@pytest.fixture
def archive(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "stations").mkdir()
    SITES.to_csv(tmp_path / "stations" / "sites.csv", index=False)
    for k, day in enumerate(pd.date_range("2024-01-01", "2024-01-04")):
        write_cnemc_day(tmp_path / "stations" / f"china_sites_{day:%Y%m%d}.csv", day, _values(k, rng), CODES)
    return tmp_path


def _read(archive):
    sites = S.read_station_list(archive / "stations" / "sites.csv")
    return (*S.read_cnemc_archive(archive / "stations", sites), sites)


# ------------------------------------------------------------------ station list
def test_station_list_chinese_header(archive):
    sites = S.read_station_list(archive / "stations" / "sites.csv")
    assert list(sites["area_id"]) == ["hohhot", "hohhot", "baotou", "hohhot"]
    assert list(sites["background"]) == [False, False, False, True]


def test_station_list_english_header_and_outside_region(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("station,station_name,city,lon,lat\n1001A,a,Hohhot,111.6,40.8\n1011A,b,北京,116.4,39.9\n")
    sites = S.read_station_list(path)
    assert list(sites["station"]) == ["1001A"]  # Beijing is not an Inner Mongolia area
    assert len(S.read_station_list(path, keep_unknown=True)) == 2


@pytest.mark.parametrize("text,match", [
    ("监测点编码,城市,经度,纬度\n1001A,呼和浩特,111,40\n", r"lacks column\(s\) \['station_name'\]"),
    ("监测点编码,监测点名称,城市,经度,纬度\n1001A,a,呼和浩特,111,40\n1001A,b,包头,110,40\n", "duplicate station"),
    ("监测点编码,监测点名称,城市,经度,纬度\n1001A,a,呼和浩特,211,40\n", "lon outside"),
])
def test_station_list_errors_name_file(tmp_path, text, match):
    path = tmp_path / "sites.csv"
    path.write_text(text)
    with pytest.raises(S.StationDataError, match=match) as info:
        S.read_station_list(path)
    assert str(path) in str(info.value)


# ------------------------------------------------------------------ archive reading
def test_archive_round_trip_and_time_labels(archive):
    history, removed, log, sites = _read(archive)
    assert set(history["pollutant"]) == set(S.SPECIES)  # derived types (AQI, *_24h) are not read as hourly data
    assert log.files_read == 4 and not log.entries and removed.empty
    assert str(history["time"].dt.tz) == "Asia/Shanghai"
    raw = pd.read_csv(archive / "stations" / "china_sites_20240102.csv")
    cell = raw[(raw["hour"] == 0) & (raw["type"] == "PM2.5")]["1002A"].iloc[0]
    got = history[(history["station"] == "1002A") & (history["pollutant"] == "pm25")
                  & (history["time"] == pd.Timestamp("2024-01-02 00:00", tz="Asia/Shanghai"))]["value"]
    assert got.iloc[0] == cell


def test_bad_files_are_logged_and_do_not_lose_others(archive):
    d = archive / "stations"
    (d / "china_sites_20240105.csv").write_bytes(b"\x00\x01\x02 not csv")
    (d / "china_sites_20240106.csv").write_text("foo,bar\n1,2\n")
    good = (d / "china_sites_20240104.csv").read_text()
    (d / "china_sites_20240104.csv").write_text(good[: len(good) - 9])  # truncated mid-row
    history, removed, log, _ = _read(archive)
    frame = log.to_frame()
    skipped = frame[frame["action"] == "file skipped"]
    assert set(skipped["file"].map(lambda f: f[-12:])) == {"20240105.csv", "20240106.csv"}
    assert skipped["problem"].str.contains("binary").any() and skipped["problem"].str.contains("wrong header").any()
    trunc = frame[frame["problem"].str.contains("truncated row")]
    n_lines = len(good.splitlines())
    assert list(trunc["row"]) == [n_lines]
    assert history["time"].max() == pd.Timestamp("2024-01-04 23:00", tz="Asia/Shanghai")
    assert history["time"].min() == pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")


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
    history, removed, log, _ = _read(archive)
    assert "9999A" not in set(history["station"])
    assert log.to_frame()["problem"].str.contains("9999A").any()
    assert list(removed["reason"]) == ["non_numeric"] and removed["raw"].iloc[0] == "--"
    assert removed["station"].iloc[0] == "1002A"  # parts[3] is 1001A, parts[4] is 1002A


def test_long_csv(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("time,station,pollutant,value\n2024-01-01 01:00,1001A,PM2.5,35\n"
                    "2024-01-01 02:00,1001A,pm10,x\n2024-01-01 02:00,1001A,o3,80\n")
    sites = S.read_station_list(_sites_file(tmp_path))
    history, removed = S.read_long_csv(path, sites)
    assert list(history["pollutant"]) == ["o3", "pm25"]
    assert history["area_id"].iloc[0] == "hohhot"
    assert removed["reason"].tolist() == ["non_numeric"]
    path.write_text("time,station,pollutant,value\n2024-01-01 01:00,1001A,PM1,35\n")
    with pytest.raises(S.StationDataError, match=r"unknown pollutant\(s\) \['pm1'\]; allowed: pm25"):
        S.read_long_csv(path, sites)
    path.write_text("time,station,value\n")
    with pytest.raises(S.StationDataError, match="missing column"):
        S.read_long_csv(path, sites)


def _sites_file(tmp_path):
    p = tmp_path / "sites.csv"
    SITES.to_csv(p, index=False)
    return p


# ------------------------------------------------------------------ QC
def _hist(rows):
    frame = pd.DataFrame(rows, columns=["time", "station", "pollutant", "value"])
    frame["time"] = pd.to_datetime(frame["time"]).dt.tz_localize("Asia/Shanghai")
    frame["area_id"] = "hohhot"
    return frame


def test_qc_each_reason_recorded():
    t0 = pd.Timestamp("2024-01-01 01:00")
    rows = [(t0, "A", "pm25", 50.0), (t0, "A", "pm25", 51.0),  # duplicate
            (t0, "A", "pm10", 80.0), (t0, "A", "no2", -3.0), (t0, "A", "so2", 9000.0),
            (t0, "B", "pm25", 120.0), (t0, "B", "pm10", 60.0)]  # pm25 > pm10
    rows += [(t0 + pd.Timedelta(hours=h), "C", "pm25", 33.0) for h in range(12)]  # stuck for 12 h
    rows += [(t0 + pd.Timedelta(hours=h), "D", "pm25", 33.0) for h in range(11)]  # 11 h: not stuck
    clean, removed = S.quality_control(_hist(rows))
    counts = removed.groupby("reason").size().to_dict()
    assert counts == {"duplicate": 1, "negative": 1, "implausible": 1, "pm25_gt_pm10": 2, "stuck": 12}
    assert len(clean) + len(removed) == len(rows)
    assert (clean["station"] == "D").sum() == 11
    # the first of duplicates is kept
    assert clean[(clean["station"] == "A") & (clean["pollutant"] == "pm25")]["value"].tolist() == [50.0]


def test_qc_stuck_run_broken_by_gap():
    t0 = pd.Timestamp("2024-01-01 01:00")
    rows = [(t0 + pd.Timedelta(hours=h), "C", "pm25", 33.0) for h in list(range(6)) + list(range(8, 14))]
    clean, removed = S.quality_control(_hist(rows))
    assert removed.empty and len(clean) == 12


# ------------------------------------------------------------------ validity and aggregation
def _hourly(station, pollutant, start, values):
    t = pd.date_range(start, periods=len(values), freq="h")
    return _hist([(ti, station, pollutant, v) for ti, v in zip(t, values) if not np.isnan(v)])


def test_24h_mean_needs_20_hours():
    day1 = np.arange(24, dtype=float) + 10
    day1[:4] = np.nan  # 20 valid -> valid
    day2 = np.arange(24, dtype=float) + 10
    day2[:5] = np.nan  # 19 valid -> missing
    h = _hourly("A", "pm25", "2024-01-01 01:00", np.concatenate([day1, day2]))
    daily = S.station_daily(h)["pm25_24h"]
    assert daily.loc[(pd.Timestamp("2024-01-01"), "A")] == pytest.approx(np.nanmean(day1))
    assert np.isnan(daily.loc[(pd.Timestamp("2024-01-02"), "A")])


def test_day_is_hours_ending_01_to_24():
    values = np.full(24, 10.0)
    h = _hourly("A", "pm25", "2024-01-01 01:00", values)  # ends 01:00 … next day 00:00
    daily = S.station_daily(h)["pm25_24h"]
    assert list(daily.index.get_level_values("date")) == [pd.Timestamp("2024-01-01")]


def _brute_o3_8h(values, start):
    """Independent daily max 8-h O3: windows ending 08:00..24:00, each ≥ 6 valid hours, ≥ 14 windows."""
    t = pd.date_range(start, periods=len(values), freq="h")
    s = pd.Series(values, index=t)
    out = {}
    for day in pd.date_range(t[0].floor("D"), t[-1].floor("D")):
        means = []
        for end_hour in range(8, 25):
            end = day + pd.Timedelta(hours=end_hour)
            window = s[(s.index > end - pd.Timedelta(hours=8)) & (s.index <= end)]
            if window.notna().sum() >= 6:
                means.append(window.mean())
        if means and (len(means) >= 14 or max(means) > 160):
            out[day] = max(means)
    return out


def test_o3_daily_max_8h_against_brute_force():
    rng = np.random.default_rng(3)
    values = 60 + 80 * np.sin(np.linspace(0, 6 * np.pi, 72)) ** 2 + rng.uniform(0, 10, 72)
    values[30:34] = np.nan
    values[50:62] = np.nan  # day 3 loses many windows
    h = _hourly("A", "o3", "2024-06-01 01:00", values)
    got = S.station_daily(h)["o3_8h"].xs("A", level="station").dropna()
    expected = _brute_o3_8h(values, "2024-06-01 01:00")
    assert set(got.index) == set(expected)
    for day, value in expected.items():
        assert got[day] == pytest.approx(value)


def test_area_daily_excludes_background_and_matches_aqi(archive):
    history, _, _, sites = _read(archive)
    clean, _ = S.quality_control(history)
    daily = S.area_daily(clean, sites)
    st = S.station_daily(clean)
    day = pd.Timestamp("2024-01-02")
    hoh = daily[(daily["date"] == day) & (daily["area_id"] == "hohhot")].iloc[0]
    expected = st.loc[(day, ["1001A", "1002A"]), "pm25_24h"].mean()  # 1004A is background
    assert hoh["pm25_24h"] == pytest.approx(expected)
    assert hoh["n_stations"] == 2
    conc = pd.DataFrame([hoh[[k for k in A.DAILY_KEYS]].astype(float)])
    assert hoh["aqi"] == A.aqi(conc)["aqi"].iloc[0]


def test_rolling_24h_crosses_days():
    values = np.concatenate([np.full(24, 10.0), np.full(24, 58.0)])
    h = _hourly("A", "pm25", "2024-01-01 01:00", values)
    roll = S.station_rolling_24h(h)["pm25_24h"].xs("A", level="station")
    # 24 h ending 2024-01-02 12:00: 12 h of 10 and 12 h of 58
    assert roll[pd.Timestamp("2024-01-02 12:00", tz="Asia/Shanghai")] == pytest.approx(34.0)
    assert np.isnan(roll[pd.Timestamp("2024-01-01 19:00", tz="Asia/Shanghai")])  # 19 hours only


def test_store_round_trip_and_failed_write_keeps_old(tmp_path, archive, monkeypatch):
    history, _, _, _ = _read(archive)
    path = S.save_history(history, tmp_path / "h.parquet")
    back = S.load_history(path)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), history.reset_index(drop=True), check_dtype=False)

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError):
        S.save_history(history.iloc[:5], path)
    assert len(S.load_history(path)) == len(history)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_load_history_rejects_foreign_file(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_text("not parquet")
    with pytest.raises(S.StationDataError, match="cannot read station history"):
        S.load_history(p)
