"""The demo world: a physically coupled simulation of the areas lantian serves, written as real GRIB2 and CNEMC
files, with the truth that real data never has.

This package sits above both library packages: it may import :mod:`forecast` and :mod:`response`, and neither
imports it. It decides nothing the library owns: days, China Standard Time, HJ 663 averaging, the AQI, the dust-day
test, humidity and the warning rule set in force come from :mod:`forecast`. The areas are whatever area table it
is given (default the shipped Inner Mongolia table, :func:`forecast.areas.load_areas`); the simulator's own
fictional parameters are in ``simulate/data`` (:mod:`.world`).

``simulate(out, seed=…, start=…, end=…)`` writes::

    out/meteorology/analysis/era5_sfc_YYYYMM.grib2, era5_pl_YYYYMM.grib2   6-hourly analyses (0.25°)
    out/meteorology/forecast/YYYYMMDD00/ifs_YYYYMMDD00.grib2              00 UTC runs, steps 0–168 h (0.5°)
    out/stations/sites.csv, china_sites_YYYYMMDD.csv                       CNEMC station list and hourly archive
    out/truth/…                                                            what only the simulator knows
    out/README.md

``out`` must be a new or empty folder, or a demo world ``simulate`` wrote before (its ``README.md`` starts with
:data:`forecast.workspace.DEMO_WORLD_MARKER`; a world left unfinished carries :data:`IN_PROGRESS`): any other
folder with files in it is refused before anything is written (:func:`check_out_folder`), so a user's data folder
is never overwritten.

The pollution responds to the meteorology through the box model of :mod:`.chemistry`; the simulated authorities
issue warnings by the official grading (:mod:`forecast.levels`) applied to a simple forecast, the warned areas'
emissions drop by the level's share, and ``truth/`` keeps the concentrations that would have occurred without the
cuts.
"""
from __future__ import annotations

import json
import multiprocessing as mp
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import areas as _areas
from forecast import levels as _levels
from forecast import workspace as _workspace
from forecast.aqi import DAILY_KEYS, aqi as aqi_of_table, dust_dominated
from forecast.averaging import daily_max_8h, daily_mean
from forecast.drivers import relative_humidity
from forecast.nomenclature import CST_OFFSET, HEAVY_AQI, SPECIES, DateError, cst_day, parse_day, utc_to_cst
from forecast.progress import bar as progress_bar
from forecast.region import load_region
from response.episodes import DECISION_FORECASTS, ISSUED_WARNINGS

from .chemistry import run_box_model
from .cnemc import cnemc_derived, write_cnemc
from .grib import Grid, GribWriter
from .registry import write_registry
from .weather import Weather
from .world import area_boundaries, calendar, grid_extent, world_areas, world_stations

#: grid spacing of the analyses (as ERA5) and of the forecast runs [degrees]
ANALYSIS_STEP = 0.25
FORECAST_STEP = 0.5
FORECAST_STEPS = tuple(range(0, 73, 6)) + tuple(range(84, 169, 12))
SPINUP_DAYS = 6
AUTHORITY_ERROR = (0.15, 0.22, 0.30)  # lognormal σ of the authorities' simple forecast for days 1–3
#: written into ``out`` before the first file of a world and removed when its README.md (the mark of a complete
#: world) is written: a folder holding it is a world ``simulate`` left unfinished, which a new run may overwrite
IN_PROGRESS = ".lantian-simulating"
#: what a folder may hold besides a world and still count as empty: the workspace lantian keeps beside the data
#: (:func:`forecast.workspace.cache_dir`), which ``simulate`` never writes to
_IGNORED = (".lantian",)


class SimulationError(ValueError):
    """Invalid simulation settings."""


# --------------------------------------------------------------------------------------------------- helpers
def _met_at(weather: Weather, times, lon, lat, **kw):
    m = weather.evaluate(times, lon, lat, **kw)
    m["rh"] = relative_humidity(m["temp_air"], m["dewpoint"])
    return m


