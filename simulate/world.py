"""The demo world's fixed parts, built from whatever area table it is given: areas with emission profiles,
monitoring stations, the emission calendar and the grid that covers the areas.

Per-area parameters are the simulator's own fictional data (``simulate/data/profiles.csv``, loaded by
:func:`load_profiles`); an area of the area table without a row there takes its tier's defaults
(:func:`area_parameters`), so a league added to the area table simulates without code changes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry import Point

from forecast import areas as _areas
from forecast.features import calendar_facts
from forecast.nomenclature import utc_to_cst
from forecast.tables import read_commented_csv

DATA_DIR = Path(__file__).parent / "data"
#: columns an area table needs for the simulator
AREA_COLUMNS = ("area_id", "name_zh", "short_zh", "tier", "seat_lon", "seat_lat")
#: columns of the profiles file
PROFILE_COLUMNS = ("area_id", "tier", "pm", "so2", "nox", "co", "dust_source", "stations", "background",
                   "long_heating")
#: relative emission strengths (columns of the profiles file) whose tier mean is the default profile
STRENGTHS = ("pm", "so2", "nox", "co", "dust_source")
#: assessment stations of an area without a profile, by tier
TIER_STATIONS = {"city": 3, "county": 1}
#: horizontal size of an area's box in the box model, by tier [km]
BOX_KM = {"city": 60.0, "county": 40.0}
#: emissions of the reference area (Hohhot) outside heating [µg m⁻² h⁻¹]: primary + precursor PM2.5, SO2, NOx, CO.
#: Chosen so that the box model's heating-season means sit near real CNEMC winters of the region (Hohhot roughly
#: PM2.5 90, SO2 35, NO2 55 µg/m³, CO 1.6 mg/m³; Wuhai SO2 65–80): PM2.5 is the primary pollutant of heavy winter
#: days, O3 of summer exceedances (gases were 4–6× too high before 2026-12, making the AQI NO2-driven).
BASE_EMISSIONS = {"pm": 700.0, "so2": 400.0, "nox": 950.0, "co": 14500.0}
#: heating season (month·100 + day, first and last day): the region's and the north-eastern leagues' longer one.
#: The simulated world's heating seasons and fireworks timing are its own truth, deliberately not copied from the
#: forecaster's belief (``forecast/data/calendar.yaml``): a real forecaster does not know them exactly either.
HEATING_SEASON = (1015, 415)
LONG_HEATING_SEASON = (1001, 430)
#: Spring Festival (除夕 is the day before) dates — a calendar fact, from the library's calendar (one home); the
#: Lantern Festival is 14 days after
SPRING_FESTIVAL = tuple(calendar_facts()["spring_festival"])
#: fireworks nights start at this local hour and last this many hours
FIREWORKS_START_HOUR = 19
FIREWORKS_HOURS = 8
#: the simulated grid: the areas' bounds plus this margin, rounded to whole degrees [degrees]
GRID_MARGIN = 0.25
#: … and at least every area's seat (where its stations stand) plus this margin [degrees]
SEAT_GRID_MARGIN = 0.5
#: an area without a polygon counts as its seat ± this for the grid's extent [degrees]
SEAT_HALF_WIDTH = 1.0
#: smallest extent of the grid in longitude and latitude [degrees]
MIN_GRID_SPAN = 2.0


def load_profiles(path: str | Path | None = None) -> pd.DataFrame:
    """The simulator's per-area emission profiles and station counts (``simulate/data/profiles.csv``).

    Parameters
    ----------
    path : path-like, optional
        A profiles file of one's own, with the columns of :data:`PROFILE_COLUMNS`.

    Returns
    -------
    DataFrame
        Indexed by ``area_id``.

    Raises
    ------
    forecast.areas.AreaError
        Missing columns, an unknown tier, a repeated area or a station count below 1.
    """
    path = Path(path or DATA_DIR / "profiles.csv")
    table = read_commented_csv(path)
    _check_rows(table, PROFILE_COLUMNS, f"profiles {path}")
    if (table["stations"] < 1).any():
        raise _areas.AreaError(f"profiles {path}: every area needs at least 1 station, found "
                               f"{table.loc[table['stations'] < 1, 'area_id'].tolist()}")
    return table.set_index("area_id")


def _check_rows(table: pd.DataFrame, columns, what: str) -> None:
    """Required columns present, tiers known, each area once — or an AreaError naming ``what`` and the problem."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise _areas.AreaError(f"{what}: missing columns {missing}; required: {', '.join(columns)}, "
                               f"found: {', '.join(map(str, table.columns))}")
    bad = sorted(set(table["tier"]) - set(_areas.TIERS))
    if bad:
        raise _areas.AreaError(f"{what}: unknown tier(s) {bad}; allowed: {', '.join(_areas.TIERS)}")
    repeated = sorted(table.loc[table["area_id"].duplicated(), "area_id"])
    if repeated:
        raise _areas.AreaError(f"{what}: areas listed twice: {repeated}")


