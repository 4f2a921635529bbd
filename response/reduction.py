"""Performance-graded emergency emission-reduction lists (应急减排清单) and the reduction-share check.

Data (versioned, editable): the enterprise registry (``DIR/enterprises.csv``), the area inventories of society-wide
emissions by sector (``DIR/inventory.csv``), the measures per industry × grade × level
(``response/data/measures.csv``), the industries (``industries.csv``) and the sector and non-key rules
(``sector_measures.yaml``). Rules (REFERENCE 3.2–3.4):

- A+, A and 引领性 enterprises reduce on their own (自主减排): never a forced cut;
- B, B-, C, D: the measure of their industry (or the default for key industries without a sourced table);
- non-key (非重点) enterprises: "more emissions, more cuts" by their emission percentile within the league/city;
- 保障类 enterprises run at the load their duty requires: the cut never exceeds ``1 − guarantee_load``;
- an enterprise follows the level of its banner/county when that area has a warning decision, else its league/city.

The areas are the caller's area table (``areas=``, ``names=``: the region's, :mod:`forecast.region`); without one
the shipped Inner Mongolia table, the default region.

The registry is data, never instructions: names and reasons lose their control characters when it is loaded
(:func:`response.sanitize.plain`, so a vertical tab cannot break a page, a workbook or a Word document), every
exported cell is made inert again (:func:`response.sanitize.cell`: ``=HYPERLINK(…)`` stays text), and coordinates,
capacities and emissions outside their physical ranges send the row to the bad-row report with the reason.

Cuts are fractions of baseline daily emissions (annual emissions / 365) [t/d]. The share check compares, per
league/city and pollutant (SO2, NOx, PM, VOCs), enterprise cuts plus sector cuts with the target share of
society-wide daily emissions (10 / 20 / 30 % for yellow / orange / red, from the warning rules; configurable).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from forecast import areas as areas_mod
from forecast.tables import read_commented_csv
from forecast.levels import LEVEL_RANK, reduction_share

from .sanitize import frame_cells, plain

DATA_DIR = Path(__file__).parent / "data"
POLLUTANTS = ("so2", "nox", "pm", "vocs")
GRADES = ("A+", "A", "引领性", "B", "B-", "C", "D", "非重点")
SELF_DETERMINED = ("A+", "A", "引领性")
SECTORS = ("industry", "mobile", "dust", "residential", "other")
LEVELS = ("yellow", "orange", "red")
REGISTRY_COLUMNS = ("enterprise_id", "name", "area_id", "county_id", "lon", "lat", "industry", "grade",
                    "guarantee", "guarantee_reason", "guarantee_load", "capacity", "so2_t", "nox_t", "pm_t", "vocs_t")
#: optional numeric registry columns and their allowed closed range (an empty cell is "not known" and allowed)
RANGES = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0), "capacity": (0.0, np.inf)}


class ReductionError(ValueError):
    """A registry, inventory or measures table that cannot be used."""


@lru_cache(maxsize=2)
def industries(path: str | None = None) -> pd.DataFrame:
    return read_commented_csv(path or DATA_DIR / "industries.csv").set_index("industry")


@lru_cache(maxsize=2)
def measures_table(path: str | None = None) -> pd.DataFrame:
    table = read_commented_csv(path or DATA_DIR / "measures.csv")
    bad = sorted(set(table["grade"]) - set(GRADES))
    if bad:
        raise ReductionError(f"measures table: unknown grade(s) {bad}; allowed: {', '.join(GRADES)}")
    unknown = sorted(set(table["industry"]) - set(industries().index) - {"*"})
    if unknown:
        raise ReductionError(f"measures table: unknown industry(ies) {unknown}")
    for p in POLLUTANTS:
        if not table[p].between(0, 1).all():
            raise ReductionError(f"measures table: cut of {p} outside 0…1")
    return table


@lru_cache(maxsize=2)
def sector_rules(path: str | None = None) -> dict:
    with open(path or DATA_DIR / "sector_measures.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ---- registry -------------------------------------------------------------------------------------------------

def _table(areas: pd.DataFrame | None) -> pd.DataFrame:
    return (areas_mod.load_areas() if areas is None else areas).set_index("area_id")


def _names(names) -> pd.Series:
    return areas_mod.load_areas().set_index("area_id")["name_zh"] if names is None else names


def validate_registry(frame: pd.DataFrame, *, source: str = "enterprises.csv",
                      areas: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a registry into good rows and a report of bad rows (``row`` = line in the file, ``enterprise_id``,
    ``problem``). Good rows are typed; bad rows are never silently dropped. ``areas``: the area table whose
    leagues/cities and banners/counties the registry may name (default the shipped one).

    Names, ids and 保障类 reasons lose their control characters (:func:`response.sanitize.plain`). A row is bad
    when it lacks an id or a name, names an unknown area, industry or grade, or has a value outside its range:
    emissions ``so2_t`` … ``vocs_t`` that are not finite non-negative numbers [t/a]; ``lon`` outside −180…180 or
    ``lat`` outside −90…90 [degrees], ``capacity`` negative or infinite, or any of these three a text that is not a
    number (they may be empty).
    """
    missing = [c for c in ("enterprise_id", "name", "area_id", "industry", "grade", "so2_t", "nox_t", "pm_t",
                           "vocs_t") if c not in frame.columns]
    if missing:
        raise ReductionError(f"{source}: missing column(s) {missing}")
    f = frame.copy()
    for c in REGISTRY_COLUMNS:
        if c not in f.columns:
            f[c] = np.nan if c not in ("guarantee", "guarantee_reason", "county_id") else None
    f["row"] = np.arange(len(f)) + 2  # header is line 1
    problems: list[tuple[int, str, str]] = []
    known_areas = _table(areas)
    ind = industries()

    def bad(mask, text):
        for r, e in zip(f.loc[mask, "row"], f.loc[mask, "enterprise_id"]):
            problems.append((int(r), str(e), text if isinstance(text, str) else text(e)))

    def bad_value(mask, column, describe):
        for i in f.index[mask]:
            problems.append((int(f.at[i, "row"]), str(f.at[i, "enterprise_id"]), describe(raw[column].at[i])))

    raw = f.copy()
    for c in ("enterprise_id", "name", "guarantee_reason"):  # names are data: no control characters
        f[c] = f[c].map(lambda v: plain(v).strip() if isinstance(v, str) else v)
    f["enterprise_id"] = f["enterprise_id"].astype("string").str.strip()
    bad(f["enterprise_id"].isna() | (f["enterprise_id"] == ""), "missing enterprise_id")
    bad(f["name"].isna() | (f["name"].astype("string").str.strip() == ""), "missing name")
    dup = f["enterprise_id"].duplicated(keep="first") & f["enterprise_id"].notna()
    bad(dup, "duplicate enterprise_id (the first row is kept)")
    cities = set(known_areas.index[known_areas["tier"] == "city"])
    bad(~f["area_id"].isin(cities), lambda e: "unknown league/city (area_id); allowed: " + ", ".join(sorted(cities)))
    county = f["county_id"].where(f["county_id"].notna() & (f["county_id"].astype(str) != ""), None)
    counties = known_areas[known_areas["tier"] == "county"]
    ok_county = county.isna() | county.isin(counties.index)
    bad(~ok_county, "unknown banner/county (county_id)")
    parent_ok = county.isna() | (county.map(counties["parent_id"]) == f["area_id"])
    bad(ok_county & ~parent_ok, "banner/county does not belong to the league/city")
    bad(~f["industry"].isin(ind.index), lambda e: "unknown industry; allowed: " + ", ".join(ind.index))
    bad(~f["grade"].isin(GRADES), lambda e: "unknown grade; allowed: " + ", ".join(GRADES))
    key = f["industry"].map(ind["key"]).fillna(0).astype(int)
    bad(f["grade"].isin(GRADES) & f["industry"].isin(ind.index) & (key == 0) & (f["grade"] != "非重点"),
        "industry outside the key industries must have grade 非重点")
    for p in POLLUTANTS:
        col = f"{p}_t"
        v = pd.to_numeric(f[col], errors="coerce")
        bad_value(v.isna(), col, lambda x, col=col: f"{col} {_shown(x)} is not a number [t/a]")
        bad(v < 0, f"negative {col} emissions")
        bad_value(np.isinf(v), col, lambda x, col=col: f"{col} {_shown(x)} is not a finite number [t/a]")
        f[col] = v
    for col, (lo, hi) in RANGES.items():
        given = f[col].notna() & (f[col].astype("string").str.strip() != "")
        v = pd.to_numeric(f[col], errors="coerce")
        bad_value(given & v.isna(), col, lambda x, col=col: f"{col} {_shown(x)} is not a number")
        bad_value(v.notna() & ~v.between(lo, hi) | np.isinf(v), col,
                  lambda x, col=col, lo=lo, hi=hi: f"{col} {_shown(x)} outside {lo:g} … {hi:g}")
        f[col] = v
    g = (pd.to_numeric(f["guarantee"], errors="coerce") == 1) | \
        f["guarantee"].astype("string").str.strip().str.lower().isin(["true", "yes", "y", "是"]).fillna(False)
    f["guarantee"] = g
    load = pd.to_numeric(f["guarantee_load"], errors="coerce")
    bad(g & (load.isna() | (load < 0) | (load > 1)), "保障类 enterprise needs guarantee_load between 0 and 1")
    bad(g & (f["guarantee_reason"].isna() | (f["guarantee_reason"].astype(str).str.strip() == "")),
        "保障类 enterprise needs guarantee_reason")
    f["guarantee_load"] = load.where(g, 0.0)
    report = pd.DataFrame(problems, columns=["row", "enterprise_id", "problem"]).sort_values("row", kind="stable")
    good = f[~f["row"].isin(report["row"])].copy()
    good["county_id"] = good["county_id"].where(good["county_id"].notna() & (good["county_id"].astype(str) != ""),
                                                None)
    return good.reset_index(drop=True), report.reset_index(drop=True)


