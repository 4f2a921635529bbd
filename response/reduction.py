"""Performance-graded emergency emission-reduction lists (应急减排清单) and the reduction-share check.

Data (versioned, editable): the enterprise registry (``DIR/enterprises.csv``: one row per enterprise with its unified
social credit code, list version and year), its 一厂一策 units (``DIR/processes.csv``: per process/unit rows with the
unit's measure per level), the area inventories of society-wide emissions by sector (``DIR/inventory.csv``, league/city
rows and optional banner/county rows), the measures per industry × grade × level (``response/data/measures.csv``),
the industries and their grade ladders (``industries.csv``: the 39 key industries of the 2020 guide) and the sector
and non-key rules (``sector_measures.yaml``). Rules (REFERENCE 3.1–3.4):

- A+, A and 引领性 enterprises reduce on their own (自主减排): never a forced cut;
- B, B-, C, D: the measure of their industry (or the default for key industries without a sourced table); the grade
  must be on the industry's ladder (A–D, 3-tier A/B/C, or 引领性);
- non-key (非重点) enterprises — those of industries outside the key list, never a graded enterprise of a listed
  industry — "more emissions, more cuts" by their emission percentile within the league/city;
- 保障类 enterprises: the approved maximum load is a CEILING on output during the warning (以热定产 / 以量定产):
  the cut is ``max(0, current_load − guarantee_load)`` of the normal-load emissions;
- an enterprise follows the level of its banner/county when that area has a warning decision, else its league/city.

The areas are the caller's area table (``areas=``, ``names=``: the region's, :mod:`forecast.region`); without one
the shipped Inner Mongolia table, the default region.

The registry is data, never instructions: names and reasons lose their control characters when it is loaded
(:func:`response.sanitize.plain`, so a vertical tab cannot break a page, a workbook or a Word document), every
exported cell is made inert again (:func:`response.sanitize.cell`: ``=HYPERLINK(…)`` stays text), and coordinates,
capacities, loads, credit codes and emissions outside their allowed values send the row to the bad-row report with
the reason.

Cuts are fractions of baseline daily emissions (annual emissions / 365) [t/d]. The share check compares, per warned
league/city (and per banner/county whose warning is stricter than its league/city's) and pollutant (SO2, NOx, PM,
VOCs), the cuts with the target share of society-wide daily emissions (10 / 20 / 30 % for yellow / orange / red,
from the warning rules; configurable). It says what it relies on: the listed enterprises' ordered cuts (and sector
coefficients marked verified) decide "met"; credits from UNVERIFIED sector coefficients (dust, mobile) are shown
apart and can only make it "met only with unverified sector credits".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import areas as areas_mod
from forecast.levels import LEVEL_RANK, reduction_share
from forecast.tables import load_yaml, read_commented_csv

from .sanitize import frame_cells, plain

DATA_DIR = Path(__file__).parent / "data"
POLLUTANTS = ("so2", "nox", "pm", "vocs")
GRADES = ("A+", "A", "引领性", "B", "B-", "C", "D", "非重点")
SELF_DETERMINED = ("A+", "A", "引领性")
#: grades allowed on each ladder of ``industries.csv`` (column ``grading``; REFERENCE 3.2): A+ from 2026 is chosen
#: from A plants; B- is a provincial sub-grade under B (definition UNVERIFIED); 3-tier industries have no D (C = legal
#: minimum); leading-only industries grade 引领性, a plant below it B/C/D (UNVERIFIED: REFERENCE 3.1 names no rule)
LADDERS = {"ABCD": ("A+", "A", "B", "B-", "C", "D"), "ABC": ("A+", "A", "B", "C"),
           "leading": ("引领性", "B", "C", "D"), "none": ("非重点",)}
SECTORS = ("industry", "mobile", "dust", "residential", "other")
LEVELS = ("yellow", "orange", "red")
REGISTRY_COLUMNS = ("enterprise_id", "credit_code", "name", "area_id", "county_id", "lon", "lat", "industry",
                    "grade", "guarantee", "guarantee_reason", "guarantee_load", "current_load", "capacity", "so2_t",
                    "nox_t", "pm_t", "vocs_t", "list_version", "list_year")
#: columns a registry file must have to activate the list at all
REQUIRED_COLUMNS = ("enterprise_id", "name", "area_id", "industry", "grade", "so2_t", "nox_t", "pm_t", "vocs_t")
#: columns of the standardised list (清单标准化, REFERENCE 3.4): a list without them still activates — an enterprise
#: is ordered to cut whether or not its code is on file — and :func:`standardisation_problems` says what is missing
STANDARD_COLUMNS = ("credit_code", "list_version", "list_year")
#: optional numeric registry columns and their allowed closed range (an empty cell is "not known" and allowed)
RANGES = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0), "capacity": (0.0, np.inf), "current_load": (0.0, np.inf)}
#: the character set of the unified social credit code, in value order 0…30 (GB 32100-2015: no I, O, S, V, Z)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: weights of positions 1…17 (3^(i-1) mod 31, GB 32100-2015)
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


class ReductionError(ValueError):
    """A registry, inventory, process list, roster or measures table that cannot be used."""


@lru_cache(maxsize=4)
def industries(path: str | None = None) -> pd.DataFrame:
    """The industries table (``industries.csv``): index ``industry``; ``key`` (1 = one of the guide's key
    industries), ``guide_industry``, ``grading`` (ladder: ABCD, ABC, leading, none) and the status columns.

    Raises
    ------
    ReductionError
        An unknown ladder, or a key industry without a ladder (the file is named).
    """
    table = read_commented_csv(path or DATA_DIR / "industries.csv").set_index("industry")
    bad = sorted(set(table["grading"]) - set(LADDERS))
    if bad:
        raise ReductionError(f"{path or DATA_DIR / 'industries.csv'}: unknown grading {bad}; allowed: "
                             f"{', '.join(LADDERS)}")
    wrong = table.index[(table["key"] == 1) == (table["grading"] == "none")].tolist()
    if wrong:
        raise ReductionError(f"{path or DATA_DIR / 'industries.csv'}: industries {wrong}: a key industry needs a "
                             "ladder (ABCD, ABC, leading) and a non-key one grading none")
    return table


def ladder(industry: str, table: pd.DataFrame | None = None) -> tuple[str, ...]:
    """The grades allowed for an enterprise of ``industry`` (:data:`LADDERS` of its ``grading``)."""
    table = industries() if table is None else table
    return LADDERS[table.loc[industry, "grading"]]


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
        return load_yaml(fh)


def sector_status(rules: dict, sector: str) -> str:
    """The status of a sector's coefficients: its own ``status`` key, else the file's (UNVERIFIED by default)."""
    return str((rules["sectors"].get(sector) or {}).get("status", rules.get("status", "UNVERIFIED")))


# ---- unified social credit code (GB 32100-2015) ----------------------------------------------------------------

def credit_code_problem(code) -> str | None:
    """Why ``code`` is not a valid unified social credit code (统一社会信用代码), or ``None`` when it is.

    Checked: 18 characters of the code's character set (digits and capital letters without I, O, S, V, Z), and
    the 18th the check character of the first 17: ``C18 = 31 − (Σ Ci·Wi mod 31)`` (31 → 0) with weights
    ``Wi = 3^(i−1) mod 31``.

    References
    ----------
    GB 32100-2015 法人和其他组织统一社会信用代码编码规则, clause 4 and annex (check character, GB/T 17710 MOD 31-3).
    """
    if code is None or isinstance(code, float) and np.isnan(code):
        return "missing credit_code (统一社会信用代码)"
    text = str(code).strip()
    if not text:
        return "missing credit_code (统一社会信用代码)"
    shown = _shown(text)
    if len(text) != 18:
        return f"credit_code {shown} has {len(text)} characters; a unified social credit code has 18"
    wrong = sorted({c for c in text if c not in CREDIT_CHARS})
    if wrong:
        return (f"credit_code {shown} has character(s) {''.join(wrong)!r} outside the code's set "
                f"{CREDIT_CHARS} (GB 32100-2015)")
    check = credit_check_character(text[:17])
    if text[17] != check:
        return f"credit_code {shown}: check character {text[17]!r} should be {check!r} (GB 32100-2015)"
    return None


def credit_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 are ``first17`` (GB 32100-2015)."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


# ---- registry -------------------------------------------------------------------------------------------------

def _table(areas: pd.DataFrame | None) -> pd.DataFrame:
    return (areas_mod.load_areas() if areas is None else areas).set_index("area_id")


def _names(names) -> pd.Series:
    return areas_mod.load_areas().set_index("area_id")["name_zh"] if names is None else names


def validate_registry(frame: pd.DataFrame, *, source: str = "enterprises.csv",
                      areas: pd.DataFrame | None = None,
                      industry_table: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a registry into good rows and a report of bad rows (``row`` = line in the file, ``enterprise_id``,
    ``problem``). Good rows are typed; bad rows are never silently dropped. ``areas``: the area table whose
    leagues/cities and banners/counties the registry may name (default the shipped one); ``industry_table``: the
    industries and their ladders (default :func:`industries`).

    Names, ids and 保障类 reasons lose their control characters (:func:`response.sanitize.plain`). A row is bad
    when it lacks an id or a name, names an unknown area, industry or grade or a
    grade off its industry's ladder (a key-industry enterprise needs its performance grade; 非重点 is only for
    industries outside the key list), or has a value outside its range: emissions ``so2_t`` … ``vocs_t`` that are
    not finite non-negative numbers [t/a]; ``lon`` outside −180…180 or ``lat`` outside −90…90 [degrees],
    ``capacity`` or ``current_load`` (fraction of normal load [1]) negative or infinite, or any of these a text
    that is not a number (they may be empty).

    What makes the list the standardised one — a valid unified social credit code on every row (GB 32100-2015), one
    version and one year — never drops a row: an enterprise must cut whether or not its code is on file. Those
    findings come from :func:`standardisation_problems` (the rows keep their ``row`` line number for it).

    Raises
    ------
    ReductionError
        A missing column (:data:`REQUIRED_COLUMNS`); the file (``source``) is named.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ReductionError(f"{source}: missing column(s) {missing}; required: {', '.join(REQUIRED_COLUMNS)}")
    f = frame.copy()
    for c in REGISTRY_COLUMNS:
        if c not in f.columns:
            f[c] = np.nan if c not in ("guarantee", "guarantee_reason", "county_id") else None
    f["row"] = np.arange(len(f)) + 2  # header is line 1
    problems: list[tuple[int, str, str]] = []
    known_areas = _table(areas)
    ind = industries() if industry_table is None else industry_table

    def bad(mask, text):
        for r, e in zip(f.loc[mask, "row"], f.loc[mask, "enterprise_id"]):
            problems.append((int(r), str(e), text if isinstance(text, str) else text(e)))

    def bad_value(mask, column, describe):
        for i in f.index[mask]:
            problems.append((int(f.at[i, "row"]), str(f.at[i, "enterprise_id"]), describe(raw[column].at[i])))

    raw = f.copy()
    for c in ("enterprise_id", "name", "guarantee_reason", "credit_code"):  # names are data: no control characters
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
    known = f["grade"].isin(GRADES) & f["industry"].isin(ind.index)
    grading = f["industry"].map(ind["grading"])
    off = known & pd.Series([g not in LADDERS.get(k, ()) for g, k in zip(f["grade"], grading)], index=f.index)
    bad(off & (grading == "none"), "industry outside the key industries must have grade 非重点")
    for i in f.index[off & (grading != "none")]:
        g, k = f.at[i, "grade"], grading.at[i]
        why = (f"a {ind.loc[f.at[i, 'industry'], 'name_zh']} enterprise is of a key industry and needs its "
               f"performance grade; 非重点 is only for industries outside the key list" if g == "非重点" else
               f"grade {g} is not on the {k} ladder of industry {f.at[i, 'industry']}")
        problems.append((int(f.at[i, "row"]), str(f.at[i, "enterprise_id"]),
                         f"{why} (allowed: {', '.join(LADDERS[k])})"))
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
    bad(g & (load.isna() | (load < 0) | (load > 1)),
        "保障类 enterprise needs guarantee_load (approved maximum load, fraction of normal load) between 0 and 1")
    bad(g & (f["guarantee_reason"].isna() | (f["guarantee_reason"].astype(str).str.strip() == "")),
        "保障类 enterprise needs guarantee_reason")
    f["guarantee_load"] = load.where(g, np.nan)
    report = pd.DataFrame(problems, columns=["row", "enterprise_id", "problem"]).sort_values("row", kind="stable")
    good = f[~f["row"].isin(report["row"])].copy()
    good["county_id"] = good["county_id"].where(good["county_id"].notna() & (good["county_id"].astype(str) != ""),
                                                None)
    return good.reset_index(drop=True), report.reset_index(drop=True)


def _list_identity(registry: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """The distinct versions and years of a list and what is wrong with them (one of each: 清单标准化)."""
    found, problems = [], []
    for col in ("list_version", "list_year"):
        cells = registry[col] if col in registry.columns else pd.Series([None] * len(registry), dtype=object)
        text = [plain(v).strip() if not (v is None or isinstance(v, float) and np.isnan(v)) else "" for v in cells]
        text = [t[:-2] if col == "list_year" and t.endswith(".0") else t for t in text]
        values = sorted({t for t in text if t})
        lines = registry["row"].tolist() if "row" in registry.columns else list(range(2, len(registry) + 2))
        empty = [str(line) for line, t in zip(lines, text) if not t]
        if col not in registry.columns or not values:
            problems.append(f"清单未注明 {col}（清单的版本和年度）")
        elif empty:
            problems.append(f"{col} 为空：第 {'、'.join(empty[:5])}{' 等' if len(empty) > 5 else ''} 行")
        if len(values) > 1:
            problems.append(f"一份清单只有一个 {col}；文件中有 {'、'.join(values[:5])}")
        if col == "list_year":
            bad_years = [v for v in values if not (v.isdigit() and 1990 <= int(v) <= 2100)]
            if bad_years:
                problems.append(f"list_year {_shown(bad_years[0])} 不是年份（1990…2100 的四位数）")
        found.append(values)
    return found[0], found[1], problems


def list_identity(registry: pd.DataFrame) -> tuple[str, int]:
    """The version and year of a validated registry (:func:`validate_registry`): ``("", 0)`` when the list does
    not state them, the first when it states several (:func:`standardisation_problems` reports both)."""
    versions, years, _ = _list_identity(registry)
    year = next((int(y) for y in years if y.isdigit()), 0)
    return (versions[0] if versions else ""), year


def _shown(value) -> str:
    """A value from the file as the problem report shows it: a number as a number, an empty cell as ``(empty)``,
    a text quoted, without control characters and cut at 40 characters."""
    if value is None or isinstance(value, (float, np.floating)) and np.isnan(value):
        return "(empty)"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:g}"
    text = plain(value)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def read_table(path: Path, what: str, columns=(), *, error=None, **read_kw) -> pd.DataFrame:
    """A CSV file of the list (UTF-8, with or without BOM) with the ``columns`` it must have; anything else is one
    error naming the file and ``what`` it was read as (``error``: the exception class, default
    :class:`ReductionError`)."""
    error = error or ReductionError
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", **read_kw)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise error(f"{path}: cannot read {what} ({exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise error(f"{path}: missing column(s) {missing}; required: {', '.join(columns)}")
    return frame


def load_registry(path: str | Path, *, areas: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The enterprise registry of a CSV file, checked against the area table ``areas`` (default the shipped one):
    good rows and the bad-row report (:func:`validate_registry`)."""
    path = Path(path)
    frame = read_table(path, "the enterprise registry", dtype={"enterprise_id": str, "county_id": str,
                                                               "credit_code": str, "list_version": str})
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
    inv = read_table(path, "the emission inventory", ("area_id", "sector", *POLLUTANTS))
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


