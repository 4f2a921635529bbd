"""AQI per HJ 633-2012 / HJ 633-2026: expected values typed in from the standards' tables (REFERENCE 2.2),
independently of the shipped data file."""
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast import aqi as A
from tests.forecast._aqi_reference import aqi_reference

IAQI = [0, 50, 100, 150, 200, 300, 400, 500]
# HJ 633-2012 Table 1 (None: not defined)
T2012 = {
    "so2_24h": [0, 50, 150, 475, 800, 1600, 2100, 2620],
    "so2_1h": [0, 150, 500, 650, 800, None, None, None],
    "no2_24h": [0, 40, 80, 180, 280, 565, 750, 940],
    "no2_1h": [0, 100, 200, 700, 1200, 2340, 3090, 3840],
    "co_24h": [0, 2, 4, 14, 24, 36, 48, 60],
    "co_1h": [0, 5, 10, 35, 60, 90, 120, 150],
    "o3_1h": [0, 160, 200, 300, 400, 800, 1000, 1200],
    "o3_8h": [0, 100, 160, 215, 265, 800, None, None],
    "pm10_24h": [0, 50, 150, 250, 350, 420, 500, 600],
    "pm25_24h": [0, 35, 75, 115, 150, 250, 350, 500],
}
# HJ 633-2026 Table 3: PM rows changed at IAQI 100, gases unchanged
T2026 = dict(T2012, pm10_24h=[0, 50, 120, 250, 350, 420, 500, 600], pm25_24h=[0, 35, 60, 115, 150, 250, 350, 500])
TABLES = {"HJ633-2012": T2012, "HJ633-2026": T2026}
CASES = [(std, pol, bp, i) for std, table in TABLES.items() for pol, row in table.items()
         for bp, i in zip(row, IAQI) if bp is not None]


@pytest.mark.parametrize("standard,pollutant,concentration,expected", CASES)
def test_every_breakpoint(standard, pollutant, concentration, expected):
    assert A.iaqi(pollutant, concentration, standard=standard) == expected


def _between(row):
    out = []
    for k in range(len(row) - 1):
        lo, hi = row[k], row[k + 1]
        if lo is None or hi is None:
            continue
        c = lo + 0.37 * (hi - lo)
        expected = math.ceil(round(IAQI[k] + (IAQI[k + 1] - IAQI[k]) * (c - lo) / (hi - lo), 6))
        out.append((c, expected))
    return out


@pytest.mark.parametrize("standard,pollutant,concentration,expected",
                         [(s, p, c, e) for s, t in TABLES.items() for p, row in t.items() for c, e in _between(row)])
def test_points_between_breakpoints(standard, pollutant, concentration, expected):
    assert A.iaqi(pollutant, concentration, standard=standard) == expected


def test_rounded_up_not_to_nearest():
    # PM2.5 76 µg/m³: 100 + 50 * 1/40 = 101.25 -> 102
    assert A.iaqi("pm25_24h", 76) == 102
    # exact breakpoints are not pushed up by floating-point noise
    assert A.iaqi("co_24h", 14.0) == 150


def test_editions_differ_only_below_150():
    assert A.iaqi("pm25_24h", 70, standard="HJ633-2012") == 94
    assert A.iaqi("pm25_24h", 70, standard="HJ633-2026") == 110
    for c in (115, 150, 250, 350, 500):
        assert A.iaqi("pm25_24h", c, standard="HJ633-2012") == A.iaqi("pm25_24h", c, standard="HJ633-2026")


def test_auto_picks_edition_by_date():
    out = A.iaqi("pm25_24h", [70, 70], standard="auto", dates=["2026-02-28", "2026-03-01"])
    assert list(out) == [94, 110]


def test_auto_without_dates_is_an_error():
    with pytest.raises(A.AQIError, match="dates"):
        A.iaqi("pm25_24h", 70, standard="auto")


def test_vectorised_kinds_and_nan():
    assert isinstance(A.iaqi("pm25_24h", 50.0), float)
    arr = A.iaqi("pm25_24h", np.array([50.0, np.nan]))
    assert arr[0] == 69 and np.isnan(arr[1])
    s = A.iaqi("pm25_24h", pd.Series([50.0, np.nan], index=["a", "b"]))
    assert list(s.index) == ["a", "b"] and s["a"] == 69 and np.isnan(s["b"])


