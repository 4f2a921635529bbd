"""Cause rules: which episodes get a colour warning and which a health advisory (REFERENCE 1.3–1.4).

PM2.5 (and non-dust PM10) episodes drive the colour warnings and the enterprise measures; sand/dust, fire and O3
episodes give a health advisory only — emergency emission cuts do not act on dust, and the 2024 guidance
(环大气〔2024〕6号 [V]) answers O3 with health advisories and routine VOCs/NOx enforcement, no colour warning.
Fireworks-driven episodes follow the configured policy (``response/data/cause_policy.yaml``: a health advisory, or
the warning without plant shutdowns and site stoppages — the 2023 MEE draft [V2], details UNVERIFIED).

The primary pollutant of each forecast day is the forecast's (:func:`forecast.document.day_primary`: the day's
``primary``, else derived from its AQI, PM2.5 and dust flag); the fireworks flag is the day's ``fireworks``, else
the emission calendar's fireworks nights (:func:`forecast.features.fireworks_hours`). The dust-day thresholds live
in :mod:`forecast.nomenclature` (one home).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from forecast import labels
from forecast.document import day_primary
from forecast.nomenclature import DUST_ADVISORY_AQI
from forecast.tables import load_yaml

DATA_DIR = Path(__file__).parent / "data"
SHIPPED_POLICY = DATA_DIR / "cause_policy.yaml"
#: primary pollutant / cause → what the episode gets
CAUSES = {"pm25": "warning", "pm10": "warning", "so2": "warning", "no2": "warning", "co": "warning",
          "dust": "health_advisory", "o3": "health_advisory", "fire": "health_advisory"}
#: the causes an episode may have besides particulate (PM) pollution; a plan's health-advisory measure may be limited
#: to some of them (``causes`` in ``plans.yaml``)
ADVISORY_CAUSES = ("dust", "o3", "fire", "fireworks")
#: what an episode gets
KINDS = ("warning", "health_advisory", "warning_without_plant_shutdowns")
#: the fireworks policies of ``cause_policy.yaml``
FIREWORKS_POLICIES = ("advisory", "warning_without_plant_shutdowns")
#: the causes in words (bulletins, notes)
CAUSE_ZH = {"dust": "沙尘", "o3": "臭氧", "fire": "火灾烟雾", "fireworks": "烟花爆竹燃放", "pm": "颗粒物"}
#: forecast lead days a health advisory looks at (the coming three days)
ADVISORY_LEAD_DAYS = 3


class CausePolicyError(ValueError):
    """A malformed cause-policy file (the message names the file, the key and the allowed values)."""


@lru_cache(maxsize=4)
def _read_policy(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            policy = load_yaml(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise CausePolicyError(f"{path}: cannot read the cause policy ({exc})") from None
    fw = (policy or {}).get("fireworks") if isinstance(policy, dict) else None
    if not isinstance(fw, dict):
        raise CausePolicyError(f"{path}: missing section 'fireworks' (policy, withhold)")
    if fw.get("policy") not in FIREWORKS_POLICIES:
        raise CausePolicyError(f"{path}: fireworks.policy: unknown policy {fw.get('policy')!r}; allowed: "
                               f"{', '.join(FIREWORKS_POLICIES)}")
    if fw.get("driven_when", "all_trigger_days") != "all_trigger_days":
        raise CausePolicyError(f"{path}: fireworks.driven_when: unknown rule {fw.get('driven_when')!r}; allowed: "
                               "all_trigger_days")
    if not isinstance(policy.get("notes_zh"), dict):
        raise CausePolicyError(f"{path}: missing section 'notes_zh' (the sentences shown to officers)")
    return policy


def load_policy(path: str | Path | None = None) -> dict:
    """The cause policy (default the shipped ``response/data/cause_policy.yaml``).

    Parameters
    ----------
    path : path-like, optional
        A policy file of the same layout (a region's own).

    Raises
    ------
    CausePolicyError
        An unreadable file, a fireworks policy not in :data:`FIREWORKS_POLICIES`, or missing sections.
    """
    return _read_policy(str(path or SHIPPED_POLICY))


def response_kind(primary_pollutant: str | None, *, dust: bool = False, fireworks: bool = False,
                  policy: dict | None = None) -> str:
    """What an episode (or a day) gets: ``"warning"`` (colour warning + enterprise measures),
    ``"health_advisory"``, or ``"warning_without_plant_shutdowns"``.

    A PM10- or PM2.5-dominated episode flagged as dust, and any O3-dominated one, gets a health advisory
    (REFERENCE 1.3, 1.4). A particulate episode driven by fireworks gets the policy's kind (``cause_policy.yaml``
    ``fireworks.policy``; ``advisory`` → ``"health_advisory"``). ``None`` — the forecast names no primary pollutant —
    is graded on the AQI alone, the only grading index (REFERENCE 1.3): a warning.

    Raises
    ------
    ValueError
        An unknown pollutant (the message lists the allowed ones).
    """
    if primary_pollutant is None:
        kind = "warning"
    else:
        key = str(primary_pollutant).lower().replace(".", "").replace("_24h", "").replace("_8h", "")
        if key not in CAUSES:
            raise ValueError(f"unknown primary pollutant {primary_pollutant!r}; allowed: {', '.join(CAUSES)}")
        kind = "health_advisory" if dust and key in ("pm10", "pm25") else CAUSES[key]
    if kind == "warning" and fireworks:
        chosen = (policy or load_policy())["fireworks"]["policy"]
        return "health_advisory" if chosen == "advisory" else "warning_without_plant_shutdowns"
    return kind


@dataclass
class Episode:
    """The cause of an area's forecast episode and what it gets (:func:`episode`)."""

    kind: str  #: one of :data:`KINDS`
    cause: str  #: ``"pm"`` (particulate, the warning case), or one of :data:`ADVISORY_CAUSES`
    primary: str | None  #: the primary pollutant the bulletins name (``None``: the forecast names none)
    dust: bool = False  #: the primary pollutant is dust-borne PM10
    days: list[int] = field(default_factory=list)  #: the lead days the cause was read from
    notes: list[str] = field(default_factory=list)  #: why, in Chinese (decision record, bulletin)
    withhold: dict = field(default_factory=dict)  #: measures withheld (``part``, ``departments``), or empty
    #: the notes in English (the policy's ``notes_en``; its Chinese sentence where it has none)
    notes_en: list[str] = field(default_factory=list)

    def notes_in(self, lang: str = "zh") -> list[str]:
        """The notes in ``lang`` (``"zh"`` or ``"en"``)."""
        return list(self.notes_en) if lang == "en" and len(self.notes_en) == len(self.notes) else list(self.notes)

    @property
    def advisory(self) -> bool:
        """A health advisory instead of a colour warning."""
        return self.kind == "health_advisory"

    @property
    def enterprise_cuts(self) -> bool:
        """Whether the emission-reduction list is activated at the area's level (not for fireworks under
        ``warning_without_plant_shutdowns``)."""
        return self.kind != "warning_without_plant_shutdowns"