# ---- 一厂一策 units (per process) ---------------------------------------------------------------------------

PROCESS_COLUMNS = ("enterprise_id", "process_id", "process_zh", "share", "cut_yellow", "cut_orange", "cut_red")


def load_processes(path: str | Path, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """The 一厂一策 units of the listed enterprises (REFERENCE 3.4: the plan names the exact units, steps and
    measurable indicators): one row per enterprise × process/unit.

    Columns: ``enterprise_id``, ``process_id``, ``process_zh`` (the unit, e.g. 1#熟料生产线), ``share`` (the unit's
    share of the enterprise's emissions [1]; the shares of one enterprise add up to 1), ``cut_yellow``,
    ``cut_orange``, ``cut_red`` (the fraction of the unit's emissions cut at each level [1]: 1 = the unit stops) and,
    optional, ``measure_yellow_zh`` … ``measure_red_zh`` (the unit's measure as the notice says it; default
    written from the cut).

    One share serves all four pollutants (a simplification: a unit's share of SO2, NOx, PM and VOCs is taken
    equal); the plan's cut is compared with the largest of the list's four cut fractions.

    Raises
    ------
    ReductionError
        The file cannot be read, lacks a column, or has a bad row: the file, the line and the problem are named
        (an id not in ``registry``, a share outside 0 < share ≤ 1, a cut outside 0 … 1, a repeated unit, or the
        shares of one enterprise not adding up to 1 ± 0.01).
    """
    path = Path(path)
    frame = read_table(path, "the 一厂一策 process list", PROCESS_COLUMNS,
                       dtype={"enterprise_id": str, "process_id": str})
    problems = []
    frame["row"] = np.arange(len(frame)) + 2
    for c in ("enterprise_id", "process_id", "process_zh"):
        frame[c] = frame[c].map(lambda v: plain(v).strip() if isinstance(v, str) else "")
        for r in frame.loc[frame[c] == "", "row"]:
            problems.append(f"line {r}: missing {c}")
    for c, lo_open in (("share", True), ("cut_yellow", False), ("cut_orange", False), ("cut_red", False)):
        v = pd.to_numeric(frame[c], errors="coerce")
        wrong = v.isna() | np.isinf(v) | (v > 1) | ((v <= 0) if lo_open else (v < 0))
        for i in frame.index[wrong]:
            problems.append(f"line {frame.at[i, 'row']}: {c} {_shown(frame.at[i, c])} outside "
                            f"{'0 < ' + c + ' ≤ 1' if lo_open else '0 … 1'}")
        frame[c] = v
    if registry is not None:
        known = set(registry["enterprise_id"])
        for i in frame.index[~frame["enterprise_id"].isin(known) & (frame["enterprise_id"] != "")]:
            problems.append(f"line {frame.at[i, 'row']}: enterprise_id {_shown(frame.at[i, 'enterprise_id'])} is "
                            "not in the enterprise list")
    dup = frame.duplicated(["enterprise_id", "process_id"], keep="first") & (frame["process_id"] != "")
    for i in frame.index[dup]:
        problems.append(f"line {frame.at[i, 'row']}: unit {_shown(frame.at[i, 'process_id'])} of "
                        f"{frame.at[i, 'enterprise_id']} listed twice")
    sums = frame.groupby("enterprise_id")["share"].sum()
    for e, total in sums.items():
        if e and np.isfinite(total) and abs(total - 1) > 0.01:
            lines = ", ".join(map(str, frame.loc[frame["enterprise_id"] == e, "row"]))
            problems.append(f"lines {lines}: the shares of {e}'s units add up to {total:.3g}, not 1")
    if problems:
        raise ReductionError(f"{path}: {len(problems)} problem(s): " + "; ".join(problems[:8])
                             + (" …" if len(problems) > 8 else ""))
    for level in LEVELS:
        col = f"measure_{level}_zh"
        given = frame[col].map(lambda v: plain(v).strip() if isinstance(v, str) else "") if col in frame else ""
        frame[col] = [t or _unit_measure(c) for t, c in zip(given if col in frame else [""] * len(frame),
                                                          frame[f"cut_{level}"])]
    return frame.drop(columns="row").reset_index(drop=True)


def _unit_measure(cut: float) -> str:
    return "停产" if cut >= 1 else (f"限产{_pct(cut)}" if cut > 0 else "正常生产")


def _plan_cuts(processes: pd.DataFrame, wanted: pd.DataFrame) -> pd.Series:
    """The emission-weighted cut of each (enterprise_id, level) row of ``wanted`` under its 一厂一策 units (NaN
    where the enterprise has none)."""
    out = []
    by = {e: g for e, g in processes.groupby("enterprise_id")}
    for e, level in zip(wanted["enterprise_id"], wanted["level"]):
        g = by.get(e)
        out.append(float((g["share"] * g[f"cut_{level}"]).sum()) if g is not None else np.nan)
    return pd.Series(out, index=wanted.index)


def process_measures(activated: pd.DataFrame, processes: pd.DataFrame | None) -> pd.DataFrame:
    """The 一厂一策 table of an activated list: one row per activated enterprise's unit with its measure at the
    enterprise's level (an enterprise without units gets one row saying so)."""
    cols = ["enterprise_id", "name", "level", "process_id", "process_zh", "share", "cut", "measure_zh"]
    rows = []
    by = {e: g for e, g in processes.groupby("enterprise_id")} if processes is not None and len(processes) else {}
    for r in activated.itertuples():
        g = by.get(r.enterprise_id)
        if g is None:
            rows.append({"enterprise_id": r.enterprise_id, "name": r.name, "level": r.level, "process_id": "",
                         "process_zh": "", "share": np.nan, "cut": np.nan,
                         "measure_zh": "缺少一厂一策工序措施（需补充到具体生产线和工序）"})
            continue
        for u in g.itertuples():
            rows.append({"enterprise_id": r.enterprise_id, "name": r.name, "level": r.level,
                         "process_id": u.process_id, "process_zh": u.process_zh, "share": u.share,
                         "cut": getattr(u, f"cut_{r.level}"), "measure_zh": getattr(u, f"measure_{r.level}_zh")})
    return pd.DataFrame(rows, columns=cols)


# ---- coverage: 涉气企业全覆盖 -----------------------------------------------------------------------------------

ROSTER_COLUMNS = ("credit_code", "name")
AIR_TRUE = {"1", "true", "yes", "y", "是", "涉气"}
AIR_FALSE = {"0", "false", "no", "n", "否", "不涉气"}


def load_roster(path: str | Path) -> pd.DataFrame:
    """A roster of enterprises the list must cover (排污许可 permit holders, 重点排污单位 key polluters; a CSV the
    user provides): columns ``credit_code``, ``name`` and optional ``air`` (涉气: 1/0, 是/否; missing = 1),
    ``area_id``, ``source``.

    Raises
    ------
    ReductionError
        The file cannot be read, lacks a column, or has a bad row (the file, the line and the problem: a credit code
        that is malformed or fails its check character, an ``air`` value that is not yes/no).
    """
    path = Path(path)
    roster = read_table(path, "the roster", ROSTER_COLUMNS, dtype=str, keep_default_na=False)
    problems = []
    roster["credit_code"] = roster["credit_code"].map(lambda v: plain(v).strip())
    roster["name"] = roster["name"].map(plain)
    for i, code in roster["credit_code"].items():
        why = credit_code_problem(code)
        if why:
            problems.append(f"line {i + 2}: {why}")
    air = roster["air"].map(lambda v: plain(v).strip().lower()) if "air" in roster else pd.Series("1", roster.index)
    for i in air.index[~air.isin(AIR_TRUE | AIR_FALSE | {""})]:
        problems.append(f"line {i + 2}: air {_shown(roster.at[i, 'air'])} is not yes/no (1/0, 是/否)")
    if problems:
        raise ReductionError(f"{path}: {len(problems)} problem(s): " + "; ".join(problems[:8])
                             + (" …" if len(problems) > 8 else ""))
    roster["air"] = ~air.isin(AIR_FALSE)
    roster["line"] = np.arange(len(roster)) + 2
    return roster


def coverage_check(registry: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """The air-emitting enterprises of a roster (:func:`load_roster`) that the list misses (REFERENCE 3.4: every
    涉气企业 must be in the emergency reduction list), matched by unified social credit code: the roster's rows
    (``line``, ``credit_code``, ``name`` and whatever else it carries)."""
    listed = set(registry["credit_code"].astype(str)) if "credit_code" in registry else set()
    return roster[roster["air"] & ~roster["credit_code"].isin(listed)].reset_index(drop=True)


def standardisation_problems(registry: pd.DataFrame, processes: pd.DataFrame | None) -> list[str]:
    """What keeps a validated list from being the standardised list (清单标准化、涉气企业全覆盖, REFERENCE 3.4), in
    Chinese, one finding per line: unified social credit codes missing, malformed, failing their check character
    (GB 32100-2015, :func:`credit_code_problem`) or repeated, with their lines; no single version and year; and
    enterprises without 一厂一策 units (per process/unit rows), or no process list at all. These never drop an
    enterprise from the list: they are what the list owes."""
    out: list[str] = []
    lines = registry["row"] if "row" in registry.columns else pd.Series(range(2, len(registry) + 2),
                                                                        index=registry.index)
    if "credit_code" not in registry.columns or registry["credit_code"].isna().all():
        out.append("清单缺少统一社会信用代码（credit_code 列）")
    else:
        codes = registry["credit_code"].map(lambda v: plain(v).strip() if isinstance(v, str) else v)
        why = codes.map(credit_code_problem)
        for i in registry.index[why.notna()][:20]:
            out.append(f"第 {lines[i]} 行（{registry.at[i, 'enterprise_id']}）：{why[i]}")
        if why.notna().sum() > 20:
            out.append(f"另有 {int(why.notna().sum()) - 20} 行统一社会信用代码有误")
        dup = why.isna() & codes.duplicated(keep="first")
        for i in registry.index[dup][:20]:
            out.append(f"第 {lines[i]} 行（{registry.at[i, 'enterprise_id']}）：统一社会信用代码 {codes[i]} 与前面的企业重复")
    out += _list_identity(registry)[2]
    if processes is None:
        out.append("缺少一厂一策工序清单（processes.csv）：清单企业均无具体生产线和工序措施")
    else:
        have = set(processes["enterprise_id"])
        lacking = [e for e in registry["enterprise_id"] if e not in have]
        if lacking:
            out.append(f"{len(lacking)} 家企业缺少一厂一策工序措施：{'、'.join(map(str, lacking[:20]))}"
                       f"{' 等' if len(lacking) > 20 else ''}")
    return out


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


def activate(registry: pd.DataFrame, levels: dict[str, str], *, processes: pd.DataFrame | None = None,
             industry_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The activated emission-reduction list: one row per enterprise under a warning.

    Parameters
    ----------
    registry : DataFrame
        Validated registry (:func:`validate_registry`).
    levels : dict
        Area id (league/city or banner/county) → warning level (``none``, ``yellow``, ``orange``, ``red``).
    processes : DataFrame, optional
        The 一厂一策 units (:func:`load_processes`): each activated enterprise's plan cut at its level
        (``plan_cut``, the emission-weighted cut of its units [1]) is set beside the list's cut, and ``plan_ok``
        says whether the plan reaches the list's cut for every pollutant (the guide: plans no weaker than the
        guide, REFERENCE 3.3–3.4). Without it both are empty.
    industry_table : DataFrame, optional
        The industries (default :func:`industries`): which are key.

    Returns
    -------
    DataFrame
        Columns: enterprise, area, level, grade, industry, ``action_zh``, cut fractions ``cut_<p>`` [1] and
        expected cuts ``cut_<p>_td`` [t/d], ``baseline_<p>_td`` [t/d], ``status`` of the measure
        (V2 / UNVERIFIED / rule), ``plan_cut``, ``plan_ok``.

    Notes
    -----
    Non-key enterprises are those of an industry with ``key = 0``: a graded enterprise of a key industry (A…D,
    引领性) is never cut by the non-key percentile rule. 保障类 enterprises (REFERENCE 3.4): the approved maximum
    load ``guarantee_load`` is a ceiling on output during the warning; the cut is
    ``max(0, current_load − guarantee_load)`` of the emissions at normal load (``current_load`` [fraction of normal
    load], 1 where the registry does not give it), whatever the grade's measure would be — except A+/A/引领性, which
    are never forced.
    """
    ind = industries() if industry_table is None else industry_table
    lv = enterprise_levels(registry, levels)
    act = registry[lv.isin(LEVELS)].copy()
    act["level"] = lv[lv.isin(LEVELS)]
    if act.empty:
        return act.assign(action_zh=pd.Series(dtype=str))
    key = act["industry"].map(ind["key"]).fillna(0).astype(int) == 1
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
    g = act["guarantee"].astype(bool) & ~selfd
    ceiling = act["guarantee_load"].astype(float)
    current = act["current_load"].astype(float) if "current_load" in act else pd.Series(np.nan, index=act.index)
    current_given = current.notna()
    current = current.fillna(1.0)
    over = (current - ceiling).clip(lower=0.0)
    for p in POLLUTANTS:
        m.loc[g, p] = over[g]
    m.loc[g, "action_zh"] = [
        f"保障类（{r}）：以热定产/以量定产，负荷不高于{_pct(c)}（当前负荷{_pct(cur)}"
        f"{'' if given else '，按正常负荷计'}，{'压减' + _pct(o) if o > 0 else '无需压减'}）"
        for r, c, cur, given, o in zip(act.loc[g, "guarantee_reason"], ceiling[g], current[g], current_given[g],
                                       over[g])]
    m.loc[g, "status"] = "V2"
    m.loc[g, "source"] = "保障类：核定最大负荷为上限（REFERENCE 3.4）"
    out = act[["enterprise_id", "name", "area_id", "county_id", "industry", "grade", "guarantee", "level"]].copy()
    if "credit_code" in act:
        out.insert(1, "credit_code", act["credit_code"].to_numpy())
    out["action_zh"] = m["action_zh"].to_numpy()
    out["status"] = m["status"].to_numpy()
    out["truck_ban"] = m["truck_ban"].astype(float).fillna(0).astype(bool).to_numpy()
    for p in POLLUTANTS:
        base = act[f"{p}_t"].to_numpy(float) / 365.0
        out[f"baseline_{p}_td"] = base
        out[f"cut_{p}"] = m[p].to_numpy(float)
        out[f"cut_{p}_td"] = base * m[p].to_numpy(float)
    out = out.reset_index(drop=True)
    out["plan_cut"], out["plan_ok"] = np.nan, None
    if processes is not None and len(processes):
        plan = _plan_cuts(processes, out[["enterprise_id", "level"]])
        out["plan_cut"] = plan.to_numpy()
        need = out[[f"cut_{p}" for p in POLLUTANTS]].max(axis=1)
        out["plan_ok"] = [None if np.isnan(pc) else bool(pc >= n - 1e-9) for pc, n in zip(out["plan_cut"], need)]
    return out


def _pct(x: float) -> str:
    return f"{int(round(float(x) * 100))}%"


@dataclass
class ShareCheck:
    totals: pd.DataFrame  #: per (area_id, pollutant): level, target share, society total, cuts, shares, verdict
    shortfalls: pd.DataFrame  #: enterprises that could close each shortfall (area_id, pollutant, enterprise, extra)


#: verdicts of the share check and what the officer reads
VERDICTS = {"met": "达标", "met_with_unverified": "仅计入未核实的其他行业减排系数才达标", "not_met": "未达标",
            "no_inventory": "排放清单无该地区数据，无法核算"}


def share_units(levels: dict[str, str], table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The (area_id, tier, level) units the share check judges: every league/city with a warning, and every
    banner/county whose warning is stricter than its league/city's (a county-only warning, or a higher level),
    judged against its own inventory."""
    units = []
    for area, level in sorted(levels.items()):
        if level not in LEVELS or area not in table.index:
            continue
        tier = table.loc[area, "tier"]
        if tier == "city":
            units.append((area, "city", level))
        elif tier == "county":
            parent = levels.get(table.loc[area, "parent_id"], "none")
            if parent not in LEVELS or LEVEL_RANK[level] > LEVEL_RANK[parent]:
                units.append((area, "county", level))
    return units


def share_check(activated: pd.DataFrame, registry: pd.DataFrame, inventory: pd.DataFrame,
                levels: dict[str, str], *, rules: str, shares: dict | None = None,
                top: int = 10, areas: pd.DataFrame | None = None) -> ShareCheck:
    """Reduction achieved per warned unit (:func:`share_units` of the area table ``areas``, default the shipped
    one) and pollutant against the target share of society-wide emissions (REFERENCE 1.2: 10 / 20 / 30 %).

    A league/city is judged on its inventory rows and all its activated enterprises; a banner/county with a
    stricter warning than its league/city's on its own inventory rows (``area_id`` = the county; they are a part
    of the league/city's rows, not in addition) and its own enterprises. An area without inventory rows is not
    judged (verdict ``no_inventory``): nothing is apportioned behind the officer's back.

    Columns of ``totals``: ``area_id``, ``tier``, ``pollutant``, ``level``, ``target_share``, ``society_td``,
    ``enterprise_cut_td`` (the listed enterprises' ordered cuts), ``enterprise_cut_unverified_td`` (the part of
    them whose cut fraction is an UNVERIFIED default of the measures table — still an ordered measure),
    ``sector_cut_verified_td`` and ``sector_cut_unverified_td`` (sector coefficients by their status in
    ``sector_measures.yaml``), ``cut_td``, ``verified_cut_td`` (enterprise + verified sector), ``share`` (verified
    share), ``share_with_unverified``, ``met`` (the verified cuts alone meet the target), ``verdict``
    (:data:`VERDICTS`), ``shortfall_td`` (of the verified cuts) [t/d].
    """
    srules = sector_rules()
    sec = srules["sectors"]
    rows, extra_rows = [], []
    table = _table(areas)
    inv_by_area = {a: g.droplevel("area_id") for a, g in inventory.groupby(level="area_id")}
    for area, tier, level in share_units(levels, table):
        target = (shares or {}).get(level, reduction_share(level, rules))
        if len(activated):
            acts = activated[(activated["area_id"] == area) if tier == "city" else
                             (activated["county_id"] == area)]
        else:
            acts = activated
        inv = inv_by_area.get(area)
        for p in POLLUTANTS:
            ent_td = float(acts[f"cut_{p}_td"].sum()) if len(acts) else 0.0
            ent_unv = float(acts.loc[acts["status"] == "UNVERIFIED", f"cut_{p}_td"].sum()) if len(acts) else 0.0
            if inv is not None:
                total_td = float(inv[p].sum()) / 365.0
                sec_v = sec_u = 0.0
                for s_, value in inv[p].items():
                    if s_ == "industry":  # the listed enterprises stand for it: counted from the list itself
                        continue
                    td = float(value) / 365.0 * float((sec.get(s_) or {}).get(level, 0.0))
                    if sector_status(srules, s_) in ("V", "V2", "VERIFIED"):
                        sec_v += td
                    else:
                        sec_u += td
            else:
                total_td, sec_v, sec_u = float("nan"), 0.0, 0.0
            verified = ent_td + sec_v
            cut = verified + sec_u
            judged = inv is not None and total_td > 0
            share = verified / total_td if judged else float("nan")
            share_all = cut / total_td if judged else float("nan")
            met = bool(judged and share >= target - 1e-12)
            verdict = ("no_inventory" if not judged else "met" if met else
                       "met_with_unverified" if share_all >= target - 1e-12 else "not_met")
            need = max(0.0, target * total_td - verified) if judged else float("nan")
            rows.append({"area_id": area, "tier": tier, "pollutant": p, "level": level, "target_share": target,
                         "society_td": total_td, "enterprise_cut_td": ent_td,
                         "enterprise_cut_unverified_td": ent_unv, "sector_cut_verified_td": sec_v,
                         "sector_cut_unverified_td": sec_u, "sector_cut_td": sec_v + sec_u, "cut_td": cut,
                         "verified_cut_td": verified, "share": share, "share_with_unverified": share_all,
                         "met": met, "verdict": verdict, "shortfall_td": need})
            if judged and need > 0:
                reg = registry[(registry["area_id"] == area) if tier == "city" else (registry["county_id"] == area)]
                extra_rows.extend(_closers(area, p, need, acts, reg, top))
    totals = pd.DataFrame(rows)
    return ShareCheck(totals, pd.DataFrame(extra_rows, columns=["area_id", "pollutant", "enterprise_id", "name",
                                                                "grade", "extra_cut_td", "cumulative_td"]))


def verdict_text(row) -> str:
    """One line for the officer (English, the command line): what the check relies on."""
    if row["verdict"] == "no_inventory":
        return f"inventory has no rows for {row['area_id']}: share not judged"
    text = (f"{row['share']:.1%} of {row['target_share']:.0%} with listed measures"
            + (f", {row['share_with_unverified']:.1%} with unverified sector credits"
               if row["sector_cut_unverified_td"] > 0 else ""))
    if row["verdict"] == "met":
        return f"{text}: met"
    if row["verdict"] == "met_with_unverified":
        return f"{text}: met only with unverified sector credits (short by {row['shortfall_td']:.2f} t/d without)"
    return f"{text}: not met, SHORT by {row['shortfall_td']:.2f} t/d"


def _closers(area, p, need, acts, registry, top):
    """Enterprises of the unit (``registry``: the unit's rows) whose further cut (up to a full stop) could close a
    shortfall, biggest first.

    A+/A/引领性 and 保障类 plants are not proposed (self-determined / duty-bound)."""
    reg = registry[~registry["grade"].isin(SELF_DETERMINED) & ~registry["guarantee"].astype(bool)]
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


def markdown_summary(check: ShareCheck, activated: pd.DataFrame, *, names: pd.Series | None = None,
                     list_info: tuple[str, int] | None = None, notes: list[str] | None = None) -> str:
    """The share check and activated lists as Markdown (``names``: area id → Chinese name, default the shipped
    area table's; ``list_info``: the list's version and year; ``notes``: standardisation problems to show).

    Each unit's table shows the listed enterprises' cuts and the sector credits apart, verified and UNVERIFIED,
    and the verdict says what it relies on (:data:`VERDICTS`)."""
    lines = ["# 应急减排清单启动情况与减排比例核算", ""]
    if list_info and list_info[0]:
        lines += [f"清单版本：{list_info[0]}（{list_info[1]}年度）", ""]
    for note in notes or []:
        lines += [f"注（清单标准化）：{note}", ""]
    if check.totals.empty:
        return "\n".join(lines + ["（无预警地区，未启动应急减排清单）"])
    names = _names(names)
    srules = sector_rules()
    unv = [f"{s_}" for s_ in srules["sectors"] if sector_status(srules, s_) not in ("V", "V2", "VERIFIED")
           and any(v for k, v in (srules["sectors"][s_] or {}).items() if k in LEVELS)]
    lines += ["核算口径：“达标”仅依据清单企业的强制减排措施（及已核实的其他行业系数）判断；"
              f"未核实的其他行业减排系数（{'、'.join(SECTOR_ZH.get(x, x) for x in unv) or '无'}，sector_measures.yaml，"
              "UNVERIFIED）单独列出，只能得出“仅计入未核实系数才达标”，不作为达标依据。"
              "企业减排中“其中未核实默认措施”一列为按未核实默认减排比例（measures.csv 中 UNVERIFIED）计算的部分。", ""]
    for (area, tier), g in check.totals.groupby(["area_id", "tier"], sort=True):
        level = g["level"].iloc[0]
        in_unit = (activated["area_id"] == area) if tier == "city" else (activated["county_id"] == area)
        n = int(in_unit.sum()) if len(activated) else 0
        lines += [f"## {names.get(area, area)}（{LEVEL_ZH[level]}预警，目标减排比例 {g['target_share'].iloc[0]:.0%}）",
                  "", f"启动企业 {n} 家。", "",
                  "| 污染物 | 全社会排放 t/d | 企业减排 t/d | 其中未核实默认措施 t/d | 已核实其他行业 t/d | "
                  "未核实其他行业系数 t/d | 减排比例（不计未核实系数） | 计入未核实系数 | 结论 |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in g.to_dict("records"):
            if r["verdict"] == "no_inventory":
                lines.append(f"| {POLLUTANT_ZH[r['pollutant']]} | – | {r['enterprise_cut_td']:.2f} | "
                             f"{r['enterprise_cut_unverified_td']:.2f} | – | – | – | – | {VERDICTS['no_inventory']} |")
                continue
            verdict = VERDICTS[r["verdict"]]
            if r["verdict"] != "met":
                verdict += f"，缺口 {r['shortfall_td']:.2f} t/d"
            lines.append(f"| {POLLUTANT_ZH[r['pollutant']]} | {r['society_td']:.2f} | {r['enterprise_cut_td']:.2f} | "
                         f"{r['enterprise_cut_unverified_td']:.2f} | {r['sector_cut_verified_td']:.2f} | "
                         f"{r['sector_cut_unverified_td']:.2f} | {r['share']:.1%} | "
                         f"{r['share_with_unverified']:.1%} | {verdict} |")
        lines.append("")
        sf = check.shortfalls[check.shortfalls["area_id"] == area]
        if len(sf):
            lines.append("可进一步加严措施以弥补缺口的企业（按可增减排量排序）：")
            for (p, name), s_ in sf.groupby(["pollutant", "name"], sort=False):
                grade = s_["grade"].iloc[0]
                grade_zh = "非重点企业" if grade == "非重点" else f"{grade}级"
                lines.append(f"- {POLLUTANT_ZH[p]}：{name}（{grade_zh}）可再减 {s_['extra_cut_td'].iloc[0]:.2f} t/d")
            lines.append("")
    return "\n".join(lines)


SECTOR_ZH = {"mobile": "移动源", "dust": "扬尘", "residential": "民用源", "other": "其他", "industry": "工业"}


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
                names: pd.Series | None = None, processes: pd.DataFrame | None = None) -> Path:
    """Excel workbook: a summary sheet and one sheet per league/city with its activated list (``names``: area id
    → Chinese name, default the shipped area table's). Every text cell is inert (:func:`response.sanitize.cell`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = _names(names)
    used = {"汇总 summary", "缺口 shortfalls", "一厂一策 processes"}
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        summary = check.totals.copy()
        if len(summary):
            summary.insert(1, "name_zh", summary["area_id"].map(names))
        frame_cells(summary).to_excel(xw, sheet_name="汇总 summary", index=False)
        if len(check.shortfalls):
            frame_cells(check.shortfalls).to_excel(xw, sheet_name="缺口 shortfalls", index=False)
        if len(activated):
            frame_cells(process_measures(activated, processes)).to_excel(xw, sheet_name="一厂一策 processes",
                                                                         index=False)
        for area, g in (activated.groupby("area_id", sort=True) if len(activated) else []):
            frame_cells(g).to_excel(xw, sheet_name=_sheet_name(names.get(area, area), used), index=False)
    return path


def enterprise_notice(row: pd.Series, units: pd.DataFrame | None = None) -> str:
    """The 一厂一策 notice text for one activated enterprise (``units``: its rows of :func:`process_measures`)."""
    cuts = "、".join(f"{POLLUTANT_ZH[p]} {row[f'cut_{p}_td']:.3f} t/d" for p in POLLUTANTS if row[f"cut_{p}"] > 0)
    code = row.get("credit_code")
    who = f"{row['name']}（统一社会信用代码 {code}）" if isinstance(code, str) and code else f"{row['name']}"
    if units is not None and len(units) and units["process_id"].iloc[0]:
        steps = "；".join(f"{u.process_zh}：{u.measure_zh}" for u in units.itertuples())
        plan = f"一厂一策工序措施：{steps}。"
        ok = row.get("plan_ok")
        if ok is not None and ok == ok and not bool(ok):  # False (not None, not NaN: no units)
            plan += "注意：一厂一策工序措施合计减排比例低于清单要求，须加严。"
    else:
        plan = "请按照本企业“一厂一策”操作方案落实到具体生产线和工序（清单尚缺工序措施，须补充）。"
    return (f"{who}：根据{LEVEL_ZH.get(row['level'], row['level'])}预警，贵单位（绩效等级 {row['grade']}，"
            f"行业 {industries().loc[row['industry'], 'name_zh']}）应执行：{row['action_zh']}。"
            f"预计减排：{cuts or '自主减排，不作强制要求'}。{plan}并做好台账记录。")


def write_outputs(activated: pd.DataFrame, check: ShareCheck, out: str | Path, *,
                  names: pd.Series | None = None, processes: pd.DataFrame | None = None,
                  list_info: tuple[str, int] | None = None, notes: list[str] | None = None) -> dict:
    """CSV, Excel, Markdown summary and per-enterprise notices into ``out``; returns the paths. ``names``: area id
    → Chinese name (the region's; default the shipped area table's); ``processes``: the 一厂一策 units
    (:func:`load_processes`), written per activated enterprise (``reduction_processes.csv``, a sheet, the notices);
    ``list_info`` and ``notes``: the list's version and year and its standardisation problems, in the summary.

    Spreadsheet and CSV cells are inert (:func:`response.sanitize.frame_cells`: a name beginning with ``=`` is
    written as text); the Markdown and Word texts carry names without control characters."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "reduction_list.csv", "excel": out / "reduction_list.xlsx",
             "summary": out / "reduction_summary.md", "totals": out / "reduction_share.csv",
             "notices": out / "enterprise_notices.md", "word": out / "reduction_list.docx",
             "processes": out / "reduction_processes.csv"}
    frame_cells(activated).to_csv(paths["csv"], index=False, encoding="utf-8-sig")
    frame_cells(check.totals).to_csv(paths["totals"], index=False, encoding="utf-8-sig")
    units = process_measures(activated, processes) if len(activated) else pd.DataFrame()
    frame_cells(units).to_csv(paths["processes"], index=False, encoding="utf-8-sig")
    names = _names(names)
    write_excel(activated, check, paths["excel"], names=names, processes=processes)
    paths["summary"].write_text(markdown_summary(check, activated, names=names, list_info=list_info, notes=notes),
                                encoding="utf-8")
    by = {e: g for e, g in units.groupby("enterprise_id", sort=False)} if len(units) else {}
    notices = [f"- {enterprise_notice(r, by.get(r['enterprise_id']))}" for _, r in activated.iterrows()]
    notices_md = "# 企业应急减排告知（一厂一策）\n\n" + "\n".join(notices) + "\n"
    paths["notices"].write_text(notices_md, encoding="utf-8")
    from .bulletins import markdown_to_docx

    markdown_to_docx(paths["summary"].read_text(encoding="utf-8") + "\n" + notices_md.replace("\n- ", "\n"),
                     paths["word"])
    return {k: str(v) for k, v in paths.items()}
