"""Quality control: each check removes what it should and records the reason."""
import pandas as pd
import pytest

from forecast import qc
from forecast.cnemc import StationDataError
from tests.forecast._archive import tidy


def test_qc_each_reason_recorded():
    t0 = pd.Timestamp("2024-01-01 01:00")
    rows = [(t0, "A", "pm25", 50.0), (t0, "A", "pm25", 51.0),  # duplicate
            (t0, "A", "pm10", 80.0), (t0, "A", "no2", -3.0), (t0, "A", "so2", 9000.0),
            (t0, "B", "pm25", 120.0), (t0, "B", "pm10", 60.0)]  # pm25 > pm10
    rows += [(t0 + pd.Timedelta(hours=h), "C", "pm25", 33.0) for h in range(12)]  # stuck for 12 h
    rows += [(t0 + pd.Timedelta(hours=h), "D", "pm25", 33.0) for h in range(11)]  # 11 h: not stuck
    clean, removed = qc.quality_control(tidy(rows))
    counts = removed.groupby("reason").size().to_dict()
    assert counts == {"duplicate": 1, "negative": 1, "implausible": 1, "pm25_gt_pm10": 2, "stuck": 12}
    assert set(counts) <= set(qc.QC_REASONS)
    assert len(clean) + len(removed) == len(rows)
    assert (clean["station"] == "D").sum() == 11
    # the first of duplicates is kept
    assert clean[(clean["station"] == "A") & (clean["pollutant"] == "pm25")]["value"].tolist() == [50.0]
    summary = qc.qc_summary(removed)
    assert summary.set_index(["reason", "pollutant"])["count"].sum() == len(removed)


def test_qc_stuck_run_broken_by_gap():
    t0 = pd.Timestamp("2024-01-01 01:00")
    rows = [(t0 + pd.Timedelta(hours=h), "C", "pm25", 33.0) for h in list(range(6)) + list(range(8, 14))]
    clean, removed = qc.quality_control(tidy(rows))
    assert removed.empty and len(clean) == 12


def test_qc_summary_of_nothing_removed():
    assert list(qc.qc_summary(pd.DataFrame()).columns) == ["reason", "pollutant", "count"]


def test_qc_limits_table_needs_every_species(tmp_path):
    path = tmp_path / "limits.csv"
    path.write_text("# a local table\npollutant,max_hourly,stuck_hours\npm25,2000,12\npm10,10000,12\n")
    with pytest.raises(StationDataError, match=r"no row for \['co', 'no2', 'o3', 'so2'\]"):
        qc.load_qc_limits(path)
    assert set(qc.load_qc_limits().columns) == {"max_hourly", "stuck_hours"}


def test_pm25_only_history_passes_the_pm_check_untouched():
    t0 = pd.Timestamp("2024-01-01 01:00")
    rows = [(t0 + pd.Timedelta(hours=h), "A", "pm25", 500.0 + h) for h in range(6)]
    clean, removed = qc.quality_control(tidy(rows))
    assert removed.empty and len(clean) == 6
    assert qc.checks_not_applied(tidy(rows)) == ["pm25_gt_pm10 (no PM10 values)"]


def test_pm_check_skips_station_hours_without_pm10():
    t0 = pd.Timestamp("2024-01-01 01:00")
    rows = [(t0, "A", "pm25", 120.0), (t0, "A", "pm10", 60.0),  # pm25 > pm10 here
            (t0, "B", "pm25", 120.0)]  # B has no PM10: not checked
    clean, removed = qc.quality_control(tidy(rows))
    assert list(removed["station"]) == ["A", "A"] and list(clean["station"]) == ["B"]
    assert qc.checks_not_applied(tidy(rows)) == []
