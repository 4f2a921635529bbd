"""One home for the names, units, time zone and fixed thresholds that the whole of lantian shares.

Every other module imports these instead of re-typing them (a literal ``"Asia/Shanghai"``, ``hours=8`` or a dust
ratio anywhere else is a bug). The glossary of column names and units is in the README's nomenclature table.

Time
    Station data, days and issue times are in China Standard Time (UTC+8, no daylight saving); meteorology is in
    UTC and is turned into CST days once, in :mod:`forecast.drivers` (and the simulator's writers).
Species
    Hourly concentrations ``pm25, pm10, so2, no2, o3`` [µg m⁻³] and ``co`` [mg m⁻³].
Dust
    An observed or simulated day is *dust-dominated* when PM10's individual index is the largest, PM2.5/PM10 is
    below :data:`DUST_RATIO` and the AQI is above :data:`DUST_MIN_AQI` (:func:`forecast.aqi.dust_dominated`). The
    plans name dust episodes but give no numbers (REFERENCE 1.4): UNVERIFIED working definition, configurable here.
"""
from __future__ import annotations

import numbers

import pandas as pd

#: the time zone of station data, days and issue times (China Standard Time)
TZ = "Asia/Shanghai"
#: CST − UTC (China has no daylight saving time)
CST_OFFSET = pd.Timedelta(hours=8)

#: hourly species of the CNEMC archive, in its column order
SPECIES = ("pm25", "pm10", "so2", "no2", "co", "o3")
#: display names of the species
SPECIES_NAMES = {"pm25": "PM2.5", "pm10": "PM10", "so2": "SO2", "no2": "NO2", "co": "CO", "o3": "O3"}

#: AQI thresholds the forecaster's exceedance probabilities and the verification use [1]
AQI_THRESHOLDS = (150, 200, 300)
#: a "heavy pollution" day (重度污染 and worse): AQI above this [1]
HEAVY_AQI = 200

#: dust-dominated day: PM2.5/PM10 below this … [1]
DUST_RATIO = 0.35
#: … and AQI above this [1]
DUST_MIN_AQI = 100
#: a forecast dust-dominated day with a median AQI above this gives a health advisory (not a colour warning) [1]
DUST_ADVISORY_AQI = 150


def utc_to_cst(times_utc):
    """Naive UTC timestamps → naive China Standard Time wall-clock timestamps."""
    return times_utc + CST_OFFSET


def cst_day(times_utc, *, period_end: bool = False):
    """The CST calendar day of naive UTC timestamps.

    ``period_end=True`` for values that describe the period *ending* at the timestamp (hourly means, accumulated
    precipitation): a period ending at 00:00 CST belongs to the day before (HJ 663: a day holds the hours ending
    01:00 … 24:00).
    """
    local = utc_to_cst(times_utc)
    if period_end:
        local = local - pd.Timedelta(microseconds=1)
    floor = getattr(local, "dt", local)
    return floor.floor("D")


class DateError(ValueError):
    """A value given as a calendar day that is not one (the message names what it was for)."""


def parse_day(value, what: str = "date") -> pd.Timestamp:
    """A calendar day (naive midnight, China Standard Time by convention) from a user's or a file's value.

    Parameters
    ----------
    value : str or date-like
        ``YYYY-MM-DD`` text (or ``YYYYMMDD``, an ISO time whose time of day is dropped), or a date/datetime.
    what : str
        What the day is for, named in the error (``"--issued"``, ``"issue_date"`` …).

    Returns
    -------
    pandas.Timestamp
        Midnight of the day, without a time zone.

    Raises
    ------
    DateError
        Not a date (text that is not one, an empty value, ``NaT``), e.g.
        ``--issued 'yesterday' is not a date (expected YYYY-MM-DD)``.
    """
    # a number is not a day (pandas would read 20241220 as nanoseconds after 1970)
    if value is None or isinstance(value, numbers.Number) or (isinstance(value, str) and not value.strip()):
        raise DateError(f"{what} {value!r} is not a date (expected YYYY-MM-DD)")
    try:
        day = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, OverflowError):
        raise DateError(f"{what} {value!r} is not a date (expected YYYY-MM-DD)") from None
    if pd.isna(day):
        raise DateError(f"{what} {value!r} is not a date (expected YYYY-MM-DD)")
    if day.tzinfo is not None:
        day = day.tz_convert(TZ).tz_localize(None)
    return day.normalize()