def test_negative_is_invalid_with_warning():
    with pytest.warns(UserWarning, match="negative"):
        out = A.iaqi("pm10_24h", [-1.0, 10.0])
    assert np.isnan(out[0]) and out[1] == 10


@pytest.mark.parametrize("standard", ["HJ633-2012", "HJ633-2026"])
def test_so2_1h_above_800_falls_back_to_24h(standard):
    # HJ 633-2012 Table 1 note (2): the 24-h sub-index is reported
    assert A.iaqi("so2_1h", 900, standard=standard, fallback=150) == 100
    table = A.aqi(pd.DataFrame({"so2_1h": [900.0], "so2_24h": [475.0]}), standard=standard)
    assert table["iaqi_so2_1h"].iloc[0] == 150


def test_so2_1h_above_800_without_24h_per_edition():
    assert np.isnan(A.iaqi("so2_1h", 900, standard="HJ633-2012"))
    assert A.iaqi("so2_1h", 900, standard="HJ633-2026") == 200  # 2026 transcription caps at 200


@pytest.mark.parametrize("standard", ["HJ633-2012", "HJ633-2026"])
def test_o3_8h_above_800_uses_1h(standard):
    # HJ 633-2012 Table 1 note (3)
    assert A.iaqi("o3_8h", 850, standard=standard, fallback=1000) == 400
    assert A.iaqi("o3_8h", 800, standard=standard) == 300  # the last defined breakpoint itself


def test_o3_8h_above_800_without_1h_per_edition():
    assert np.isnan(A.iaqi("o3_8h", 850, standard="HJ633-2012"))
    assert A.iaqi("o3_8h", 850, standard="HJ633-2026") == 300


def test_above_top_breakpoint_options():
    assert A.iaqi("pm25_24h", 600) == 500
    assert np.isnan(A.iaqi("pm25_24h", 600, above_top="nan"))
    # last segment 350..500 -> 400..500, slope 100/150
    assert A.iaqi("pm25_24h", 650, above_top="extrapolate") == math.ceil(500 + 150 * 100 / 150)


@pytest.mark.parametrize("bad", ["pm25", "PM2.5", "o3_24h", ""])
def test_unknown_pollutant_names_allowed_set(bad):
    with pytest.raises(A.AQIError, match="allowed: pm25_24h, pm10_24h"):
        A.iaqi(bad, 10)


@pytest.mark.parametrize("bad", ["HJ633", "GB3095-2012", "2026"])
def test_unknown_standard(bad):
    with pytest.raises(A.AQIError, match="allowed: HJ633-2012, HJ633-2026 or 'auto'"):
        A.iaqi("pm25_24h", 10, standard=bad)


def test_unknown_above_top_option():
    with pytest.raises(A.AQIError, match="allowed: cap, nan, extrapolate"):
        A.iaqi("pm25_24h", 10, above_top="clip")


def test_non_numeric_input():
    with pytest.raises(A.AQIError, match="numeric"):
        A.iaqi("pm25_24h", ["a"])


def test_table_aqi_category_primary_and_exceeding():
    table = pd.DataFrame({"pm25_24h": [20, 160, 80, 115, np.nan],
                          "pm10_24h": [30, 100, 150, 250, np.nan],
                          "o3_8h": [50, 50, 200, 10, np.nan]})
    out = A.aqi(table)
    assert list(out["aqi"].iloc[:4]) == [30, 210, 137, 150]
    assert list(out["category"].iloc[:4]) == [1, 5, 3, 3]
    assert out["name_zh"].iloc[1] == "重度污染" and out["colour"].iloc[1] == "#99004C"
    assert pd.isna(out["primary_pollutant"].iloc[0])  # AQI <= 50: no primary pollutant
    assert out["primary_pollutant"].iloc[1] == "PM2.5"
    assert out["primary_pollutant"].iloc[2] == "O3"
    assert out["primary_pollutant"].iloc[3] == "PM2.5,PM10"  # tie lists both
    assert out["exceeding_pollutants"].iloc[2] == "PM2.5,O3"
    assert np.isnan(out["aqi"].iloc[4]) and pd.isna(out["category"].iloc[4])


