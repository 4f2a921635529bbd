"""Features for the AQI forecaster, one row per area, issue date and lead day — built only from what is known at
the issue time.

Issue time: day ``D`` at ``ISSUE_HOUR`` (16:00 China Standard Time: the afternoon consultation, when the 00 UTC
forecast run of ``D`` is available). Observations count up to the hour ending at the issue time; the forecast run
is the 00 UTC run of ``D``. Lead day ``k`` is the CST day ``D + k`` (``k`` = 1 … 7).

Feature families (names → family in :data:`FAMILIES`, used to group driver contributions):

- persistence: the rolling-24-h AQI/PM2.5/PM10 at the issue time (``aqi_now``…), the last 6 hours and their trend,
  yesterday's daily values and the 3-day trend;
- meteorology of the target day, of the day before it and of the issue day, from the forecast run for ``D`` when
  there is one, else from the analyses ("perfect prog"; column ``met_source``);
- emission calendar: heating season, day of week, days from the Spring Festival, hours of the fireworks nights
  (除夕, 元宵), season;
- area: the area itself (categorical) and its climatology of the training period;
- accumulation along the path from the issue day to the target day (:func:`path_features`): mean ventilation and
  humidity excess, the strongest wind and the precipitation of the days in between, the stagnant spell and the days
  since the last front ending on the target day — the box-model quantities daily drivers of one day miss. Measured
  on the three bench worlds (``make bench``, bench_skill; mean over the worlds, AQI > 200): TS at lead days 1/2/3/5/7
  0.33/0.30/0.27/0.21/0.17 → 0.35/0.30/0.28/0.22/0.17, Brier skill 0.28/0.22/0.14/0.04/−0.07 →
  0.29/0.23/0.16/0.06/−0.07 — small, within one world's spread, but never worse;
- the time-lagged pair of forecast runs (:func:`lagged_run_features`): the target day's ventilation, lowest
  boundary layer, stagnation, wind and humidity from the issue day's run and the run a day earlier — their mean
  (``met_<var>_lag2``, a two-member lagged ensemble) and today's minus yesterday's (``met_<var>_r2r``, the run-to-run
  change: how consistent the forecast is). Measured on the three bench worlds (days-1–2 AQI > 200 classifier, three
  booster seeds; session 11): day-1 TS 0.452 → 0.464 (every world up: 0.523/0.343/0.490 → 0.525/0.359/0.509), FAR
  0.433 → 0.413, day-2 TS 0.437 → 0.450; the run-to-run change alone 0.458, with four more drivers 0.458.

The meteorological features adapt to the variables the data hold: a driver of :data:`MET_VARS` is a feature only
when the daily drivers (:mod:`forecast.drivers`) carry it, so surface fields alone (no boundary-layer height, no
pressure levels) give a smaller feature set, never columns of NaN. :func:`missing_drivers` names the drivers left
out and why (:data:`DRIVER_INPUTS`); the orchestrator records them in the model card (``met_missing``) and warns once
(:class:`MissingDriversWarning`). The climatology (:func:`climatology`) covers every calendar month: months absent
from the history take the nearest observed months of the same heating-season state (the region's calendar).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import areas as _areas_mod
from . import aqi as aqi_mod
from . import averaging
from .nomenclature import CST_OFFSET, SPECIES, TZ
from .tables import load_yaml

DATA_DIR = Path(__file__).parent / "data"
ISSUE_HOUR = 16
LEADS = tuple(range(1, 8))
#: daily meteorological drivers used as features (from forecast/drivers.py), where the data carry them
MET_VARS = ("temp_air", "temp_air_max", "rh", "wind_speed", "wind_u", "wind_v", "pressure", "blh", "blh_min",
            "blh_night_min", "ventilation", "ventilation_min", "inversion_850_max", "inversion_925_max", "precip",
            "hdd", "stagnation")
#: drivers of the time-lagged pair of forecast runs (:func:`lagged_run_features`)
LAGGED_VARS = ("ventilation", "blh_min", "stagnation", "wind_speed", "rh")
#: suffixes of the features of the time-lagged pair: they exist only where both runs do (never from analyses)
RUN_PAIR_SUFFIXES = ("_lag2", "_r2r")
#: what each driver is computed from (nomenclature variables; a tuple of alternatives where any one will do), the
#: variables the daily drivers keep under these names (``rh`` for a relative humidity read as such)
DRIVER_INPUTS = {
    "temp_air": ("temp_air",), "temp_air_max": ("temp_air",), "hdd": ("temp_air",),
    "rh": (("dewpoint", "rh"),),
    "wind_speed": ("wind_u", "wind_v"), "wind_u": ("wind_u",), "wind_v": ("wind_v",),
    "pressure": (("pressure", "pressure_msl"),),
    "blh": ("blh",), "blh_min": ("blh",), "blh_night_min": ("blh",),
    "ventilation": ("blh", "wind_u", "wind_v"), "ventilation_min": ("blh", "wind_u", "wind_v"),
    "inversion_850_max": ("temp_850", "temp_air"), "inversion_925_max": ("temp_925", "temp_air"),
    "precip": ("precip",), "stagnation": ("wind_u", "wind_v", "precip", ("temp_850", "temp_925")),
}
#: plain names of the input variables, for the reasons given in the model card and the warning
VARIABLE_NAMES = {"temp_air": "2-m temperature", "dewpoint": "2-m dewpoint", "rh": "relative humidity",
                  "wind_u": "10-m wind", "wind_v": "10-m wind", "pressure": "surface pressure",
                  "pressure_msl": "mean-sea-level pressure", "blh": "boundary-layer height",
                  "precip": "precipitation", "temp_850": "850-hPa temperature", "temp_925": "925-hPa temperature"}


class FeatureError(ValueError):
    """Inputs that cannot give features (no observations, no meteorology for the dates asked)."""


class MissingDriversWarning(UserWarning):
    """Meteorological drivers left out of a model's features because the data cannot give them."""


