"""Averaging of hourly station values as HJ 663-2013 prescribes: daily means, the daily maximum 8-h O3, rolling
24-h means, and area means with their AQI.

Two layers, as for the gridded maths elsewhere in lantian:

NumPy kernels
    :func:`daily_mean` and :func:`daily_max_8h` take an array of hourly values ``(T, ...)`` (NaN = missing) and
    the end times of the hours; they know nothing of stations or tables, so the simulator uses the same rules.
pandas functions
    :func:`station_hourly`, :func:`station_daily`, :func:`station_rolling_24h`, :func:`area_daily` and
    :func:`area_rolling_24h` work on the tidy ``history`` table of :mod:`forecast.cnemc` and call the kernels.

Day convention
    Hourly values are labelled by the *end* of their hour, in China Standard Time. A natural day D holds the values
    ending 01:00 … 24:00 of D, i.e. the hours ending in (D 00:00, D+1 00:00].

Species present
    Archives come as they are: the tables hold a column for each species the history has (an archive of PM2.5
    alone gives ``pm25_24h`` only), and the area AQI is computed from what is there; an AQI from fewer than the six
    species is a partial AQI, flagged ``aqi_partial`` with the species in ``aqi_pollutants`` (:func:`forecast.aqi.aqi`).

Validity (a value that fails is NaN, never zero)
    - 24-h mean: at least :data:`MIN_HOURS_24H` (20) valid hourly values in the day;
    - 8-h running mean: at least :data:`MIN_HOURS_8H` (6) valid hourly values in the 8 hours;
    - daily maximum 8-h O3: the maximum of the 8-h running means ending 08:00 … 24:00 (17 windows); valid with at
      least :data:`MIN_8H_MEANS_DAILY` (14) valid 8-h means, or with fewer when the maximum still exceeds
      :data:`O3_8H_LIMIT` (the day exceeds the standard whatever the missing windows held);
    - daily maximum 1-h O3: at least 20 valid hourly values.

References
----------
.. [1] HJ 663-2013 Technical Regulation for Ambient Air Quality Assessment (on trial): clause 3 (terms: 24-h mean,
   8-h running mean, daily maximum 8-h mean over the windows of 08:00 … 24:00), clause 6 (data statistics
   requirements: validity of the 24-h, 8-h and daily maximum 8-h values), Annex A (statistical methods).
.. [2] GB 3095-2012 Ambient Air Quality Standards, Table 4 (minimum data for a valid 24-h and 8-h mean) and
   Table 1 (grade II 8-h O3 limit, 160 µg m⁻³).
.. [3] HJ 633-2012 / HJ 633-2026 Technical Regulation on Ambient Air Quality Index (the AQI of the area values,
   :mod:`forecast.aqi`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .aqi import DAILY_KEYS as _AQI_KEYS
from .aqi import aqi as _aqi
from .nomenclature import TZ

#: valid hourly values needed for a 24-h mean (and a daily maximum 1-h O3) (GB 3095-2012 Table 4) [h]
MIN_HOURS_24H = 20
#: valid hourly values needed for an 8-h running mean (GB 3095-2012 Table 4) [h]
MIN_HOURS_8H = 6
#: valid 8-h means, of the 17 ending 08:00 … 24:00, needed for the daily maximum 8-h O3 (HJ 663-2013 clause 6) [1]
MIN_8H_MEANS_DAILY = 14
#: GB 3095-2012 grade II daily maximum 8-h O3 limit; above it a day with fewer valid windows still counts [µg m⁻³]
O3_8H_LIMIT = 160.0
#: species averaged to 24-h means (O3 is averaged to 8-h and 1-h maxima instead)
_MEAN_SPECIES = ("pm25", "pm10", "so2", "no2", "co")
_HOUR = pd.Timedelta(hours=1)


# --------------------------------------------------------------------------------------------------- kernels
def _hours_by_day(hourly, end_times) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Place hourly values on a (day, hour-of-day, ...) cube; hours absent from ``end_times`` are NaN.

    Slot ``h`` of a day holds the hour ending ``h + 1`` o'clock (slot 23: the hour ending 24:00).
    """
    values = np.asarray(hourly, dtype=float)
    if values.ndim == 0:
        raise ValueError("hourly must have a time axis (shape (T, ...)); got a scalar")
    times = pd.DatetimeIndex(end_times)
    if len(times) != values.shape[0]:
        raise ValueError(f"end_times has {len(times)} times but hourly has {values.shape[0]} rows (axis 0 is time)")
    if times.tz is not None:
        times = times.tz_convert(TZ).tz_localize(None)
    rest = values.shape[1:]
    if len(times) == 0:
        return pd.DatetimeIndex([], dtype=times.dtype), np.empty((0, 24, *rest))
    if times.hasnans:
        raise ValueError("end_times contains NaT")
    start = times - _HOUR  # the start of each hour
    off_hour = start != start.floor("h")
    if off_hour.any():
        raise ValueError(f"end_times must be on whole hours; found {times[off_hour][:3].tolist()}")
    if times.has_duplicates:
        raise ValueError(f"end_times has duplicates: {times[times.duplicated()][:3].tolist()}")
    first = start.min().floor("D")
    slot = ((start - first) / _HOUR).to_numpy().astype(np.int64)
    n_days = int(slot.max()) // 24 + 1
    cube = np.full((n_days * 24, *rest), np.nan)
    cube[slot] = values
    days = pd.date_range(first, periods=n_days, freq="D", unit=times.unit)
    return days, cube.reshape((n_days, 24, *rest))


