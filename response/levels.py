"""Warning grading for the response side: the rule sets of ``forecast.levels`` and the cause rules.

``warning_level`` / ``grade`` are the versioned MEE-2019 / MEE-2024 rules (REFERENCE 1.2–1.3; data in
``forecast/data/warning_rules.yaml``). Cause handling (REFERENCE 1.3–1.4): PM2.5 (and non-dust PM10) episodes drive
the colour warnings and the enterprise measures; sand/dust and O3 episodes give a health advisory only.
"""
from __future__ import annotations

from forecast.levels import (LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVEL_RANK, LEVELS, Grading, rules_in_force, grade,
                             reduction_share, rule_sets, warning_level)

__all__ = ["LEVELS", "LEVEL_RANK", "LEVEL_NAMES_ZH", "LEVEL_COLOURS", "Grading", "grade", "warning_level",
           "rules_in_force", "reduction_share", "rule_sets", "response_kind", "CAUSES"]

#: primary pollutant / cause → what the episode gets
CAUSES = {"pm25": "warning", "pm10": "warning", "dust": "health_advisory", "o3": "health_advisory",
          "fire": "health_advisory"}


def response_kind(primary_pollutant: str, *, dust: bool = False) -> str:
    """``"warning"`` (colour warning + enterprise measures) or ``"health_advisory"`` for an episode.

    A PM10-dominated episode flagged as dust, and any O3-dominated one, gets a health advisory (REFERENCE 1.4).
    """
    key = str(primary_pollutant).lower().replace(".", "").replace("_24h", "").replace("_8h", "")
    if dust and key in ("pm10", "pm25"):
        return "health_advisory"
    if key not in CAUSES:
        raise ValueError(f"unknown primary pollutant {primary_pollutant!r}; allowed: {', '.join(CAUSES)}")
    return CAUSES[key]
