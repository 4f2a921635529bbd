"""The forecast document: the contract between the forecaster and the response, checked where it is read.

:func:`forecast.forecasting.forecast_json` writes it (``lantian forecast --out F.json``); ``lantian respond
--forecast F.json``, the duty page and the consultation read it. A document from a file can be anything — a
hand-edited copy, another tool's output, a truncated download — so :func:`check_document` checks it against the
schema below before anything uses it, and :func:`read_document` reads and checks a file. A problem is one sentence
naming the file, the field path and what is allowed, e.g.
``F.json: areas[0]: expected an object with area_id, level, clause, trigger_days, days, got 'hohhot'``.

Schema (keys not listed are allowed and ignored; ``?`` marks an optional key)
------------------------------------------------------------------------------

=============================  ==========================================================================
``issue_date``                 a calendar day, ``YYYY-MM-DD``
``model_version`` ?            text or null
``lead_correlation`` ?         a number in −1 … 1, or null
``decision.thresholds`` ?      ``yellow``, ``orange``, ``red`` → a probability in (0, 1]
``degraded`` ?                 an object with ``reasons`` (a list of text, Chinese) and optionally
                               ``reasons_en``: the inputs were stale or incomplete (``lantian cycle``)
``areas``                      a non-empty list of area objects, each ``area_id`` once
``areas[i].area_id``           text of 1–64 characters without control characters
``areas[i].level``             one of ``none, yellow, orange, red`` (:data:`forecast.levels.LEVELS`)
``areas[i].clause``            text (the rule clause that decided the level; may be empty)
``areas[i].trigger_days``      a list of lead days of the area's ``days``
``areas[i].rules`` ?           text (a rule set of the region's rules) or null
``areas[i].duration`` ?        how "AQI > X lasting N h" was read: ``consecutive`` or ``summed``
                               (:data:`forecast.levels.DURATIONS`)
``areas[i].level_probabilities`` ?  level → a probability in 0 … 1
``areas[i].days``              a non-empty list of day objects, each ``lead_day`` once
``days[j].lead_day``           a whole number ≥ 1
``days[j].date``               a calendar day, ``YYYY-MM-DD`` (the target day)
``days[j].aqi``                ``q10 ≤ q50 ≤ q90``, numbers in 0 … 500 (:data:`forecast.aqi.AQI_MAX`)
``days[j].p_aqi_gt`` ?         AQI threshold (``"150"``, ``"200"``, ``"300"``) → a probability in 0 … 1
``days[j].dust`` ?             true or false
``days[j].primary`` ?          the day's primary pollutant: one of ``pm25, pm10, so2, no2, co, o3``
                               (:data:`forecast.nomenclature.SPECIES`) or null (none named: AQI ≤ 50, or the
                               forecast cannot say); absent → derived by :func:`day_primary`
``days[j].fireworks`` ?        true or false: a fireworks night of the emission calendar falls in the day
``days[j].drivers`` ?          a list of objects with ``family`` (text) and ``effect`` (a number)
``days[j].baseline_aqi`` ?     the model's median AQI with every driver at its training mean (a number ≥ 0;
                               :func:`forecast.products.driver_effects_aqi`)
=============================  ==========================================================================

A forecaster whose model forecasts O3 (a summer region), or a consultation, sets ``primary`` explicitly; it wins
over the derivation (:func:`day_primary`). Documents written before these keys existed still load.

References
----------
.. [1] HJ 633-2012 Technical Regulation on Ambient Air Quality Index (on trial), Table 1 (IAQI 0 … 500); HJ
   633-2026 Table 3 (the same scale).
"""
from __future__ import annotations

import json
import math
import numbers
import unicodedata
from pathlib import Path

from .aqi import AQI_MAX, iaqi
from .levels import DURATIONS, LEVELS
from .nomenclature import AQI_THRESHOLDS, SPECIES, DateError, parse_day

#: the keys an area object must have, in the order the messages list them
AREA_KEYS = ("area_id", "level", "clause", "trigger_days", "days")
#: the keys a day object must have
DAY_KEYS = ("lead_day", "date", "aqi")
#: the AQI quantiles of a day, in increasing order
QUANTILES = ("q10", "q50", "q90")
#: the longest area id accepted (ids become file names and table keys)
MAX_ID_LENGTH = 64
_WARNING_LEVELS = LEVELS[1:]
#: the values a day's ``primary`` may take (besides null)
PRIMARY_POLLUTANTS = SPECIES
#: a primary pollutant is named only above this AQI (HJ 633-2012 §3; REFERENCE 2.1) [1]
PRIMARY_MIN_AQI = 50