@lru_cache(maxsize=1)
def calendar_facts(path: str | None = None) -> dict:
    with open(path or DATA_DIR / "calendar.yaml", encoding="utf-8") as fh:
        return load_yaml(fh)


def heating_season(dates: pd.Series, area_ids: pd.Series, calendar: dict | None = None) -> np.ndarray:
    """1 where the date falls in the area's heating season (``calendar``: a region's calendar facts, default the
    shipped ``forecast/data/calendar.yaml``), else 0."""
    facts = (calendar or calendar_facts())["heating_season"]
    md = pd.to_datetime(dates).dt.strftime("%m-%d").to_numpy()
    out = np.zeros(len(md), dtype=int)
    areas = np.asarray(area_ids, dtype=object)
    for area in np.unique(areas):
        season = facts.get(area, facts["default"])
        sel = areas == area
        out[sel] = (md[sel] >= season["start"]) | (md[sel] <= season["end"])
    return out


def days_from_spring_festival(dates: pd.Series, calendar: dict | None = None) -> np.ndarray:
    """Signed days from the nearest Spring Festival (negative before it). [d]"""
    sf = pd.to_datetime((calendar or calendar_facts())["spring_festival"]).values.astype("datetime64[D]")
    d = pd.to_datetime(dates).values.astype("datetime64[D]")
    diff = (d[:, None] - sf[None, :]).astype(int)
    return diff[np.arange(len(d)), np.abs(diff).argmin(axis=1)]


def fireworks_hours(dates: pd.Series, night: str, calendar: dict | None = None) -> np.ndarray:
    """Hours of the fireworks night ``night`` (``eve`` or ``lantern``, ``calendar.yaml: fireworks``) falling in
    each calendar day (CST). [h]"""
    facts = calendar or calendar_facts()
    fw = facts["fireworks"]
    if night not in fw["nights"]:
        raise FeatureError(f"unknown fireworks night {night!r}; allowed: {', '.join(fw['nights'])}")
    sf = pd.to_datetime(facts["spring_festival"]).values.astype("datetime64[h]")
    start = sf + np.timedelta64(int(fw["nights"][night]) * 24 + int(fw["start_hour"]), "h")
    end = start + np.timedelta64(int(fw["hours"]), "h")
    d0 = pd.to_datetime(dates).values.astype("datetime64[D]").astype("datetime64[h]")[:, None]
    d1 = d0 + np.timedelta64(24, "h")
    overlap = (np.minimum(d1, end[None, :]) - np.maximum(d0, start[None, :])).astype(int)
    return np.clip(overlap, 0, None).sum(axis=1).astype(float)


@dataclass
class Observations:
    """Area observations derived from the station history.

    The archive may lack species (PM2.5 alone is common in older archives): ``pollutants`` names those measured,
    the daily AQI is then a partial AQI (``aqi_partial``), and the PM2.5/PM10 columns and hourly frames the
    features read are always there — NaN for a species not measured (no dust day without PM10).
    """

    #: index (area_id, date); aqi, aqi_partial (the AQI rests on fewer than the six species), aqi_pollutants,
    #: pm25_24h, pm10_24h (NaN where not measured), dust (observed dust-dominated), n_stations, primary_pollutant
    daily: pd.DataFrame
    hourly: dict  #: "pm25", "pm10" → DataFrame (time CST tz-aware × area_id) of area hourly means (NaN: not measured)
    rolling: pd.DataFrame  #: rolling-24-h AQI, index time (CST) × area_id
    pollutants: tuple = SPECIES  #: the species the station history has values of (fewer than six: partial AQI)

    @property
    def areas(self) -> list[str]:
        return sorted(self.daily.index.get_level_values("area_id").unique())

    @property
    def missing_pollutants(self) -> tuple:
        """The species of the six the history has no value of (their IAQI is not in the AQI)."""
        return tuple(p for p in SPECIES if p not in self.pollutants)


def area_hourly(history: pd.DataFrame, sites: pd.DataFrame, pollutant: str) -> pd.DataFrame:
    """Hourly area means of one pollutant over each area's assessment stations (time × area_id).

    Empty (no rows, no columns) when the history has no value of ``pollutant`` or none at an assessment station.
    An area with a single station takes that station's values.
    """
    wide = averaging.station_hourly(history, pollutant)
    if wide.empty:
        return wide
    assess = sites[~sites["background"].astype(bool)]
    area_of = dict(zip(assess["station"], assess["area_id"]))
    cols = [c for c in wide.columns if c in area_of]
    if not cols:
        return pd.DataFrame()
    return wide[cols].T.groupby(pd.Series([area_of[c] for c in cols], index=cols)).mean().T