def check_areas(areas: pd.DataFrame) -> pd.DataFrame:
    """An area table the simulator can build a world from (columns :data:`AREA_COLUMNS`, known tiers, one row per
    area, seats given), with a fresh index.

    Raises
    ------
    forecast.areas.AreaError
        Naming the missing columns, unknown tiers, repeated areas or areas without a seat.
    """
    _check_rows(areas, AREA_COLUMNS, "area table")
    if areas.empty:
        raise _areas.AreaError("area table: no areas")
    seats = areas[["seat_lon", "seat_lat"]].apply(pd.to_numeric, errors="coerce")
    no_seat = areas.loc[~np.isfinite(seats).all(axis=1), "area_id"].tolist()
    if no_seat:
        raise _areas.AreaError(f"area table: no seat_lon/seat_lat for {no_seat}")
    return areas.reset_index(drop=True)


def area_parameters(areas: pd.DataFrame, profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each area's profile: its row of ``profiles`` or, for an area not listed, the defaults of its tier.

    The tier defaults are the mean emission strengths of the listed areas of that tier, :data:`TIER_STATIONS`
    assessment stations, no background station and the regional heating season.

    Parameters
    ----------
    areas : DataFrame
        Area table (``area_id``, ``tier``).
    profiles : DataFrame, optional
        As :func:`load_profiles` returns; default the shipped file.

    Returns
    -------
    DataFrame
        One row per area in the order of ``areas``: ``pm, so2, nox, co, dust_source`` [1], ``stations`` [1],
        ``background`` (rank, 0 = none), ``long_heating`` (bool) and ``profile`` (``listed`` or ``tier mean``).
    """
    profiles = load_profiles() if profiles is None else profiles
    listed = areas["area_id"].isin(profiles.index).to_numpy()
    out = profiles.reindex(areas["area_id"])[list(STRENGTHS) + ["stations", "background", "long_heating"]]
    tier_mean = profiles.groupby("tier")[list(STRENGTHS)].mean()
    for tier in _areas.TIERS:
        rows = ~listed & (areas["tier"] == tier).to_numpy()
        if not rows.any():
            continue
        if tier not in tier_mean.index:
            raise _areas.AreaError(f"no profile of tier {tier!r} to take a default from for "
                                   f"{areas.loc[rows, 'area_id'].tolist()}")
        out.loc[rows, list(STRENGTHS)] = tier_mean.loc[tier].to_numpy()
        out.loc[rows, "stations"] = TIER_STATIONS[tier]
        out.loc[rows, ["background", "long_heating"]] = 0
    out = out.astype({"stations": int, "background": int}).reset_index(drop=True)
    out["long_heating"] = out["long_heating"].astype(bool)
    out["profile"] = np.where(listed, "listed", "tier mean")
    return out


def area_boundaries(areas: pd.DataFrame, boundaries: dict | None = None) -> dict:
    """Polygons of the areas: from ``boundaries`` (area_id → shapely geometry) or, by default, the offline
    boundaries of :func:`forecast.areas.boundaries`. Areas without one are left out, with a warning: their
    stations stand at the seat."""
    if boundaries is None:
        boundaries = {}
        for i in range(len(areas) if "gb" in areas.columns else 0):
            try:
                boundaries.update(_areas.boundaries(areas.iloc[[i]]))
            except _areas.AreaError:  # no polygon with this gb code
                pass
    out = {a: boundaries[a] for a in areas["area_id"] if a in boundaries}
    missing = [a for a in areas["area_id"] if a not in out]
    if missing:
        warnings.warn(f"no boundary polygon for {', '.join(missing)}: their stations stand at the seat",
                      stacklevel=2)
    return out


def grid_extent(areas: pd.DataFrame, geoms: dict, *, margin: float = GRID_MARGIN) -> dict:
    """The simulated grid's extent: the areas' bounds (an area without a polygon: its seat ± :data:`SEAT_HALF_WIDTH`)
    plus ``margin``, rounded to whole degrees, at least :data:`MIN_GRID_SPAN` wide and high, and reaching at least
    :data:`SEAT_GRID_MARGIN` beyond every seat (the stations stand near the seats).

    The shipped Inner Mongolia areas give 97–126°E, 37–54°N. [degrees]

    Returns
    -------
    dict
        ``west, east, south, north`` (the keyword arguments of :class:`simulate.grib.Grid`).
    """
    h = SEAT_HALF_WIDTH
    bounds = np.array([geoms[a.area_id].bounds if a.area_id in geoms else
                       (a.seat_lon - h, a.seat_lat - h, a.seat_lon + h, a.seat_lat + h) for a in areas.itertuples()])
    west, south = np.floor(bounds[:, :2].min(axis=0) - margin + 0.5)
    east, north = np.floor(bounds[:, 2:].max(axis=0) + margin + 0.5)
    # the stations stand near the seats: every seat ± SEAT_GRID_MARGIN stays inside (rounded outwards)
    seats = areas[["seat_lon", "seat_lat"]].to_numpy(float)
    west = min(west, np.floor(seats[:, 0].min() - SEAT_GRID_MARGIN))
    south = min(south, np.floor(seats[:, 1].min() - SEAT_GRID_MARGIN))
    east = max(east, np.ceil(seats[:, 0].max() + SEAT_GRID_MARGIN))
    north = max(north, np.ceil(seats[:, 1].max() + SEAT_GRID_MARGIN))
    return {"west": float(west), "east": float(max(east, west + MIN_GRID_SPAN)), "south": float(south),
            "north": float(max(north, south + MIN_GRID_SPAN))}


def world_areas(areas: pd.DataFrame, seed: int, profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """The area table with the simulator's parameters (:func:`area_parameters`) and emission strengths ``e_pm,
    e_so2, e_nox, e_co`` [µg m⁻² h⁻¹] (the profile × :data:`BASE_EMISSIONS` × a small random factor per area) and
    the box size ``box_km`` [km]."""
    out = check_areas(areas).copy()
    params = area_parameters(out, profiles)
    rng = np.random.default_rng([seed, 11])
    jitter = np.exp(rng.normal(0, 0.05, len(out)))
    for name, base in BASE_EMISSIONS.items():
        out[f"e_{name}"] = base * params[name].to_numpy() * jitter
    for name in ("dust_source", "stations", "background", "long_heating", "profile"):
        out[name] = params[name].to_numpy()
    out["box_km"] = out["tier"].map(BOX_KM).to_numpy()
    return out


def world_stations(areas: pd.DataFrame, geoms: dict, seed: int) -> pd.DataFrame:
    """Monitoring stations with CNEMC-like codes: ``stations`` per area inside its polygon (at the seat for an area
    without one), then one background station per area with ``background`` > 0, in that order."""
    rng = np.random.default_rng([seed, 12])
    rows = []
    code = 1401
    for area in areas.itertuples():
        n = area.stations
        geom = geoms.get(area.area_id)
        for k in range(n):
            lon, lat = area.seat_lon, area.seat_lat
            if geom is not None:
                spread = 0.06 if area.tier == "city" else 0.04
                for _ in range(100):
                    lon = area.seat_lon + rng.normal(0, spread)
                    lat = area.seat_lat + rng.normal(0, spread * 0.8)
                    if geom.contains(Point(lon, lat)):
                        break
                else:
                    lon, lat = area.seat_lon, area.seat_lat
            kind = "industrial" if k == n - 1 and n >= 3 else "urban"
            name = f"{area.short_zh}{'工业园区' if kind == 'industrial' else '监测站'}{k + 1}"
            rows.append((f"{code}A", name, area.short_zh if area.tier == "city" else area.name_zh,
                         area.area_id, round(lon, 4), round(lat, 4), "N", kind))
            code += 1
    for area in areas[areas["background"] > 0].sort_values("background", kind="stable").itertuples():
        geom = geoms.get(area.area_id)
        point = geom.representative_point() if geom is not None else Point(area.seat_lon, area.seat_lat)
        rows.append((f"{code}A", f"{area.short_zh}背景站", area.short_zh, area.area_id, round(point.x, 4),
                     round(point.y, 4), "Y", "background"))
        code += 1
    table = pd.DataFrame(rows, columns=["station", "station_name", "city", "area_id", "lon", "lat", "background",
                                        "kind"])
    factor = np.exp(rng.normal(0, 0.1, len(table)))
    factor = np.where(table["kind"] == "industrial", factor * 1.2, factor)
    table["factor"] = np.where(table["kind"] == "background", 0.45, factor)
    return table


def calendar(times_utc: pd.DatetimeIndex, areas: pd.DataFrame, temp_air: np.ndarray) -> dict:
    """Emission multipliers per hour and area: heating (season and cold), traffic (week and rush hours),
    fireworks around Spring Festival, dust season and spring O3 background."""
    local = utc_to_cst(times_utc)
    doy = local.day_of_year.to_numpy()[:, None]
    month_day = (local.month * 100 + local.day).to_numpy()[:, None]
    long_heat = areas["long_heating"].to_numpy(bool)[None, :]
    (first, last), (long_first, long_last) = HEATING_SEASON, LONG_HEATING_SEASON
    in_season = np.where(long_heat, (month_day >= long_first) | (month_day <= long_last),
                         (month_day >= first) | (month_day <= last))
    cold = np.clip((5.0 - temp_air) / 25.0, 0, 1.2)
    heating = 1.0 + in_season * (0.55 + 0.6 * cold)
    hour = local.hour.to_numpy()[:, None]
    weekend = (local.day_of_week.to_numpy() >= 5)[:, None]
    rush = 1.0 + 0.5 * np.exp(-0.5 * ((hour - 8) / 1.5) ** 2) + 0.6 * np.exp(-0.5 * ((hour - 18) / 1.8) ** 2)
    traffic = rush * np.where(weekend, 0.88, 1.0) * (0.8 + 0.2 * heating)
    fireworks = np.zeros((len(times_utc), len(areas)))
    for sf in SPRING_FESTIVAL:
        eve = pd.Timestamp(sf) - pd.Timedelta(days=1)
        for day, strength in ((eve, 1.0), (pd.Timestamp(sf) + pd.Timedelta(days=14), 0.5)):  # eve, Lantern
            start = day + pd.Timedelta(hours=FIREWORKS_START_HOUR)
            mask = np.asarray((local >= start) & (local < start + pd.Timedelta(hours=FIREWORKS_HOURS)))
            fireworks[mask] = 9000.0 * strength * (areas["tier"] == "city").to_numpy()
    spring = np.clip(np.cos(2 * np.pi * (doy - 105) / 365.25) * 3 - 2, 0, 1)
    dust_season = np.clip(spring * 1.2, 0, 1) + 0.08
    return {"heating": heating, "traffic": traffic, "fireworks": fireworks,
            "dust_season": np.broadcast_to(dust_season, heating.shape), "spring": np.broadcast_to(spring, heating.shape),
            "in_season": in_season}
