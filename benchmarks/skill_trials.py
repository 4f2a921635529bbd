"""The fast skill harness: one change at a time to the classifier that decides lead days 1–2, on the bench worlds.

``python -m benchmarks.skill_trials [--worlds DIR] [--seeds 0,1,2] [--threshold 200] [--extra NAME]``

For each world of :data:`benchmarks.bench_skill.WORLDS` kept in ``--worlds`` (``LANTIAN_SKILL_DIR``: a world is
simulated there when missing), the AQI > ``threshold`` classifier of lead days 1–2 is trained exactly as
:meth:`forecast.model.Forecaster.fit` trains it (5 cross-fitted folds of whole weeks, isotonic calibration,
:data:`forecast.model.SHORT_PARAMS`) on the first two winters, once per booster seed; its decision threshold is
chosen from the out-of-fold probabilities by each rule of :data:`RULES`, and the day-1 and day-2 forecasts of the
third winter (15 Oct – 20 Mar) are scored. Printed: per rule and lead day the mean over the worlds (each world
averaged over the seeds) of TS, POD, FAR and frequency bias, with each world's TS and FAR — the numbers the
README's trial tables quote. LightGBM runs on one thread; about 10 s per world and seed once a world's inputs are
extracted (its workspace, ``--cache``, default ``<worlds>/caches/<world>``).

``--extra``: a candidate feature set added to the model's table for the trial (:data:`EXTRAS`); the shipped
features are the reference. The whole model is measured by ``bench_skill``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import features as F
from forecast import forecasting
from forecast import model as M

from .bench_skill import WORLDS, _world


def _ts_max(p, y):
    return M._best_ts_threshold(p, y)


def _bias_one(p, y):
    """The threshold whose out-of-fold forecast count is closest to the observed count (frequency bias 1)."""
    cuts = np.unique(np.round(p, 3))
    cuts = cuts[cuts > 0]
    if not len(cuts) or not y.sum():
        return 0.5
    counts = np.array([(p >= c).sum() for c in cuts])
    return float(cuts[np.argmin(np.abs(counts - y.sum()))])


def _ets_max(p, y):
    """The threshold with the largest equitable threat score (Gilbert skill score)."""
    best, value = 0.5, -np.inf
    for c in np.unique(np.round(p, 3)):
        if c <= 0:
            continue
        f = p >= c
        a, b, m = (f & (y == 1)).sum(), (f & (y == 0)).sum(), (~f & (y == 1)).sum()
        chance = (a + b) * (a + m) / len(y)
        den = a + b + m - chance
        if den > 0 and (a - chance) / den > value:
            best, value = float(c), (a - chance) / den
    return best


#: decision-threshold rules: name → f(out-of-fold probabilities, labels) → threshold
RULES = {"ts_max": _ts_max, "bias_one": _bias_one, "ets_max": _ets_max}


def known_cuts(frame: pd.DataFrame, data: Path, inputs) -> pd.DataFrame:
    """The cut share of the warnings issued before the issue date that cover the target day (the simulated
    authorities' ``truth/warnings.csv``): ``ctl_cut_known``."""
    w = pd.read_csv(data / "truth" / "warnings.csv", parse_dates=["date", "issued"])
    w = w.sort_values("issued").drop_duplicates(["area_id", "date"], keep="last")  # one row per area and day
    x = frame[["area_id", "issue_date", "target_date"]].merge(
        w.rename(columns={"date": "target_date"}), on=["area_id", "target_date"], how="left")
    known = x["issued"].notna() & (x["issued"] < x["issue_date"])
    return pd.DataFrame({"ctl_cut_known": np.where(known, x["cut_share"].fillna(0.0), 0.0)}, index=frame.index)


def lagged_three(frame: pd.DataFrame, data: Path, inputs) -> pd.DataFrame:
    """A third member for the lagged ensemble: the run of two days before the issue day (lead day ``lead + 2``);
    ``met_<var>_lag3`` the mean of the three runs, ``met_<var>_sd3`` their standard deviation."""
    cur = F.runs_by_issue_date(inputs.met_lead)
    names = [v for v in F.LAGGED_VARS if v in cur.columns]
    keys = ["area_id", "issue_date", "lead"]
    x = frame[keys].reset_index(drop=True)
    members = [x.merge(cur.assign(issue_date=cur["issue_date"] + pd.Timedelta(days=k), lead=cur["lead"] - k),
                       on=keys, how="left") for k in (0, 1, 2)]
    out = pd.DataFrame(index=frame.index)
    for v in names:
        stack = np.column_stack([m[v].to_numpy(float) for m in members])
        out[f"met_{v}_lag3"] = stack.mean(axis=1)
        out[f"met_{v}_sd3"] = stack.std(axis=1)
    return out


#: the ranges of the extra upwind concentrations [km] (the model's own: :data:`forecast.features.TRANSPORT_SCALE_KM`)
UPWIND_RANGES_KM = (150.0, 800.0)


def upwind_ranges(frame: pd.DataFrame, data: Path, inputs) -> pd.DataFrame:
    """Upwind PM2.5 at the issue time weighted at other ranges than the model's 400 km (e-folding distances of
    :data:`UPWIND_RANGES_KM`): ``tr_up_pm25_<km>`` and ``tr_up_weight_<km>``; near sources and far ones."""
    kw = forecasting._region_kw(inputs)
    out = pd.DataFrame(index=frame.index)
    for km in UPWIND_RANGES_KM:
        t = F.transport_features(frame, kw.get("area_table"), scale_km=km)
        out[f"tr_up_pm25_{km:.0f}"] = t["tr_up_pm25"].to_numpy(float)
        out[f"tr_up_weight_{km:.0f}"] = t["tr_up_weight"].to_numpy(float)
    return out


#: the window of the recent-regime features [d] and the least observed days in it
RECENT_DAYS, RECENT_MIN_DAYS = 30, 15


def recent_regime(frame: pd.DataFrame, data: Path, inputs) -> pd.DataFrame:
    """How polluted this winter has been so far, as known at the issue time (the daily AQI of the
    :data:`RECENT_DAYS` days before the issue day): ``rec_log_aqi`` the area's mean log(1 + AQI), ``rec_heavy`` its
    share of days with AQI > 200, ``rec_region_heavy`` the leagues'/cities' mean of it — a winter that has been
    cleaner than the training winters (weather, or the measures of more warnings) says so here."""
    daily = inputs.obs.daily["aqi"].unstack("area_id").sort_index()
    daily = daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"))
    roll = dict(window=RECENT_DAYS, min_periods=RECENT_MIN_DAYS)
    # the window ends the day before the issue day (its own day is not complete at the issue time)
    log_aqi = np.log1p(daily).rolling(**roll).mean().shift(1)
    heavy = (daily > 200).astype(float).where(daily.notna()).rolling(**roll).mean().shift(1)
    table = forecasting._region_kw(inputs).get("area_table")
    cities = [a for a in heavy.columns if table is None or a in set(table.loc[table["tier"] == "city", "area_id"])]
    region = heavy[cities].mean(axis=1)

    def at(wide):
        s = wide.stack(future_stack=True)
        s.index = s.index.set_names(["issue_date", "area_id"])
        idx = pd.MultiIndex.from_arrays([frame["issue_date"], frame["area_id"]])
        return s.reindex(idx).to_numpy(float)

    return pd.DataFrame({"rec_log_aqi": at(log_aqi), "rec_heavy": at(heavy),
                         "rec_region_heavy": region.reindex(frame["issue_date"]).to_numpy(float)}, index=frame.index)


#: candidate feature sets for ``--extra``: name → f(frame, world folder, inputs) → columns aligned with the frame
EXTRAS = {"known_cuts": known_cuts, "lagged_three": lagged_three, "upwind_ranges": upwind_ranges,
          "recent_regime": recent_regime}


def one_world(data: Path, start: str, cache: Path, seeds, threshold: int, extra: str | None) -> pd.DataFrame:
    y0 = pd.Timestamp(start).year
    until, v0, v1 = f"{y0 + 2}-05-31", f"{y0 + 2}-10-15", f"{y0 + 3}-03-20"
    inputs = forecasting.load_inputs(data, cache=cache)
    clim = F.climatology(inputs.obs.daily, until=pd.Timestamp(until), calendar=forecasting._calendar(inputs))
    train = forecasting.training_table(inputs, until=until, clim=clim)
    train = train[train["y_aqi"].notna() & train["lead"].isin(M.SHORT_LEADS)].reset_index(drop=True)
    verify = F.make_features(inputs.obs, inputs.met_daily, inputs.met_lead, forecasting._dates(v0, v1), clim=clim,
                             with_targets=True, **forecasting._region_kw(inputs))
    verify = verify[verify["y_aqi"].notna() & verify["lead"].isin(M.SHORT_LEADS)].reset_index(drop=True)
    if extra:
        train = pd.concat([train, EXTRAS[extra](train, data, inputs)], axis=1)
        verify = pd.concat([verify, EXTRAS[extra](verify, data, inputs)], axis=1)
    y = (train["y_aqi"] > threshold).to_numpy(int)
    yv = (verify["y_aqi"] > threshold).to_numpy(bool)
    week = ((train["issue_date"] - pd.Timestamp("2000-01-03")).dt.days // 7).to_numpy()
    fold_of = {w: i % 5 for i, w in enumerate(np.unique(week))}
    fold = np.array([fold_of[w] for w in week])
    rows = []
    for seed in seeds:
        feats = ["area"] + [c for c in M.feature_columns(train) if c != "area" and c not in M.empty_features(train)]
        m = M.Forecaster(features=feats, areas=sorted(train["area_id"].unique()), seed=seed)
        params = {**M.DEFAULT_PARAMS, **M.SHORT_PARAMS, "seed": seed, "num_threads": 1}
        oof = m._cross_fit("trial", m.matrix(train), y, fold, 5, params, M.N_ROUNDS, lambda key: None)
        p = m._probability(m.matrix(verify), "trial")
        for rule, f in RULES.items():
            cut = f(oof, y)
            for lead in (1, 2):
                r = (verify["lead"] == lead).to_numpy()
                fc = p[r] >= cut
                rows.append({"seed": seed, "rule": rule, "lead": lead, "cut": cut, "hits": int((fc & yv[r]).sum()),
                             "false_alarms": int((fc & ~yv[r]).sum()), "misses": int((~fc & yv[r]).sum())})
    return pd.DataFrame(rows)


def summary(results: dict[str, pd.DataFrame]) -> str:
    """Per rule and lead day: the mean over the worlds of TS, POD, FAR, frequency bias; each world's TS and FAR."""
    per = []
    for world, r in results.items():
        g = r.groupby(["rule", "lead"])[["hits", "false_alarms", "misses"]].mean()
        a, b, c = g["hits"], g["false_alarms"], g["misses"]
        per.append(pd.DataFrame({"world": world, "ts": a / (a + b + c), "pod": a / (a + c), "far": b / (a + b),
                                 "bias": (a + b) / (a + c)}))
    t = pd.concat(per).reset_index()
    lines = ["| rule | lead | TS | POD | FAR | bias | TS per world | FAR per world |",
             "|---|---|---|---|---|---|---|---|"]
    for (rule, lead), g in t.groupby(["rule", "lead"]):
        lines.append(f"| {rule} | {lead} | {g['ts'].mean():.3f} | {g['pod'].mean():.3f} | {g['far'].mean():.3f} | "
                     f"{g['bias'].mean():.2f} | {' / '.join(f'{v:.3f}' for v in g['ts'])} | "
                     f"{' / '.join(f'{v:.2f}' for v in g['far'])} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.skill_trials", description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=Path, default=Path(os.environ.get("LANTIAN_SKILL_DIR", "skill-worlds")))
    ap.add_argument("--cache", type=Path, help="workspaces of the worlds (default <worlds>/caches)")
    ap.add_argument("--seeds", default="0,1,2", help="LightGBM seeds, comma-separated (default 0,1,2)")
    ap.add_argument("--threshold", type=int, default=200, choices=M.THRESHOLDS)
    ap.add_argument("--extra", choices=sorted(EXTRAS), help="a candidate feature set to add")
    args = ap.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        print(f"skill_trials: --seeds {args.seeds!r} is not a comma-separated list of integers", file=sys.stderr)
        return 2
    cache = args.cache or args.worlds / "caches"
    results = {}
    for seed, start, end in WORLDS:
        t = time.perf_counter()
        data = _world(args.worlds, seed, start, end, 0.5)
        results[str(seed)] = one_world(data, start, cache / data.name, seeds, args.threshold, args.extra)
        print(f"world {seed}: {time.perf_counter() - t:.0f} s", flush=True)
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