def observations(history: pd.DataFrame, sites: pd.DataFrame, *, standard: str = "auto") -> Observations:
    """Daily, hourly and rolling-24-h area observations from a quality-controlled station history.

    Any subset of the six species works: the AQI is computed from those present (a partial AQI, flagged), and a
    species the features need but the history lacks (PM2.5, PM10) gives NaN columns and frames.

    Raises
    ------
    FeatureError
        The history is empty (it names the stations and areas that were expected).
    """
    if history.empty:
        areas = sorted(sites["area_id"].dropna().unique()) if "area_id" in sites else []
        raise FeatureError(f"no station observations: the station history holds no value of the {len(sites)} "
                           f"station(s) of the areas {', '.join(areas[:12])}{' …' if len(areas) > 12 else ''} "
                           f"(are their codes columns of the archive? see read_log.csv and qc_removed.csv in the "
                           f"cache)")
    present = set(history["pollutant"].unique())
    pollutants = tuple(p for p in SPECIES if p in present)
    daily = averaging.area_daily(history, sites, standard=standard)
    daily["date"] = pd.to_datetime(daily["date"])
    daily = daily.set_index(["area_id", "date"]).sort_index()
    for col in ("pm25_24h", "pm10_24h"):  # a species not measured: NaN, never a missing column
        if col not in daily.columns:
            daily[col] = np.nan
    daily["dust"] = aqi_mod.dust_dominated(daily)  # False throughout without PM10
    keep = ["aqi", "aqi_partial", "aqi_pollutants", "pm25_24h", "pm10_24h", "dust", "n_stations",
            "primary_pollutant"]
    rolling = averaging.area_rolling_24h(history, sites, standard=standard)
    rolling = rolling.pivot_table(index="time", columns="area_id", values="aqi")
    hourly = {p: area_hourly(history, sites, p) for p in ("pm25", "pm10")}
    areas = sorted(daily.index.get_level_values("area_id").unique())
    measured = [f for f in hourly.values() if not f.empty]
    hours = measured[0].index if measured else rolling.index.rename(None)
    for p, frame in hourly.items():
        if frame.empty:  # not measured: NaN on the hours of the measured species, every area
            hourly[p] = pd.DataFrame(np.nan, index=hours, columns=pd.Index(areas))
    return Observations(daily[[c for c in keep if c in daily.columns]], hourly, rolling, pollutants)


def _at(frame: pd.DataFrame, times: pd.DatetimeIndex) -> pd.DataFrame:
    return frame.reindex(times)


def issue_state(obs: Observations, issue_dates, *, issue_hour: int = ISSUE_HOUR) -> pd.DataFrame:
    """What is observed at each issue time, per area: index (area_id, issue_date).

    Columns: ``aqi_now`` (rolling-24-h AQI ending at the issue time), ``pm25_now``, ``pm10_now`` (24-h means),
    ``pm25_6h``, ``pm10_6h`` (last 6 hours), ``pm25_trend6h`` (last 6 h − the 6 h before), and from the daily
    table of the days before the issue day: ``aqi_d1``, ``pm25_d1``, ``pm10_d1``, ``aqi_d2``, ``aqi_d3``,
    ``aqi_trend3`` (``aqi_d1 − aqi_d3``), ``ratio_d1`` (PM2.5/PM10), ``dust_d1``. [1], [µg m⁻³]
    """
    dates = pd.DatetimeIndex(pd.to_datetime(issue_dates)).normalize()
    t_issue = (dates + pd.Timedelta(hours=issue_hour)).tz_localize(TZ)
    parts = {}
    roll = obs.rolling.copy()
    parts["aqi_now"] = _at(roll, t_issue)
    for p in ("pm25", "pm10"):
        h = obs.hourly[p]
        r24 = h.rolling(24, min_periods=averaging.MIN_HOURS_24H).mean()
        r6 = h.rolling(6, min_periods=4).mean()
        parts[f"{p}_now"] = _at(r24, t_issue)
        parts[f"{p}_6h"] = _at(r6, t_issue)
        if p == "pm25":
            parts["pm25_trend6h"] = _at(r6, t_issue) - _at(r6, t_issue - pd.Timedelta(hours=6)).to_numpy()
    frames = []
    for name, wide in parts.items():
        s = wide.set_axis(dates, axis=0).rename_axis("issue_date").stack(future_stack=True).rename(name)
        frames.append(s)
    state = pd.concat(frames, axis=1)
    state.index = state.index.set_names(["issue_date", "area_id"])
    state = state.swaplevel().sort_index()
    daily = obs.daily
    for lag in (1, 2, 3):
        prev = daily.reset_index()
        prev["issue_date"] = prev["date"] + pd.Timedelta(days=lag)
        prev = prev.set_index(["area_id", "issue_date"])
        state[f"aqi_d{lag}"] = prev["aqi"].reindex(state.index)
        if lag == 1:
            state["pm25_d1"] = prev["pm25_24h"].reindex(state.index)
            state["pm10_d1"] = prev["pm10_24h"].reindex(state.index)
            state["dust_d1"] = prev["dust"].reindex(state.index).astype(float)
    state["aqi_trend3"] = state["aqi_d1"] - state["aqi_d3"]
    with np.errstate(invalid="ignore", divide="ignore"):
        state["ratio_d1"] = state["pm25_d1"] / state["pm10_d1"]
    return state


def _met_block(source: pd.DataFrame, key_cols: list[str], suffix: str) -> pd.DataFrame:
    if "pressure" not in source.columns and "pressure_msl" in source.columns:
        # mean-sea-level pressure stands in for surface pressure (the area absorbs the offset; same tendency)
        source = source.rename(columns={"pressure_msl": "pressure"})
    cols = [c for c in MET_VARS if c in source.columns]
    block = source[key_cols + cols].rename(columns={c: f"met_{c}{suffix}" for c in cols})
    return block


def _inputs_present(met_daily: pd.DataFrame | None, met_lead: pd.DataFrame | None) -> set[str]:
    """Input variables with at least one value in the daily drivers of the analyses or the forecast runs."""
    found = set()
    for table in (met_daily, met_lead):
        if table is not None and len(table):
            found |= {c for c in table.columns if table[c].notna().any()}
    return found


