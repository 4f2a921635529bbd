"""The emission-cut estimator against the simulator's truth, on the held-out winter of several unseen worlds.

For every world (``$LANTIAN_EFFECT_WORLDS``, colon-separated; default the three-winter worlds under
``/tmp/w9/world_*`` when present, else ``demo/`` or ``$LANTIAN_DEMO``, else the default demo world simulated
first) every episode of the world's last winter (observed AQI > 200 runs, :func:`response.episodes.detect_episodes`)
is evaluated with the estimator ``evaluate_episode`` uses (:mod:`response.counterfactual`, conditioned on the
forecasts the warnings were decided on, the identifiability check and flags of the effect policy), with
the warnings the simulated authorities issued; the estimate and its 90 % interval are compared with the true effect
on the same area-days (``truth/``). Quiet windows without any measure give placebo estimates (should contain 0).

Prints one table row per episode and, over all worlds: coverage of the 90 % intervals, bias (mean estimate − truth),
the wrong-sign count (estimate > 0 where the truth is < 0), intervals wholly on the wrong side of zero, the
festival episodes, and the not-estimable count with the reasons. ``$LANTIAN_EFFECT_OUT``: also write the rows as CSV.
``$LANTIAN_EFFECT_MODE``: ``winter`` (default) — one counterfactual per world for its whole held-out winter, trained
on the other winters (stricter, and one fit per world: 2–6 min per world on the shared 2-core machine;
:func:`evaluate_world_winter`; ``$LANTIAN_EFFECT_WINTERS=all``: every winter of each world held out in turn, one
fit each — on the PM2.5-driven worlds the last winters alone hold only 17 episodes); ``episode`` — each episode's own, as ``evaluate_episode`` trains it (2–3 min per
episode there: over an hour for three worlds).
``$LANTIAN_EFFECT_CACHE``: the workspace folder per world (``<dir>/<world name>``; default a temporary copy of the
world's ``.lantian``, so a read-only world stays untouched). ``$LANTIAN_EFFECT_PLACEBOS``: placebo windows per world
(default 2). ``$LANTIAN_EFFECT_POLICY``: another effect policy (e.g. ``estimation.calibration: local`` to measure
the correction; winter mode).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import forecasting
from simulate import truth as T
from response import episodes as EP
from response import evaluation as E

from ._util import header

PLACEBO_DAYS = 4
SKILL_WORLDS = ("/tmp/w9/world_11_2021", "/tmp/w9/world_23_2022", "/tmp/w9/world_42_2023")


def held_out_winter(truth: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The world's last winter: 1 October of the year before its last day through its last day."""
    last = truth.index.get_level_values("date").max()
    year = last.year - 1 if last.month < 10 else last.year
    return pd.Timestamp(f"{year}-10-01"), last


