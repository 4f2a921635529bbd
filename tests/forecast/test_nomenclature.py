"""The shared names and the one reader of a calendar day a user or a file gives."""
import datetime

import numpy as np
import pandas as pd
import pytest

from forecast.nomenclature import DateError, parse_day


@pytest.mark.parametrize("value", ["2024-01-05", " 2024-01-05 ", "20240105", "2024-01-05T10:30",
                                   datetime.date(2024, 1, 5), pd.Timestamp("2024-01-05 23:00"),
                                   np.datetime64("2024-01-05"), pd.Timestamp("2024-01-05 01:00", tz="Asia/Shanghai")])
def test_a_day_is_midnight_without_a_time_zone(value):
    assert parse_day(value) == pd.Timestamp("2024-01-05")


@pytest.mark.parametrize("value", ["yesterday", "", "  ", "2024-02-30", "2024-13-01", "NaT", None, 20240105, 3.5,
                                   np.int64(7), True, pd.NaT])
def test_anything_else_names_what_it_was_for(value):
    with pytest.raises(DateError, match=r"^--issued .* is not a date \(expected YYYY-MM-DD\)$"):
        parse_day(value, "--issued")
    assert issubclass(DateError, ValueError)
