"""Cause rules: which episodes get a colour warning and which a health advisory (REFERENCE 1.3–1.4).

PM2.5 (and non-dust PM10) episodes drive the colour warnings and the enterprise measures; sand/dust and O3
episodes give a health advisory only — emergency emission cuts do not act on dust, and the 2024 guidance treats
O3 separately. The dust-day thresholds live in :mod:`forecast.nomenclature` (one home).
"""
from __future__ import annotations

from forecast.nomenclature import DUST_ADVISORY_AQI

#: primary pollutant / cause → what the episode gets
CAUSES = {"pm25": "warning", "pm10": "warning", "dust": "health_advisory", "o3": "health_advisory",
          "fire": "health_advisory"}
#: forecast lead days a health advisory looks at (the coming three days)
ADVISORY_LEAD_DAYS = 3


def response_kind(primary_pollutant: str, *, dust: bool = False) -> str:
    """``"warning"`` (colour warning + enterprise measures) or ``"health_advisory"`` for an episode.

    A PM10- or PM2.5-dominated episode flagged as dust, and any O3-dominated one, gets a health advisory
    (REFERENCE 1.4).

    Raises
    ------
    ValueError
        An unknown pollutant (the message lists the allowed ones).
    """
    key = str(primary_pollutant).lower().replace(".", "").replace("_24h", "").replace("_8h", "")
    if dust and key in ("pm10", "pm25"):
        return "health_advisory"
    if key not in CAUSES:
        raise ValueError(f"unknown primary pollutant {primary_pollutant!r}; allowed: {', '.join(CAUSES)}")
    return CAUSES[key]


def advisory(area: dict) -> tuple[bool, str]:
    """Whether one area of a forecast document gets a health advisory, and its cause.

    A coming day (lead 1–3) forecast dust-dominated with a median AQI above
    :data:`forecast.nomenclature.DUST_ADVISORY_AQI` gives a dust advisory (no colour warning: the grading already
    counts dust days as below every threshold).

    Returns
    -------
    (bool, str)
        ``(True, "dust")`` or ``(False, "")``.
    """
    days = sorted(area["days"], key=lambda d: d["lead_day"])[:ADVISORY_LEAD_DAYS]
    for d in days:
        if d.get("dust") and d["aqi"]["q50"] > DUST_ADVISORY_AQI:
            return True, "dust"
    return False, ""