def held_out_winters(truth: pd.DataFrame, which: str = "last") -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The winters to hold out in turn: ``last`` → the last (:func:`held_out_winter`); ``all`` → every one, each
    1 October through 30 September (the last through the world's last day), from the first October of the
    world (a world starting in October has its first winter in full)."""
    if which == "last":
        return [held_out_winter(truth)]
    if which != "all":
        raise ValueError(f"LANTIAN_EFFECT_WINTERS {which!r} is not one of last, all")
    dates = truth.index.get_level_values("date")
    first, last = dates.min(), dates.max()
    year = first.year if first.month >= 10 else first.year - 1
    out = []
    while pd.Timestamp(f"{year}-10-01") <= last:
        out.append((max(first, pd.Timestamp(f"{year}-10-01")), min(last, pd.Timestamp(f"{year + 1}-09-30"))))
        year += 1
    return out


def _worlds() -> list[Path]:
    env = os.environ.get("LANTIAN_EFFECT_WORLDS")
    if env:
        return [Path(p) for p in env.split(":") if p]
    skill = [Path(p) for p in SKILL_WORLDS if (Path(p) / "truth").exists()]
    if skill:
        return skill
    return [Path(os.environ.get("LANTIAN_DEMO", "demo"))]


def _cache_for(world: Path, tmp: Path) -> Path:
    base = os.environ.get("LANTIAN_EFFECT_CACHE")
    if base:
        return Path(base) / world.name
    dest = tmp / world.name
    if (world / ".lantian").exists() and not dest.exists():
        shutil.copytree(world / ".lantian", dest)
    return dest


def evaluate_world_winter(data: Path, cache: Path, *, placebos: int = 2, log=print,
                          winters: str | None = None) -> list[dict]:
    """As :func:`evaluate_world`, but one counterfactual per held-out winter: trained on the other winters only
    (± the margin), every episode of the winter estimated with it. Stricter than ``evaluate_episode`` (less
    history, nothing of the same winter) and one fit per winter instead of one per episode. ``winters``:
    ``last`` (default, ``$LANTIAN_EFFECT_WINTERS``) or ``all`` (each winter held out in turn,
    :func:`held_out_winters`)."""
    from response import counterfactual as CF
    from response import scoring as S

    inputs = forecasting.load_inputs(data, cache=cache)
    truth = T.read_area_daily(data)
    wfile = data / "truth" / "warnings.csv"
    w = EP.read_warnings(wfile)
    dec = EP.read_decision_forecasts(data / "forecasts" / "decision_forecasts.csv")
    obs = inputs.obs.daily
    policy = CF.load_effect_policy(os.environ.get("LANTIAN_EFFECT_POLICY"))
    anchors = CF.load_effect_anchors()
    table = CF.design(obs, inputs.met_daily, warnings=w, decisions=dec)
    fest = CF.festival_days(table)
    margin = pd.Timedelta(days=S.WINDOW_MARGIN_DAYS)
    rows = []
    for w0, w1 in held_out_winters(truth, winters or os.environ.get("LANTIAN_EFFECT_WINTERS", "last")):
        span = (table["date"] >= w0 - margin) & (table["date"] <= w1 + margin)
        holdout = set(zip(table.loc[span, "area_id"], table.loc[span, "date"]))
        t = time.perf_counter()
        model = CF.fit(table, holdout, rounds=200)
        log(f"{data.name} {w0.date()}…{w1.date()}: one fit on the other winters, {time.perf_counter() - t:.0f} s")
        eps = EP.detect_episodes(obs)
        eps = eps[(eps["start"] >= w0) & (eps["start"] <= w1)]
        windows = [("episode", ep.start, ep.end) for ep in eps.itertuples()]
        windows += [("placebo", a, b) for a, b in EP.quiet_windows(pd.read_csv(wfile, parse_dates=["date"]), w0, w1,
                                                                   days=PLACEBO_DAYS, n=placebos)[:placebos]]
        for kind, start, end in windows:
            t = time.perf_counter()
            areas = EP.episode_areas(obs, start, end, None)
            in_ep = (table["area_id"].isin(areas) & (table["date"] >= start) & (table["date"] <= end)).to_numpy()
            treated = in_ep & (table["share"].to_numpy() > 0)
            if kind == "episode" and not treated.any():
                continue
            eff = {"festivals": [n for n in fest.columns if (fest[n].to_numpy() & in_ep).any()]}
            est = CF.effect(model, table, treated if kind == "episode" else in_ep, target="pm25",
                            placebo=kind == "placebo", calibrate=CF.calibration_argument(policy))
            if kind == "episode":
                ident = CF.identifiability(table, treated, holdout, policy)
                if not ident["estimable"]:
                    est = {**est, "estimable": False, "estimate": None, "reasons": ident["reasons"],
                           "withheld": est.get("estimate")}
                else:
                    est["flags"] = CF.plausibility(est, policy, anchors)
            rows.append(_row(data, start, end, kind, est, eff, truth, time.perf_counter() - t))
            log(_line(rows[-1]))
    return rows


def evaluate_world(data: Path, cache: Path, *, placebos: int = 2, log=print) -> list[dict]:
    """One row per episode (and placebo window) of the world's held-out winter, with the truth: each episode as
    ``evaluate_episode`` evaluates it (its own counterfactual, trained on every day outside its window)."""
    inputs = forecasting.load_inputs(data, cache=cache)
    truth = T.read_area_daily(data)
    w0, w1 = held_out_winter(truth)
    wfile = data / "truth" / "warnings.csv"
    warnings = pd.read_csv(wfile, parse_dates=["date"])
    decisions = data / "forecasts" / "decision_forecasts.csv"
    w = EP.read_warnings(wfile)
    dec = EP.read_decision_forecasts(decisions) if decisions.exists() else None
    eps = EP.detect_episodes(inputs.obs.daily)
    eps = eps[(eps["start"] >= w0) & (eps["start"] <= w1)]
    obs = inputs.obs.daily
    rows = []
    for ep in eps.itertuples():
        t = time.perf_counter()
        areas = EP.episode_areas(obs, ep.start, ep.end, None)
        if not (w["area_id"].isin(areas) & (w["date"] >= ep.start) & (w["date"] <= ep.end)).any():
            continue  # no measures in force: nothing to estimate (the placebo windows test that case)
        eff, _ = E.episode_effect(obs, inputs.met_daily, w, dec, areas, ep.start, ep.end,
                                  decisions_source=decisions)
        rows.append(_row(data, ep.start, ep.end, "episode", eff.get("pm25"), eff, truth, time.perf_counter() - t))
        log(_line(rows[-1]))
    windows = EP.quiet_windows(warnings, w0, w1, days=PLACEBO_DAYS, n=placebos)
    for a, b in windows[:placebos]:
        t = time.perf_counter()
        areas = EP.episode_areas(obs, a, b, None)
        eff, _ = E.episode_effect(obs, inputs.met_daily, w, dec, areas, a, b, decisions_source=decisions)
        rows.append(_row(data, a, b, "placebo", eff.get("placebo_pm25"), eff, truth, time.perf_counter() - t))
        log(_line(rows[-1]))
    return rows


def _row(data, start, end, kind, est, eff, truth, seconds) -> dict:
    row = {"world": data.name, "kind": kind, "start": str(start.date()), "end": str(end.date()),
           "festival": ",".join(eff.get("festivals") or []), "area_days": 0, "estimate": np.nan, "lo": np.nan,
           "hi": np.nan, "withheld": (est or {}).get("withheld", np.nan), "truth": np.nan, "status": "", "flags": "",
           "seconds": round(seconds, 1)}
    if est and est.get("rows"):
        row["truth"] = T.true_effect(truth, est["rows"])
        row["area_days"] = len(est["rows"])
    if not est:
        row["status"] = eff.get("note", "")
    elif est.get("estimable") is False:
        row["status"] = "not estimable: " + "; ".join(r["code"] for r in est.get("reasons", []))
        if est.get("interval") and est["interval"][0] is not None:
            row["lo"], row["hi"] = est["interval"]
    elif est.get("estimate") is not None:
        row["estimate"] = est["estimate"]
        row["lo"], row["hi"] = est["interval"]
        row["status"] = "estimate"
    else:
        row["status"] = f"no rows (dust days excluded {est.get('dust_days_excluded', 0)})"
    row["flags"] = ",".join(f["code"] for f in (est or {}).get("flags", []))
    return row


def _line(r: dict) -> str:
    label = f"{r['world'][-7:]} {r['kind'][:3]} {r['start']}…{r['end'][5:]}"
    fest = f" [{r['festival']}]" if r["festival"] else ""
    if np.isfinite(r["estimate"]):
        inside = r["lo"] <= r["truth"] <= r["hi"]
        return (f"{label:<32}{r['area_days']:>5}  {r['estimate']:7.1f} [{r['lo']:7.1f}, {r['hi']:7.1f}]  truth "
                f"{r['truth']:7.1f}  {'in ' if inside else 'OUT'} {r['flags']}{fest}  {r['seconds']:.0f} s")
    return f"{label:<32}{r['area_days']:>5}  {r['status']}  truth {r['truth']:.1f}{fest}  {r['seconds']:.0f} s"


def summarise(rows: pd.DataFrame) -> dict:
    """Coverage, bias, wrong signs, wrong-side intervals, festivals and not-estimable reasons of the episode rows."""
    ep = rows[rows["kind"] == "episode"]
    est = ep[np.isfinite(ep["estimate"])]
    inside = (est["lo"] <= est["truth"]) & (est["truth"] <= est["hi"])
    wrong_side = ((est["lo"] > 0) & (est["truth"] < 0)) | ((est["hi"] < 0) & (est["truth"] > 0))
    ne = ep[ep["status"].str.startswith("not estimable")]
    reasons = ne["status"].str.replace("not estimable: ", "").str.split("; ").explode().value_counts()
    fest = ep[ep["festival"].fillna("") != ""]
    fest_ok = fest["status"].str.startswith("not estimable") | ((fest["lo"] <= fest["truth"]) &
                                                               (fest["truth"] <= fest["hi"]))
    pl = rows[(rows["kind"] == "placebo") & np.isfinite(rows["estimate"])]
    return {"episodes": int(len(ep)), "estimated": int(len(est)), "inside": int(inside.sum()),
            "coverage": float(inside.mean()) if len(est) else np.nan,
            "bias": float((est["estimate"] - est["truth"]).mean()) if len(est) else np.nan,
            "mae": float((est["estimate"] - est["truth"]).abs().mean()) if len(est) else np.nan,
            "wrong_sign": int(((est["estimate"] > 0) & (est["truth"] < 0)).sum()),
            "wrong_side_intervals": int(wrong_side.sum()),
            "not_estimable": int(len(ne)), "reasons": reasons.to_dict(),
            "festival_inside_or_marked": f"{int(fest_ok.sum())} of {len(fest)}",
            "placebo_zero_inside": f"{int(((pl['lo'] <= 0) & (pl['hi'] >= 0)).sum())} of {len(pl)}"}


def run():
    header("emission-cut effect vs the simulator's truth, held-out winters of unseen worlds")
    tmp = Path(tempfile.mkdtemp(prefix="lantian-bench-cf-"))
    try:
        worlds = _worlds()
        if worlds == [Path("demo")] and not (Path("demo") / "README.md").exists():
            from simulate import simulate

            worlds = [tmp / "demo"]
            simulate(worlds[0], seed=7, progress=False)
        placebos = int(os.environ.get("LANTIAN_EFFECT_PLACEBOS", "2"))
        mode = os.environ.get("LANTIAN_EFFECT_MODE", "winter")
        evaluate = {"episode": evaluate_world, "winter": evaluate_world_winter}[mode]
        print(f"mode {mode}: " + ("each episode's counterfactual trained on every day outside it (as "
                                  "evaluate_episode)" if mode == "episode" else
                                  "one counterfactual per world, trained on the other winters"))
        rows = []
        for world in worlds:
            t = time.perf_counter()
            rows += evaluate(world, _cache_for(world, tmp), placebos=placebos)
            print(f"{world.name}: {time.perf_counter() - t:.0f} s")
        table = pd.DataFrame(rows)
        if os.environ.get("LANTIAN_EFFECT_OUT"):
            table.to_csv(os.environ["LANTIAN_EFFECT_OUT"], index=False)
        s = summarise(table)
        print(f"coverage of the 90 % intervals: {s['inside']} of {s['estimated']} estimated episodes "
              f"({s['coverage']:.0%}); bias {s['bias']:+.1f} µg/m³, MAE {s['mae']:.1f}; wrong sign {s['wrong_sign']}; "
              f"intervals wholly on the wrong side of 0: {s['wrong_side_intervals']}")
        print(f"not estimable: {s['not_estimable']} of {s['episodes']} episodes {s['reasons']}; festival episodes "
              f"inside or marked: {s['festival_inside_or_marked']}; placebo windows with 0 inside: "
              f"{s['placebo_zero_inside']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