def _check_count(name: str, value, low: int, high: int):
    if not (isinstance(value, (int, np.integer)) and low <= value <= high):
        raise ValueError(f"{name} must be an integer in {low} … {high}; got {value!r}")


def _running_mean(values: np.ndarray, window: int, min_valid: int) -> np.ndarray:
    """Mean of the ``window`` rows ending at each row (axis 0), NaN with fewer than ``min_valid`` valid values.

    Rows before the first count as missing (as in ``pandas.DataFrame.rolling(window, min_periods=min_valid)``).
    """
    valid = ~np.isnan(values)
    filled = np.where(valid, values, 0.0)
    total = filled.copy()
    count = valid.astype(np.int64)
    for lag in range(1, window):
        total[lag:] += filled[:-lag]
        count[lag:] += valid[:-lag]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return np.where(count >= min_valid, mean, np.nan)


def _running_max(values: np.ndarray, window: int, min_valid: int) -> np.ndarray:
    """Maximum of the ``window`` rows ending at each row (axis 0), NaN with fewer than ``min_valid`` valid values."""
    valid = ~np.isnan(values)
    out = values.copy()
    count = valid.astype(np.int64)
    for lag in range(1, window):
        out[lag:] = np.fmax(out[lag:], values[:-lag])
        count[lag:] += valid[:-lag]
    return np.where(count >= min_valid, out, np.nan)


def daily_mean(hourly, end_times, *, min_hours: int = MIN_HOURS_24H) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Natural-day means of hourly values, with the 20-hour validity rule.

    Parameters
    ----------
    hourly : array_like, shape (T, ...)
        Hourly mean concentrations; NaN where missing. Any trailing shape (stations, grid points).
        [µg m⁻³; mg m⁻³ for CO]
    end_times : pandas.DatetimeIndex, length T
        End of each hour, naive China Standard Time (tz-aware times are converted to CST). Need not be complete or
        sorted: hours that are absent count as missing.
    min_hours : int, default 20
        Valid hourly values a day needs. [h]

    Returns
    -------
    days : pandas.DatetimeIndex
        Every natural day (CST midnight) from the first to the last hour's day.
    values : numpy.ndarray, shape (len(days), ...)
        Mean of each day's valid hourly values; NaN with fewer than ``min_hours`` of them. [units of ``hourly``]

    Raises
    ------
    ValueError
        ``end_times`` does not match ``hourly``'s first axis, is not on whole hours, has duplicates or NaT;
        ``min_hours`` outside 1 … 24.

    Notes
    -----
    A day D holds the hours ending 01:00 … 24:00 of D (hour-ending 00:00 belongs to the day before).

    References
    ----------
    HJ 663-2013 clause 3 (24-h mean of a natural day) and clause 6; GB 3095-2012 Table 4 (at least 20 hourly
    values a day for the 24-h mean of SO2, NO2, CO, PM10, PM2.5).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = pd.date_range("2024-01-01 01:00", periods=48, freq="h")
    >>> x = np.full(48, 10.0)
    >>> x[24:29] = np.nan  # day 2 keeps 19 hours
    >>> days, values = daily_mean(x, t)
    >>> values
    array([10., nan])
    """
    _check_count("min_hours", min_hours, 1, 24)
    days, cube = _hours_by_day(hourly, end_times)
    valid = ~np.isnan(cube)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, cube, 0.0).sum(axis=1) / count
    return days, np.where(count >= min_hours, mean, np.nan)


def _daily_max_1h(hourly, end_times, *, min_hours: int = MIN_HOURS_24H) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Natural-day maximum of hourly values, NaN with fewer than ``min_hours`` valid hours."""
    days, cube = _hours_by_day(hourly, end_times)
    count = (~np.isnan(cube)).sum(axis=1)
    return days, np.where(count >= min_hours, np.fmax.reduce(cube, axis=1), np.nan)


