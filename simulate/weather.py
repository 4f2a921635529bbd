"""The demo world's synthetic but structured meteorology, shaped on Inner Mongolia and evaluable at any points and
times (the grids the simulator writes only sample it).

Structure (not noise): cold fronts sweep west → east every few days (longer gaps in winter), each followed by strong
north-westerly wind, cold dry air and a deep mixed layer; between fronts the air stagnates — weak southerly wind,
rising humidity, a shallower boundary layer and a growing inversion. Seasonal and diurnal cycles (cold winters,
deep summer boundary layers, shallow nocturnal and winter ones), a west–east terrain gradient (Alxa high, the east
low), precipitation at fronts (more in summer and in the east), plus smooth large-scale random modes.

A forecast run sees the same world through errors that grow with lead time: the synoptic clock is shifted (timing
error), the front/stagnation amplitudes are scaled (amplitude error), and the random modes decorrelate from the
truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import lfilter

FRONT_SPEED_DEG_PER_H = 0.5  # fronts cross 29° of longitude in about 2.5 days
REF_LON = 97.0
N_MODES = 6
VARIABLES = ("temp_air", "dewpoint", "wind_u", "wind_v", "pressure", "blh", "precip", "temp_850", "temp_925")


@dataclass
class Synoptic:
    """Front passages at the reference longitude: times [h since epoch], strengths, build-up depths."""

    fronts: np.ndarray
    strength: np.ndarray
    depth: np.ndarray
    wetness: np.ndarray

    def state(self, tau: np.ndarray, amp: float | np.ndarray = 1.0):
        """Front wind index W (0…~1.4) and stagnation index S (0…~1.3) at reference-clock hours ``tau``."""
        k = np.clip(np.searchsorted(self.fronts, tau, side="right") - 1, 0, len(self.fronts) - 2)
        since = tau - self.fronts[k]
        span = self.fronts[k + 1] - self.fronts[k]
        wind = self.strength[k] * np.exp(-np.clip(since, 0, None) / 20.0)
        stag = self.depth[k] * np.clip(since / span, 0, 1) ** 0.8
        precip = self.wetness[k] * np.exp(-0.5 * ((since - 4.0) / 6.0) ** 2)
        return wind * amp, np.clip(stag * amp, 0, 1.6), precip


def make_synoptic(start: pd.Timestamp, end: pd.Timestamp, rng: np.random.Generator) -> Synoptic:
    """Random front sequence covering [start - 10 d, end + 12 d]."""
    t = _hours(start - pd.Timedelta(days=10))
    stop = _hours(end + pd.Timedelta(days=12))
    fronts, strength, depth, wet = [], [], [], []
    while t < stop:
        doy = pd.Timestamp(t * 3600, unit="s").day_of_year
        winter = _winterness(doy)
        # winter: long quiet spells between fronts (mean ~6 d), summer: frequent weak systems (~3.5 d)
        gap = rng.gamma(4.0, (3.5 + 2.6 * max(winter, 0)) / 4.0) * 24
        fronts.append(t)
        strength.append(rng.uniform(0.6, 1.4) * (1.0 + 0.25 * _springness(doy)))
        depth.append(rng.uniform(0.5, 1.3) * (0.75 + 0.35 * max(winter, 0)))
        wet.append(rng.gamma(1.2, 0.5) * (0.25 + 0.75 * max(-winter, 0)) + 0.05)
        t += max(gap, 30.0)
    return Synoptic(np.array(fronts), np.array(strength), np.array(depth), np.array(wet))


def _hours(ts) -> float:
    return pd.Timestamp(ts).value / 3.6e12


def _winterness(doy):
    """+1 in mid-January, −1 in mid-July."""
    return np.cos(2 * np.pi * (np.asarray(doy) - 15) / 365.25)


def _springness(doy):
    """Peaks (1) in mid-April, 0 outside March–May."""
    return np.clip(np.cos(2 * np.pi * (np.asarray(doy) - 105) / 365.25) * 3 - 2, 0, 1)


def terrain_height(lon, lat):
    """Terrain-like surface height [m]: high plateau in the west, Yinshan/Da Hinggan ridges, low east."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = 250 + 1150 * np.clip((124 - lon) / 27, 0, 1)
    z += 500 * np.exp(-((lon - 111.5) ** 2 / 10 + (lat - 41.3) ** 2 / 0.6))  # Yinshan
    z += 600 * np.exp(-((lon - 120.5) ** 2 / 2 + (lat - 47.5) ** 2 / 12))  # Da Hinggan
    return z