@pytest.mark.parametrize("value,cat", [(0, 1), (50, 1), (51, 2), (100, 2), (101, 3), (150, 3), (151, 4),
                                       (200, 4), (201, 5), (300, 5), (301, 6), (500, 6)])
def test_category_boundaries(value, cat):
    assert A.category([value])["category"].iloc[0] == cat


def test_table_without_pollutants():
    with pytest.raises(A.AQIError, match="no pollutant column"):
        A.aqi(pd.DataFrame({"x": [1]}))


def test_custom_breakpoint_file(tmp_path):
    path = tmp_path / "bp.csv"
    text = (A.DATA_DIR / "aqi_breakpoints.csv").read_text().replace(
        "HJ633-2012,pm25_24h,ug/m3,0,35,75", "HJ633-2012,pm25_24h,ug/m3,0,30,75")
    path.write_text(text)
    assert A.iaqi("pm25_24h", 30, breakpoints_path=path) == 50
    assert A.iaqi("pm25_24h", 30) == 43


def test_partial_aqi_names_the_species_it_rests_on():
    # HJ 633-2012 Table 1: PM2.5 24-h 80 µg/m³ -> 100 + (80 - 75) * 50 / 40 = 106.25 -> 107
    table = pd.DataFrame({"pm25_24h": [80.0, 80.0, np.nan], "pm10_24h": [np.nan, 30.0, np.nan]})
    out = A.aqi(table)
    assert out["aqi"].iloc[0] == 107 and out["iaqi_pm25_24h"].iloc[0] == 107
    assert list(out["aqi_pollutants"].iloc[:2]) == ["PM2.5", "PM2.5,PM10"] and pd.isna(out["aqi_pollutants"].iloc[2])
    assert list(out["aqi_partial"]) == [True, True, False]  # no AQI at all is not a partial AQI


def test_full_aqi_is_not_partial():
    row = {"pm25_24h": 20, "pm10_24h": 30, "so2_24h": 5, "no2_24h": 20, "co_24h": 0.5, "o3_8h": 60}
    out = A.aqi(pd.DataFrame([row, {**row, "co_24h": np.nan}]))
    assert list(out["aqi_partial"]) == [False, True]
    assert out["aqi_pollutants"].iloc[0] == "PM2.5,PM10,SO2,NO2,CO,O3"
    assert out["aqi_pollutants"].iloc[1] == "PM2.5,PM10,SO2,NO2,O3"


def test_dust_needs_pm10():
    daily = pd.DataFrame({"pm25_24h": [40.0, 40.0], "pm10_24h": [400.0, np.nan], "aqi": [272.0, 57.0]})
    # PM10 400 -> 200 + 50 * 100 / 70 = 271.4 -> 272 > PM2.5's 57; 40/400 = 0.1 < 0.35; AQI > 100: dust.
    # The day without PM10 is not.
    assert list(A.dust_dominated(daily)) == [True, False]
    assert list(A.dust_dominated(daily.drop(columns="pm10_24h"))) == [False, False]  # an archive without PM10


def test_the_top_of_the_scale_is_500_in_both_editions():
    assert A.AQI_MAX == 500.0
    for standard in A.STANDARDS:
        assert A.iaqi("pm25_24h", 1e9, standard=standard) == A.AQI_MAX