def daily_max_8h(hourly, end_times, *, min_hours_8h: int = MIN_HOURS_8H, min_windows: int = MIN_8H_MEANS_DAILY
                 ) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Daily maximum 8-h running mean (of O3), with the HJ 663 validity rules.

    Parameters
    ----------
    hourly : array_like, shape (T, ...)
        Hourly mean O3 concentrations; NaN where missing. Any trailing shape. [µg m⁻³]
    end_times : pandas.DatetimeIndex, length T
        End of each hour, naive China Standard Time (tz-aware times are converted to CST). Need not be complete or
        sorted: hours that are absent count as missing.
    min_hours_8h : int, default 6
        Valid hourly values an 8-h running mean needs. [h]
    min_windows : int, default 14
        Valid 8-h means, of the 17 windows ending 08:00 … 24:00, the daily maximum needs. [1]

    Returns
    -------
    days : pandas.DatetimeIndex
        Every natural day (CST midnight) from the first to the last hour's day.
    values : numpy.ndarray, shape (len(days), ...)
        The day's largest valid 8-h running mean; NaN when fewer than ``min_windows`` windows are valid, unless
        that largest mean exceeds :data:`O3_8H_LIMIT` (160 µg m⁻³). [µg m⁻³]

    Raises
    ------
    ValueError
        ``end_times`` does not match ``hourly``'s first axis, is not on whole hours, has duplicates or NaT;
        ``min_hours_8h`` outside 1 … 8 or ``min_windows`` outside 1 … 17.

    Notes
    -----
    The 8-h running mean ending at hour t is the mean of the valid hourly values ending t − 7 h … t. The windows of
    day D end at 08:00, 09:00 … 24:00 of D, so each covers hours of D only (hours ending 01:00 … 24:00). A day
    with too few valid windows still has a valid maximum when that maximum is above the grade II limit, since the
    missing windows could only raise it.

    References
    ----------
    HJ 663-2013 clause 3 (8-h running mean; daily maximum 8-h mean: the largest of a natural day's 8-h running
    means from 08:00 to 24:00) and clause 6 (validity: at least 6 hourly values for an 8-h mean; at least 14 valid
    8-h means from 08:00 to 24:00 for the daily maximum, or fewer if the maximum exceeds the limit); GB 3095-2012
    Table 4 and Table 1 (grade II 8-h O3 limit 160 µg m⁻³).
    """
    _check_count("min_hours_8h", min_hours_8h, 1, 8)
    _check_count("min_windows", min_windows, 1, 17)
    days, cube = _hours_by_day(hourly, end_times)
    flat = cube.reshape((-1, *cube.shape[2:]))
    # slot 7 ends at 08:00: the window of slots 0 … 7 lies within the day; slots 7 … 23 are the day's windows
    run8 = _running_mean(flat, 8, min_hours_8h).reshape(cube.shape)[:, 7:]
    n_valid = (~np.isnan(run8)).sum(axis=1)
    largest = np.fmax.reduce(run8, axis=1)
    return days, np.where((n_valid >= min_windows) | (largest > O3_8H_LIMIT), largest, np.nan)


# --------------------------------------------------------------------------------------------------- station tables
def station_hourly(history: pd.DataFrame, pollutant: str) -> pd.DataFrame:
    """Hourly values of one pollutant as a complete hourly (time × station) frame.

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values (:data:`forecast.cnemc.HISTORY_COLUMNS`).
    pollutant : str
        One of ``pm25, pm10, so2, no2, co, o3``.

    Returns
    -------
    pandas.DataFrame
        Index: every hour (end of the hour, CST) from the first to the last value of ``pollutant``; columns: the
        stations; gaps are NaN. Empty when ``history`` has no value of ``pollutant``.
        [µg m⁻³; mg m⁻³ for CO]
    """
    sub = history[(history["pollutant"] == pollutant) & history["value"].notna()]
    if sub.empty:
        return pd.DataFrame()
    times = pd.DatetimeIndex(sub["time"])
    full = pd.date_range(times.min(), times.max(), freq="h")
    row = full.get_indexer(times)
    on_hour = row >= 0  # a value off the whole hours has no row (as a reindex to the hours drops it)
    col, stations = pd.factorize(sub["station"], sort=True)
    cube = np.full((len(full), len(stations)), np.nan)
    cell = row.astype(np.int64) * len(stations) + col
    keep = on_hour & ~pd.Series(cell).duplicated(keep="first").to_numpy()  # a duplicated hour: the first value
    cube[row[keep], col[keep]] = sub["value"].to_numpy(float)[keep]
    return pd.DataFrame(cube, index=full, columns=pd.Index(stations, name="station"))


def _stack(index, values: np.ndarray, stations: pd.Index) -> pd.Series:
    return pd.DataFrame(values, index=index, columns=stations).stack(future_stack=True)


def station_daily(history: pd.DataFrame) -> pd.DataFrame:
    """Daily values per station with the validity rules of GB 3095-2012 / HJ 663-2013.

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values, quality controlled (:func:`forecast.qc.quality_control`).

    Returns
    -------
    pandas.DataFrame
        Index (``date``, ``station``); columns ``pm25_24h, pm10_24h, so2_24h, no2_24h, co_24h`` (24-h means, NaN
        with fewer than 20 valid hours, :func:`daily_mean`), ``o3_8h`` (daily maximum 8-h running mean over the
        windows ending 08:00 … 24:00; needs ≥ 14 valid 8-h means, each from ≥ 6 hours, unless the maximum exceeds
        160 µg m⁻³, :func:`daily_max_8h`) and ``o3_1h`` (daily maximum 1-h O3, ≥ 20 valid hours).
        [µg m⁻³; mg m⁻³ for CO]

    References
    ----------
    HJ 663-2013 clauses 3 and 6; GB 3095-2012 Table 4.
    """
    parts = {}
    for p in _MEAN_SPECIES:
        wide = station_hourly(history, p)
        if wide.empty:
            continue
        days, values = daily_mean(wide.to_numpy(float), wide.index)
        parts[f"{p}_24h"] = _stack(days, values, wide.columns)
    wide = station_hourly(history, "o3")
    if not wide.empty:
        o3 = wide.to_numpy(float)
        parts["o3_1h"] = _stack(*_daily_max_1h(o3, wide.index), wide.columns)
        parts["o3_8h"] = _stack(*daily_max_8h(o3, wide.index), wide.columns)
    if not parts:
        return pd.DataFrame(columns=["pm25_24h"]).rename_axis(["date", "station"])
    out = pd.DataFrame(parts)
    out.index = out.index.set_names(["date", "station"])
    return out.sort_index()


def station_rolling_24h(history: pd.DataFrame) -> pd.DataFrame:
    """Rolling 24-h means per station and hour, and the trailing-24-h maximum 8-h O3.

    The rolling value at time t averages the 24 hours ending at t (≥ 20 valid hours); it can cross calendar days,
    as the warning rules ask (REFERENCE 1.1). ``o3_8h`` is the largest 8-h running mean (each from ≥ 6 hours)
    ending in the 24 hours up to t, with ≥ 14 valid 8-h means.

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values, quality controlled.

    Returns
    -------
    pandas.DataFrame
        Index (``time``, ``station``), ``time`` the end of the last hour (CST); columns as in
        :func:`station_daily` without ``o3_1h``. [µg m⁻³; mg m⁻³ for CO]
    """
    parts = {}
    for p in _MEAN_SPECIES:
        wide = station_hourly(history, p)
        if not wide.empty:
            parts[f"{p}_24h"] = _stack(wide.index, _running_mean(wide.to_numpy(float), 24, MIN_HOURS_24H),
                                       wide.columns)
    wide = station_hourly(history, "o3")
    if not wide.empty:
        run8 = _running_mean(wide.to_numpy(float), 8, MIN_HOURS_8H)
        parts["o3_8h"] = _stack(wide.index, _running_max(run8, 24, MIN_8H_MEANS_DAILY), wide.columns)
    out = pd.DataFrame(parts)
    out.index = out.index.set_names(["time", "station"])
    return out.sort_index()


# --------------------------------------------------------------------------------------------------- area tables
def _area_mean(per_station: pd.DataFrame, sites: pd.DataFrame, level: str) -> pd.DataFrame:
    """Mean over each area's assessment stations (background stations excluded) of valid station values."""
    assess = sites[~sites["background"].astype(bool)]
    area = dict(zip(assess["station"], assess["area_id"]))
    frame = per_station.reset_index()
    frame["area_id"] = frame["station"].map(area)
    frame = frame[frame["area_id"].notna()]
    value_cols = [c for c in per_station.columns]
    grouped = frame.groupby([level, "area_id"])
    out = grouped[value_cols].mean()
    if "pm25_24h" in value_cols:
        out["n_stations"] = grouped["pm25_24h"].count()
    else:  # no PM2.5 in the archive: stations with any valid value
        out["n_stations"] = frame[value_cols].notna().any(axis=1).groupby([frame[level], frame["area_id"]]).sum()
    return out