def missing_drivers(met_daily: pd.DataFrame | None, met_lead: pd.DataFrame | None,
                    frame: pd.DataFrame | None = None) -> dict[str, str]:
    """The drivers of :data:`MET_VARS` the data cannot give, with the reason (for the model card's ``met_missing``).

    Parameters
    ----------
    met_daily, met_lead : DataFrame or None
        Daily drivers from the analyses and per forecast run and lead day (:mod:`forecast.drivers`).
    frame : DataFrame, optional
        A feature table (:func:`make_features`): a driver whose target-day column holds no value there is missing
        too ("no value in the rows"), e.g. a variable the forecast runs lack while the analyses have it.

    Returns
    -------
    dict
        ``driver → reason``, in the order of :data:`MET_VARS`; empty when every driver can be computed.
    """
    present = _inputs_present(met_daily, met_lead)
    out = {}
    for driver in MET_VARS:
        absent = []
        for need in DRIVER_INPUTS.get(driver, (driver,)):
            options = need if isinstance(need, tuple) else (need,)
            if not present & set(options):
                absent.append(" or ".join(dict.fromkeys(f"{VARIABLE_NAMES.get(v, v)} ({v})" for v in options)))
        if absent:
            out[driver] = "no " + ", no ".join(dict.fromkeys(absent)) + " in the meteorology"
        elif frame is not None and (f"met_{driver}" not in frame.columns or frame[f"met_{driver}"].isna().all()):
            out[driver] = "no value in the rows (the forecast runs or analyses used lack its inputs)"
    return out


def missing_drivers_message(missing: dict[str, str]) -> str:
    """One line naming the drivers left out of the features, grouped by reason (the training warning)."""
    by_reason: dict[str, list[str]] = {}
    for driver, reason in missing.items():
        by_reason.setdefault(reason, []).append(driver)
    parts = [f"{', '.join(drivers)} ({reason})" for reason, drivers in by_reason.items()]
    return ("meteorological drivers left out of the features, listed in the model card's met_missing: "
            + "; ".join(parts))


def met_source_label(met_source) -> str:
    """``"forecast"``, ``"analysis"`` or ``"forecast and analysis"``: where a table's meteorology came from."""
    kinds = set(pd.Series(met_source).dropna().astype(str))
    if kinds == {"analysis"}:
        return "analysis"
    if kinds == {"forecast"}:
        return "forecast"
    return "forecast and analysis" if kinds else "none"


def meteorology_features(pairs: pd.DataFrame, met_daily: pd.DataFrame | None, met_lead: pd.DataFrame | None,
                         *, run_hour_utc: int = 0) -> pd.DataFrame:
    """Meteorology of the target day (``met_<var>``), the day before (``_prev``) and the issue day (``_d0``).

    ``pairs`` has ``area_id, issue_date, lead``. The run initialised at ``run_hour_utc`` UTC on the issue date is
    used where present (lead days ``lead``, ``lead − 1`` and 0 of that run); otherwise the analyses of the target day,
    the day before and the issue day. ``met_source`` says which: ``"forecast"`` or ``"analysis"``.
    """
    out = pairs.copy()
    out["target_date"] = out["issue_date"] + pd.to_timedelta(out["lead"], unit="D")
    have_any = False
    fc = None
    if met_lead is not None and len(met_lead):
        lead = met_lead.reset_index()
        lead = lead[(lead["init_time"].dt.hour == run_hour_utc)]
        lead["issue_date"] = (lead["init_time"] + CST_OFFSET).dt.normalize()
        fc_parts = []
        for suffix, shift in (("", 0), ("_prev", 1), ("_d0", None)):
            b = _met_block(lead, ["area_id", "issue_date", "lead_day"], suffix)
            if shift is None:
                b = b[b["lead_day"] == 0].drop(columns="lead_day")
                fc_parts.append(("d0", b))
            else:
                b = b.assign(lead=b["lead_day"] + shift).drop(columns="lead_day")
                fc_parts.append((suffix or "t", b))
        fc = out[["area_id", "issue_date", "lead"]].copy()
        for name, b in fc_parts:
            on = ["area_id", "issue_date"] + ([] if name == "d0" else ["lead"])
            fc = fc.merge(b, on=on, how="left")
        have_any = True
    an = None
    if met_daily is not None and len(met_daily):
        daily = met_daily.reset_index()
        daily["date"] = pd.to_datetime(daily["date"])
        an = out[["area_id", "issue_date", "lead", "target_date"]].copy()
        for suffix, col in (("", "target_date"), ("_prev", None), ("_d0", "issue_date")):
            b = _met_block(daily, ["area_id", "date"], suffix)
            if col is None:
                an["_prev_date"] = an["target_date"] - pd.Timedelta(days=1)
                col = "_prev_date"
            an = an.merge(b.rename(columns={"date": col}), on=["area_id", col], how="left")
        an = an.drop(columns=["target_date", "_prev_date"])
        have_any = True
    if not have_any:
        raise FeatureError("no meteorological drivers (run `lantian ingest` first, or check meteorology/)")
    met_cols = sorted({c for f in (fc, an) if f is not None for c in f.columns if c.startswith("met_")})
    keys = ["area_id", "issue_date", "lead"]
    result = out.set_index(keys)
    fc_i = fc.set_index(keys).reindex(result.index) if fc is not None else None
    an_i = an.set_index(keys).reindex(result.index) if an is not None else None
    use_fc = (fc_i[[c for c in fc_i.columns if c.startswith("met_")]].notna().any(axis=1)
              if fc_i is not None else pd.Series(False, index=result.index))
    for c in met_cols:
        a = an_i[c] if an_i is not None and c in an_i else pd.Series(np.nan, index=result.index)
        f = fc_i[c] if fc_i is not None and c in fc_i else pd.Series(np.nan, index=result.index)
        result[c] = np.where(use_fc, f, a)
    result["met_source"] = np.where(use_fc, "forecast", "analysis")
    return result.reset_index()