def _fireworks_of(day: dict, calendar: dict | None) -> bool:
    if "fireworks" in day:
        return bool(day["fireworks"])
    if calendar is None:
        return False
    from forecast.features import fireworks_hours

    return any(fireworks_hours([day["date"]], night, calendar)[0] > 0 for night in calendar["fireworks"]["nights"])


def _day_cause(day: dict, calendar: dict | None) -> tuple[str, str | None]:
    """``(cause, primary)`` of one forecast day: ``dust``/``o3``/``fire`` (health-advisory pollutants, by
    :func:`response_kind`), ``fireworks`` (a particulate day of a fireworks night) or ``pm``."""
    primary, dust = day_primary(day), bool(day.get("dust"))
    if response_kind(primary, dust=dust) == "health_advisory":
        return ("dust" if dust or primary == "dust" else primary), primary
    return ("fireworks" if _fireworks_of(day, calendar) else "pm"), primary


def episode(area: dict, *, policy: dict | None = None, calendar: dict | None = None) -> Episode:
    """The cause of one area's forecast episode and what it gets.

    Parameters
    ----------
    area : dict
        An area of a checked forecast document (``level``, ``trigger_days``, ``days``).
    policy : dict, optional
        The cause policy (:func:`load_policy`; default the shipped one).
    calendar : dict, optional
        The region's calendar facts, for days without a ``fireworks`` flag (documents from before the flag).

    Returns
    -------
    Episode
        With a warning level (``level`` not ``none``) the cause is read from the trigger days (day 1 without any):

        - every trigger day a health-advisory cause (O3, dust, fire; :func:`response_kind`): a health advisory
          (the most frequent cause);
        - every trigger day a fireworks day (``driven_when: all_trigger_days``): the fireworks policy;
        - otherwise a warning, primary pollutant the most frequent of the particulate trigger days, and a note
          naming the O3/dust/fireworks days inside it (they do not lower the level: it is graded on all days).

        Without a warning level, a coming day (lead 1–:data:`ADVISORY_LEAD_DAYS`) of a health-advisory cause with a
        median AQI above :data:`forecast.nomenclature.DUST_ADVISORY_AQI` gives a health advisory (the grading
        already counts dust days as below every threshold; the same AQI is used for O3 and fire days).
    """
    policy = policy or load_policy()
    notes, notes_en = policy["notes_zh"], {**policy["notes_zh"], **(policy.get("notes_en") or {})}

    def said(*keys, **fields):  # the notes of ``keys`` in Chinese and in English
        return ([notes[k].format(**fields.get(k, {})) for k in keys],
                [notes_en[k].format(**fields.get(k, {})) for k in keys])

    by_lead = {d["lead_day"]: d for d in area["days"]}
    if area.get("level", "none") != "none":
        trig = [k for k in (area.get("trigger_days") or [min(by_lead)]) if k in by_lead]
        read = [_day_cause(by_lead[k], calendar) for k in trig]
        kinds = [c for c, _ in read]
        if all(c in CAUSES and CAUSES[c] == "health_advisory" for c in kinds):
            cause = Counter(kinds).most_common(1)[0][0]
            primary = Counter(p for c, p in read if c == cause).most_common(1)[0][0]
            zh, en = said(cause)
            return Episode("health_advisory", cause, primary, cause == "dust", trig, zh, notes_en=en)
        if all(c == "fireworks" for c in kinds):
            kind = response_kind(read[0][1], fireworks=True, policy=policy)
            primary = Counter(p for _, p in read).most_common(1)[0][0]
            if kind == "health_advisory":
                zh, en = said("fireworks_advisory")
                return Episode(kind, "fireworks", primary, False, trig, zh, notes_en=en)
            zh, en = said("fireworks_warning")
            return Episode(kind, "fireworks", primary, False, trig, zh, dict(policy["fireworks"]["withhold"]),
                           notes_en=en)
        pm = [p for c, p in read if c in ("pm", "fireworks")]
        named = [p for p in pm if p is not None]
        primary = Counter(named).most_common(1)[0][0] if named else None
        out, out_en = [], []
        other = sorted({c for c in kinds if c not in ("pm",)}, key=lambda c: CAUSE_ZH.get(c, c))
        if other:
            out.append(notes["mixed"].format(causes="、".join(CAUSE_ZH[c] for c in other)))
            out_en.append(notes_en["mixed"].format(causes=", ".join(labels.label("causes", c, "en") for c in other)))
        if primary is None:
            out.append(notes["unknown_primary"])
            out_en.append(notes_en["unknown_primary"])
        return Episode("warning", "pm", primary, False, trig, out, notes_en=out_en)
    for k in sorted(by_lead)[:ADVISORY_LEAD_DAYS]:
        d = by_lead[k]
        cause, primary = _day_cause(d, calendar)
        if cause in CAUSES and CAUSES[cause] == "health_advisory" and d["aqi"]["q50"] > DUST_ADVISORY_AQI:
            zh, en = said(cause)
            return Episode("health_advisory", cause, primary, cause == "dust", [k], zh, notes_en=en)
    return Episode("warning", "pm", None, False, [], [])


def advisory(area: dict, *, policy: dict | None = None, calendar: dict | None = None) -> tuple[bool, str]:
    """Whether one area of a forecast document gets a health advisory, and its cause (:func:`episode`).

    Returns
    -------
    (bool, str)
        e.g. ``(True, "dust")``, ``(True, "o3")``, or ``(False, "")``.
    """
    ep = episode(area, policy=policy, calendar=calendar)
    return (True, ep.cause) if ep.advisory else (False, "")


def for_cause(items: list[dict], ep: Episode) -> tuple[list[dict], list[dict]]:
    """The plan measures an episode orders and those it withholds: ``(kept, withheld)``.

    A measure limited to some causes (``causes`` in the plans) applies only to an episode of one of them; under
    the fireworks policy ``warning_without_plant_shutdowns`` the measures of the withheld departments in the
    withheld part (``cause_policy.yaml`` ``fireworks.withhold``) are not ordered.
    """
    kept, withheld = [], []
    for m in items:
        if m.get("causes") and ep.cause not in m["causes"]:
            continue
        hold = ep.withhold and m.get("part") == ep.withhold.get("part") and \
            m.get("dept") in ep.withhold.get("departments", [])
        (withheld if hold else kept).append(m)
    return kept, withheld