def area_daily(history: pd.DataFrame, sites: pd.DataFrame, *, standard: str = "auto") -> pd.DataFrame:
    """Daily concentrations and AQI per area (league/city or banner/county).

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values, quality controlled.
    sites : pandas.DataFrame
        Station list with ``area_id`` and ``background`` (:func:`forecast.cnemc.read_station_list`).
    standard : str
        AQI edition (``"auto"``: by date, HJ 633-2026 from 2026-03-01).

    Returns
    -------
    pandas.DataFrame
        One row per (``date``, ``area_id``) with the daily concentrations of :func:`station_daily` averaged over the
        area's assessment stations (background stations excluded) [µg m⁻³; mg m⁻³ for CO] — a column per species
        the history has —, ``n_stations`` (stations with a valid PM2.5 day; without PM2.5, stations with any valid
        daily value) and the AQI columns of :func:`forecast.aqi.aqi`, among them ``aqi_pollutants`` and
        ``aqi_partial`` (the AQI rests on fewer than the six species). Days that fail validity are missing (NaN
        AQI), never zero.

    References
    ----------
    HJ 663-2013 (city-scale assessment: the arithmetic mean over the city's assessment stations, background
    stations excluded; clause number UNVERIFIED); HJ 633-2012 / HJ 633-2026 (AQI).
    """
    daily = _area_mean(station_daily(history), sites, "date").reset_index()
    return _with_aqi(daily, "date", standard)


