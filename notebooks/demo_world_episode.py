"""A winter episode in the demo world: BLH and 10-m wind maps from the GRIB analyses before and at the peak, and the
daily AQI of a few cities from the CNEMC archive (with the simulated authorities' warnings).

    python notebooks/demo_world_episode.py DATA_DIR OUT_DIR

Writes ``episode_maps.png`` and ``episode_aqi.png`` (used in the README).
"""
from __future__ import annotations

import sys
from pathlib import Path

import cfgrib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forecast.areas import boundaries, load_areas  # noqa: E402
from forecast.history import build_history  # noqa: E402
from forecast.averaging import area_daily  # noqa: E402

CITIES = ["hohhot", "baotou", "wuhai", "chifeng"]


def main(data: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    truth = pd.read_csv(data / "truth" / "area_daily.csv", parse_dates=["date"])
    from simulate.world import SPRING_FESTIVAL

    spring = pd.DatetimeIndex(SPRING_FESTIVAL)
    festival = spring.append(spring + pd.Timedelta(days=14))  # fireworks nights: Spring and Lantern Festival
    near_festival = truth["date"].apply(lambda d: np.min(np.abs((festival - d).days)) <= 2)
    winter = truth[(truth["area_id"] == "hohhot") & truth["date"].dt.month.isin([11, 12, 1, 2]) & ~near_festival]
    peak = winter.loc[winter["aqi_actual"].idxmax(), "date"]
    before = peak - pd.Timedelta(days=4)
    history, sites, _ = build_history(data, progress=False)
    daily = area_daily(history, sites)
    daily = daily[(daily["date"] >= peak - pd.Timedelta(days=12)) & (daily["date"] <= peak + pd.Timedelta(days=8))]
    warnings = pd.read_csv(data / "truth" / "warnings.csv", parse_dates=["date"])
    areas = load_areas()
    geoms = boundaries(areas[areas["tier"] == "city"])

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    for ax, day in zip(axes, (before, peak)):
        time = day + pd.Timedelta(hours=6)  # 06 UTC = 14 CST, the afternoon of the day
        path = data / "meteorology" / "analysis" / f"era5_sfc_{time:%Y%m}.grib2"
        fields = {v: ds[v] for ds in cfgrib.open_datasets(str(path), backend_kwargs={"indexpath": ""})
                  for v in ds.data_vars}
        t = pd.Timestamp(time).floor("6h")
        blh = fields["blh"].sel(time=t)
        mesh = ax.pcolormesh(blh["longitude"], blh["latitude"], blh, cmap="viridis", vmin=0, vmax=1500,
                             shading="auto")
        u, v = fields["u10"].sel(time=t), fields["v10"].sel(time=t)
        sl = slice(None, None, 6)
        ax.quiver(u["longitude"][sl], u["latitude"][sl], u.values[sl, sl], v.values[sl, sl], color="white",
                  scale=150)
        for geom in geoms.values():
            for poly in getattr(geom, "geoms", [geom]):
                x, y = poly.exterior.xy
                ax.plot(x, y, color="black", lw=0.5)
        ax.set_title(f"BLH [m] and 10-m wind, {t:%Y-%m-%d %H} UTC")
        ax.set_xlim(97, 126)
        ax.set_ylim(37, 54)
    fig.colorbar(mesh, ax=axes, label="boundary-layer height [m]")
    fig.savefig(out / "episode_maps.png", dpi=80)

    fig, ax = plt.subplots(figsize=(11, 4), constrained_layout=True)
    for city in CITIES:
        d = daily[daily["area_id"] == city]
        ax.plot(d["date"], d["aqi"], marker="o", ms=3, label=areas.set_index("area_id").loc[city, "name_en"])
        w = warnings[(warnings["area_id"] == city) & warnings["date"].between(d["date"].min(), d["date"].max())]
        for row in w.itertuples():
            ax.axvspan(row.date - pd.Timedelta(hours=12), row.date + pd.Timedelta(hours=12),
                       color={"yellow": "gold", "orange": "darkorange", "red": "red"}[row.level], alpha=0.06)
    for level in (150, 200, 300):
        ax.axhline(level, color="grey", lw=0.6, ls="--")
    ax.set_ylabel("daily AQI (HJ 633)")
    ax.set_title("Daily AQI from the station archive; shading: warnings in force (simulated authorities)")
    ax.legend()
    fig.savefig(out / "episode_aqi.png", dpi=80)
    print(f"peak day {peak.date()}, figures in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