def calendar_features(frame: pd.DataFrame, calendar: dict | None = None) -> pd.DataFrame:
    """Emission-calendar features of the target day (``target_date``, ``area_id`` columns); ``calendar``: the
    region's calendar facts (default the shipped ones)."""
    calendar = calendar or calendar_facts()
    t = pd.to_datetime(frame["target_date"])
    doy = t.dt.day_of_year.to_numpy(float)
    out = pd.DataFrame(index=frame.index)
    out["cal_heating"] = heating_season(t, frame["area_id"], calendar)
    out["cal_dow"] = t.dt.day_of_week.to_numpy()
    out["cal_doy_sin"] = np.sin(2 * np.pi * doy / 365.25)
    out["cal_doy_cos"] = np.cos(2 * np.pi * doy / 365.25)
    out["cal_spring_festival"] = np.clip(days_from_spring_festival(t, calendar), -30, 30)
    for night in calendar["fireworks"]["nights"]:
        out[f"cal_fireworks_{night}"] = fireworks_hours(t, night, calendar)
    return out


#: climatology statistics per area and month (``clim_n`` = observed days, 0 for a month filled from others)
CLIM_STATS = ("clim_aqi", "clim_pm25", "clim_p150", "clim_p200", "clim_p300")


def climatology(obs_daily: pd.DataFrame, until=None, *, calendar: dict | None = None) -> pd.DataFrame:
    """Per area and calendar month: mean AQI and PM2.5, frequencies of AQI > 150/200/300 (days up to ``until``).

    Every area with observations gets all 12 months. A month without an observed day (a short or seasonal history)
    takes the mean of the statistics of the nearest observed months (circular distance in months) that share its
    heating-season state — heating when most of the month lies in the area's heating season of ``calendar`` (the
    region's calendar facts; default the shipped ones) — or of the nearest observed months when none shares it.

    Parameters
    ----------
    obs_daily : DataFrame
        Daily area observations, index ``(area_id, date)``, columns ``aqi`` [1], ``pm25_24h`` [µg m⁻³].
    until : date-like, optional
        Last day to use.
    calendar : dict, optional
        The region's calendar facts (heating seasons).

    Returns
    -------
    DataFrame
        Index ``(area_id, month)``; columns :data:`CLIM_STATS` ([1], [µg m⁻³], frequencies [0–1]), ``clim_n``
        (observed days of the month; 0 when filled) and ``clim_months`` (the months the values come from, e.g.
        ``"12"`` or ``"3,10"``).
    """
    d = obs_daily.reset_index()
    if until is not None:
        d = d[d["date"] <= pd.Timestamp(until)]
    d = d.dropna(subset=["aqi"])
    d["month"] = d["date"].dt.month
    g = d.groupby(["area_id", "month"])
    clim = pd.DataFrame({"clim_aqi": g["aqi"].mean(), "clim_pm25": g["pm25_24h"].mean(),
                         "clim_p150": g["aqi"].apply(lambda s: float((s > 150).mean())),
                         "clim_p200": g["aqi"].apply(lambda s: float((s > 200).mean())),
                         "clim_p300": g["aqi"].apply(lambda s: float((s > 300).mean())),
                         "clim_n": g["aqi"].size()})
    return complete_climatology(clim, calendar)


def _heating_months(area: str, calendar: dict | None) -> np.ndarray:
    """Whether most of each calendar month (1–12) lies in the area's heating season."""
    days = pd.Series(pd.date_range("2001-01-01", "2001-12-31", freq="D"))
    heat = heating_season(days, pd.Series(area, index=days.index), calendar)
    return pd.Series(heat).groupby(days.dt.month.to_numpy()).mean().reindex(range(1, 13)).to_numpy() > 0.5


def complete_climatology(clim: pd.DataFrame, calendar: dict | None = None) -> pd.DataFrame:
    """Add the months each area never observed to a climatology, from the nearest observed months (the rule of
    :func:`climatology`; also completes the climatology stored with a model trained before the rule existed).

    Adds ``clim_months`` (the source months) when absent. Returns the completed table, index ``(area_id, month)``.
    """
    clim = clim.copy()
    if "clim_months" not in clim.columns:
        clim["clim_months"] = clim.index.get_level_values("month").astype(str)
    rows = []
    for area, g in clim.groupby(level="area_id", sort=True):
        have = g.droplevel("area_id")
        heating = _heating_months(area, calendar)
        for month in range(1, 13):
            if month in have.index:
                continue
            seen = np.asarray(have.index, int)
            same = seen[heating[seen - 1] == heating[month - 1]]
            pool = same if len(same) else seen
            dist = np.minimum(np.abs(pool - month), 12 - np.abs(pool - month))
            source = np.sort(pool[dist == dist.min()])
            stats = have.loc[source, list(CLIM_STATS)].mean()
            rows.append({"area_id": area, "month": month, **stats.to_dict(), "clim_n": 0,
                         "clim_months": ",".join(str(m) for m in source)})
    if not rows:
        return clim
    filled = pd.DataFrame(rows).set_index(["area_id", "month"])
    return pd.concat([clim, filled]).sort_index()


def unseen_months(trained_months, dates) -> list[int]:
    """Calendar months of ``dates`` that are not among ``trained_months``, in the order they first occur."""
    seen = {int(m) for m in trained_months}
    months = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates).dropna()).sort_values()).month
    return [int(m) for m in dict.fromkeys(months) if int(m) not in seen]


#: e-folding distance of the upwind weights [km]
TRANSPORT_SCALE_KM = 400.0