def area_rolling_24h(history: pd.DataFrame, sites: pd.DataFrame, *, standard: str = "auto") -> pd.DataFrame:
    """Hourly rolling-24-h concentrations and AQI per area (for warnings that cross calendar days).

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values, quality controlled.
    sites : pandas.DataFrame
        Station list with ``area_id`` and ``background``.
    standard : str
        AQI edition (``"auto"``: by date, HJ 633-2026 from 2026-03-01).

    Returns
    -------
    pandas.DataFrame
        One row per (``time``, ``area_id``) with the values of :func:`station_rolling_24h` averaged over the
        area's assessment stations [µg m⁻³; mg m⁻³ for CO], ``n_stations`` and the AQI columns (with
        ``aqi_pollutants`` and ``aqi_partial``, as in :func:`area_daily`).
    """
    rolling = _area_mean(station_rolling_24h(history), sites, "time").reset_index()
    return _with_aqi(rolling, "time", standard)


def _with_aqi(frame: pd.DataFrame, date_col: str, standard: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    conc = frame[[c for c in _AQI_KEYS if c in frame.columns]].copy()
    dates = frame[date_col]
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    conc["_date"] = dates.to_numpy()
    table = _aqi(conc, standard=standard, date_column="_date" if standard == "auto" else None)
    table = table.drop(columns=[c for c in table.columns if c.startswith("iaqi_")])
    return pd.concat([frame.reset_index(drop=True), table.reset_index(drop=True)], axis=1)
