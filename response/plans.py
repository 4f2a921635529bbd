"""The three-tier contingency plans as data, the measures that apply, and the cascade between the tiers.

``response/data/plans.yaml`` holds the region plan with its control zones, the 12 league/city plans and the
banner/county plans, each with measures per level and department. Cascade rules (REFERENCE 1.5, 4.2, 4.3):

- a control zone is under a regional warning when at least ``min_members`` of its members meet warning conditions;
  so is any connected group of at least 3 adjacent leagues/cities (adjacency from the offline boundaries). The
  regional level is the highest level that many members reach; it applies to every league/city of the zone;
- a lower tier may be stricter than the one above, never laxer: league/city level = max(own, regional);
  banner/county level = max(own, its league/city).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from forecast import areas as areas_mod
from forecast.levels import LEVEL_RANK, LEVELS

DATA_DIR = Path(__file__).parent / "data"
ACTIONABLE = ("yellow", "orange", "red")


class PlanError(ValueError):
    """A malformed plan file, or an area or level the plans do not know."""


@lru_cache(maxsize=4)
def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            plans = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"{path}: cannot read plans ({exc})") from None
    validate(plans, path)
    return plans


def load_plans(path: str | Path | None = None) -> dict:
    """The plan system (validated)."""
    return _read(str(path or DATA_DIR / "plans.yaml"))


def validate(plans: dict, path="plans") -> None:
    known = set(areas_mod.load_areas()["area_id"])
    depts = set(plans.get("departments", {}))
    for key in ("departments", "measure_sets", "region", "cities", "counties"):
        if key not in plans:
            raise PlanError(f"{path}: missing section {key!r}")
    for name, mset in plans["measure_sets"].items():
        for level, items in mset.items():
            if level not in ACTIONABLE + ("health_advisory",):
                raise PlanError(f"{path}: measure set {name}: unknown level {level!r}; allowed: "
                                f"{', '.join(ACTIONABLE + ('health_advisory',))}")
            for m in items:
                if m.get("dept") not in depts:
                    raise PlanError(f"{path}: measure set {name}/{level}: unknown department {m.get('dept')!r}; "
                                    f"allowed: {', '.join(sorted(depts))}")
    for tier in ("cities", "counties"):
        for area in plans[tier]:
            if area not in known:
                raise PlanError(f"{path}: {tier} plan for unknown area {area!r}")
    for zone in plans["region"].get("control_zones", []):
        bad = [m for m in zone["members"] if m not in known]
        if bad:
            raise PlanError(f"{path}: control zone {zone['id']}: unknown member(s) {bad}")


def tier_of(area_id: str) -> str:
    table = areas_mod.load_areas().set_index("area_id")
    if area_id not in table.index:
        raise PlanError(f"unknown area {area_id!r}")
    return str(table.loc[area_id, "tier"])


def measures(area_id: str, level: str, *, plans: dict | None = None) -> list[dict]:
    """The plan measures of an area at a level (``yellow``/``orange``/``red`` or ``health_advisory``), each with
    the department's name: ``[{dept, dept_zh, dept_en, zh, en}, …]``. ``none`` gives no measures."""
    plans = plans or load_plans()
    if level == "none":
        return []
    if level not in ACTIONABLE + ("health_advisory",):
        raise PlanError(f"unknown level {level!r}; allowed: none, {', '.join(ACTIONABLE)}, health_advisory")
    tier = tier_of(area_id)
    plan = plans["cities" if tier == "city" else "counties"].get(area_id)
    if plan is None:  # no plan of its own: the league/city plan applies
        parent = areas_mod.load_areas().set_index("area_id").loc[area_id, "parent_id"]
        plan = plans["cities"].get(parent, {})
    mset = plans["measure_sets"][plan.get("measures", "default")]
    items = list(mset.get(level, [])) + list(plan.get("extra", {}).get(level, []))
    depts = plans["departments"]
    return [{"dept": m["dept"], "dept_zh": depts[m["dept"]]["zh"], "dept_en": depts[m["dept"]]["en"],
             "zh": m["zh"], "en": m.get("en", "")} for m in items]


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
                      adjacency: dict[str, set[str]] | None = None) -> list[RegionalWarning]:
    """Regional warnings from the areas' own proposed levels (``{area_id: level}``)."""
    plans = plans or load_plans()
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
    if dyn:
        adjacency = adjacency if adjacency is not None else areas_mod.adjacency(tier="city")
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


def cascade(own: dict[str, str], *, plans: dict | None = None,
            adjacency: dict[str, set[str]] | None = None) -> tuple[dict[str, dict], list[RegionalWarning]]:
    """Final level per area after the regional and league/city cascades.

    Returns ``{area_id: {"level", "own_level", "source"}}`` (source: ``own``, a zone id, or ``parent:<city>``)
    and the regional warnings.
    """
    table = areas_mod.load_areas().set_index("area_id")
    regional = regional_warnings(own, plans=plans, adjacency=adjacency)
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