def transport_features(frame: pd.DataFrame, area_table: pd.DataFrame | None = None, *,
                       scale_km: float = TRANSPORT_SCALE_KM) -> pd.DataFrame:
    """Regional transport: what the air arriving on the target day carries.

    ``tr_up_pm25`` is the mean of the other areas' ``pm25_now`` (24-h PM2.5 at the issue time) [µg/m³], weighted
    by how far upwind they lie under the target day's mean wind (``met_wind_u``/``met_wind_v``):
    ``w_ab = max(0, cos θ_ab) · exp(−d_ab / scale_km)`` (default :data:`TRANSPORT_SCALE_KM`), θ the angle between
    the wind and the direction from b to a (seats of the areas, great-circle distance); ``tr_up_weight`` is ``Σ w`` (0 in a calm or with nobody
    upwind). ``tr_region_pm25`` is the mean ``pm25_now`` of the leagues/cities at the issue time.
    Only observations at the issue time and the forecast wind are used.
    """
    table = (area_table if area_table is not None else _areas_mod.load_areas()).set_index("area_id")
    out = pd.DataFrame(index=frame.index, columns=["tr_up_pm25", "tr_up_weight", "tr_region_pm25"], dtype=float)
    if "pm25_now" not in frame or "met_wind_u" not in frame or "met_wind_v" not in frame:
        return out
    ids = [a for a in frame["area_id"].unique() if a in table.index]
    lon = np.deg2rad(table.loc[ids, "seat_lon"].to_numpy(float))
    lat = np.deg2rad(table.loc[ids, "seat_lat"].to_numpy(float))
    # b → a vectors in km (local tangent plane; fine at these distances)
    dx = 6371.0 * (lon[None, :] - lon[:, None]) * np.cos((lat[None, :] + lat[:, None]) / 2)  # [a, b]: a − b east
    dy = 6371.0 * (lat[None, :] - lat[:, None])
    dx, dy = -dx, -dy  # from b to a
    dist = np.hypot(dx, dy)
    np.fill_diagonal(dist, np.inf)
    pos = {a: i for i, a in enumerate(ids)}
    now = frame.drop_duplicates(["area_id", "issue_date"]).pivot(index="issue_date", columns="area_id",
                                                                 values="pm25_now").reindex(columns=ids)
    cities = [a for a in ids if table.loc[a, "tier"] == "city"]
    region = now[cities].mean(axis=1)
    a_idx = frame["area_id"].map(pos).to_numpy()
    ok = ~pd.isna(a_idx)
    a_idx = np.where(ok, a_idx, 0).astype(int)
    day = now.index.get_indexer(frame["issue_date"])
    u = frame["met_wind_u"].to_numpy(float)
    v = frame["met_wind_v"].to_numpy(float)
    speed = np.hypot(u, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (u[:, None] * dx[a_idx] + v[:, None] * dy[a_idx]) / (speed[:, None] * dist[a_idx])
    w = np.clip(np.nan_to_num(cos, nan=0.0), 0, None) * np.exp(-dist[a_idx] / scale_km)
    vals = now.to_numpy(float)[day]
    have = np.isfinite(vals)
    w = np.where(have, w, 0.0)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        up = np.where(total > 0, (w * np.nan_to_num(vals)).sum(axis=1) / total, np.nan)
    out["tr_up_pm25"] = np.where(ok, up, np.nan)
    out["tr_up_weight"] = np.where(ok, total, np.nan)
    out["tr_region_pm25"] = region.reindex(frame["issue_date"]).to_numpy(float)
    return out


#: days before the issue day whose analyses the path features read (stagnant spells, days since a front)
PATH_PAST_DAYS = 6
#: daily mean 10-m wind speed at or above which a day counts as a ventilating (post-frontal) day [m/s]
FRONT_WIND_SPEED = 4.5


def daily_path(pairs: pd.DataFrame, met_daily: pd.DataFrame | None, met_lead: pd.DataFrame | None, var: str, *,
               past_days: int = PATH_PAST_DAYS, max_lead: int = max(LEADS), run_hour_utc: int = 0) -> np.ndarray:
    """One daily driver along the path from ``past_days`` before the issue day to ``max_lead`` days after it.

    ``pairs`` has ``area_id, issue_date`` (one row per pair). Returns an array ``(len(pairs), past_days + 1 +
    max_lead)``; column ``past_days + j`` is the day ``issue_date + j``. Days before the issue day come from the
    analyses (past, known at the issue time); the issue day and later from the run of the issue date where there is
    one (any value of ``var`` in its days 0 … ``max_lead``), else from the analyses ("perfect prog", as
    :func:`meteorology_features`). NaN where neither has a value.
    """
    n_off = past_days + 1 + max_lead
    offsets = np.arange(-past_days, max_lead + 1)
    keys = pairs[["area_id", "issue_date"]].reset_index(drop=True)
    out = np.full((len(keys), n_off), np.nan)
    if met_daily is not None and len(met_daily) and var in met_daily.columns:
        d = met_daily[var].reset_index()
        d["date"] = pd.to_datetime(d["date"])
        s = d.set_index(["area_id", "date"])[var]
        for j, off in enumerate(offsets):
            idx = pd.MultiIndex.from_arrays([keys["area_id"], keys["issue_date"] + pd.Timedelta(days=int(off))])
            out[:, j] = s.reindex(idx).to_numpy(float)
    if met_lead is not None and len(met_lead) and var in met_lead.columns:
        r = met_lead[var].reset_index()
        r = r[r["init_time"].dt.hour == run_hour_utc]
        r["issue_date"] = (r["init_time"] + CST_OFFSET).dt.normalize()
        wide = r.pivot_table(index=["area_id", "issue_date"], columns="lead_day", values=var, aggfunc="first")
        wide = wide.reindex(columns=range(max_lead + 1))
        fc = wide.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(float)
        have = np.isfinite(fc).any(axis=1)
        out[have, past_days:] = fc[have]
    return out


def path_features(frame: pd.DataFrame, met_daily: pd.DataFrame | None, met_lead: pd.DataFrame | None, *,
                  past_days: int = PATH_PAST_DAYS) -> pd.DataFrame:
    """Accumulation along the path from the issue day to the target day (``frame``: ``area_id, issue_date, lead``).

    - ``path_vent_log``: mean of log10(ventilation) over the issue day … target day [log10(m² s⁻¹)];
    - ``path_rh_excess``: mean of max(0, RH − 55 %) / 35 % (humid growth of secondary aerosol) over the same days [1];
    - ``path_wind_max``: the largest daily mean wind of the days after the issue day up to the target day (a front
      in between) [m s⁻¹];
    - ``path_precip``: precipitation summed over the days after the issue day up to the target day [mm];
    - ``path_stagnant_days``: consecutive days with the stagnation index 3 ending on the target day (counting back
      into the analyses of the days before the issue day; NaN when the target day's index is missing) [d];
    - ``path_days_since_front``: days from the last day with a daily mean wind ≥ :data:`FRONT_WIND_SPEED` to the
      target day (``past_days`` + lead + 1 when there is none in the window) [d].

    The days from the issue day on come only from the forecast run of the issue date, or from the analyses where
    there is no run (as :func:`meteorology_features`); the days before it from the analyses (:func:`daily_path`).
    Missing days are skipped (NaN when all are). As for the meteorology of the target day, a feature whose driver
    the data do not carry (no boundary-layer height: no ventilation; no inversion: no stagnation index) is not a
    column at all.
    """
    out = pd.DataFrame(index=frame.index)
    present = _inputs_present(met_daily, met_lead)
    need = {"path_vent_log": "ventilation", "path_rh_excess": "rh", "path_wind_max": "wind_speed",
            "path_precip": "precip", "path_stagnant_days": "stagnation", "path_days_since_front": "wind_speed"}
    if not len(frame) or not present & set(need.values()):
        return out
    pairs = frame[["area_id", "issue_date"]].drop_duplicates().reset_index(drop=True)
    pos = pd.MultiIndex.from_frame(pairs).get_indexer(pd.MultiIndex.from_frame(frame[["area_id", "issue_date"]]))
    lead = frame["lead"].to_numpy(int)
    max_lead = int(lead.max())
    paths = {v: daily_path(pairs, met_daily, met_lead, v, past_days=past_days, max_lead=max_lead)[pos]
             for v in dict.fromkeys(need.values()) if v in present}
    off = np.arange(past_days + 1 + max_lead) - past_days  # day offset from the issue day
    upto = off[None, :] <= lead[:, None]  # rows × offsets: up to the target day
    from0 = (off[None, :] >= 0) & upto
    after = (off[None, :] >= 1) & upto

    def over(values, mask, fn):
        with warnings.catch_warnings():  # rows without any value give NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(np.where(mask, values, np.nan), axis=1)

    if "ventilation" in paths:
        with np.errstate(invalid="ignore", divide="ignore"):
            out["path_vent_log"] = over(np.log10(np.clip(paths["ventilation"], 1.0, None)), from0, np.nanmean)
    if "rh" in paths:
        out["path_rh_excess"] = over(np.clip((paths["rh"] - 55.0) / 35.0, 0, None), from0, np.nanmean)
    if "wind_speed" in paths:
        out["path_wind_max"] = over(paths["wind_speed"], after, np.nanmax)
    if "precip" in paths:
        some = np.isfinite(np.where(after, paths["precip"], np.nan)).any(axis=1)
        out["path_precip"] = np.where(some, over(paths["precip"], after, np.nansum), np.nan)
    rows = np.arange(len(frame))
    target = past_days + lead  # column of the target day
    if "stagnation" in paths:
        stag = paths["stagnation"]
        run = np.zeros(len(frame))
        alive = np.ones(len(frame), bool)
        for back in range(past_days + max_lead + 1):
            col = target - back
            is_stag = (col >= 0) & (stag[rows, np.clip(col, 0, None)] >= 3)
            alive &= is_stag
            run += alive
        out["path_stagnant_days"] = np.where(np.isfinite(stag[rows, target]), run, np.nan)
    if "wind_speed" in paths:
        wind = paths["wind_speed"]
        since = np.full(len(frame), np.nan)
        for back in range(past_days + max_lead, -1, -1):  # the nearest front day is written last
            col = target - back
            front = (col >= 0) & (wind[rows, np.clip(col, 0, None)] >= FRONT_WIND_SPEED)
            since[front] = back
        out["path_days_since_front"] = np.where(np.isfinite(since), since, past_days + lead + 1.0)
    return out


def runs_by_issue_date(met_lead: pd.DataFrame | None, variables=LAGGED_VARS, *,
                       run_hour_utc: int = 0) -> pd.DataFrame:
    """The forecast runs' daily drivers keyed as the features key them: ``area_id, issue_date`` (the CST day of the
    run at ``run_hour_utc`` UTC), ``lead`` (the run's lead day) and the ``variables`` the runs carry, ventilation as
    log10 of [m² s⁻¹] (at least 1); one run per issue date (the last). Empty without runs."""
    if met_lead is None or not len(met_lead):
        return pd.DataFrame(columns=["area_id", "issue_date", "lead"])
    runs = met_lead.reset_index()
    runs = runs[runs["init_time"].dt.hour == run_hour_utc]
    names = [v for v in variables if v in runs.columns]
    cur = runs[["init_time", "area_id", "lead_day"] + names].copy()
    if "ventilation" in names:
        cur["ventilation"] = np.log10(cur["ventilation"].astype(float).clip(lower=1.0))
    cur["issue_date"] = (cur["init_time"] + CST_OFFSET).dt.normalize()
    cur = cur.drop(columns="init_time").rename(columns={"lead_day": "lead"})
    return cur.drop_duplicates(["area_id", "issue_date", "lead"], keep="last")


def lagged_run_features(pairs: pd.DataFrame, met_lead: pd.DataFrame | None, *, run_hour_utc: int = 0,
                        variables=LAGGED_VARS) -> pd.DataFrame:
    """The target day's drivers from a time-lagged pair of forecast runs: the run of the issue day (lead day
    ``lead``) and the run a day earlier (lead day ``lead + 1``, the same target day).

    ``met_<var>_lag2`` is the mean of the two (a two-member lagged ensemble: the random part of either run's error
    averaged down), ``met_<var>_r2r`` today's value minus yesterday's (the run-to-run change: a forecast that jumps
    between runs is a less certain one). Ventilation enters as log10 of the ventilation coefficient [m² s⁻¹]
    (at least 1), the other drivers in their units (:mod:`forecast.drivers`: BLH [m], wind [m s⁻¹], RH [%],
    stagnation index [1]). A row without both runs (no run of the issue date or of the day before, the last lead
    day, analyses only) gets NaN; without any forecast run (``met_lead`` None or empty) the table has no columns.

    Parameters
    ----------
    pairs : DataFrame
        ``area_id, issue_date, lead`` (the rows of the feature table).
    met_lead : DataFrame or None
        Daily drivers per forecast run and lead day (index ``init_time, area_id, lead_day``).
    run_hour_utc : int
        The run of the issue date used (as :func:`meteorology_features`).
    variables : tuple of str
        Drivers of :data:`LAGGED_VARS` to use (those the runs carry).

    Returns
    -------
    DataFrame
        Aligned with ``pairs`` (same index).
    """
    out = pd.DataFrame(index=pairs.index)
    cur = runs_by_issue_date(met_lead, variables, run_hour_utc=run_hour_utc)
    names = [v for v in variables if v in cur.columns]
    if not names:
        return out
    # yesterday's run, lead day k + 1, keyed as today's lead day k
    prev = cur.assign(issue_date=cur["issue_date"] + pd.Timedelta(days=1), lead=cur["lead"] - 1)
    keys = ["area_id", "issue_date", "lead"]
    x = pairs[keys].merge(cur, on=keys, how="left").merge(prev, on=keys, how="left", suffixes=("", "_y"))
    for v in names:
        today, yesterday = x[v].to_numpy(float), x[f"{v}_y"].to_numpy(float)
        out[f"met_{v}_lag2"] = (today + yesterday) / 2
        out[f"met_{v}_r2r"] = today - yesterday
    return out


def make_features(obs: Observations, met_daily: pd.DataFrame | None, met_lead: pd.DataFrame | None,
                  issue_dates, *, clim: pd.DataFrame, leads=LEADS, issue_hour: int = ISSUE_HOUR,
                  areas: list[str] | None = None, with_targets: bool = True, area_table: pd.DataFrame | None = None,
                  calendar: dict | None = None) -> pd.DataFrame:
    """The feature table: one row per (area_id, issue_date, lead) with features, and targets when known.

    ``area_table`` (seats for the transport features) and ``calendar`` come from the region
    (:class:`forecast.region.Region`); default the shipped ones.

    Targets (when ``with_targets``): ``y_aqi``, ``y_pm25``, ``y_pm10``, ``y_dust`` — the observed daily values of
    the target day (missing when not observed).
    """
    dates = pd.DatetimeIndex(pd.to_datetime(issue_dates)).normalize()
    areas = areas or obs.areas
    pairs = pd.MultiIndex.from_product([areas, dates, list(leads)], names=["area_id", "issue_date", "lead"])
    frame = pd.DataFrame(index=pairs).reset_index()
    state = issue_state(obs, dates, issue_hour=issue_hour)
    frame = frame.merge(state.reset_index(), on=["area_id", "issue_date"], how="left")
    met = meteorology_features(frame[["area_id", "issue_date", "lead"]], met_daily, met_lead)
    frame = frame.merge(met, on=["area_id", "issue_date", "lead"], how="left")
    frame = pd.concat([frame, transport_features(frame, area_table), calendar_features(frame, calendar),
                       path_features(frame, met_daily, met_lead),
                       lagged_run_features(frame[["area_id", "issue_date", "lead"]], met_lead)], axis=1)
    frame["month"] = frame["target_date"].dt.month
    frame = frame.merge(clim.reset_index(), on=["area_id", "month"], how="left").drop(columns=["month"])
    if with_targets:
        y = obs.daily.reset_index().rename(columns={"date": "target_date", "aqi": "y_aqi", "pm25_24h": "y_pm25",
                                                    "pm10_24h": "y_pm10", "dust": "y_dust"})
        frame = frame.merge(y[["area_id", "target_date", "y_aqi", "y_pm25", "y_pm10", "y_dust"]],
                            on=["area_id", "target_date"], how="left")
    return frame


#: feature name → family, for grouping driver contributions (first matching prefix wins)
FAMILIES = [
    ("persistence", ("aqi_", "pm25_", "pm10_", "ratio_", "dust_")),
    ("ventilation", ("met_wind_speed", "met_blh", "met_ventilation")),
    ("inversion", ("met_inversion", "met_stagnation")),
    ("humidity", ("met_rh", "met_precip")),
    ("transport", ("met_wind_u", "met_wind_v", "met_pressure", "tr_")),
    ("emissions_calendar", ("cal_", "met_hdd", "met_temp_air")),
    ("area_climatology", ("area", "clim_")),
    ("lead_time", ("lead",)),
    ("accumulation", ("path_",)),
]
FAMILY_NAMES_ZH = {"persistence": "前期污染", "ventilation": "通风扩散", "inversion": "逆温与静稳",
                   "humidity": "湿度与降水", "transport": "区域输送", "emissions_calendar": "排放与供暖",
                   "area_climatology": "地区气候背景", "lead_time": "预报时效",
                   "accumulation": "累积过程"}


def family_of(feature: str) -> str:
    for family, prefixes in FAMILIES:
        if feature.startswith(prefixes) or feature in prefixes:
            return family
    return "other"
