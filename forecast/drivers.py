"""Meteorological drivers of pollution episodes, derived from the extracted series, and their daily aggregates.

Pure functions on arrays (NumPy, pandas or xarray alike) and tables. Inputs are in the project's nomenclature
(``forecast/gribread.py``): temperatures [degC], wind components [m/s], boundary-layer height ``blh`` [m],
precipitation ``precip`` [mm per period ending at ``valid_time``]. Times are UTC; days are China Standard Time
(UTC+8) calendar days, the days of the AQI.

Every driver is computed from whatever the series holds, and a driver whose inputs are absent is not a column at
all (never a column of NaN): surface fields alone (2-m temperature and dewpoint, 10-m wind, surface pressure,
precipitation) give temperature, humidity, dewpoint depression, wind, hours of calm, pressure, precipitation and
heating-degree days; ventilation needs the boundary-layer height, inversions the 850/925-hPa temperatures, the
stagnation index wind, precipitation and an inversion. Any regular time step works (hourly, 3-hourly, 6-hourly
analyses, forecast steps growing with lead time): daily means are sample means, durations (``calm_hours``) are
shares of the samples × 24 h, and precipitation sums the amounts of the periods ending in the day, whatever their
length (1-h or 6-h accumulations; ``precip_hours`` counts the hours covered).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .nomenclature import CST_OFFSET as CST

#: base temperature of heating-degree days [degC] (GB 50176 / JGJ 26 use 18 degC for heating design in China)
HDD_BASE = 18.0
#: stagnation thresholds (after Wang & Angell 1999; Horton et al. 2012, with a lower-troposphere inversion in place
#: of the 500-hPa wind criterion, which analyses of the surface layer alone cannot give) — parameters, not standards
STAGNATION = {"wind_speed": 3.2, "precip": 1.0, "inversion": 0.0}
#: 10-m wind speed below which an hour counts as calm for ``calm_hours`` [m/s] (a light-wind threshold for
#: model-grid winds, which are rarely below the 0.5 m/s of a station's "calm"; a parameter, not a standard)
CALM_WIND_SPEED = 1.5


def wind_speed(wind_u, wind_v):
    """Wind speed from its components. [m/s]"""
    return np.hypot(wind_u, wind_v)


def wind_direction(wind_u, wind_v):
    """Meteorological wind direction, the direction the wind blows FROM, clockwise from north. [degrees, 0–360)

    A calm (u = v = 0) gives 0 by the ``arctan2`` convention.
    """
    return np.mod(np.rad2deg(np.arctan2(-np.asarray(wind_u, float), -np.asarray(wind_v, float))), 360.0)


def saturation_vapour_pressure(temp):
    """Saturation vapour pressure over water, Magnus form of Alduchov & Eskridge (1996). [hPa]

    Parameters
    ----------
    temp : array-like
        Temperature. [degC]
    """
    temp = np.asarray(temp, float)
    return 6.1094 * np.exp(17.625 * temp / (temp + 243.04))


def relative_humidity(temp_air, dewpoint):
    """Relative humidity from temperature and dewpoint, e_s(Td) / e_s(T) × 100 (Alduchov & Eskridge 1996). [%]

    Capped at 100 % (a dewpoint above the temperature is rounding or analysis noise).
    """
    return np.minimum(100.0 * saturation_vapour_pressure(dewpoint) / saturation_vapour_pressure(temp_air), 100.0)


def ventilation_coefficient(blh, wind_speed):
    """Ventilation coefficient: mixing height × wind speed (e.g. Gassmann & Mazzeo 2001). [m²/s]"""
    return np.asarray(blh, float) * np.asarray(wind_speed, float)


def inversion_strength(temp_upper, temp_air):
    """Lower-troposphere stability: T(upper level) − T(2 m). Positive = an inversion (warmer air aloft). [K]"""
    return np.asarray(temp_upper, float) - np.asarray(temp_air, float)


def dewpoint_depression(temp_air, dewpoint):
    """Dewpoint depression T − Td: 0 in saturated air, large in dry air. [K]"""
    return np.asarray(temp_air, float) - np.asarray(dewpoint, float)


def heating_degree_days(temp_mean, base: float = HDD_BASE):
    """Heating-degree days of a day from its mean temperature: max(0, base − T_mean). [K·d]"""
    return np.maximum(0.0, base - np.asarray(temp_mean, float))


def stagnation_index(wind_speed_mean, precip_total, inversion_max, thresholds: dict | None = None):
    """Number of stagnation conditions a day meets (0–3): weak wind, no rain, an inversion.

    Parameters
    ----------
    wind_speed_mean : daily mean 10-m wind speed [m/s]; condition: below ``wind_speed`` (3.2 m/s)
    precip_total : daily precipitation [mm]; condition: below ``precip`` (1 mm)
    inversion_max : daily maximum of T925 − T2m (or T850 − T2m) [K]; condition: above ``inversion`` (0 K)

    A missing input counts as the condition not being met; a day with all three met is "stagnant".
    """
    th = {**STAGNATION, **(thresholds or {})}
    ws = np.asarray(wind_speed_mean, float)
    pr = np.asarray(precip_total, float)
    inv = np.asarray(inversion_max, float)
    with np.errstate(invalid="ignore"):
        return ((ws < th["wind_speed"]).astype(int) + (pr < th["precip"]).astype(int)
                + (inv > th["inversion"]).astype(int))


def add_derived(series: pd.DataFrame) -> pd.DataFrame:
    """Add the instantaneous derived drivers to an extracted series (columns that cannot be derived are skipped).

    Adds ``wind_speed`` [m/s], ``wind_dir`` [deg], ``calm`` (wind speed below :data:`CALM_WIND_SPEED`; 1/0),
    ``rh`` [%] (from T and Td, else ``relative_humidity`` as read), ``dewpoint_depression`` [K], ``ventilation``
    [m²/s], ``inversion_850``, ``inversion_925`` [K].
    """
    out = series.copy()
    if {"wind_u", "wind_v"} <= set(out.columns):
        out["wind_speed"] = wind_speed(out["wind_u"], out["wind_v"])
        out["wind_dir"] = wind_direction(out["wind_u"], out["wind_v"])
        out["calm"] = np.where(out["wind_speed"].notna(), (out["wind_speed"] < CALM_WIND_SPEED).astype(float), np.nan)
    if {"temp_air", "dewpoint"} <= set(out.columns):
        out["rh"] = relative_humidity(out["temp_air"], out["dewpoint"])
        out["dewpoint_depression"] = dewpoint_depression(out["temp_air"], out["dewpoint"])
    elif "relative_humidity" in out.columns:
        out["rh"] = out["relative_humidity"]
    if {"blh", "wind_speed"} <= set(out.columns):
        out["ventilation"] = ventilation_coefficient(out["blh"], out["wind_speed"])
    for level in (850, 925):
        if {f"temp_{level}", "temp_air"} <= set(out.columns):
            out[f"inversion_{level}"] = inversion_strength(out[f"temp_{level}"], out["temp_air"])
    return out


#: daily aggregation of the instantaneous drivers: column → functions
DAILY = {"temp_air": ("mean", "min", "max"), "dewpoint": ("mean",), "rh": ("mean",), "wind_speed": ("mean", "max"),
         "wind_u": ("mean",), "wind_v": ("mean",), "pressure": ("mean",), "pressure_msl": ("mean",),
         "blh": ("mean", "min", "max"), "ventilation": ("mean", "min"), "inversion_850": ("mean", "max"),
         "inversion_925": ("mean", "max"), "temp_850": ("mean",), "temp_925": ("mean",), "cloud_cover": ("mean",),
         "dewpoint_depression": ("mean",), "calm": ("mean",)}
#: a day's instantaneous aggregates need at least this many samples spanning at least this many hours
MIN_SAMPLES, MIN_SPAN_HOURS = 2, 12


def _aggregate(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = add_derived(frame)
    local = frame["valid_time"] + CST
    frame = frame.assign(_hour=local.dt.hour + local.dt.minute / 60)
    g = frame.groupby(keys, sort=True)
    parts = {}
    for col, funcs in DAILY.items():
        if col in frame.columns:
            agg = g[col].agg(list(funcs))
            for f in funcs:
                parts[col if f == "mean" else f"{col}_{f}"] = agg[f]
    out = pd.DataFrame(parts)
    span = g["_hour"].max() - g["_hour"].min()
    count = g["valid_time"].count()
    out["n_samples"] = count
    ok = (count >= MIN_SAMPLES) & (span >= MIN_SPAN_HOURS)
    out.loc[~ok, [c for c in out.columns if c != "n_samples"]] = np.nan
    if "wind_u" in out.columns and "wind_v" in out.columns:
        out["wind_dir"] = wind_direction(out["wind_u"], out["wind_v"])
    if "temp_air" in out.columns:
        out["hdd"] = heating_degree_days(out["temp_air"])
        out["temp_range"] = out["temp_air_max"] - out["temp_air_min"]
    if "calm" in out.columns:  # share of the samples → hours of the day, whatever the time step
        out["calm_hours"] = out.pop("calm") * 24.0
    return out


def _precip(frame: pd.DataFrame, keys: list[str], day_col: str) -> pd.DataFrame | None:
    if "precip" not in frame.columns:
        return None
    sub = frame.dropna(subset=["precip"])
    # a period belongs to the day it ends in (a period ending at 00:00 CST belongs to the day before)
    end_local = sub["valid_time"] + CST - pd.Timedelta(microseconds=1)
    sub = sub.assign(**{day_col: end_local.dt.floor("D").dt.date}) if day_col == "date" else sub
    g = sub.groupby(keys)
    out = pd.DataFrame({"precip": g["precip"].sum()})
    if "precip_hours" in sub.columns:
        out["precip_hours"] = g["precip_hours"].sum()
    return out


def daily_drivers(series: pd.DataFrame, *, key: str = "area_id") -> pd.DataFrame:
    """Daily (China Standard Time) drivers per area from an analysis series.

    Parameters
    ----------
    series : DataFrame
        Columns ``key, valid_time`` (UTC) and any of the nomenclature variables.

    Returns
    -------
    DataFrame indexed by ``(key, date)`` with the aggregates of ``DAILY`` (``<var>`` = daily mean, ``<var>_min``,
    ``<var>_max``) of the variables present, ``wind_dir`` of the mean wind, ``calm_hours`` [h], ``hdd`` [K·d],
    ``temp_range`` (daily maximum − minimum of the samples) [K], ``precip`` [mm/d] and ``precip_hours`` [h],
    ``blh_night_min`` [m] (minimum from 20:00 CST the evening before to 08:00 CST), ``stagnation`` (0–3) and
    ``n_samples``. Days with fewer than 2 samples or spanning less than 12 h are missing. A driver whose inputs
    the series lacks is not a column (see the module docstring).

    Notes
    -----
    Samples may come at any regular step (hourly or 6-hourly analyses); the daily mean of a 6-hourly series is
    the mean of its four samples, of an hourly one of its 24, and ``temp_range`` of 6-hourly samples understates
    the true diurnal range.
    """
    if series.empty:
        raise ValueError("no meteorological series to aggregate")
    frame = series.copy()
    frame["date"] = (frame["valid_time"] + CST).dt.floor("D").dt.date
    out = _aggregate(frame, [key, "date"])
    precip = _precip(frame, [key, "date"], "date")
    if precip is not None:
        out = out.join(precip, how="left")
    if "blh" in frame.columns:
        out = out.join(_night_min_blh(frame, [key]), how="left")
    return _finish(out)


def _night_min_blh(frame: pd.DataFrame, keys: list[str], day_col: str = "date") -> pd.DataFrame:
    local = frame["valid_time"] + CST
    hour = local.dt.hour
    night = (hour >= 20) | (hour <= 8)
    night_day = (local + pd.Timedelta(hours=4)).dt.floor("D").dt.date  # 20:00 belongs to the next morning
    sub = frame.loc[night].assign(**{day_col: night_day[night]})
    return sub.groupby(keys + [day_col])["blh"].min().rename("blh_night_min").to_frame()


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    # the stagnation index needs all three of its ingredients as variables; a missing value on a day counts as
    # the condition not being met, a missing variable leaves the index out (it would mean something else)
    inv_col = next((c for c in ("inversion_925_max", "inversion_850_max") if c in out.columns), None)
    if "wind_speed" in out.columns and "precip" in out.columns and inv_col is not None:
        out["stagnation"] = stagnation_index(out["wind_speed"], out["precip"], out[inv_col])
        out.loc[out["wind_speed"].isna(), "stagnation"] = np.nan
    return out


def lead_day_drivers(runs: pd.DataFrame, *, key: str = "area_id") -> pd.DataFrame:
    """Daily drivers per forecast run and lead day.

    Parameters
    ----------
    runs : DataFrame
        Columns ``init_time`` (UTC), ``key``, ``valid_time`` (UTC) and variables.

    Returns
    -------
    DataFrame indexed by ``(init_time, key, lead_day)`` with the columns of :func:`daily_drivers` plus ``date``
    (the CST day). ``lead_day`` counts CST days from the day of the initialisation (0 = that day, usually partial).
    """
    if runs.empty:
        raise ValueError("no forecast runs to aggregate")
    frame = runs.copy()
    day = (frame["valid_time"] + CST).dt.floor("D")
    init_day = (frame["init_time"] + CST).dt.floor("D")
    frame["lead_day"] = ((day - init_day) / pd.Timedelta(days=1)).astype(int)
    frame["date"] = day.dt.date
    keys = ["init_time", key, "lead_day"]
    out = _aggregate(frame, keys)
    if "precip" in frame.columns:
        sub = frame.dropna(subset=["precip"])
        end_day = (sub["valid_time"] + CST - pd.Timedelta(microseconds=1)).dt.floor("D")
        sub = sub.assign(lead_day=((end_day - (sub["init_time"] + CST).dt.floor("D")) / pd.Timedelta(days=1))
                         .astype(int))
        g = sub.groupby(keys)
        out = out.join(pd.DataFrame({"precip": g["precip"].sum(), "precip_hours": g["precip_hours"].sum()
                                     if "precip_hours" in sub.columns else np.nan}), how="left")
    if "blh" in frame.columns:
        local = frame["valid_time"] + CST
        hour = local.dt.hour
        night = (hour >= 20) | (hour <= 8)
        shifted = (local + pd.Timedelta(hours=4)).dt.floor("D")
        sub = frame.loc[night].assign(lead_day=((shifted[night] - (frame.loc[night, "init_time"] + CST).dt.floor("D"))
                                                / pd.Timedelta(days=1)).astype(int))
        out = out.join(sub.groupby(keys)["blh"].min().rename("blh_night_min"), how="left")
    dates = frame.groupby(keys)["date"].first()
    out.insert(0, "date", dates)
    return _finish(out)