def daily_aqi_table(conc: dict, times_utc) -> dict:
    """Daily concentrations, AQI and the dust-dominated flag per area from hourly area concentrations.

    The hourly values at ``times_utc`` are the hours ending then; days are CST natural days with the HJ 663 rules of
    :func:`forecast.averaging.daily_mean` and :func:`forecast.averaging.daily_max_8h`, the AQI is
    :func:`forecast.aqi.aqi` and the dust flag :func:`forecast.aqi.dust_dominated`.
    """
    end_times = utc_to_cst(times_utc)
    days, pm25 = daily_mean(conc["pm25"], end_times)
    out = {"date": days, "pm25_24h": pm25}
    for sp in ("pm10", "so2", "no2", "co"):
        out[f"{sp}_24h"] = daily_mean(conc[sp], end_times)[1]
    out["o3_8h"] = daily_max_8h(conc["o3"], end_times)[1]
    A = pm25.shape[1]
    flat = pd.DataFrame({k: out[k].ravel() for k in DAILY_KEYS})
    table = aqi_of_table(flat)
    out["aqi"] = table["aqi"].to_numpy().reshape(-1, A)
    out["iaqi_pm25"] = table["iaqi_pm25_24h"].to_numpy().reshape(-1, A)
    out["dust"] = dust_dominated(flat.assign(aqi=table["aqi"].to_numpy())).to_numpy().reshape(-1, A)
    return out


# --------------------------------------------------------------------------------------------------- authorities
def simulate_authorities(cf_daily: dict, areas: pd.DataFrame, rng: np.random.Generator,
                         record: list | None = None, rules_path=None) -> pd.DataFrame:
    """Warnings the simulated authorities issue: every day d they forecast days d+1…d+3 as the no-cut AQI with a
    lognormal error, grade it with the rule set in force (dust days count only their PM2.5 sub-index), and the
    level in force on day x is the highest of the warnings issued on x−1 and x−2 that cover x (≥ 24 h lead).

    Returns one row per area and day with ``level`` and ``issued`` (issue date of the governing warning).
    ``record``: a list that receives every forecast the decisions were based on, as ``(area_id, issue_date,
    target_date, lead_day, aqi)`` — the consultation's forecast archive, which a real evaluation also has.
    ``rules_path``: the region's rules (:attr:`forecast.region.Region.rules_path`; default the shipped ones).
    """
    days = cf_daily["date"]
    n_days, n_areas = cf_daily["aqi"].shape
    basis = np.where(cf_daily["dust"], cf_daily["iaqi_pm25"], cf_daily["aqi"])
    cover = np.zeros((n_days, n_areas), dtype=int)
    issued = np.full((n_days, n_areas), -1)
    for d in range(n_days - 1):
        rules = _levels.rules_in_force(days[d], rules_path)
        horizon = np.arange(d + 1, min(d + 4, n_days))
        err = np.exp(rng.normal(0, AUTHORITY_ERROR[: len(horizon)], (n_areas, len(horizon))))
        for a in range(n_areas):
            fc = basis[horizon, a] * err[a]
            if record is not None:
                record.extend((areas["area_id"].iat[a], days[d], days[x], int(x - d), round(float(v), 1))
                              for x, v in zip(horizon, fc) if np.isfinite(v))
            if np.all(np.isnan(fc)):
                continue
            g = _levels.grade(np.nan_to_num(fc, nan=0.0), rules=rules, path=rules_path)
            if g.level == "none":
                continue
            rank = _levels.LEVEL_RANK[g.level]
            for x in horizon[g.start:g.stop]:
                if x - d <= 2 and rank >= cover[x, a]:
                    cover[x, a] = rank
                    issued[x, a] = d
    rows = []
    for a, area in enumerate(areas["area_id"]):
        for x in np.flatnonzero(cover[:, a]):
            level = _levels.LEVELS[cover[x, a]]
            rows.append((area, days[x], level, days[issued[x, a]],
                         _levels.reduction_share(level, _levels.rules_in_force(days[x], rules_path))))
    return pd.DataFrame(rows, columns=["area_id", "date", "level", "issued", "cut_share"])