class Weather:
    """The true meteorology of a simulated world (and its forecast views)."""

    def __init__(self, start, end, seed: int):
        self.start, self.end = pd.Timestamp(start), pd.Timestamp(end)
        rng = np.random.default_rng([seed, 101])
        self.synoptic = make_synoptic(self.start, self.end, rng)
        self.t0 = _hours(self.start - pd.Timedelta(days=12))
        n = int(_hours(self.end + pd.Timedelta(days=12)) - self.t0) + 2
        # smooth random modes: AR(1) coefficients, e-folding 2 days, for T, wind, humidity, BLH, precipitation
        phi = np.exp(-1 / 48.0)
        self.modes = {}
        for name in ("t", "w", "q", "h", "p"):
            shocks = rng.standard_normal((n, N_MODES)) * np.sqrt(1 - phi ** 2)
            shocks[0] = rng.standard_normal(N_MODES)  # stationary start
            self.modes[name] = lfilter([1.0], [1.0, -phi], shocks, axis=0)  # a[i] = phi a[i-1] + shock[i]
        self.kx = rng.integers(1, 4, N_MODES)
        self.ky = rng.integers(1, 3, N_MODES)
        self.px = rng.uniform(0, 2 * np.pi, N_MODES)
        self.py = rng.uniform(0, 2 * np.pi, N_MODES)
        self.run_rng_seed = seed

    # ------------------------------------------------------------------ helpers
    def _basis(self, lon, lat):
        x = (np.asarray(lon) - 97.0) / 29.0
        y = (np.asarray(lat) - 37.0) / 17.0
        return np.cos(np.pi * self.kx[:, None] * x[None] + self.px[:, None]) * \
            np.cos(np.pi * self.ky[:, None] * y[None] + self.py[:, None])  # (K, P)

    def _mode_field(self, name, hours, basis, blend=None):
        idx = np.clip((hours - self.t0).astype(int), 0, len(self.modes[name]) - 1)
        coef = self.modes[name][idx]  # (T, K)
        if blend is not None:
            rho, other = blend
            coef = rho[:, None] * coef + np.sqrt(1 - rho[:, None] ** 2) * other
        return coef @ basis / np.sqrt(N_MODES / 2)  # (T, P), unit variance

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, times, lon, lat, *, lead_hours=None, run_seed=None, precip_only: bool = False
                 ) -> dict[str, np.ndarray]:
        """Meteorology at points for UTC ``times``.

        Parameters
        ----------
        times : DatetimeIndex (UTC, naive)
        lon, lat : array (P,)
            Points. [degrees]
        lead_hours : array (T,), optional
            Forecast lead of each time: the forecast view with errors growing with lead; ``None`` is the truth.
        run_seed : int, optional
            Identifies the forecast run (its errors).
        precip_only : bool
            Compute only ``precip`` (for accumulations from hourly rates).

        Returns
        -------
        dict of (T, P) arrays
            ``temp_air`` [°C], ``dewpoint`` [°C], ``wind_u``/``wind_v`` [m s⁻¹], ``pressure`` [hPa], ``blh`` [m],
            ``precip`` [mm h⁻¹], ``temp_850``/``temp_925`` [°C].
        """
        times = pd.DatetimeIndex(times)
        lon = np.atleast_1d(np.asarray(lon, float))
        lat = np.atleast_1d(np.asarray(lat, float))
        hours = (pd.DatetimeIndex(times).as_unit("ns").asi8 / 3.6e12)[:, None]  # (T, 1)
        doy = times.day_of_year.to_numpy()[:, None]
        winter = _winterness(doy)
        spring = _springness(doy)
        lag = (lon[None, :] - REF_LON) / FRONT_SPEED_DEG_PER_H  # front arrives later further east
        tau = hours - lag
        amp = 1.0
        blend = {}
        if lead_hours is not None:
            lead = np.asarray(lead_hours, float)[:, None]
            rng = np.random.default_rng([self.run_rng_seed, 202, int(run_seed or 0)])
            timing = rng.standard_normal() * 0.12 * lead  # timing error [h], ~±20 h at day 7
            amp = 1.0 + rng.standard_normal() * 0.05 * (lead / 24.0) ** 0.8  # amplitude error
            amp = np.clip(amp, 0.3, 1.9)
            tau = tau + timing
            rho = np.exp(-lead[:, 0] / 72.0)
            for name in self.modes:
                blend[name] = (rho, rng.standard_normal((len(times), N_MODES)))
        wind_f, stag, wet = self.synoptic.state(tau, amp)
        basis = self._basis(lon, lat)

        def mode(name):
            return self._mode_field(name, hours[:, 0], basis, blend.get(name))

        east = np.clip((lon[None, :] - 100) / 24, 0, 1)
        precip = np.clip(wet * (0.3 + 0.9 * east) * (1 + 0.5 * mode("p")), 0, None)
        precip = np.where(precip < 0.05, 0.0, precip)
        if precip_only:
            return {"precip": precip}
        z = terrain_height(lon, lat)[None, :]
        local_hour = (hours % 24 + lon[None, :] / 15.0) % 24
        day = np.clip(np.cos(2 * np.pi * (local_hour - 13) / 24) * 1.25 - 0.15, 0, 1)  # daylight mixing 0..1
        winter_pos = np.clip(winter, 0, 1)

        temp = (7.0 - 0.95 * (lat[None, :] - 41) - 0.0045 * (z - 1000) - 16.0 * winter
                + (5.0 + 2.0 * winter_pos) * np.cos(2 * np.pi * (local_hour - 15) / 24)
                - 8.0 * wind_f + 2.5 * stag - 3.0 * stag * (1 - day) * winter_pos + 2.0 * mode("t"))
        inversion = (-3.5 + (7.0 * stag + 4.0 * (1 - day)) * (0.45 + 0.55 * winter_pos) - 4.0 * wind_f
                     - 3.0 * day * (1 - winter_pos) + 1.0 * mode("t") * 0.5)
        temp_925 = temp + inversion * 0.7 - 2.0
        temp_850 = temp + inversion - 0.0065 * np.clip(1500 - z, 0, None) * 0.4
        ws_front = 10.0 * wind_f * (1 + 0.3 * spring)
        ws_calm = np.clip(2.2 + 1.5 * day - 1.6 * stag + 0.6 * mode("w"), 0.3, None)
        # north-westerly behind fronts, south-westerly between them (direction the wind blows *to*)
        u = ws_front * np.sin(np.deg2rad(135)) + ws_calm * np.sin(np.deg2rad(30))
        v = ws_front * np.cos(np.deg2rad(135)) + ws_calm * np.cos(np.deg2rad(30))
        u = u + 0.8 * mode("w")
        v = v + 0.6 * mode("w") * 0.7
        bl_day = 650 + 1900 * (1 - winter) / 2
        bl_night = 120 + 180 * (1 - winter) / 2
        blh = (bl_night + (bl_day - bl_night) * day ** 1.3) * (1 - 0.5 * np.clip(stag, 0, 1.2)) * \
            (1 + 0.9 * wind_f) * np.exp(0.25 * mode("h"))
        blh = np.clip(blh, 40, 4000)
        summer = np.clip(-winter, 0, 1)
        rh = (42 + 14 * east + 14 * summer * east + 30 * stag * (0.5 + 0.5 * winter_pos) + 14 * (1 - day)
              - 25 * wind_f + 6 * mode("q"))
        rh = np.clip(rh, 8, 98)
        dew = dewpoint_from_rh(temp, rh)
        pressure = 1013.25 * np.exp(-z / 8400.0) + 6.0 * stag * winter_pos - 5.0 * wind_f + 2.0 * mode("t") * 0.5
        return {"temp_air": temp, "dewpoint": dew, "wind_u": u, "wind_v": v, "pressure": pressure, "blh": blh,
                "precip": precip, "temp_850": temp_850, "temp_925": temp_925}


def dewpoint_from_rh(temp_air, rh):
    """Dew point from temperature [°C] and relative humidity [%] (Magnus, Alduchov & Eskridge 1996). [°C]"""
    a, b = 17.625, 243.04
    gamma = np.log(np.clip(rh, 1e-3, 100) / 100.0) + a * temp_air / (b + temp_air)
    return b * gamma / (a - gamma)
