"""A fictional emergency emission-reduction registry and emission inventories for the demo world.

Hundreds of invented enterprises (names are built from neutral syllables and marked 演示, never real companies)
with the industry mix of each league/city (REFERENCE 7.3: steel, rare earths and aluminium in Baotou; coking,
chlor-alkali/PVC, calcium carbide and ferroalloy around Wuhai, Alxa and Ordos; ferroalloy in Ulanqab; coal power
and coal chemicals in Ordos, Xilingol and Hulunbuir; cement everywhere), performance grades, 保障类 heating plants,
and league/city inventories of society-wide emissions by sector. Written as ``DIR/enterprises.csv``,
``DIR/inventory.csv`` and ``DIR/processes.csv``.

The list is the standardised list (清单标准化, REFERENCE 3.4): every enterprise has a valid unified social credit
code (GB 32100-2015 check character; fictional, built from the league's GB/T 2260 code), the list a version and a
year, and every enterprise its 一厂一策 units (``processes.csv``: per unit its share of the emissions and its measure
per level, stopping the largest units first until the list's cut is reached). Grades follow each industry's ladder
(``response/data/industries.csv``: no D in a 3-tier industry, 引领性 in a leading-only one).

The inventory has league/city rows and, for each banner/county that hosts industry here, its own rows (a part of the
league/city's, not in addition): the county's industry sector from its enterprises, its other sectors APPORTIONED
from the league/city's by the county's share in :data:`COUNTIES` (a demo assumption, not data).

A league/city of the area table without a mix here gets :data:`DEFAULT_MIX` and :data:`DEFAULT_SIZE`; a county
hosts part of its league's industry only where :data:`COUNTIES` says so.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: league/city → (number of enterprises, industry weights)
MIX = {
    "baotou": (70, {"steel_long": 3, "rare_earth": 4, "aluminium": 3, "coking": 2, "cement": 3, "coal_power": 4,
                    "lime": 2, "carbon": 2, "foundry": 3, "other": 6}),
    "wuhai": (55, {"coking": 6, "chlor_alkali": 4, "calcium_carbide": 5, "ferroalloy": 3, "cement": 2,
                   "coal_power": 3, "coal_chemical": 2, "other": 4}),
    "ordos": (60, {"coal_chemical": 6, "coal_power": 6, "coking": 2, "calcium_carbide": 3, "ferroalloy": 2,
                   "chlor_alkali": 2, "cement": 2, "coal_fertiliser": 2, "other": 4}),
    "alxa": (30, {"coking": 2, "calcium_carbide": 4, "chlor_alkali": 2, "ferroalloy": 2, "coal_chemical": 2,
                  "cement": 1, "other": 3}),
    "hohhot": (45, {"coal_power": 5, "cement": 3, "pharma": 4, "coatings": 2, "industrial_coating": 3, "brick": 2,
                    "glass": 1, "packaging_printing": 2, "furniture": 1, "other": 6}),
    "ulanqab": (40, {"ferroalloy": 8, "cement": 2, "coal_power": 3, "lime": 2, "electrolytic_mn": 1, "other": 3}),
    "bayannur": (30, {"steel_long": 1, "cement": 2, "coal_power": 2, "brick": 3, "lime": 2, "other": 4}),
    "chifeng": (40, {"copper": 3, "lead_zinc": 2, "molybdenum": 1, "cement": 3, "coal_power": 4, "brick": 3,
                     "pharma": 2, "glass": 1, "other": 5}),
    "tongliao": (35, {"aluminium": 4, "coal_power": 4, "cement": 2, "pharma": 2, "brick": 2, "other": 4}),
    "hulunbuir": (30, {"coal_power": 5, "coal_chemical": 3, "cement": 2, "brick": 2, "other": 4}),
    "xilingol": (25, {"coal_power": 5, "coal_chemical": 3, "cement": 1, "other": 3}),
    "hinggan": (20, {"cement": 2, "coal_power": 3, "brick": 2, "other": 3}),
}
#: county (banner) of a league that hosts part of its industry: city → [(county, share)]
COUNTIES = {"baotou": [("tumed_right", 0.2)], "hohhot": [("togtoh", 0.2), ("tumed_left", 0.1), ("horinger", 0.1)],
            "ordos": [("jungar", 0.3), ("dalad", 0.3)], "chifeng": [("yuanbaoshan", 0.2), ("ningcheng", 0.1)],
            "bayannur": [("urad_front", 0.25)]}
#: typical annual emissions per plant [t/a] of SO2, NOx, PM, VOCs (order of magnitude; lognormal spread)
EMISSIONS = {"steel_long": (900, 1600, 900, 300), "steel_eaf": (60, 150, 120, 40), "coking": (300, 600, 400, 900),
             "cement": (150, 1100, 300, 20), "ferroalloy": (120, 150, 450, 10), "aluminium": (500, 120, 220, 10),
             "calcium_carbide": (50, 100, 650, 30), "chlor_alkali": (100, 200, 150, 400),
             "coal_power": (500, 1100, 150, 20), "coal_chemical": (400, 800, 200, 800),
             "rare_earth": (150, 80, 120, 20), "lime": (40, 300, 200, 0), "brick": (80, 60, 100, 0),
             "glass": (150, 600, 80, 10), "copper": (900, 150, 150, 10), "carbon": (120, 100, 150, 200),
             "foundry": (20, 40, 120, 60), "pharma": (5, 10, 5, 200), "coatings": (0, 0, 5, 300),
             "industrial_coating": (0, 5, 20, 250), "coal_fertiliser": (300, 500, 150, 300),
             "electrolytic_mn": (10, 5, 60, 0), "lead_zinc": (600, 100, 120, 5), "molybdenum": (300, 50, 80, 5),
             "packaging_printing": (0, 2, 3, 150), "furniture": (0, 2, 15, 120), "other": (20, 40, 30, 50)}
NON_KEY = {"coal_power", "chlor_alkali", "calcium_carbide", "coal_chemical", "rare_earth", "other"}
GRADE_P = {"A+": 0.02, "A": 0.10, "B": 0.33, "B-": 0.10, "C": 0.30, "D": 0.15}
#: size of each league/city's society-wide non-industrial emissions relative to Hohhot
SIZE = {"hohhot": 1.0, "baotou": 0.9, "ordos": 0.8, "chifeng": 1.0, "tongliao": 0.8, "hulunbuir": 0.7,
        "ulanqab": 0.6, "bayannur": 0.5, "wuhai": 0.35, "xilingol": 0.4, "hinggan": 0.4, "alxa": 0.2}
#: Hohhot-size emissions by sector [t/a] (SO2, NOx, PM, VOCs)
SECTORS = {"mobile": (150, 14000, 900, 7000), "dust": (0, 0, 22000, 0), "residential": (3500, 1800, 7000, 3500),
           "other": (400, 1200, 1500, 6000)}
#: industry → the word in an enterprise name
INDUSTRY_ZH = {"steel_long": "钢铁", "steel_eaf": "特钢", "coking": "焦化", "cement": "水泥", "ferroalloy": "铁合金",
               "aluminium": "铝业", "calcium_carbide": "电石", "chlor_alkali": "氯碱化工", "coal_power": "热电",
               "coal_chemical": "煤化工", "rare_earth": "稀土材料", "lime": "石灰", "brick": "建材",
               "glass": "玻璃", "copper": "铜业", "carbon": "炭素", "foundry": "铸造", "pharma": "制药",
               "coatings": "涂料", "industrial_coating": "机械制造", "coal_fertiliser": "化肥",
               "electrolytic_mn": "锰业", "lead_zinc": "铅锌冶炼", "molybdenum": "钼业",
               "packaging_printing": "包装印务", "furniture": "家具", "other": "实业"}
#: a league/city without an entry in MIX and SIZE: a small generic industry and society
DEFAULT_MIX = (25, {"coal_power": 3, "cement": 2, "brick": 2, "lime": 1, "other": 4})
DEFAULT_SIZE = 0.5
#: columns of ``enterprises.csv``
COLUMNS = ["enterprise_id", "credit_code", "name", "area_id", "county_id", "lon", "lat", "industry", "grade",
           "guarantee", "guarantee_reason", "guarantee_load", "capacity", "so2_t", "nox_t", "pm_t", "vocs_t",
           "list_version", "list_year"]
#: the demo list's version and year (清单标准化: a list is versioned by year)
LIST_VERSION, LIST_YEAR = "demo-v1", 2024
#: an industry's 一厂一策 units (the demo's names); any other industry: DEFAULT_UNITS
UNITS = {"steel_long": ["烧结机", "球团竖炉", "高炉", "转炉", "石灰窑"], "cement": ["1#熟料生产线", "2#熟料生产线", "水泥粉磨站"],
         "coking": ["1#焦炉", "2#焦炉", "化产回收"], "ferroalloy": ["1#矿热炉", "2#矿热炉", "原料场"],
         "aluminium": ["电解系列", "阳极组装", "铸造车间"], "coal_power": ["1#机组", "2#机组"],
         "lime": ["1#石灰窑", "2#石灰窑"], "brick": ["隧道窑"], "glass": ["熔窑", "深加工线"],
         "calcium_carbide": ["1#电石炉", "2#电石炉", "石灰窑"], "chlor_alkali": ["电解车间", "PVC聚合"],
         "coal_chemical": ["气化装置", "合成装置", "锅炉"], "pharma": ["发酵车间", "提取车间"],
         "packaging_printing": ["印刷线", "复合线"], "furniture": ["喷涂线", "木工车间"]}
DEFAULT_UNITS = ["主要生产线", "辅助工序"]
#: GB 11714-1997 organisation-code weights (positions 9-17 of the credit code)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
SYLLABLES = list("瑞晟泰丰鑫华源通达恒昌隆兴盛宏远锦辉祥和润安永佳茂新宇嘉利")


def _name(rng, short: str, industry_zh: str, used: set) -> str:
    while True:
        name = f"{short}{''.join(rng.choice(SYLLABLES, 2))}{industry_zh}有限公司（演示）"
        if name not in used:
            used.add(name)
            return name


def _mixes(areas: pd.DataFrame) -> dict:
    """League/city → (number of enterprises, industry weights) for the cities of ``areas``: :data:`MIX` in its
    order, then the cities it does not know with :data:`DEFAULT_MIX`."""
    cities = areas.loc[areas["tier"] == "city", "area_id"].tolist()
    mixes = {c: MIX[c] for c in MIX if c in cities}
    mixes.update({c: DEFAULT_MIX for c in cities if c not in MIX})
    return mixes


def credit_code(rng, admin: str, used: set) -> str:
    """A fictional but valid unified social credit code: 9 (registered by market regulation) 1 (enterprise), the
    6-digit administrative code, a 9-character organisation code with its GB 11714 check character, and the
    GB 32100-2015 check character."""
    from response.reduction import credit_check_character

    while True:
        body = "".join(str(d) for d in rng.integers(0, 10, 8))
        org_check = 11 - sum(int(c) * w for c, w in zip(body, ORG_WEIGHTS)) % 11
        org = body + {10: "X", 11: "0"}.get(org_check, str(org_check))
        first17 = f"91{admin}{org}"
        code = first17 + credit_check_character(first17)
        if code not in used:
            used.add(code)
            return code


def _grade(rng, industry: str, table: pd.DataFrame) -> str:
    """A grade on the industry's ladder (``industries.csv``), drawn with :data:`GRADE_P` renormalised to it."""
    from response.reduction import LADDERS

    grading = table.loc[industry, "grading"] if industry in table.index else "none"
    if grading == "none":
        return "非重点"
    if grading == "leading":
        return "引领性" if rng.random() < 0.3 else str(rng.choice(["B", "C"]))
    grades = [g for g in GRADE_P if g in LADDERS[grading]]
    p = np.array([GRADE_P[g] for g in grades])
    return str(rng.choice(grades, p=p / p.sum()))