def write_decision_forecasts(out: Path, rows: list) -> Path:
    """The forecasts the simulated authorities decided on (the consultation's archive; not part of the truth), at
    the place the library reads them (:data:`response.episodes.DECISION_FORECASTS`)."""
    path = Path(out) / DECISION_FORECASTS
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["area_id", "issue_date", "target_date", "lead_day", "aqi"])
    frame.to_csv(path, index=False)
    return path


def _cut_matrix(warnings: pd.DataFrame, areas: pd.DataFrame, times_utc) -> np.ndarray:
    cuts = np.zeros((len(times_utc), len(areas)))
    local_day = cst_day(times_utc)
    col = {a: i for i, a in enumerate(areas["area_id"])}
    for row in warnings.itertuples():
        mask = np.asarray(local_day == row.date)
        cuts[mask, col[row.area_id]] = row.cut_share
    return cuts


# --------------------------------------------------------------------------------------------------- stations
def station_hourly(actual: dict, stations: pd.DataFrame, areas: pd.DataFrame, rng) -> dict:
    """Station values: the area's concentration × a station factor × noise, with missing hours, outages,
    a stuck sensor and a few broken values (so QC has something to find)."""
    col = {a: i for i, a in enumerate(areas["area_id"])}
    idx = stations["area_id"].map(col).to_numpy()
    T, S = actual["pm25"].shape[0], len(stations)
    out = {}
    factor = stations["factor"].to_numpy()
    for sp in SPECIES:
        base = actual[sp][:, idx]
        f = factor if sp != "o3" else np.where(stations["kind"] == "background", 1.1, 1.0)
        noisy = base * f * np.exp(rng.normal(0, 0.08, (T, S))) + rng.normal(0, 0.5 if sp != "co" else 0.01, (T, S))
        out[sp] = np.clip(noisy, 0.0 if sp != "co" else 0.05, None)
    out["pm10"] = np.maximum(out["pm10"], out["pm25"] * 1.02)
    missing = rng.random((T, S)) < 0.015
    for s in range(S):  # outages of 1–4 days
        for _ in range(rng.integers(0, 3)):
            start = rng.integers(0, max(1, T - 96))
            missing[start:start + rng.integers(24, 97), s] = True
    for sp in out:
        out[sp][missing] = np.nan
    # one stuck PM2.5 sensor for 30 h, a few broken values
    s = rng.integers(0, S)
    t0 = rng.integers(0, max(1, T - 40))
    out["pm25"][t0:t0 + 30, s] = np.round(out["pm25"][t0, s]) if np.isfinite(out["pm25"][t0, s]) else 55.0
    for _ in range(3):
        out["no2"][rng.integers(0, T), rng.integers(0, S)] = -5.0
    out["pm10"][rng.integers(0, T), rng.integers(0, S)] = 99999.0
    return out


# --------------------------------------------------------------------------------------------------- GRIB
def _to_ecmwf(m: dict) -> dict:
    """Nomenclature → ECMWF short names and units (K, Pa, m); ``tp`` is accumulated separately."""
    return {"2t": m["temp_air"] + 273.15, "2d": m["dewpoint"] + 273.15, "10u": m["wind_u"], "10v": m["wind_v"],
            "sp": m["pressure"] * 100.0, "blh": m["blh"], "t850": m["temp_850"] + 273.15,
            "t925": m["temp_925"] + 273.15}


def _grid_points(grid: Grid):
    lon2, lat2 = np.meshgrid(grid.lon, grid.lat)
    return lon2.ravel(), lat2.ravel()


