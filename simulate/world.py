"""The simulated world's fixed parts: areas with emission profiles, monitoring stations, emission calendar."""
from __future__ import annotations

import numpy as np
import pandas as pd
from shapely.geometry import Point

from forecast.areas import boundaries, load_areas

# Relative emission strengths by area (industry profile, REFERENCE 7.3): (pm, so2, nox, co, dust source)
PROFILES = {
    "hohhot": (1.00, 1.0, 1.2, 1.1, 0.0), "baotou": (1.10, 2.0, 1.2, 1.2, 0.3), "wuhai": (1.30, 3.0, 1.0, 1.4, 0.7),
    "chifeng": (0.85, 1.0, 0.9, 1.1, 0.0), "tongliao": (0.90, 1.1, 0.9, 1.1, 0.0), "ordos": (0.70, 1.5, 0.9, 0.9, 0.5),
    "hulunbuir": (0.75, 0.9, 0.6, 1.2, 0.0), "bayannur": (0.60, 0.8, 0.7, 0.8, 0.8),
    "ulanqab": (0.65, 1.2, 0.7, 0.9, 0.2), "hinggan": (0.55, 0.6, 0.5, 0.9, 0.0),
    "xilingol": (0.35, 0.8, 0.4, 0.6, 0.3), "alxa": (0.30, 0.9, 0.3, 0.5, 1.0),
    "tumed_left": (0.70, 0.9, 0.8, 0.9, 0.0), "togtoh": (0.90, 1.8, 0.8, 0.9, 0.0),
    "horinger": (0.60, 0.8, 0.7, 0.8, 0.0), "tumed_right": (0.80, 1.3, 0.7, 0.9, 0.1),
    "yuanbaoshan": (0.85, 1.6, 0.8, 1.0, 0.0), "ningcheng": (0.60, 0.8, 0.6, 0.9, 0.0),
    "jungar": (0.90, 2.0, 0.9, 1.0, 0.3), "dalad": (0.70, 1.4, 0.7, 0.8, 0.4), "urad_front": (0.60, 1.0, 0.6, 0.8, 0.7),
}
#: stations per area (assessment stations); background stations are added separately
STATION_COUNTS = {"hohhot": 8, "baotou": 7, "ordos": 6, "wuhai": 4, "chifeng": 5, "tongliao": 4, "hulunbuir": 3,
                  "bayannur": 3, "ulanqab": 3, "hinggan": 2, "xilingol": 2, "alxa": 2, "tumed_left": 1, "togtoh": 2,
                  "horinger": 1, "tumed_right": 1, "yuanbaoshan": 1, "ningcheng": 1, "jungar": 2, "dalad": 1,
                  "urad_front": 1}
BACKGROUND = ("xilingol", "alxa", "hulunbuir")
LONG_HEATING = ("hulunbuir", "hinggan", "xilingol")  # heating season starts earlier and ends later
#: Spring Festival (除夕 is the day before) and Lantern Festival dates
SPRING_FESTIVAL = ["2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17",
                   "2027-02-06", "2028-01-26"]
BASE_E_PM = 700.0  # µg m⁻² h⁻¹ of primary + precursor PM2.5 in the reference area (Hohhot) outside heating


def world_areas(seed: int) -> pd.DataFrame:
    """Area table with the simulator's emission parameters."""
    areas = load_areas()
    rng = np.random.default_rng([seed, 11])
    prof = np.array([PROFILES[a] for a in areas["area_id"]])
    jitter = np.exp(rng.normal(0, 0.05, len(areas)))
    areas["e_pm"] = BASE_E_PM * prof[:, 0] * jitter
    areas["e_so2"] = 2600.0 * prof[:, 1] * jitter
    areas["e_nox"] = 3800.0 * prof[:, 2] * jitter
    areas["e_co"] = 90000.0 * prof[:, 3] * jitter
    areas["dust_source"] = prof[:, 4]
    areas["box_km"] = np.where(areas["tier"] == "city", 60.0, 40.0)
    return areas


def world_stations(areas: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Monitoring stations with CNEMC-like codes, inside their area's boundary."""
    rng = np.random.default_rng([seed, 12])
    geoms = boundaries(areas)
    rows = []
    code = 1401
    for area in areas.itertuples():
        n = STATION_COUNTS[area.area_id]
        for k in range(n):
            spread = 0.06 if area.tier == "city" else 0.04
            for _ in range(100):
                lon = area.seat_lon + rng.normal(0, spread)
                lat = area.seat_lat + rng.normal(0, spread * 0.8)
                if geoms[area.area_id].contains(Point(lon, lat)):
                    break
            else:
                lon, lat = area.seat_lon, area.seat_lat
            kind = "industrial" if k == n - 1 and n >= 3 else "urban"
            name = f"{area.short_zh}{'工业园区' if kind == 'industrial' else '监测站'}{k + 1}"
            rows.append((f"{code}A", name, area.short_zh if area.tier == "city" else area.name_zh,
                         area.area_id, round(lon, 4), round(lat, 4), "N", kind))
            code += 1
    for area_id in BACKGROUND:
        area = areas.set_index("area_id").loc[area_id]
        point = geoms[area_id].representative_point()
        rows.append((f"{code}A", f"{area['short_zh']}背景站", area["short_zh"], area_id, round(point.x, 4),
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
    local = times_utc + pd.Timedelta(hours=8)
    doy = local.day_of_year.to_numpy()[:, None]
    month_day = (local.month * 100 + local.day).to_numpy()[:, None]
    long_heat = areas["area_id"].isin(LONG_HEATING).to_numpy()[None, :]
    in_season = np.where(long_heat, (month_day >= 1001) | (month_day <= 430),
                         (month_day >= 1015) | (month_day <= 415))
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
            start = day + pd.Timedelta(hours=19)
            mask = np.asarray((local >= start) & (local < start + pd.Timedelta(hours=8)))
            fireworks[mask] = 9000.0 * strength * (areas["tier"] == "city").to_numpy()
    spring = np.clip(np.cos(2 * np.pi * (doy - 105) / 365.25) * 3 - 2, 0, 1)
    dust_season = np.clip(spring * 1.2, 0, 1) + 0.08
    return {"heating": heating, "traffic": traffic, "fireworks": fireworks,
            "dust_season": np.broadcast_to(dust_season, heating.shape), "spring": np.broadcast_to(spring, heating.shape),
            "in_season": in_season}
