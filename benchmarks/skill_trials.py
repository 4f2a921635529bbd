"""The fast skill harness: one change at a time to the classifier that decides lead days 1–2, on the bench worlds.

``python -m benchmarks.skill_trials [--worlds DIR] [--set bench] [--seeds 0,1,2] [--threshold 200] [--extra NAME]
[--variant NAME]``

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
features are the reference. ``--variant``: another way of making the probability or the decision (:data:`VARIANTS`:
the probability lowered for the measures known to be in force, classifiers per lead day or blended with the
classifier of every lead day, a monthly walk-forward refit), scored beside the reference (``reference``, the
out-of-fold TS threshold). ``--set``: the worlds (:data:`benchmarks.bench_skill.WORLD_SETS`). The whole model is
measured by ``bench_skill``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import features as F
from forecast import forecasting
from forecast import model as M

from .bench_skill import WORLD_SETS, _world


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
    """The cut share of the warnings issued before the issue date that cover the target day, as a feature:
    ``ctl_cut_known`` (:func:`known_share`)."""
    return pd.DataFrame({"ctl_cut_known": known_share(frame, data)}, index=frame.index)


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


@dataclass
class Trial:
    """One world's tables for a trial: ``train`` the training rows of lead days 1–2 (target observed by ``until``),
    ``full`` those of every lead day, ``verify`` the verification winter's rows of lead days 1–2 (issue dates
    ``v0`` … ``v1``); ``y`` the training rows' events."""
    data: Path
    inputs: object
    clim: pd.DataFrame
    until: str
    v0: str
    v1: str
    full: pd.DataFrame
    train: pd.DataFrame
    verify: pd.DataFrame
    threshold: int

    @property
    def y(self) -> np.ndarray:
        return (self.train["y_aqi"] > self.threshold).to_numpy(int)