@lru_cache(maxsize=2)
def _weather(start, end, seed) -> Weather:
    """One Weather per worker process (building it draws the whole noise sequence)."""
    return Weather(start, end, seed)


def _write_analysis_month(args):
    seed, start, end, month, directory, grid = args
    weather = _weather(start, end, seed)
    lon, lat = _grid_points(grid)
    shape = grid.shape
    m0 = pd.Timestamp(month)
    times = pd.date_range(max(m0, pd.Timestamp(start)), min(m0 + pd.offsets.MonthEnd(0) + pd.Timedelta(hours=18),
                                                                 pd.Timestamp(end) + pd.Timedelta(hours=18)), freq="6h")
    if len(times) == 0:
        return 0
    n = 0
    with open(directory / f"era5_sfc_{m0:%Y%m}.grib2", "wb") as fs, open(directory / f"era5_pl_{m0:%Y%m}.grib2", "wb") as fp:
        ws, wp = GribWriter(fs, grid), GribWriter(fp, grid)
        for chunk in np.array_split(np.arange(len(times)), max(1, len(times) // 16)):
            tt = times[chunk]
            m = weather.evaluate(tt, lon, lat)
            ec = _to_ecmwf(m)
            # tp: accumulation over the 6 h ending at each analysis time, from hourly rates
            hh = pd.date_range(tt[0] - pd.Timedelta(hours=5), tt[-1], freq="h")
            pr = weather.evaluate(hh, lon, lat, precip_only=True)["precip"]
            pos = np.searchsorted(hh, tt)
            for i, t in enumerate(tt):
                for name in ("2t", "2d", "10u", "10v", "sp", "blh"):
                    ws.write(name, ec[name][i].reshape(shape), time=t)
                tp = pr[pos[i] - 5:pos[i] + 1].sum(axis=0) / 1000.0
                ws.write("tp", tp.reshape(shape), time=t - pd.Timedelta(hours=6), step=6, start_step=0)
                wp.write("t", ec["t850"][i].reshape(shape), time=t, level=850)
                wp.write("t", ec["t925"][i].reshape(shape), time=t, level=925)
                n += 10
        ws.close()
        wp.close()
    return n


def _write_forecast_run(args):
    seed, start, end, init, directory, grid = args
    weather = _weather(start, end, seed)
    lon, lat = _grid_points(grid)
    shape = grid.shape
    init = pd.Timestamp(init)
    run_dir = directory / f"{init:%Y%m%d%H}"
    run_dir.mkdir(parents=True, exist_ok=True)
    steps = np.array(FORECAST_STEPS)
    valid = init + pd.to_timedelta(steps, unit="h")
    run_seed = int(init.value // 3_600_000_000_000)
    m = weather.evaluate(valid, lon, lat, lead_hours=steps, run_seed=run_seed)
    ec = _to_ecmwf(m)
    hourly = init + pd.to_timedelta(np.arange(0, steps[-1] + 1), unit="h")
    pr = weather.evaluate(hourly, lon, lat, lead_hours=np.arange(0, steps[-1] + 1), run_seed=run_seed,
                          precip_only=True)["precip"]
    acc = np.concatenate([np.zeros((1, pr.shape[1])), np.cumsum(pr[1:], axis=0)]) / 1000.0
    with open(run_dir / f"ifs_{init:%Y%m%d%H}.grib2", "wb") as fh:
        w = GribWriter(fh, grid)
        for i, step in enumerate(steps):
            for name in ("2t", "2d", "10u", "10v", "sp", "blh"):
                w.write(name, ec[name][i].reshape(shape), time=init, step=int(step))
            w.write("tp", acc[step].reshape(shape), time=init, step=int(step), start_step=0)
            w.write("t", ec["t850"][i].reshape(shape), time=init, step=int(step), level=850)
            w.write("t", ec["t925"][i].reshape(shape), time=init, step=int(step), level=925)
        w.close()
    return len(steps) * 9


# --------------------------------------------------------------------------------------------------- orchestrator
def check_out_folder(out) -> Path:
    """``out`` as a :class:`~pathlib.Path` when ``simulate`` may write a world there, else :class:`SimulationError`.

    Allowed: a folder that does not exist, an empty one (a workspace ``.lantian`` in it does not count), or a demo
    world written by ``simulate`` (complete: README.md starting with :data:`forecast.workspace.DEMO_WORLD_MARKER`;
    unfinished: :data:`IN_PROGRESS`). Nothing is written or changed here.

    Raises
    ------
    SimulationError
        ``out`` is a file, or a folder with other files in it (the error names the folder and what it holds).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SimulationError(f"{out}: exists and is not a folder; give a new or empty folder for the demo world")
    if not out.is_dir():
        return out
    held = sorted(p.name for p in out.iterdir() if p.name not in _IGNORED)
    if not held or _workspace.is_demo_world(out) or (out / IN_PROGRESS).is_file():
        return out
    shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
    raise SimulationError(f"{out}: the folder is not empty ({shown}) and is not a lantian demo world; nothing was "
                          "changed. A demo world is written only into a new or empty folder, or over one lantian "
                          "simulated before: choose another --out")


def forecast_init_days(start, end, which: str) -> pd.DatetimeIndex:
    """Days with a 00 UTC forecast run: ``all`` days, ``heating`` (Oct–Apr) or ``none``."""
    days = pd.date_range(start, end, freq="D")
    if which == "all":
        return days
    if which == "heating":
        return days[(days.month >= 10) | (days.month <= 4)]
    if which == "none":
        return days[:0]
    raise SimulationError(f"unknown forecast-run selection {which!r}; allowed: all, heating, none")


def simulate(out, *, seed: int = 7, start="2022-10-01", end="2025-03-31", forecasts: str = "heating",
             progress=True, workers: int = 2, analysis_step: float = ANALYSIS_STEP,
             areas: pd.DataFrame | str | Path | None = None, boundaries: dict | None = None,
             profiles: pd.DataFrame | None = None, region_folder: str | Path | None = None) -> dict:
    """Simulate the demo world and write it to ``out`` (see module docstring). Returns a summary dict.

    Parameters
    ----------
    out : path-like
        Output directory.
    seed : int
        The world's random seed (the same seed and settings write identical files).
    start, end : date-like
        First and last CST day (at least 14 days apart).
    forecasts : str
        Days with a forecast run: ``all``, ``heating`` (Oct–Apr) or ``none``.
    progress : bool
        Show a progress bar.
    workers : int
        Processes writing GRIB.
    analysis_step : float
        Grid spacing of the analyses (0.25 as ERA5; a coarser grid makes long test worlds cheap — the weather is
        the same field, sampled more coarsely). [degrees]
    areas : DataFrame or path-like, optional
        The area table the world is built for (columns ``area_id, name_zh, short_zh, tier, seat_lon, seat_lat``;
        ``gb`` for the default boundaries), or the path of one (read with :func:`forecast.areas.load_areas`).
        Default the shipped table.
    boundaries : dict, optional
        ``area_id`` → shapely polygon [lon/lat degrees]; default :func:`forecast.areas.boundaries` of the areas
        that have one. Areas without a polygon get their stations at the seat.
    profiles : DataFrame, optional
        Per-area emission profiles and station counts (:func:`simulate.world.load_profiles`); default the
        simulator's own ``simulate/data/profiles.csv``. Areas not listed take their tier's defaults.
    region_folder : path-like, optional
        A region folder (:mod:`forecast.region`) the world is built for: its files are copied to ``out/region/`` so
        that every later command on ``out`` uses the same region.

    The grids of the analyses and forecast runs cover the areas (:func:`simulate.world.grid_extent`; the shipped
    table gives 97–126°E, 37–54°N).

    Raises
    ------
    SimulationError
        Bad period, forecast-run selection or grid spacing; ``out`` is a folder with other files in it
        (:func:`check_out_folder`: refused before anything is written).
    forecast.areas.AreaError
        An area table or profiles the world cannot be built from.
    """
    try:
        start, end = parse_day(start, "start"), parse_day(end, "end")
    except DateError as exc:
        raise SimulationError(str(exc)) from None
    if end <= start:
        raise SimulationError(f"end {end.date()} must be after start {start.date()}")
    if (end - start).days < 14:
        raise SimulationError(f"period {start.date()}–{end.date()} is shorter than 14 days")
    if not 0.1 <= analysis_step <= 2.0:
        raise SimulationError(f"analysis_step {analysis_step}° outside the allowed 0.1–2.0°")
    out = check_out_folder(out)
    init_days = forecast_init_days(start, end, forecasts)
    if areas is None or isinstance(areas, (str, Path)):
        areas = _areas.load_areas(areas)
    areas = world_areas(areas, seed, profiles)
    geoms = area_boundaries(areas, boundaries)
    extent = grid_extent(areas, geoms)
    grid, forecast_grid = Grid(step=analysis_step, **extent), Grid(step=FORECAST_STEP, **extent)
    bar = progress_bar(progress, 4 + len(pd.date_range(start, end, freq="MS")) + len(init_days), "simulating")
    rng = np.random.default_rng([seed, 1])
    weather = Weather(start, end, seed)
    stations = world_stations(areas, geoms, seed)
    # hourly UTC times, hour-ending: from CST day start − SPINUP_DAYS 00:00 to CST day end + 1 00:00
    times = pd.date_range(start - pd.Timedelta(days=SPINUP_DAYS) - CST_OFFSET, end + pd.Timedelta(days=1) - CST_OFFSET,
                          freq="h")
    met = _met_at(weather, times, areas["seat_lon"].to_numpy(), areas["seat_lat"].to_numpy())
    # local solar time at the seat [h]
    local_hour = utc_to_cst(times).hour.to_numpy()[:, None] + areas["seat_lon"].to_numpy()[None] / 15 - \
        CST_OFFSET / pd.Timedelta(hours=1)
    met["day"] = np.clip(np.cos(2 * np.pi * (local_hour - 13) / 24) * 1.25 - 0.15, 0, 1)
    met["day_lag"] = np.clip(np.cos(2 * np.pi * (local_hour - 15) / 24) * 1.25 - 0.15, 0, 1)
    cal = calendar(times, areas, met["temp_air"])
    bar.update(1)
    counterfactual = run_box_model(met, areas, cal, np.zeros_like(met["blh"]), seed)
    cf_daily = daily_aqi_table(counterfactual, times)
    keep = (cf_daily["date"] >= start) & (cf_daily["date"] <= end)
    cf_daily = {k: v[keep] for k, v in cf_daily.items()}
    decision_fc: list = []
    rules_path = load_region(region_folder).rules_path if region_folder is not None else None
    warnings = simulate_authorities(cf_daily, areas, rng, record=decision_fc, rules_path=rules_path)
    cuts = _cut_matrix(warnings, areas, times)
    actual = run_box_model(met, areas, cal, cuts, seed)
    act_daily = daily_aqi_table(actual, times)
    keep = (act_daily["date"] >= start) & (act_daily["date"] <= end)
    act_daily = {k: v[keep] for k, v in act_daily.items()}
    bar.update(1)

    # stations (the folder is checked again: another process may have written to it since)
    check_out_folder(out).mkdir(parents=True, exist_ok=True)
    (out / IN_PROGRESS).write_text("a lantian demo world being written (simulate/__init__.py)\n", encoding="utf-8")
    sdir = out / "stations"
    sdir.mkdir(parents=True, exist_ok=True)
    st_values = station_hourly(actual, stations, areas, rng)
    derived = cnemc_derived(st_values)
    write_cnemc(sdir, derived, times, stations["station"].tolist(), start, end)
    sites = stations.rename(columns={"station": "监测点编码", "station_name": "监测点名称", "city": "城市",
                                     "lon": "经度", "lat": "纬度", "background": "对照点"})
    sites[["监测点编码", "监测点名称", "城市", "经度", "纬度", "对照点"]].to_csv(sdir / "sites.csv", index=False)
    bar.update(1)

    # truth
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    ids = areas["area_id"].tolist()
    daily_rows = []
    for name, table in (("actual", act_daily), ("counterfactual", cf_daily)):
        for k in ("pm25_24h", "pm10_24h", "aqi", "dust"):
            frame = pd.DataFrame(table[k], index=table["date"], columns=ids).stack().rename(f"{k}_{name}")
            daily_rows.append(frame)
    daily_truth = pd.concat(daily_rows, axis=1).rename_axis(["date", "area_id"]).reset_index()
    daily_truth.to_csv(tdir / "area_daily.csv", index=False)
    warnings.to_csv(tdir / "warnings.csv", index=False)
    # what the simulated authorities issued, as a real duty team's record of it (not part of the truth)
    issued_path = out / ISSUED_WARNINGS
    issued_path.parent.mkdir(parents=True, exist_ok=True)
    warnings[["area_id", "date", "level", "issued"]].to_csv(issued_path, index=False)
    write_decision_forecasts(out, decision_fc)
    hourly_truth = []
    local = utc_to_cst(times)
    sel = (local >= start) & (local < end + pd.Timedelta(days=1))
    for a, area in enumerate(ids):
        hourly_truth.append(pd.DataFrame({
            "time": local[sel], "area_id": area, "cut_share": cuts[sel, a],
            **{f"{sp}_actual": actual[sp][sel, a] for sp in SPECIES},
            **{f"{sp}_counterfactual": counterfactual[sp][sel, a] for sp in ("pm25", "pm10")},
            "pm10_dust": actual["pm10_dust"][sel, a],
            **{k: met[k][sel, a] for k in ("temp_air", "rh", "wind_u", "wind_v", "blh", "precip", "temp_850")}}))
    pd.concat(hourly_truth, ignore_index=True).to_parquet(tdir / "area_hourly.parquet", index=False)
    syn = weather.synoptic
    pd.DataFrame({"front_time_at_97E": pd.to_datetime(syn.fronts * 3.6e12), "strength": syn.strength,
                  "stagnation_depth": syn.depth, "wetness": syn.wetness}).to_csv(tdir / "fronts.csv", index=False)
    areas.drop(columns=["gb"], errors="ignore").to_csv(tdir / "areas.csv", index=False)
    stations.to_csv(tdir / "stations.csv", index=False)
    bar.update(1)

    # meteorology (GRIB), in parallel worker processes
    adir = out / "meteorology" / "analysis"
    fdir = out / "meteorology" / "forecast"
    adir.mkdir(parents=True, exist_ok=True)
    fdir.mkdir(parents=True, exist_ok=True)
    months = pd.date_range(start.replace(day=1), end, freq="MS")
    jobs = [(_write_analysis_month, (seed, start, end, m, adir, grid)) for m in months]
    jobs += [(_write_forecast_run, (seed, start, end, d, fdir, forecast_grid)) for d in init_days]
    n_messages = 0
    if workers > 1 and len(jobs) > 1:
        ctx = mp.get_context("fork")
        with ctx.Pool(workers) as pool:
            for n in pool.imap_unordered(_call, jobs, chunksize=2):
                n_messages += n
                bar.update(1)
    else:
        for job in jobs:
            n_messages += _call(job)
            bar.update(1)
    bar.close()

    heavy = daily_truth[daily_truth["aqi_actual"] > HEAVY_AQI]
    summary = {"seed": seed, "start": str(start.date()), "end": str(end.date()), "areas": len(areas),
               "stations": len(stations), "grib_messages": n_messages, "forecast_runs": len(init_days),
               "heavy_area_days": int(len(heavy)),
               "severe_area_days": int((daily_truth["aqi_actual"] > 300).sum()),  # 严重污染, HJ 633-2012 Table 2
               "dust_area_days": int(daily_truth["dust_actual"].sum()),
               "warning_area_days": int(len(warnings)),
               "heavy_days_by_area": heavy.groupby("area_id").size().sort_values(ascending=False).to_dict()}
    reg_path, _ = write_registry(out, seed, areas=areas)
    summary["enterprises"] = int(sum(1 for _ in open(reg_path, encoding="utf-8")) - 1)
    (tdir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    if region_folder is not None:
        import shutil

        shutil.copytree(region_folder, out / "region", dirs_exist_ok=True)
    _write_readme(out, summary, areas, grid, forecast_grid)
    (out / IN_PROGRESS).unlink(missing_ok=True)
    return summary


def _call(job):
    func, args = job
    return func(args)


def _write_readme(out: Path, summary: dict, areas: pd.DataFrame, grid: Grid, forecast_grid: Grid):
    tiers = areas["tier"].value_counts()
    extent = f"{grid.west:g}–{grid.east:g}°E, {grid.south:g}–{grid.north:g}°N"
    text = f"""{_workspace.DEMO_WORLD_MARKER}

Simulated with `lantian simulate --seed {summary['seed']} --start {summary['start']} --end {summary['end']}`.
Nothing here is real data: fictional stations in the {tiers.get('city', 0)} leagues/cities and
{tiers.get('county', 0)} banners/counties of the area table, a synthetic atmosphere, and a box model of pollution
that responds to it (see the `simulate` package).

| part | content |
|---|---|
| meteorology/analysis/era5_sfc_YYYYMM.grib2 | 6-hourly 2t, 2d, 10u, 10v, sp, blh and tp (6-h accumulation), {grid.step:g}° over {extent}, UTC |
| meteorology/analysis/era5_pl_YYYYMM.grib2 | 6-hourly t at 850 and 925 hPa |
| meteorology/forecast/YYYYMMDD00/ | 00 UTC forecast runs, steps 0–72 h every 6 h and 84–168 h every 12 h, {forecast_grid.step:g}°; tp accumulated from step 0 |
| stations/sites.csv, china_sites_YYYYMMDD.csv | CNEMC station list and hourly archive (all types), CST, hour h = hour ending at h |
| truth/area_daily.csv | daily PM2.5, PM10, AQI and dust flag per area, with and without emission cuts |
| truth/area_hourly.parquet | hourly area concentrations (actual and counterfactual), cut share in force, meteorology |
| truth/warnings.csv | warnings the simulated authorities had in force per area and day, with the cut share |
| warnings/issued.csv | the same warnings as a duty team's record (area_id, date, level, issued): what the evaluation reads |
| forecasts/decision_forecasts.csv | the forecasts the simulated authorities decided on (the consultation's archive) |
| truth/fronts.csv, areas.csv, stations.csv | the synoptic sequence, emission parameters, station factors |
| enterprises.csv, inventory.csv, processes.csv | fictional emergency emission-reduction list (names marked 演示; valid credit codes, version and year), league/city and banner/county emission inventories by sector [t/a], and each enterprise's 一厂一策 units |

Summary: {summary['areas']} areas, {summary['stations']} stations, {summary['forecast_runs']} forecast runs,
{summary['grib_messages']} GRIB messages; {summary['heavy_area_days']} heavy (AQI > {HEAVY_AQI}) and
{summary['severe_area_days']} severe (> 300) area-days, {summary['dust_area_days']} dust area-days,
{summary['warning_area_days']} area-days under warning.
"""
    (out / "README.md").write_text(text, encoding="utf-8")