def _shown(value) -> str:
    """A value from the file as the problem report shows it: a number as a number, an empty cell as ``(empty)``,
    a text quoted, without control characters and cut at 40 characters."""
    if value is None or isinstance(value, (float, np.floating)) and np.isnan(value):
        return "(empty)"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:g}"
    text = plain(value)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def load_registry(path: str | Path, *, areas: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The enterprise registry of a CSV file, checked against the area table ``areas`` (default the shipped one):
    good rows and the bad-row report (:func:`validate_registry`)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype={"enterprise_id": str, "county_id": str}, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReductionError(f"{path}: cannot read the enterprise registry ({exc})") from None
    return validate_registry(frame, source=str(path), areas=areas)


def load_inventory(path: str | Path) -> pd.DataFrame:
    """Society-wide emissions per league/city and sector [t/a]: index (area_id, sector), columns so2…vocs.

    Raises
    ------
    ReductionError
        An unreadable file, a missing column, an unknown sector, or an emission that is not a finite non-negative
        number (the lines are named). The whole inventory is refused rather than a row dropped: a missing row would
        shrink the society-wide total and make the reduction shares look better than they are.
    """
    path = Path(path)
    try:
        inv = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReductionError(f"{path}: cannot read the emission inventory ({exc})") from None
    need = {"area_id", "sector", *POLLUTANTS}
    if need - set(inv.columns):
        raise ReductionError(f"{path}: missing column(s) {sorted(need - set(inv.columns))}")
    bad = sorted({str(v) for v in inv["sector"]} - set(SECTORS))
    if bad:
        raise ReductionError(f"{path}: unknown sector(s) {bad}; allowed: {', '.join(SECTORS)}")
    for p in POLLUTANTS:
        v = pd.to_numeric(inv[p], errors="coerce")
        wrong = v.isna() | (v < 0) | np.isinf(v)
        if wrong.any():
            lines = ", ".join(f"line {i + 2} ({plain(inv.at[i, 'area_id'])}, {inv.at[i, 'sector']}): "
                              f"{_shown(inv.at[i, p])}" for i in inv.index[wrong][:5])
            raise ReductionError(f"{path}: {p} must be finite non-negative numbers [t/a]; found {lines}"
                                 + (f" and {int(wrong.sum()) - 5} more" if wrong.sum() > 5 else ""))
        inv[p] = v
    return inv.set_index(["area_id", "sector"]).sort_index()


# ---- engine ---------------------------------------------------------------------------------------------------

def enterprise_levels(registry: pd.DataFrame, levels: dict[str, str]) -> pd.Series:
    """The level each enterprise follows: its banner/county's when that area has a decision, else its league/city's."""
    city = registry["area_id"].map(lambda a: levels.get(a, "none"))
    county = registry["county_id"].map(lambda c: levels.get(c) if isinstance(c, str) else None)
    return county.where(county.notna(), city).fillna("none")


def _lookup_measures(frame: pd.DataFrame) -> pd.DataFrame:
    """Cut fractions and action per row of ``frame`` (columns industry, grade, level), specific before default."""
    table = measures_table()
    cols = ["action_zh", *POLLUTANTS, "truck_ban", "status", "source"]
    specific = frame[["industry", "grade", "level"]].merge(table, on=["industry", "grade", "level"], how="left")
    default = frame[["grade", "level"]].merge(table[table["industry"] == "*"].drop(columns="industry"),
                                              on=["grade", "level"], how="left")
    use = specific["action_zh"].notna().to_numpy()
    out = pd.DataFrame({c: np.where(use, specific[c].to_numpy(object), default[c].to_numpy(object)) for c in cols},
                       index=frame.index)
    for p in POLLUTANTS:
        out[p] = out[p].astype(float)
    return out


def activate(registry: pd.DataFrame, levels: dict[str, str]) -> pd.DataFrame:
    """The activated emission-reduction list: one row per enterprise under a warning.

    Columns: enterprise, area, level, grade, industry, ``action_zh``, cut fractions ``cut_<p>`` and expected cuts
    ``cut_<p>_td`` [t/d], ``baseline_<p>_td`` [t/d], ``status`` of the measure (V2 / UNVERIFIED / rule).
    """
    lv = enterprise_levels(registry, levels)
    act = registry[lv.isin(LEVELS)].copy()
    act["level"] = lv[lv.isin(LEVELS)]
    if act.empty:
        return act.assign(action_zh=pd.Series(dtype=str))
    key = act["grade"] != "非重点"
    m = _lookup_measures(act)
    rules_nk = sector_rules()["non_key"]
    totals = registry[[f"{p}_t" for p in POLLUTANTS]].sum(axis=1)
    pct = totals.groupby(registry["area_id"]).rank(pct=True) * 100
    nk = ~key.to_numpy()
    if nk.any():
        pcts = pct.loc[act.index[nk]].to_numpy()
        band = np.zeros(nk.sum(), dtype=int)
        for i, b in reversed(list(enumerate(rules_nk))):  # the first band whose min_percentile is reached wins
            band = np.where(pcts >= b["min_percentile"], i, band)
        lv_nk = act.loc[nk, "level"].to_numpy()
        cut = np.array([rules_nk[b][lv] for b, lv in zip(band, lv_nk)], dtype=float)
        cut = np.where(totals.loc[act.index[nk]].to_numpy() > 0, cut, 0.0)
        idx = act.index[nk]
        for p in POLLUTANTS:
            m.loc[idx, p] = cut
        m.loc[idx, "action_zh"] = [rules_nk[b]["action_zh"] + f"{int(round(c * 100))}%" for b, c in zip(band, cut)]
        m.loc[idx, "truck_ban"] = 1
        m.loc[idx, "status"] = "UNVERIFIED"
        m.loc[idx, "source"] = "非重点：多排多限（按排放量分位）"
    for p in POLLUTANTS:
        m[p] = m[p].astype(float)
    selfd = act["grade"].isin(SELF_DETERMINED)
    m.loc[selfd, list(POLLUTANTS)] = 0.0  # A+/A/引领性: never a forced cut, whatever a table says
    g = act["guarantee"].astype(bool)
    cap = (1 - act["guarantee_load"].astype(float)).clip(0, 1)
    for p in POLLUTANTS:
        m.loc[g, p] = np.minimum(m.loc[g, p], cap[g])
    m.loc[g, "action_zh"] = [f"保障类（{r}）：以热定产/以量定产，负荷不低于{int(round(l * 100))}%"
                             for r, l in zip(act.loc[g, "guarantee_reason"], act.loc[g, "guarantee_load"])]
    out = act[["enterprise_id", "name", "area_id", "county_id", "industry", "grade", "guarantee", "level"]].copy()
    out["action_zh"] = m["action_zh"].to_numpy()
    out["status"] = m["status"].to_numpy()
    out["truck_ban"] = m["truck_ban"].astype(float).fillna(0).astype(bool).to_numpy()
    for p in POLLUTANTS:
        base = act[f"{p}_t"].to_numpy(float) / 365.0
        out[f"baseline_{p}_td"] = base
        out[f"cut_{p}"] = m[p].to_numpy(float)
        out[f"cut_{p}_td"] = base * m[p].to_numpy(float)
    return out.reset_index(drop=True)


@dataclass
class ShareCheck:
    totals: pd.DataFrame  #: per (area_id, pollutant): level, target share, society total, cuts, share, met, shortfall
    shortfalls: pd.DataFrame  #: enterprises that could close each shortfall (area_id, pollutant, enterprise, extra)


def share_check(activated: pd.DataFrame, registry: pd.DataFrame, inventory: pd.DataFrame,
                levels: dict[str, str], *, rules: str, shares: dict | None = None,
                top: int = 10, areas: pd.DataFrame | None = None) -> ShareCheck:
    """Reduction achieved per league/city of the area table ``areas`` (default the shipped one) and pollutant
    against the target share of society-wide emissions."""
    sec = sector_rules()["sectors"]
    rows, extra_rows = [], []
    cities = sorted({a for a, lv in levels.items() if lv in LEVELS} |
                    set(activated["area_id"]) if len(activated) else {a for a, lv in levels.items() if lv in LEVELS})
    table = _table(areas)
    inv_by_area = {a: g.droplevel("area_id") for a, g in inventory.groupby(level="area_id")}
    for area in cities:
        if area not in table.index or table.loc[area, "tier"] != "city":
            continue
        level = levels.get(area, "none")
        if level not in LEVELS:  # a city without a warning whose county has one: judge at the county's level
            sub_levels = [levels[c] for c in table.index[table["parent_id"] == area] if levels.get(c) in LEVELS]
            if not sub_levels:
                continue
            level = max(sub_levels, key=lambda lv: LEVEL_RANK[lv])
        target = (shares or {}).get(level, reduction_share(level, rules))
        acts = activated[activated["area_id"] == area] if len(activated) else activated
        ent = acts[[f"cut_{p}_td" for p in POLLUTANTS]].sum() if len(acts) else None
        inv = inv_by_area.get(area)
        for p in POLLUTANTS:
            if inv is not None:
                total_td = float(inv[p].sum()) / 365.0
                factors = np.array([sec.get(s_, {}).get(level, 0.0) if s_ != "industry" else 0.0 for s_ in inv.index])
                sector_td = float((inv[p].to_numpy(float) / 365.0 * factors).sum())
            else:
                total_td, sector_td = float("nan"), 0.0
            ent_td = float(ent[f"cut_{p}_td"]) if ent is not None else 0.0
            cut = ent_td + sector_td
            share = cut / total_td if total_td > 0 else float("nan")
            need = max(0.0, target * total_td - cut) if total_td > 0 else float("nan")
            rows.append({"area_id": area, "pollutant": p, "level": level, "target_share": target,
                         "society_td": total_td, "enterprise_cut_td": ent_td, "sector_cut_td": sector_td,
                         "cut_td": cut, "share": share, "met": bool(share >= target - 1e-12) if total_td > 0
                         else False, "shortfall_td": need})
            if need and need > 0:
                extra_rows.extend(_closers(area, p, need, acts, registry, top))
    totals = pd.DataFrame(rows)
    return ShareCheck(totals, pd.DataFrame(extra_rows, columns=["area_id", "pollutant", "enterprise_id", "name",
                                                                "grade", "extra_cut_td", "cumulative_td"]))


def _closers(area, p, need, acts, registry, top):
    """Enterprises whose further cut (up to a full stop) could close a shortfall, biggest first.

    A+/A/引领性 and 保障类 plants are not proposed (self-determined / duty-bound)."""
    reg = registry[(registry["area_id"] == area) & ~registry["grade"].isin(SELF_DETERMINED) &
                   ~registry["guarantee"].astype(bool)]
    done = acts.set_index("enterprise_id")[f"cut_{p}_td"] if len(acts) else pd.Series(dtype=float)
    # astype(float): mapping an empty text column keeps its text type (an area with only 保障类 or A plants)
    extra = reg[f"{p}_t"] / 365.0 - reg["enterprise_id"].map(done).astype(float).fillna(0.0)
    order = extra.sort_values(ascending=False)
    out, cum = [], 0.0
    for idx, val in order.items():
        if val <= 0 or len(out) >= top:
            break
        cum += val
        out.append({"area_id": area, "pollutant": p, "enterprise_id": reg.loc[idx, "enterprise_id"],
                    "name": reg.loc[idx, "name"], "grade": reg.loc[idx, "grade"], "extra_cut_td": float(val),
                    "cumulative_td": cum})
        if cum >= need:
            break
    return out


# ---- exports --------------------------------------------------------------------------------------------------

LEVEL_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色"}
POLLUTANT_ZH = {"so2": "SO2", "nox": "NOx", "pm": "颗粒物", "vocs": "VOCs"}


def markdown_summary(check: ShareCheck, activated: pd.DataFrame, *, names: pd.Series | None = None) -> str:
    """The share check and activated lists as Markdown (``names``: area id → Chinese name, default the shipped
    area table's)."""
    lines = ["# 应急减排清单启动情况与减排比例核算", ""]
    if check.totals.empty:
        return "\n".join(lines + ["（无预警地区，未启动应急减排清单）"])
    names = _names(names)
    for area, g in check.totals.groupby("area_id", sort=True):
        level = g["level"].iloc[0]
        n = int((activated["area_id"] == area).sum()) if len(activated) else 0
        lines += [f"## {names.get(area, area)}（{LEVEL_ZH[level]}预警，目标减排比例 {g['target_share'].iloc[0]:.0%}）",
                  "", f"启动企业 {n} 家。", "",
                  "| 污染物 | 全社会排放 t/d | 企业减排 t/d | 其他行业措施 t/d | 减排比例 | 是否达标 |", "|---|---|---|---|---|---|"]
        for r in g.itertuples():
            lines.append(f"| {POLLUTANT_ZH[r.pollutant]} | {r.society_td:.2f} | {r.enterprise_cut_td:.2f} | "
                         f"{r.sector_cut_td:.2f} | {r.share:.1%} | {'达标' if r.met else f'未达标，缺口 {r.shortfall_td:.2f} t/d'} |")
        lines.append("")
        sf = check.shortfalls[check.shortfalls["area_id"] == area]
        if len(sf):
            lines.append("可进一步加严措施以弥补缺口的企业（按可增减排量排序）：")
            for (p, name), s in sf.groupby(["pollutant", "name"], sort=False):
                lines.append(f"- {POLLUTANT_ZH[p]}：{name}（{s['grade'].iloc[0]}级）可再减 {s['extra_cut_td'].iloc[0]:.2f} t/d")
            lines.append("")
    return "\n".join(lines)


def _sheet_name(text, used: set) -> str:
    """An Excel sheet name from an area name: no control characters or ``[]:*?/\\``, at most 31 characters, not
    used before in the workbook (Excel's rules; a clash would write two areas into one sheet)."""
    base = "".join("_" if c in "[]:*?/\\" else c for c in plain(text)).strip("'")[:31] or "sheet"
    name, k = base, 1
    while name.casefold() in used:
        k += 1
        name = f"{base[:31 - len(str(k)) - 1]}~{k}"
    used.add(name.casefold())
    return name


def write_excel(activated: pd.DataFrame, check: ShareCheck, path: str | Path, *,
                names: pd.Series | None = None) -> Path:
    """Excel workbook: a summary sheet and one sheet per league/city with its activated list (``names``: area id
    → Chinese name, default the shipped area table's). Every text cell is inert (:func:`response.sanitize.cell`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = _names(names)
    used = {"汇总 summary", "缺口 shortfalls"}
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        summary = check.totals.copy()
        if len(summary):
            summary.insert(1, "name_zh", summary["area_id"].map(names))
        frame_cells(summary).to_excel(xw, sheet_name="汇总 summary", index=False)
        if len(check.shortfalls):
            frame_cells(check.shortfalls).to_excel(xw, sheet_name="缺口 shortfalls", index=False)
        for area, g in (activated.groupby("area_id", sort=True) if len(activated) else []):
            frame_cells(g).to_excel(xw, sheet_name=_sheet_name(names.get(area, area), used), index=False)
    return path


def enterprise_notice(row: pd.Series) -> str:
    """The 一厂一策 notice text for one activated enterprise."""
    cuts = "、".join(f"{POLLUTANT_ZH[p]} {row[f'cut_{p}_td']:.3f} t/d" for p in POLLUTANTS if row[f"cut_{p}"] > 0)
    return (f"{row['name']}：根据{LEVEL_ZH.get(row['level'], row['level'])}预警，贵单位（绩效等级 {row['grade']}，"
            f"行业 {industries().loc[row['industry'], 'name_zh']}）应执行：{row['action_zh']}。"
            f"预计减排：{cuts or '自主减排，不作强制要求'}。请按照本企业“一厂一策”操作方案落实到具体生产线和工序，"
            "并做好台账记录。")


def write_outputs(activated: pd.DataFrame, check: ShareCheck, out: str | Path, *,
                  names: pd.Series | None = None) -> dict:
    """CSV, Excel, Markdown summary and per-enterprise notices into ``out``; returns the paths. ``names``: area id
    → Chinese name (the region's; default the shipped area table's).

    Spreadsheet and CSV cells are inert (:func:`response.sanitize.frame_cells`: a name beginning with ``=`` is
    written as text); the Markdown and Word texts carry names without control characters."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "reduction_list.csv", "excel": out / "reduction_list.xlsx",
             "summary": out / "reduction_summary.md", "totals": out / "reduction_share.csv",
             "notices": out / "enterprise_notices.md", "word": out / "reduction_list.docx"}
    frame_cells(activated).to_csv(paths["csv"], index=False, encoding="utf-8-sig")
    frame_cells(check.totals).to_csv(paths["totals"], index=False, encoding="utf-8-sig")
    names = _names(names)
    write_excel(activated, check, paths["excel"], names=names)
    paths["summary"].write_text(markdown_summary(check, activated, names=names), encoding="utf-8")
    notices = [f"- {enterprise_notice(r)}" for _, r in activated.iterrows()]
    notices_md = "# 企业应急减排告知（一厂一策）\n\n" + "\n".join(notices) + "\n"
    paths["notices"].write_text(notices_md, encoding="utf-8")
    from .bulletins import markdown_to_docx

    markdown_to_docx(paths["summary"].read_text(encoding="utf-8") + "\n" + notices_md.replace("\n- ", "\n"),
                     paths["word"])
    return {k: str(v) for k, v in paths.items()}