def test_aqi_table_names_a_cell_that_is_not_a_number(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("pm25_24h,o3_8h\n80,5\n90,x\n95,y\n")
    with pytest.raises(A.AQIError, match=r"c\.csv: column o3_8h, line 3: 'x' is not a number \(2 such cell\(s\)\)"):
        A.aqi_table(path)



# ------------------------------------------------------------------------------- vectorised table vs per-row reference
def _random_table(n, seed, *, keys=A.POLLUTANTS):
    """Concentrations drawn from the breakpoints (ties between species, values on and around each breakpoint, the
    800 µg m⁻³ special-rule edge, beyond the top), uniform values, and NaN; dates either side of HJ 633-2026's
    first day."""
    rng = np.random.default_rng(seed)
    bps = A.load_breakpoints()
    table = {}
    for key in keys:
        edges = bps.loc[bps["pollutant"] == key, [c for c in bps.columns if c.startswith("bp_")]].to_numpy().ravel()
        edges = edges[~np.isnan(edges)]
        pool = np.concatenate([edges, edges + 0.5, edges * 1.01, [np.nan] * 4, [799.9, 800.0, 800.1, 1500.0, 5e3]])
        values = rng.choice(pool, n)
        uniform = rng.random(n) < 0.3
        values[uniform] = rng.uniform(0, edges.max() * 1.2, int(uniform.sum()))
        table[key] = values
    frame = pd.DataFrame(table)
    frame.iloc[:20] = np.nan  # rows without any value
    frame.iloc[20:40] = 1.0  # clean air: no primary pollutant
    frame["date"] = rng.choice(pd.to_datetime(["2024-12-31", "2026-02-28", "2026-03-01", "2027-01-01"]), n)
    return frame


@pytest.mark.parametrize("standard", ["HJ633-2012", "HJ633-2026", "auto"])
@pytest.mark.parametrize("keys", [A.POLLUTANTS, A.DAILY_KEYS, ("pm25_24h",), ("so2_1h", "o3_8h"),
                                  ("o3_8h", "o3_1h", "pm10_24h", "pm25_24h"), ("so2_1h", "so2_24h")])
def test_vectorised_table_equals_per_row_reference(standard, keys):
    table = _random_table(3000, seed=len(keys), keys=keys)
    got = A.aqi(table, standard=standard, date_column="date")
    pd.testing.assert_frame_equal(got, aqi_reference(table, standard=standard, date_column="date"))


def test_random_tables_hold_ties_empty_rows_and_special_rules():
    """What the comparison above must cover is in its tables: ties of two species at the AQI, rows without any
    value, and O3 8-h and SO2 1-h above 800 in both editions."""
    table = _random_table(3000, seed=len(A.POLLUTANTS))
    got = A.aqi(table, standard="auto", date_column="date")
    assert got["primary_pollutant"].str.contains(",").any()
    assert got["aqi"].isna().any() and (got["aqi"] <= 50).any()
    for key in ("o3_8h", "so2_1h"):
        beyond = table[key] > 800
        assert (beyond & (table["date"] >= "2026-03-01")).any() and (beyond & (table["date"] < "2026-03-01")).any()


def test_vectorised_table_with_negative_values_warns_like_the_reference():
    table = pd.DataFrame({"pm25_24h": [-5.0, 80.0], "pm10_24h": [30.0, -1.0]})
    with pytest.warns(UserWarning, match="negative"):
        got = A.aqi(table)
    pd.testing.assert_frame_equal(got, aqi_reference(table))
    assert got["aqi_pollutants"].tolist() == ["PM10", "PM2.5"] and got["aqi_partial"].all()


def test_vectorised_table_on_hand_rows():
    """Rows whose answer HJ 633-2012 Table 1 gives directly: a tie of PM2.5 and PM10 at IAQI 150 (both primary),
    an O3 8-h of 900 reported through the O3 1-h IAQI (300 µg m⁻³ → 150), and a row without any value."""
    table = pd.DataFrame({"pm25_24h": [115.0, 10.0, np.nan], "pm10_24h": [250.0, 20.0, np.nan],
                          "o3_8h": [50.0, 900.0, np.nan], "o3_1h": [100.0, 300.0, np.nan]})
    got = A.aqi(table)
    assert got["aqi"].tolist()[:2] == [150.0, 150.0] and np.isnan(got["aqi"].iloc[2])
    assert got["primary_pollutant"].tolist()[:2] == ["PM2.5,PM10", "O3"]
    assert got["exceeding_pollutants"].tolist()[:2] == ["PM2.5,PM10", "O3"]
    assert got["primary_pollutant"].isna().iloc[2] and got["aqi_pollutants"].isna().iloc[2]