def make_registry(seed: int = 7, *, scale: float = 1.0, areas: pd.DataFrame | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo registry (``enterprises.csv`` columns) and inventory (``inventory.csv``: league/city rows and
    banner/county rows) for the leagues/cities of ``areas`` (default the shipped area table; columns ``area_id,
    tier, short_zh, seat_lon, seat_lat`` and optional ``gb``); ``scale`` multiplies the number of enterprises (for
    benchmarks)."""
    from response.reduction import industries

    if areas is None:
        from forecast.areas import load_areas

        areas = load_areas()
    table = industries()
    rng = np.random.default_rng([seed, 77])
    mixes = _mixes(areas)
    counties = {city: [(c, share) for c, share in hosts if c in set(areas["area_id"])]
                for city, hosts in COUNTIES.items()}
    areas = areas.set_index("area_id")
    rows, used, codes = [], set(), set()
    n_id = 0
    for city, (n, weights) in mixes.items():
        inds = list(weights)
        p = np.array([weights[i] for i in inds], float)
        p /= p.sum()
        gb = str(areas.loc[city, "gb"]) if "gb" in areas.columns and pd.notna(areas.loc[city, "gb"]) else ""
        admin = gb[-6:] if len(gb) >= 6 and gb[-6:].isdigit() else "150000"
        for _ in range(int(round(n * scale))):
            n_id += 1
            ind = str(rng.choice(inds, p=p))
            county = None
            for c, share in counties.get(city, []):
                if rng.random() < share:
                    county = c
                    break
            seat = areas.loc[county or city]
            grade = _grade(rng, ind, table)
            size = rng.lognormal(0, 0.8)
            em = [round(e * size, 1) for e in EMISSIONS.get(ind, EMISSIONS["other"])]
            guarantee = ind == "coal_power" and rng.random() < 0.6
            rows.append({"enterprise_id": f"E{n_id:05d}", "credit_code": credit_code(rng, admin, codes),
                         "name": _name(rng, areas.loc[city, "short_zh"], INDUSTRY_ZH.get(ind, "实业"), used),
                         "area_id": city, "county_id": county or "",
                         "lon": round(float(seat["seat_lon"]) + rng.normal(0, 0.15), 4),
                         "lat": round(float(seat["seat_lat"]) + rng.normal(0, 0.1), 4),
                         "industry": ind, "grade": grade, "guarantee": int(guarantee),
                         "guarantee_reason": "供暖" if guarantee else "",
                         "guarantee_load": round(float(rng.uniform(0.7, 0.95)), 2) if guarantee else "",
                         "capacity": round(size * 100, 1), "so2_t": em[0], "nox_t": em[1], "pm_t": em[2],
                         "vocs_t": em[3], "list_version": LIST_VERSION, "list_year": LIST_YEAR})
    registry = pd.DataFrame(rows, columns=COLUMNS)
    inv = []
    for city in mixes:
        ind_total = registry[registry["area_id"] == city][["so2_t", "nox_t", "pm_t", "vocs_t"]].sum() / max(scale, 1e-9)
        inv.append({"area_id": city, "sector": "industry",
                    **{p: round(float(ind_total[f"{p}_t"]) * 1.25, 1) for p in ("so2", "nox", "pm", "vocs")}})
        city_sectors = {}
        for sector, em in SECTORS.items():
            f = SIZE.get(city, DEFAULT_SIZE) * rng.uniform(0.85, 1.15)
            city_sectors[sector] = {p: round(e * f, 1) for p, e in zip(("so2", "nox", "pm", "vocs"), em)}
            inv.append({"area_id": city, "sector": sector, **city_sectors[sector]})
        for county, share in counties.get(city, []):  # a part of the city's rows: industry from its plants,
            mine = registry[registry["county_id"] == county]  # the rest apportioned by its share (assumption)
            total = mine[["so2_t", "nox_t", "pm_t", "vocs_t"]].sum() / max(scale, 1e-9)
            inv.append({"area_id": county, "sector": "industry",
                        **{p: round(float(total[f"{p}_t"]) * 1.25, 1) for p in ("so2", "nox", "pm", "vocs")}})
            for sector, values in city_sectors.items():
                inv.append({"area_id": county, "sector": sector,
                            **{p: round(v * share, 1) for p, v in values.items()}})
    return registry, pd.DataFrame(inv)


def make_processes(registry: pd.DataFrame, seed: int = 7, *, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """The 一厂一策 units of a demo registry (``processes.csv``): per enterprise its units (:data:`UNITS`), their
    shares of its emissions, and per level the units stopped (largest first) and the last one limited so that the
    plan's cut equals the list's cut (:func:`response.reduction.activate` at that level everywhere)."""
    from response import reduction as R

    rng = np.random.default_rng([seed, 78])
    good, _ = R.validate_registry(registry, areas=areas)
    cuts = {}
    everywhere = sorted(set(good["area_id"]))
    for level in R.LEVELS:
        act = R.activate(good, {a: level for a in everywhere}).set_index("enterprise_id")
        cuts[level] = act[[f"cut_{p}" for p in R.POLLUTANTS]].max(axis=1)
    rows = []
    for e, ind in zip(good["enterprise_id"], good["industry"]):
        names = UNITS.get(ind, DEFAULT_UNITS)
        shares = np.round(rng.dirichlet(np.full(len(names), 4.0)), 3)
        shares[-1] = round(1 - shares[:-1].sum(), 3)
        order = np.argsort(-shares, kind="stable")
        unit_cut = {lv: np.zeros(len(names)) for lv in R.LEVELS}
        for lv in R.LEVELS:
            need, done = float(cuts[lv].get(e, 0.0)), 0.0
            for k in order:
                if done >= need - 1e-12:
                    break
                part = min(1.0, (need - done) / shares[k]) if shares[k] > 0 else 0.0
                part = float(np.ceil(part * 1000) / 1000)  # rounded up: the plan never falls short of the list
                unit_cut[lv][k] = min(part, 1.0)
                done += shares[k] * unit_cut[lv][k]
        for k, name in enumerate(names):
            rows.append({"enterprise_id": e, "process_id": f"U{k + 1}", "process_zh": name,
                         "share": float(shares[k]), **{f"cut_{lv}": unit_cut[lv][k] for lv in R.LEVELS}})
    return pd.DataFrame(rows, columns=["enterprise_id", "process_id", "process_zh", "share", "cut_yellow",
                                       "cut_orange", "cut_red"])


def write_registry(out: str | Path, seed: int = 7, *, areas: pd.DataFrame | None = None) -> tuple[Path, Path]:
    """Write ``out/enterprises.csv``, ``out/inventory.csv`` (:func:`make_registry`) and ``out/processes.csv``
    (:func:`make_processes`); returns the first two paths."""
    out = Path(out)
    registry, inventory = make_registry(seed, areas=areas)
    reg_path, inv_path = out / "enterprises.csv", out / "inventory.csv"
    registry.to_csv(reg_path, index=False, encoding="utf-8")
    inventory.to_csv(inv_path, index=False, encoding="utf-8")
    make_processes(registry, seed, areas=areas).to_csv(out / "processes.csv", index=False, encoding="utf-8")
    return reg_path, inv_path
