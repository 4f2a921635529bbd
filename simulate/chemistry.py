"""The demo world's chemistry, a box model of each area's air: emissions into the mixed layer, ventilation with
upwind inflow, secondary formation at high humidity, wet removal, dust uplift in spring, and emission cuts during
warnings.

Per area a (one box of horizontal size L_a), per hour:

    dC/dt = E(t) (1 − cut) / H + (U / L) (C_in − C) + k_sec g(RH) C − (k_dep + k_wet P) C

with H the boundary-layer height [m] (a growing layer dilutes the box: C ← C H_prev / H), U the wind speed, C_in
the background plus the upwind areas' concentrations weighted by how well the wind points from them, and
g(RH) = max(0, RH − 55) / 35. Dust (PM10, 20 % of it PM2.5) is lifted in source areas when the wind exceeds
6.5 m s⁻¹ on dry spring days and mixes over at least 1000 m.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def upwind_weights(lon, lat, wind_u, wind_v, max_km: float = 700.0):
    """Inflow weights (T, A, A): row a is how much air reaching area a comes from each other area b."""
    x = np.asarray(lon) * 111.0 * np.cos(np.deg2rad(42))
    y = np.asarray(lat) * 111.0
    dx = x[None, :] - x[:, None]  # vector a -> b
    dy = y[None, :] - y[:, None]
    dist = np.hypot(dx, dy)
    np.fill_diagonal(dist, np.inf)
    ux, uy = dx / dist, dy / dist  # unit vector from a towards b
    speed = np.hypot(wind_u, wind_v)[:, :, None] + 1e-6
    # air at a comes from b when the wind blows from b to a, i.e. wind vector opposite to (a -> b)
    align = -(wind_u[:, :, None] * ux[None] + wind_v[:, :, None] * uy[None]) / speed
    w = np.clip(align, 0, None) ** 2 * np.exp(-dist[None] / 250.0) * (dist[None] < max_km)
    total = w.sum(axis=2, keepdims=True)
    return np.where(total > 0, w / np.maximum(total, 1e-12), 0.0), np.clip(total[..., 0], 0, 1)


def run_box_model(met: dict, areas: pd.DataFrame, calendar: dict, cuts: np.ndarray, rng_seed: int) -> dict:
    """Integrate the box model hourly.

    Parameters
    ----------
    met : dict of (T, A) arrays
        Hourly area meteorology (``temp_air``, ``rh``, ``wind_u``, ``wind_v``, ``blh``, ``precip``,
        ``day`` daylight factor).
    areas : DataFrame
        One row per area with emission strengths ``e_pm``, ``e_so2``, ``e_nox``, ``e_co`` [µg m⁻² h⁻¹],
        ``dust_source`` (0…1), ``box_km``, ``seat_lon``, ``seat_lat``.
    calendar : dict of (T, A) arrays
        Emission multipliers ``heating``, ``traffic`` and additive ``fireworks`` [µg m⁻² h⁻¹].
    cuts : (T, A) array
        Emission-cut share in force (0…1).

    Returns
    -------
    dict of (T, A) arrays
        Hourly concentrations per species [µg m⁻³; mg m⁻³ for CO] and ``pm10_dust``.
    """
    rng = np.random.default_rng([rng_seed, 303])
    T, A = met["blh"].shape
    ws = np.hypot(met["wind_u"], met["wind_v"])
    weights, reach = upwind_weights(areas["seat_lon"].to_numpy(), areas["seat_lat"].to_numpy(),
                                    met["wind_u"], met["wind_v"])
    box_m = areas["box_km"].to_numpy() * 1000.0
    e_pm = areas["e_pm"].to_numpy()
    e_so2 = areas["e_so2"].to_numpy()
    e_nox = areas["e_nox"].to_numpy()
    e_co = areas["e_co"].to_numpy()
    dust_src = areas["dust_source"].to_numpy()
    pm = np.full(A, 20.0)
    dust = np.zeros(A)
    so2 = np.full(A, 10.0)
    no2 = np.full(A, 20.0)
    co = np.full(A, 500.0)
    prev_h = met["blh"][0].copy()
    out = {k: np.empty((T, A)) for k in ("pm25_anthro", "pm10_dust", "so2", "no2", "co")}
    month_noise = np.exp(rng.normal(0, 0.08, (T // 24 + 2, A)))  # day-to-day emission variability
    for t in range(T):
        h = np.maximum(met["blh"][t], 40.0)
        grow = np.clip(prev_h / h, 0.0, 1.0)  # entrainment of cleaner air when the layer deepens
        prev_h = h
        k_vent = np.clip(ws[t] * 3600.0 / box_m, 0.01, 0.9)
        rh = met["rh"][t]
        g = np.clip((rh - 55.0) / 35.0, 0, 1.3)
        wet = np.clip(0.35 * met["precip"][t], 0, 0.8)
        cut = 1.0 - cuts[t]
        noise = month_noise[t // 24]
        heat, traffic = calendar["heating"][t], calendar["traffic"][t]
        inflow_pm = 12.0 + 0.75 * reach[t] * (weights[t] @ pm)
        e = (e_pm * heat * noise * cut + calendar["fireworks"][t]) / h
        pm = pm * grow + e + k_vent * (inflow_pm - pm) + 0.04 * g * pm - (0.004 + wet) * pm
        pm = np.maximum(pm, 1.0)
        # dust: uplift at strong wind in dry spring conditions, deep mixing
        uplift = dust_src * calendar["dust_season"][t] * np.clip(ws[t] - 6.5, 0, None) ** 3 * \
            (met["precip"][t] < 0.05) * 9000.0
        inflow_dust = 0.8 * reach[t] * (weights[t] @ dust)
        dust = dust + uplift / np.maximum(h, 1000.0) + k_vent * (inflow_dust - dust) - (0.05 + wet) * dust
        dust = np.maximum(dust, 0.0)
        so2 = so2 * grow + e_so2 * heat * noise * cut / h + k_vent * (4.0 + 0.5 * reach[t] * (weights[t] @ so2) - so2) \
            - (0.015 + 0.01 * g + wet * 0.5) * so2
        no2 = no2 * grow + e_nox * traffic * noise * cut / h + k_vent * (6.0 + 0.4 * reach[t] * (weights[t] @ no2) - no2) \
            - (0.01 + 0.12 * met["day"][t]) * no2
        co = co * grow + e_co * heat * noise * cut / h + k_vent * (350.0 + 0.5 * reach[t] * (weights[t] @ co) - co) \
            - 0.002 * co
        so2, no2, co = np.maximum(so2, 1.0), np.maximum(no2, 2.0), np.maximum(co, 150.0)
        out["pm25_anthro"][t] = pm
        out["pm10_dust"][t] = dust
        out["so2"][t] = so2
        out["no2"][t] = no2
        out["co"][t] = co
    # O3: background + daytime photochemistry in warm sunny weather − titration by NO2
    warm = np.clip((met["temp_air"] - 5.0) / 20.0, 0, 1.5)
    o3 = 55.0 + 20.0 * calendar["spring"] + 105.0 * met["day_lag"] * warm - 0.55 * out["no2"] \
        - 15.0 * np.clip((met["rh"] - 70) / 30, 0, 1)
    o3 = np.clip(o3, 2.0, None)
    return {"pm25": out["pm25_anthro"] + 0.2 * out["pm10_dust"],
            "pm10": out["pm25_anthro"] * 1.45 + out["pm10_dust"],
            "pm10_dust": out["pm10_dust"], "so2": out["so2"], "no2": out["no2"], "co": out["co"] / 1000.0, "o3": o3}