class ForecastDocumentError(ValueError):
    """A forecast document that does not follow the schema (the message names the file, the field and what is
    allowed)."""


def read_document(path) -> dict:
    """Read and check a forecast document file (:func:`check_document`).

    Parameters
    ----------
    path : path-like
        A JSON file written by ``lantian forecast --out F.json``.

    Returns
    -------
    dict
        The document, as read.

    Raises
    ------
    ForecastDocumentError
        A file that cannot be read, is not JSON, or does not follow the schema.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ForecastDocumentError(f"{path}: cannot read the forecast ({reason})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ForecastDocumentError(f"{path}: cannot read the forecast (not JSON: {exc})") from None
    return check_document(doc, source=str(path))


def check_document(doc, *, source: str = "forecast document") -> dict:
    """Check a forecast document against the schema (module docstring); return it unchanged.

    Parameters
    ----------
    doc : object
        The parsed document.
    source : str
        What the messages name (the file).

    Returns
    -------
    dict
        ``doc``.

    Raises
    ------
    ForecastDocumentError
        The first problem, e.g. ``F.json: areas[2].days[0].aqi.q50: expected a number in 0 … 500, got '120'``,
        followed by how many more there are.
    """
    problems: list[str] = []
    _document(doc, problems)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ForecastDocumentError(f"{source}: {problems[0]}{more}")
    return doc


# ---- the checks: each appends "path: problem" sentences ---------------------------------------------------------

def _shown(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, numbers.Number) else type(value).__name__)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(value, path: str, problems: list, low: float, high: float, what: str = "a number",
            note: str = "", low_open: bool = False) -> bool:
    inside = _is_number(value) and math.isfinite(value) and (low < value if low_open else low <= value) and \
        value <= high
    if not inside:
        got = _shown(value) if not _is_number(value) or not math.isfinite(value) else f"{value:g}"
        span = f"({low:g}, {high:g}]" if low_open else f"{low:g} … {high:g}"
        problems.append(f"{path}: expected {what} in {span}{note}, got {got}")
        return False
    return True


def _text(value, path: str, problems: list, *, optional: bool = False) -> bool:
    if value is None and optional:
        return True
    if not isinstance(value, str):
        problems.append(f"{path}: expected text{' or null' if optional else ''}, got {_kind(value)} {_shown(value)}")
        return False
    bad = [c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs")]
    if bad:
        problems.append(f"{path}: control character {bad[0]!r} in {_shown(value)}; allowed: printable text")
        return False
    return True


def _object(value, path: str, keys, problems: list) -> bool:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object with {', '.join(keys)}, got {_shown(value)}")
        return False
    missing = [k for k in keys if k not in value]
    if missing:
        problems.append(f"{path}: missing key(s) {', '.join(missing)}; an object here needs {', '.join(keys)}")
        return False
    return True


def _day(value, path: str, problems: list, what: str) -> object:
    try:
        return parse_day(value, path)
    except DateError:
        problems.append(f"{path}: expected {what} (YYYY-MM-DD), got {_shown(value)}")
        return None


def _probabilities(value, path: str, keys, problems: list, *, low_open: bool = False) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object {', '.join(keys)} → probability, got {_shown(value)}")
        return
    unknown = [k for k in value if k not in keys]
    if unknown:
        problems.append(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(keys)}")
    for k in keys:
        if k in value:
            _number(value[k], f"{path}.{k}", problems, 0.0, 1.0, "a probability", low_open=low_open)


def _document(doc, problems: list) -> None:
    if not isinstance(doc, dict):
        problems.append(f"expected a lantian forecast (an object with issue_date and areas), got {_kind(doc)}; "
                        "write one with `lantian forecast --out F.json`")
        return
    missing = [k for k in ("issue_date", "areas") if k not in doc]
    if missing:
        problems.append(f"not a lantian forecast: missing {', '.join(missing)} (needs 'issue_date' and 'areas'; "
                        "write one with `lantian forecast --out F.json`)")
        return
    _day(doc["issue_date"], "issue_date", problems, "a date")
    if "model_version" in doc:
        _text(doc["model_version"], "model_version", problems, optional=True)
    if doc.get("lead_correlation") is not None:
        _number(doc["lead_correlation"], "lead_correlation", problems, -1.0, 1.0)
    decision = doc.get("decision")
    if decision is not None:
        if not isinstance(decision, dict):
            problems.append(f"decision: expected an object with thresholds, got {_shown(decision)}")
        elif decision.get("thresholds") is not None:
            _probabilities(decision["thresholds"], "decision.thresholds", _WARNING_LEVELS, problems, low_open=True)
    degraded = doc.get("degraded")
    if degraded is not None:
        reasons = degraded.get("reasons") if isinstance(degraded, dict) else None
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons) or not all(
                isinstance(r, str) for r in (degraded.get("reasons_en") or [])):
            problems.append(f"degraded: expected an object with reasons (a list of text), got {_shown(degraded)}")
    areas = doc["areas"]
    if not isinstance(areas, list):
        problems.append(f"areas: expected a list of area objects, got {_kind(areas)} {_shown(areas)}")
        return
    if not areas:
        problems.append("areas: empty; a forecast names at least one area (an object with "
                        f"{', '.join(AREA_KEYS)})")
        return
    seen: dict[str, int] = {}
    for i, area in enumerate(areas):
        path = f"areas[{i}]"
        if not _object(area, path, AREA_KEYS, problems):
            continue
        area_id = area["area_id"]
        if _text(area_id, f"{path}.area_id", problems):
            if not area_id.strip() or len(area_id) > MAX_ID_LENGTH:
                problems.append(f"{path}.area_id: expected an id of 1–{MAX_ID_LENGTH} characters, got "
                                f"{_shown(area_id)}")
            elif area_id in seen:
                problems.append(f"{path}.area_id: {area_id!r} appears twice (also areas[{seen[area_id]}])")
            else:
                seen[area_id] = i
        if area["level"] not in LEVELS:
            problems.append(f"{path}.level: unknown level {_shown(area['level'])}; allowed: {', '.join(LEVELS)}")
        _text(area["clause"], f"{path}.clause", problems)
        if area.get("rules") is not None:
            _text(area["rules"], f"{path}.rules", problems)
        if area.get("duration") is not None and area["duration"] not in DURATIONS:
            problems.append(f"{path}.duration: unknown reading {_shown(area['duration'])}; allowed: "
                            f"{', '.join(DURATIONS)}")
        if area.get("level_probabilities") is not None:
            _probabilities(area["level_probabilities"], f"{path}.level_probabilities", LEVELS, problems)
        leads = _days(area["days"], f"{path}.days", problems)
        trig = area["trigger_days"]
        if not isinstance(trig, list):
            problems.append(f"{path}.trigger_days: expected a list of lead days, got {_shown(trig)}")
        elif leads is not None:
            for k, t in enumerate(trig):
                if not (isinstance(t, int) and not isinstance(t, bool)) or t not in leads:
                    problems.append(f"{path}.trigger_days[{k}]: {_shown(t)} is not a lead day of the area; "
                                    f"allowed: {', '.join(str(v) for v in sorted(leads))}")
                    break


def _days(days, path: str, problems: list):
    """Check an area's days; returns their lead days (``None`` when the list itself is unusable)."""
    if not isinstance(days, list):
        problems.append(f"{path}: expected a list of day objects ({', '.join(DAY_KEYS)}), got {_kind(days)} "
                        f"{_shown(days)}")
        return None
    if not days:
        problems.append(f"{path}: empty; an area needs at least one day (an object with {', '.join(DAY_KEYS)})")
        return None
    leads: dict[int, int] = {}
    for j, day in enumerate(days):
        p = f"{path}[{j}]"
        if not _object(day, p, DAY_KEYS, problems):
            continue
        lead = day["lead_day"]
        if not (isinstance(lead, int) and not isinstance(lead, bool)) or lead < 1:
            problems.append(f"{p}.lead_day: expected a whole number ≥ 1, got {_shown(lead)}")
        elif lead in leads:
            problems.append(f"{p}.lead_day: {lead} appears twice (also {path}[{leads[lead]}])")
        else:
            leads[lead] = j
        _day(day["date"], f"{p}.date", problems, "a date")
        aqi = day["aqi"]
        if _object(aqi, f"{p}.aqi", QUANTILES, problems):
            ok = [_number(aqi[q], f"{p}.aqi.{q}", problems, 0.0, AQI_MAX, note=" (HJ 633's AQI scale)")
                  for q in QUANTILES]
            if all(ok) and not aqi["q10"] <= aqi["q50"] <= aqi["q90"]:
                problems.append(f"{p}.aqi: expected q10 ≤ q50 ≤ q90, got {aqi['q10']:g}, {aqi['q50']:g}, "
                                f"{aqi['q90']:g}")
        if day.get("p_aqi_gt") is not None:
            _probabilities(day["p_aqi_gt"], f"{p}.p_aqi_gt", tuple(str(t) for t in AQI_THRESHOLDS), problems)
        if "dust" in day and not isinstance(day["dust"], bool):
            problems.append(f"{p}.dust: expected true or false, got {_shown(day['dust'])}")
        if "fireworks" in day and not isinstance(day["fireworks"], bool):
            problems.append(f"{p}.fireworks: expected true or false, got {_shown(day['fireworks'])}")
        if day.get("primary") is not None and day["primary"] not in PRIMARY_POLLUTANTS:
            problems.append(f"{p}.primary: unknown pollutant {_shown(day['primary'])}; allowed: "
                            f"{', '.join(PRIMARY_POLLUTANTS)} or null")
        if "baseline_aqi" in day and (not _is_number(day["baseline_aqi"]) or not day["baseline_aqi"] >= 0):
            problems.append(f"{p}.baseline_aqi: expected a number ≥ 0, got {_shown(day['baseline_aqi'])}")
        drivers = day.get("drivers")
        if drivers is not None:
            if not isinstance(drivers, list):
                problems.append(f"{p}.drivers: expected a list of objects with family and effect, got "
                                f"{_shown(drivers)}")
            else:
                for k, drv in enumerate(drivers):
                    q = f"{p}.drivers[{k}]"
                    if _object(drv, q, ("family", "effect"), problems):
                        _text(drv["family"], f"{q}.family", problems)
                        if not _is_number(drv["effect"]) or not math.isfinite(drv["effect"]):
                            problems.append(f"{q}.effect: expected a number, got {_shown(drv['effect'])}")
    return leads