def week_folds(frame: pd.DataFrame, folds: int = 5) -> np.ndarray:
    """The fold of each row: whole weeks of issue dates dealt out in turn (as :meth:`forecast.model.Forecaster.fit`)."""
    week = ((frame["issue_date"] - pd.Timestamp("2000-01-03")).dt.days // 7).to_numpy()
    fold_of = {w: i % folds for i, w in enumerate(np.unique(week))}
    return np.array([fold_of[w] for w in week])


def trial_tables(data: Path, start: str, cache: Path, threshold: int, extra: str | None = None) -> Trial:
    y0 = pd.Timestamp(start).year
    until, v0, v1 = f"{y0 + 2}-05-31", f"{y0 + 2}-10-15", f"{y0 + 3}-03-20"
    inputs = forecasting.load_inputs(data, cache=cache)
    clim = F.climatology(inputs.obs.daily, until=pd.Timestamp(until), calendar=forecasting._calendar(inputs))
    full = forecasting.training_table(inputs, until=until, clim=clim)
    full = full[full["y_aqi"].notna()].reset_index(drop=True)
    verify = F.make_features(inputs.obs, inputs.met_daily, inputs.met_lead, forecasting._dates(v0, v1), clim=clim,
                             with_targets=True, **forecasting._region_kw(inputs))
    verify = verify[verify["y_aqi"].notna() & verify["lead"].isin(M.SHORT_LEADS)].reset_index(drop=True)
    if extra:
        full = pd.concat([full, EXTRAS[extra](full, data, inputs)], axis=1)
        verify = pd.concat([verify, EXTRAS[extra](verify, data, inputs)], axis=1)
    train = full[full["lead"].isin(M.SHORT_LEADS)].reset_index(drop=True)
    return Trial(data, inputs, clim, until, v0, v1, full, train, verify, threshold)


def classifier(train: pd.DataFrame, y: np.ndarray, seed: int, *, params: dict | None = None, name: str = "trial"):
    """The classifier as :meth:`forecast.model.Forecaster.fit` trains it (5 cross-fitted folds of whole weeks,
    isotonic calibration; default parameters those of the days-1–2 classifiers): ``(model, out-of-fold p)``."""
    feats = ["area"] + [c for c in M.feature_columns(train) if c != "area" and c not in M.empty_features(train)]
    m = M.Forecaster(features=feats, areas=sorted(train["area_id"].unique()), seed=seed)
    params = params or {**M.DEFAULT_PARAMS, **M.SHORT_PARAMS}
    oof = m._cross_fit(name, m.matrix(train), y, week_folds(train), 5, {**params, "seed": seed, "num_threads": 1},
                       M.N_ROUNDS, lambda key: None)
    return m, oof


# ---- variants: other ways of making the days-1–2 probability and decision, against the reference ----------------
# each: f(trial, seed, reference p on the verification rows, reference out-of-fold p) → {label: (p, cut)} over
# ``trial.verify``'s rows (cut a number or one per row; NaN p: the row is not scored by that label)

#: the elasticities of the measures-aware probability tried: PM2.5 lower by elasticity × the known cut share
MEASURES_ELASTICITIES = (0.3, 0.5, 1.0)


def known_share(frame: pd.DataFrame, data: Path) -> np.ndarray:
    """The cut share of the warning known at the issue time to be in force on the target day (issued before the
    issue date; the data's warnings record, as ``bench_skill`` reads it; the largest where several are) [0–1]."""
    from forecast import levels
    from response import episodes

    w = episodes.read_warnings(episodes.warnings_record(data))
    w = w.assign(issued=pd.to_datetime(w["issued"]),
                 cut=[levels.reduction_share(lv, levels.rules_in_force(d)) for lv, d in zip(w["level"], w["date"])])
    x = frame[["area_id", "issue_date", "target_date"]].reset_index(drop=True).reset_index().merge(
        w.rename(columns={"date": "target_date"})[["area_id", "target_date", "issued", "cut"]],
        on=["area_id", "target_date"], how="left")
    x["known"] = np.where(x["issued"].notna() & (x["issued"] < x["issue_date"]), x["cut"].fillna(0.0), 0.0)
    return x.groupby("index")["known"].max().reindex(range(len(frame))).to_numpy(float)


def measures_adjusted(p200, p300, share, elasticity):
    """P(AQI > 200) with the known measures in force: PM2.5 lower by r = elasticity × share, so the day exceeds
    200 when its unmitigated AQI exceeds 200 + 150 r / (1 − r) (the PM2.5 sub-index between 150 and 250 µg/m³),
    interpolated log-linearly between P(> 200) and P(> 300)."""
    r = np.clip(elasticity * share, 0, 0.6)
    ratio = np.clip(np.where(p200 > 0, np.minimum(p300, p200) / np.maximum(p200, 1e-12), 0.0), 1e-6, 1.0)
    return np.where(r > 0, p200 * ratio ** (1.5 * r / (1 - r)), p200)


def measures_known(t: Trial, seed, p_ref, oof_ref):
    """The day's probability lowered for the warning known at the issue time to be in force on it (its cut share,
    :func:`known_share`), at each elasticity of :data:`MEASURES_ELASTICITIES`; the threshold from the adjusted
    out-of-fold probabilities."""
    y300 = (t.train["y_aqi"] > 300).to_numpy(int)
    m, oof300 = classifier(t.train, y300, seed, name="p300")
    p300 = m._probability(m.matrix(t.verify), "p300")
    s_tr, s_v = known_share(t.train, t.data), known_share(t.verify, t.data)
    out = {}
    for k in MEASURES_ELASTICITIES:
        oof = measures_adjusted(oof_ref, oof300, s_tr, k)
        out[f"measures_known_{k:g}"] = (measures_adjusted(p_ref, p300, s_v, k), _ts_max(oof, t.y))
    return out


def per_lead(t: Trial, seed, p_ref, oof_ref):
    """A classifier of its own for lead day 1 and for lead day 2 (each on its lead day's rows only), instead of one
    for both; and the reference averaged with the classifier of every lead day (``DEFAULT_PARAMS``, 300 rows per
    leaf), the threshold from the averaged out-of-fold probabilities."""
    y = t.y
    p = np.full(len(t.verify), np.nan)
    cut = np.full(len(t.verify), np.nan)
    for lead in M.SHORT_LEADS:
        tr, vr = (t.train["lead"] == lead).to_numpy(), (t.verify["lead"] == lead).to_numpy()
        m, oof = classifier(t.train[tr].reset_index(drop=True), y[tr], seed, name=f"l{lead}")
        p[vr], cut[vr] = m._probability(m.matrix(t.verify[vr]), f"l{lead}"), _ts_max(oof, y[tr])
    y_all = (t.full["y_aqi"] > t.threshold).to_numpy(int)
    m, oof_all = classifier(t.full, y_all, seed, params=M.DEFAULT_PARAMS, name="all")
    short = t.full["lead"].isin(M.SHORT_LEADS).to_numpy()
    p_all = m._probability(m.matrix(t.verify), "all")
    blend = 0.5 * (oof_ref + oof_all[short])
    return {"per_lead": (p, cut), "blend_all_leads": (0.5 * (p_ref + p_all), _ts_max(blend, y))}


def walk_forward(t: Trial, seed, p_ref, oof_ref):
    """The classifier refitted on the first day of every month of the verification winter on every row observed by
    then (the winter's own days included), as a monthly retraining in operation would; each month's forecasts from
    that month's refit, with its own out-of-fold threshold."""
    rows = forecasting.training_table(t.inputs, until=pd.Timestamp(t.v1) + pd.Timedelta(days=3), clim=t.clim)
    rows = rows[rows["y_aqi"].notna() & rows["lead"].isin(M.SHORT_LEADS)].reset_index(drop=True)
    months = pd.date_range(t.v0, t.v1, freq="MS")
    starts = [pd.Timestamp(t.v0)] + [d for d in months if d > pd.Timestamp(t.v0)]
    p = np.full(len(t.verify), np.nan)
    cut = np.full(len(t.verify), np.nan)
    for i, r0 in enumerate(starts):
        r1 = starts[i + 1] if i + 1 < len(starts) else pd.Timestamp(t.v1) + pd.Timedelta(days=1)
        train = rows[rows["target_date"] < (r0 if i else pd.Timestamp(t.until) + pd.Timedelta(days=1))]
        train = train.reset_index(drop=True)
        y = (train["y_aqi"] > t.threshold).to_numpy(int)
        m, oof = classifier(train, y, seed, name="walk")
        vr = ((t.verify["issue_date"] >= r0) & (t.verify["issue_date"] < r1)).to_numpy()
        p[vr], cut[vr] = m._probability(m.matrix(t.verify[vr]), "walk"), _ts_max(oof, y)
    return {"walk_forward": (p, cut)}


#: variants for ``--variant``: name → f(trial, seed, reference p, reference out-of-fold p) → {label: (p, cut)}
VARIANTS = {"measures_known": measures_known, "per_lead": per_lead, "walk_forward": walk_forward}


def _scores(label: str, seed: int, lead_of: np.ndarray, p: np.ndarray, cut, yv: np.ndarray) -> list[dict]:
    cut = np.broadcast_to(np.asarray(cut, float), p.shape)
    rows = []
    for lead in M.SHORT_LEADS:
        r = (lead_of == lead) & np.isfinite(p)
        if not r.any():
            continue
        fc, obs = p[r] >= cut[r], yv[r]
        rows.append({"seed": seed, "rule": label, "lead": lead, "cut": float(np.mean(cut[r])),
                     "hits": int((fc & obs).sum()), "false_alarms": int((fc & ~obs).sum()),
                     "misses": int((~fc & obs).sum()), "bs": float(np.mean((p[r] - obs) ** 2)),
                     "bs_clim": float(np.mean((obs.mean() - obs) ** 2))})
    return rows


def one_world(data: Path, start: str, cache: Path, seeds, threshold: int, extra: str | None,
              variant: str | None = None) -> pd.DataFrame:
    t = trial_tables(data, start, cache, threshold, extra)
    yv = (t.verify["y_aqi"] > threshold).to_numpy(bool)
    lead_of = t.verify["lead"].to_numpy()
    rows = []
    for seed in seeds:
        m, oof = classifier(t.train, t.y, seed)
        p = m._probability(m.matrix(t.verify), "trial")
        rules = {"reference": _ts_max} if variant else RULES
        for rule, f in rules.items():
            rows += _scores(rule, seed, lead_of, p, f(oof, t.y), yv)
        if variant:
            for label, (pv, cut) in VARIANTS[variant](t, seed, p, oof).items():
                rows += _scores(label, seed, lead_of, pv, cut, yv)
    return pd.DataFrame(rows)


def summary(results: dict[str, pd.DataFrame]) -> str:
    """Per rule (or variant) and lead day: the mean over the worlds of TS, POD, FAR, frequency bias and Brier skill
    (against the verification winter's own frequency); each world's TS and FAR."""
    per = []
    for world, r in results.items():
        g = r.groupby(["rule", "lead"])[["hits", "false_alarms", "misses", "bs", "bs_clim"]].mean()
        a, b, c = g["hits"], g["false_alarms"], g["misses"]
        per.append(pd.DataFrame({"world": world, "ts": a / (a + b + c), "pod": a / (a + c), "far": b / (a + b),
                                 "bias": (a + b) / (a + c), "bss": 1 - g["bs"] / g["bs_clim"]}))
    t = pd.concat(per).reset_index()
    lines = ["| rule | lead | TS | POD | FAR | bias | BSS | TS per world | FAR per world |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (rule, lead), g in t.groupby(["rule", "lead"], sort=False):
        lines.append(f"| {rule} | {lead} | {g['ts'].mean():.3f} | {g['pod'].mean():.3f} | {g['far'].mean():.3f} | "
                     f"{g['bias'].mean():.2f} | {g['bss'].mean():.3f} | {' / '.join(f'{v:.3f}' for v in g['ts'])} | "
                     f"{' / '.join(f'{v:.2f}' for v in g['far'])} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.skill_trials", description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=Path, default=Path(os.environ.get("LANTIAN_SKILL_DIR", "skill-worlds")))
    ap.add_argument("--cache", type=Path, help="workspaces of the worlds (default <worlds>/caches)")
    ap.add_argument("--seeds", default="0,1,2", help="LightGBM seeds, comma-separated (default 0,1,2)")
    ap.add_argument("--threshold", type=int, default=200, choices=M.THRESHOLDS)
    ap.add_argument("--extra", choices=sorted(EXTRAS), help="a candidate feature set to add")
    ap.add_argument("--variant", choices=sorted(VARIANTS), help="another way of making the probability or the "
                    "decision, scored beside the reference")
    ap.add_argument("--set", default="bench", choices=sorted(WORLD_SETS), help="the worlds (default bench)")
    args = ap.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        print(f"skill_trials: --seeds {args.seeds!r} is not a comma-separated list of integers", file=sys.stderr)
        return 2
    cache = args.cache or args.worlds / "caches"
    results = {}
    for seed, start, end in WORLD_SETS[args.set]:
        t = time.perf_counter()
        data = _world(args.worlds, seed, start, end, 0.5)
        results[str(seed)] = one_world(data, start, cache / data.name, seeds, args.threshold, args.extra,
                                        args.variant)
        print(f"world {seed}: {time.perf_counter() - t:.0f} s", flush=True)
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
