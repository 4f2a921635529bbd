"""The orchestrator's checks of dates against each other and against the data (the runs themselves are tested
on the simulated worlds in test_model.py and tests/test_cli.py)."""
import pandas as pd
import pytest

from forecast import forecasting as FC
from forecast.model import ModelError
from forecast.nomenclature import DateError


def test_issue_period_parses_and_orders():
    assert FC.issue_period("2024-01-01", "2024-01-01") == (pd.Timestamp("2024-01-01"),) * 2
    with pytest.raises(ModelError, match="^--start 2024-02-01 is after --end 2024-01-01"):
        FC.issue_period("2024-02-01", "2024-01-01", names=("--start", "--end"))
    with pytest.raises(DateError, match="^end 'soon' is not a date"):
        FC.issue_period("2024-02-01", "soon")


def _inputs(aqi):
    idx = pd.MultiIndex.from_product([["baotou"], pd.date_range("2023-11-30", periods=len(aqi))],
                                     names=["area_id", "date"])
    obs = FC.F.Observations(pd.DataFrame({"aqi": aqi}, index=idx), None, None)
    return FC.Inputs(obs, pd.DataFrame(), pd.DataFrame(), {}, {})


def test_observed_period_counts_days_with_an_aqi():
    # the first day holds only the 24:00 value before the archive's first file: no AQI, not observed
    assert FC.observed_period(_inputs([float("nan"), 80, 90, float("nan")])) == \
        (pd.Timestamp("2023-12-01"), pd.Timestamp("2023-12-02"))
    with pytest.raises(ModelError, match="no observed day"):
        FC.observed_period(_inputs([float("nan")]))


def test_forecast_output_format_checked_first(tmp_path):
    with pytest.raises(ModelError, match=r"f\.txt: unknown output format '\.txt'; allowed: \.json, \.csv"):
        FC.run_forecast(tmp_path, tmp_path / "no-model", "2024-01-01", out=tmp_path / "f.txt")
    with pytest.raises(DateError, match="issue date 'x' is not a date"):
        FC.run_forecast(tmp_path, tmp_path / "no-model", "x")