# ---- the primary pollutant of a day ------------------------------------------------------------------------------

def derive_primary(aqi_q50: float, pm25_q90: float | None, *, dust: bool = False, date=None) -> str | None:
    """The primary pollutant of a forecast day, as far as the forecast can tell it.

    The forecaster gives the daily AQI and the PM2.5 concentration (each as quantiles) and a dust flag, not the
    other species. So:

    - AQI ≤ :data:`PRIMARY_MIN_AQI`: none (a primary pollutant is named only above 50, HJ 633-2012; REFERENCE 2.1);
    - a dust-dominated day: ``"pm10"`` (the dust test asks PM10's IAQI to be the largest, :func:`forecast.aqi.
      dust_dominated`; REFERENCE 1.4);
    - PM2.5 can account for the AQI — the IAQI of the PM2.5 forecast's 90 % quantile reaches the median AQI:
      ``"pm25"``;
    - otherwise none: the forecast AQI lies above anything the PM2.5 forecast reaches, so another pollutant leads,
      and the forecast does not say which (a day's explicit ``primary`` can; :func:`day_primary`).

    Parameters
    ----------
    aqi_q50 : float
        Median forecast daily AQI. [1]
    pm25_q90 : float or None
        90 % quantile of the forecast daily PM2.5 (``None``: not forecast). [µg m⁻³]
    dust : bool
        The day is forecast dust-dominated.
    date : date-like, optional
        The target day: picks the AQI edition (HJ 633-2026 from 2026-03-01, :func:`forecast.aqi.iaqi`
        ``standard="auto"``); default HJ 633-2012.

    Returns
    -------
    str or None
        One of :data:`PRIMARY_POLLUTANTS`, or ``None``.
    """
    if not _is_number(aqi_q50) or not math.isfinite(aqi_q50) or aqi_q50 <= PRIMARY_MIN_AQI:
        return None
    if dust:
        return "pm10"
    if pm25_q90 is None or not _is_number(pm25_q90) or not math.isfinite(pm25_q90):
        return None
    if date is not None:
        value = iaqi("pm25_24h", [float(pm25_q90)], standard="auto", dates=[parse_day(date)])[0]
    else:
        value = iaqi("pm25_24h", float(pm25_q90))
    return "pm25" if value >= aqi_q50 else None


def day_primary(day: dict) -> str | None:
    """The primary pollutant of one day of a (checked) forecast document: its ``primary`` when the day has the key
    (null included: the forecaster said none), else :func:`derive_primary` from its ``aqi``, ``pm25`` and ``dust``.
    """
    if "primary" in day:
        return day["primary"]
    pm25 = day.get("pm25")
    q90 = pm25.get("q90") if isinstance(pm25, dict) else None
    return derive_primary(day["aqi"]["q50"], q90, dust=bool(day.get("dust")), date=day.get("date"))
