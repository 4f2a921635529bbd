"""Air quality index per HJ 633 (2012 and 2026 editions).

The individual air quality index (IAQI) of a pollutant is a piecewise-linear function of its concentration between
breakpoints, rounded up to an integer; the AQI is the largest IAQI. An AQI computed from fewer than the six species
(PM2.5, PM10, SO2, NO2, CO, O3) — an archive of PM2.5 alone, a species that failed validity that day — is a
*partial AQI*: :func:`aqi` names the species it used (``aqi_pollutants``) and flags it (``aqi_partial``); it can
only be lower than or equal to the full AQI. Breakpoints, categories and the special rules
of each edition are data files in ``forecast/data`` (see :func:`load_breakpoints`), so another edition or a local
table can be loaded with ``path=``.

Pollutant keys (the nomenclature): ``pm25_24h, pm10_24h, so2_24h, so2_1h, no2_24h, no2_1h, co_24h, co_1h, o3_1h,
o3_8h``. Units: ``co_*`` in mg m⁻³, all others in µg m⁻³.

References
----------
.. [1] HJ 633-2012 Technical Regulation on Ambient Air Quality Index (on trial), Tables 1 and 2.
.. [2] HJ 633-2026 Technical Regulation on Ambient Air Quality Index, Table 3 (in force 2026-03-01).
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .tables import load_yaml, read_commented_csv
from .nomenclature import DUST_MIN_AQI, DUST_RATIO, TZ

DATA_DIR = Path(__file__).parent / "data"

STANDARDS = ("HJ633-2012", "HJ633-2026")
#: first day on which HJ 633-2026 applies (China Standard Time)
HJ633_2026_IN_FORCE = pd.Timestamp("2026-03-01")
POLLUTANTS = ("pm25_24h", "pm10_24h", "so2_24h", "so2_1h", "no2_24h", "no2_1h",
              "co_24h", "co_1h", "o3_1h", "o3_8h")
#: keys used for the daily AQI (24-h means and the daily maximum 8-h O3)
DAILY_KEYS = ("pm25_24h", "pm10_24h", "so2_24h", "no2_24h", "co_24h", "o3_8h")
#: display names of the pollutants (primary / exceeding pollutant lists)
POLLUTANT_NAMES = {"pm25": "PM2.5", "pm10": "PM10", "so2": "SO2", "no2": "NO2", "co": "CO", "o3": "O3"}
ABOVE_TOP = ("cap", "nan", "extrapolate")
IAQI_LEVELS = np.array([0, 50, 100, 150, 200, 300, 400, 500], dtype=float)
#: the top of the index scale in both editions (HJ 633-2012 Table 1, HJ 633-2026 Table 3): an AQI a user or a file
#: gives outside 0 … AQI_MAX is refused (a concentration beyond the last breakpoint gives IAQI 500 by default)
AQI_MAX = float(IAQI_LEVELS[-1])


class AQIError(ValueError):
    """Invalid pollutant, standard or input for an AQI computation."""


# --------------------------------------------------------------------------------------------------- loaders
@lru_cache(maxsize=8)
def _read_breakpoints(path: str) -> pd.DataFrame:
    table = read_commented_csv(path)
    required = {"standard", "pollutant", *(f"bp_{int(v)}" for v in IAQI_LEVELS)}
    missing = required - set(table.columns)
    if missing:
        raise AQIError(f"breakpoint table {path}: missing columns {sorted(missing)}; found {list(table.columns)}")
    return table


def load_breakpoints(path: str | Path | None = None) -> pd.DataFrame:
    """Breakpoint table, one row per (standard, pollutant), columns ``bp_0 … bp_500``.

    Parameters
    ----------
    path : path-like, optional
        A CSV of the same layout as ``forecast/data/aqi_breakpoints.csv``; default the shipped table.
    """
    return _read_breakpoints(str(path or DATA_DIR / "aqi_breakpoints.csv")).copy()


@lru_cache(maxsize=8)
def _read_special_rules(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return load_yaml(fh)


def load_special_rules(path: str | Path | None = None) -> dict:
    """Special rules beyond the last breakpoint, per standard and pollutant (``aqi_special_rules.yaml``)."""
    return dict(_read_special_rules(str(path or DATA_DIR / "aqi_special_rules.yaml")))


@lru_cache(maxsize=4)
def _read_categories(path: str) -> pd.DataFrame:
    return read_commented_csv(path)


def load_categories(path: str | Path | None = None) -> pd.DataFrame:
    """AQI categories 1–6 with Chinese and English names and official colours (HJ 633-2012 Table 2)."""
    return _read_categories(str(path or DATA_DIR / "aqi_categories.csv")).copy()


def _breakpoints(pollutant: str, standard: str, path=None) -> np.ndarray:
    return _breakpoint_row(pollutant, standard, str(path or DATA_DIR / "aqi_breakpoints.csv")).copy()


@lru_cache(maxsize=128)
def _breakpoint_row(pollutant: str, standard: str, path: str) -> np.ndarray:
    if pollutant not in POLLUTANTS:
        raise AQIError(f"unknown pollutant {pollutant!r}; allowed: {', '.join(POLLUTANTS)}")
    if standard not in STANDARDS:
        raise AQIError(f"unknown AQI standard {standard!r}; allowed: {', '.join(STANDARDS)} or 'auto'")
    table = _read_breakpoints(path)
    row = table[(table["standard"] == standard) & (table["pollutant"] == pollutant)]
    if row.empty:
        raise AQIError(f"breakpoint table has no row for {standard} {pollutant}")
    return row[[f"bp_{int(v)}" for v in IAQI_LEVELS]].to_numpy(dtype=float)[0]


# --------------------------------------------------------------------------------------------------- kernels
def _iaqi_kernel(conc: np.ndarray, bp: np.ndarray, above_top: str) -> np.ndarray:
    """Piecewise-linear IAQI (not yet rounded) for one breakpoint row; NaN beyond a row that stops early."""
    defined = ~np.isnan(bp)
    c_bp, i_bp = bp[defined], IAQI_LEVELS[defined]
    out = np.interp(conc, c_bp, i_bp)
    top = conc > c_bp[-1]
    if np.any(top):
        if len(c_bp) < len(bp) or above_top == "nan":  # row stops before IAQI 500: special rules decide
            out = np.where(top, np.nan, out)
        elif above_top == "cap":
            out = np.where(top, 500.0, out)
        else:  # extrapolate the last segment
            slope = (i_bp[-1] - i_bp[-2]) / (c_bp[-1] - c_bp[-2])
            out = np.where(top, i_bp[-1] + slope * (conc - c_bp[-1]), out)
    return np.where(np.isnan(conc), np.nan, out)


def _ceil(x: np.ndarray) -> np.ndarray:
    # IAQI is rounded up; round first to absorb floating-point noise (100.00000000001 must stay 100)
    return np.ceil(np.round(x, 6))


def _as_array(concentration, name: str) -> np.ndarray:
    try:
        arr = np.asarray(concentration, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AQIError(f"{name}: concentrations must be numeric ({exc})") from None
    negative = arr < 0
    if np.any(negative):
        warnings.warn(f"{name}: {int(negative.sum())} negative concentration(s) are invalid and set to NaN",
                      stacklevel=3)
        arr = np.where(negative, np.nan, arr)
    return arr


def _standard_per_element(standard: str, dates, shape) -> np.ndarray | str:
    if standard != "auto":
        if standard not in STANDARDS:
            raise AQIError(f"unknown AQI standard {standard!r}; allowed: {', '.join(STANDARDS)} or 'auto'")
        return standard
    if dates is None:
        raise AQIError("standard='auto' needs the dates of the concentrations (dates=...)")
    d = pd.to_datetime(np.asarray(dates).ravel())
    if getattr(d, "tz", None) is not None:
        d = d.tz_convert(TZ).tz_localize(None)
    new = np.asarray(d >= HJ633_2026_IN_FORCE)
    new = np.broadcast_to(new.reshape(np.shape(dates)) if np.ndim(dates) else new[0], shape)
    return new


def iaqi(pollutant: str, concentration, *, standard: str = "HJ633-2012", dates=None,
         above_top: str = "cap", fallback=None, breakpoints_path=None, rules_path=None):
    """Individual air quality index of one pollutant.

    Parameters
    ----------
    pollutant : str
        One of ``pm25_24h, pm10_24h, so2_24h, so2_1h, no2_24h, no2_1h, co_24h, co_1h, o3_1h, o3_8h``.
    concentration : float, array-like or pandas.Series
        Concentration. [µg m⁻³; mg m⁻³ for CO]
    standard : {"HJ633-2012", "HJ633-2026", "auto"}
        Edition. ``"auto"`` picks HJ 633-2026 for dates on or after 2026-03-01 and needs ``dates``.
    dates : array-like of datetime, optional
        Date of each concentration (China Standard Time), for ``standard="auto"``.
    above_top : {"cap", "nan", "extrapolate"}
        Concentrations above the IAQI-500 breakpoint: IAQI 500 (default), NaN, or the last segment extended.
    fallback : array-like, optional
        For ``so2_1h`` and ``o3_8h`` above 800 µg m⁻³: the concentration of the pollutant the standard falls back
        to (``so2_24h`` resp. ``o3_1h``), whose IAQI is then reported. Without it the edition's
        ``without_fallback`` rule applies (NaN in 2012, a cap in the 2026 transcription).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        IAQI rounded up to an integer, NaN where the concentration is NaN or invalid. [1]

    Raises
    ------
    AQIError
        Unknown pollutant, standard or ``above_top`` option; non-numeric input.

    Notes
    -----
    Negative concentrations are invalid: they give NaN and a warning.

    References
    ----------
    HJ 633-2012 Table 1 and notes (2), (3); HJ 633-2026 Table 3.
    """
    if above_top not in ABOVE_TOP:
        raise AQIError(f"unknown above_top option {above_top!r}; allowed: {', '.join(ABOVE_TOP)}")
    if pollutant not in POLLUTANTS:
        raise AQIError(f"unknown pollutant {pollutant!r}; allowed: {', '.join(POLLUTANTS)}")
    index = concentration.index if isinstance(concentration, pd.Series) else None
    scalar = np.ndim(concentration) == 0
    conc = _as_array(concentration, pollutant)
    which = _standard_per_element(standard, dates, conc.shape)
    out = _iaqi(pollutant, conc, which, above_top, fallback, breakpoints_path, rules_path)
    if index is not None:
        return pd.Series(out, index=index, name=f"iaqi_{pollutant}")
    return float(out) if scalar else out


def _iaqi(pollutant: str, conc: np.ndarray, which, above_top: str, fallback, breakpoints_path, rules_path
          ) -> np.ndarray:
    """:func:`iaqi` on a checked float array; ``which`` an edition name or, per element, True for HJ 633-2026."""
    editions = [which] if isinstance(which, str) else list(STANDARDS)
    out = np.full(conc.shape, np.nan)
    for edition in editions:
        mask = np.ones(conc.shape, bool) if isinstance(which, str) else (which == (edition == "HJ633-2026"))
        value = _iaqi_kernel(conc, _breakpoints(pollutant, edition, breakpoints_path), above_top)
        rule = _read_special_rules(str(rules_path or DATA_DIR / "aqi_special_rules.yaml")).get(edition, {}).get(pollutant)
        if rule is not None:
            beyond = conc > float(rule["above"])
            if np.any(beyond):
                if fallback is not None:
                    sub = iaqi(rule["use"], fallback, standard=edition, above_top=above_top,
                               breakpoints_path=breakpoints_path, rules_path=rules_path)
                    sub = np.broadcast_to(np.asarray(sub, float), conc.shape)
                else:
                    cap = rule["without_fallback"]
                    sub = np.full(conc.shape, np.nan if cap == "nan" else float(cap))
                value = np.where(beyond, sub, value)
        out = np.where(mask, value, out)
    return _ceil(out)


# --------------------------------------------------------------------------------------------------- tables
def _base(key: str) -> str:
    return key.split("_")[0]


def category(aqi_value, *, path=None) -> pd.DataFrame:
    """Category 1–6 of AQI values with Chinese/English names and official colour; NaN AQI → missing category."""
    cats = load_categories(path)
    values = np.asarray(aqi_value, dtype=float)
    idx = np.searchsorted(cats["aqi_high"].fillna(np.inf).to_numpy(), values, side="left")
    idx = np.clip(idx, 0, len(cats) - 1)
    out = cats.iloc[idx].reset_index(drop=True)[["category", "level_zh", "name_zh", "name_en", "colour"]]
    nan = np.isnan(values)
    out["category"] = out["category"].astype("Int64")
    out.loc[nan, :] = pd.NA
    return out


def _labels(flags: np.ndarray, names: list[str]) -> pd.arrays.StringArray:
    """Per row, the names of the flagged columns joined by ``","`` (each name once, in column order); ``<NA>``
    where no column is flagged. ``flags`` is (rows × columns) bool; each distinct pattern is joined once."""
    if flags.shape[1] == 0:
        return pd.array([None] * flags.shape[0], dtype="string")
    code = flags.astype(np.int64) @ (1 << np.arange(flags.shape[1], dtype=np.int64))
    patterns, inverse = np.unique(code, return_inverse=True)
    text = np.array([",".join(dict.fromkeys(n for j, n in enumerate(names) if (c >> j) & 1)) or None
                     for c in patterns], dtype=object)
    return pd.array(text, dtype="string").take(inverse.ravel())


def aqi(table: pd.DataFrame, *, standard: str = "HJ633-2012", date_column: str | None = None,
        above_top: str = "cap") -> pd.DataFrame:
    """AQI of each row of a table of concentrations.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per time/place; columns named by pollutant key (any subset of :data:`POLLUTANTS`).
        [µg m⁻³; mg m⁻³ for CO]. Other columns are ignored. For a daily AQI pass the 24-h means and the daily
        maximum 8-h O3 (:data:`DAILY_KEYS`).
    standard : {"HJ633-2012", "HJ633-2026", "auto"}
        Edition; ``"auto"`` needs ``date_column``.
    date_column : str, optional
        Column with the date of each row, for ``standard="auto"``.

    Returns
    -------
    pandas.DataFrame
        Same index as ``table``; columns ``iaqi_<key>`` per pollutant given, ``aqi`` [1], ``category`` (1–6),
        ``level_zh``, ``name_zh``, ``name_en``, ``colour``, ``primary_pollutant`` (names joined by ``","``, only
        where AQI > 50; ties list all), ``exceeding_pollutants`` (IAQI > 100), ``aqi_pollutants`` (the species
        with a valid IAQI in the row, in the order PM2.5, PM10, SO2, NO2, CO, O3; ``<NA>`` without any) and
        ``aqi_partial`` (bool: the AQI rests on fewer than the six species — a partial AQI, a lower bound of the
        full one; ``False`` where there is no AQI).

    Raises
    ------
    AQIError
        No pollutant column (a table may hold any subset of :data:`POLLUTANTS`; absent and all-NaN columns simply
        leave their species out of ``aqi_pollutants``), or ``standard="auto"`` without ``date_column``.

    Notes
    -----
    The special rules (SO2 1-h and O3 8-h above 800 µg m⁻³) use the ``so2_24h`` / ``o3_1h`` column of the same row
    where the table has it.
    """
    keys = [k for k in POLLUTANTS if k in table.columns]
    if not keys:
        raise AQIError(f"no pollutant column in table; expected any of {', '.join(POLLUTANTS)}, "
                       f"found {', '.join(map(str, table.columns))}")
    dates = None
    if standard == "auto":
        if date_column is None or date_column not in table.columns:
            raise AQIError("standard='auto' needs date_column naming the column with the dates")
        dates = table[date_column].to_numpy()
    if above_top not in ABOVE_TOP:
        raise AQIError(f"unknown above_top option {above_top!r}; allowed: {', '.join(ABOVE_TOP)}")
    which = _standard_per_element(standard, dates, (len(table),))  # the edition of each row, decided once
    columns = {}
    for key in keys:
        fb = None
        if key == "so2_1h" and "so2_24h" in table.columns:
            fb = table["so2_24h"].to_numpy(dtype=float)
        elif key == "o3_8h" and "o3_1h" in table.columns:
            fb = table["o3_1h"].to_numpy(dtype=float)
        conc = _as_array(table[key].to_numpy(dtype=float), key)
        columns[f"iaqi_{key}"] = _iaqi(key, conc, which, above_top, fb, None, None)
    out = pd.DataFrame(columns, index=table.index)
    sub = out.to_numpy()
    all_nan = np.all(np.isnan(sub), axis=1)
    total = np.where(all_nan, np.nan, np.nanmax(np.where(np.isnan(sub), -np.inf, sub), axis=1))
    out["aqi"] = total
    cats = category(total)
    cats.index = out.index
    out = pd.concat([out, cats], axis=1)
    names = [POLLUTANT_NAMES[_base(k)] for k in keys]
    with np.errstate(invalid="ignore"):
        is_primary = (sub == total[:, None]) & (total > 50)[:, None]  # NaN compares False: no primary without AQI
        is_over = sub > 100
    out["primary_pollutant"] = _labels(is_primary, names)
    out["exceeding_pollutants"] = _labels(is_over, names)
    base = np.array([_base(k) for k in keys], dtype=object)
    species = [sp for sp in POLLUTANT_NAMES if sp in set(base)]
    used = np.column_stack([~np.isnan(sub[:, base == sp]).all(axis=1) for sp in species])
    out["aqi_pollutants"] = _labels(used, [POLLUTANT_NAMES[sp] for sp in species])
    out["aqi_partial"] = (used.sum(axis=1) < len(POLLUTANT_NAMES)) & ~all_nan
    return out


def aqi_table(path, *, standard: str = "HJ633-2012", date_column: str | None = None) -> pd.DataFrame:
    """A concentration table (CSV with pollutant-key columns ``pm25_24h``, ``o3_8h`` …) with its AQI columns added.

    Raises
    ------
    AQIError
        The file cannot be read (names the file and the problem), has no pollutant column, or has a cell in a
        pollutant column that is not a number (names the column and the line).
    """
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AQIError(f"{path}: cannot read concentration table ({exc})") from None
    for key in [k for k in POLLUTANTS if k in frame.columns]:
        values = pd.to_numeric(frame[key], errors="coerce")
        bad = values.isna() & frame[key].notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            raise AQIError(f"{path}: column {key}, line {first + 2}: {frame[key].iat[first]!r} is not a number "
                           f"({int(bad.sum())} such cell(s)); concentrations are numbers [ug/m3; mg/m3 for CO]")
        frame[key] = values
    return pd.concat([frame, aqi(frame, standard=standard, date_column=date_column)], axis=1)


def dust_dominated(daily: pd.DataFrame, *, ratio: float = DUST_RATIO, min_aqi: float = DUST_MIN_AQI) -> pd.Series:
    """Dust-dominated days: PM10's IAQI the largest, PM2.5/PM10 below ``ratio`` and AQI above ``min_aqi``.

    Parameters
    ----------
    daily : DataFrame
        Daily ``pm25_24h``, ``pm10_24h`` [µg m⁻³] and ``aqi`` [1]. ``pm10_24h`` or ``pm25_24h`` may be absent
        (an archive without PM10): then no day is dust-dominated.
    ratio, min_aqi : float
        Default :data:`forecast.nomenclature.DUST_RATIO` and ``DUST_MIN_AQI`` (UNVERIFIED working definition; the
        plans name dust episodes but give no numbers, REFERENCE 1.4).

    Returns
    -------
    Series of bool
        On the index of ``daily``; ``False`` where PM10 or PM2.5 is missing (the test needs both).
    """
    if "pm10_24h" not in daily.columns or "pm25_24h" not in daily.columns:
        return pd.Series(False, index=daily.index)
    i25 = iaqi("pm25_24h", daily["pm25_24h"].to_numpy(float))
    i10 = iaqi("pm10_24h", daily["pm10_24h"].to_numpy(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = daily["pm25_24h"].to_numpy(float) / daily["pm10_24h"].to_numpy(float)
    return pd.Series((i10 > i25) & (r < ratio) & (daily["aqi"].to_numpy(float) > min_aqi), index=daily.index)
