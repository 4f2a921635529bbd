"""Weather-normalised effect of emergency measures: what the concentrations would have been without them.

Why not simply "train on days without measures": warnings are issued *because* heavy pollution is forecast, so
the days with measures are the deepest, longest stagnation spells — a model trained only on the other days has
hardly seen such days (it cannot extrapolate to them) and the days are selected on its error. Measured on the
demo world, that design found no effect (≈ 0 µg/m³) where the truth was −24 to −43 µg/m³ for region-wide episodes.

The model here is dynamic and uses every day:

- target: the day-over-day growth ``log(1 + C_d) − log(1 + C_{d−1})`` of daily PM2.5 (and AQI), per area;
- features: the day's and the previous day's meteorological drivers, the emission calendar (with the fireworks
  hours of the day and of the day before), the area, the previous day's level, the emission-cut share in force
  that day and the day before (``share``, ``share_prev``, monotone: a cut can only lower the growth) and — when known — the forecasts the warnings were decided on,
  as innovations ``log(1 + D) − log(1 + AQI_{d−1})`` per lead. The decision forecasts are what makes the
  selection ignorable: given them, whether a day was warned carries no further information about its
  pollution (the decision was a rule applied to them);
- counterfactual: the same model with ``share = share_prev = 0``, run forward day by day through each run of
  warned days from the last untreated day, each day starting from the counterfactual of the day before
  (the cuts' effect accumulates during a stagnation spell).

Training leaves out the evaluated window (± 3 days). The effect is observed − counterfactual over the warned,
not dust-dominated area-days. Uncertainty: the same recursion run on untreated days gives the counterfactual's
out-of-fold error at each step ``h`` of a run (folds are blocks of 3 weeks, so a fold model misses whole spells as
the episode's model misses the episode); the interval replays those errors with the whole episode shifted to
random untreated periods of the same season (errors stay correlated along a run and across areas) and adds a
delete-a-group jackknife of the fold models' counterfactuals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import features as F
from forecast import levels
from forecast.tables import load_yaml

TARGETS = {"pm25": "pm25_24h", "aqi": "aqi"}
#: the previous day's value each target grows from
LAGS = {"pm25": "pm25_prev", "aqi": "aqi_prev"}
TREATMENT = ("share", "share_prev")
MET = ("temp_air", "rh", "wind_speed", "wind_u", "wind_v", "blh", "blh_night_min", "ventilation",
       "ventilation_min", "inversion_925_max", "inversion_850_max", "precip", "hdd", "stagnation", "pressure")
PARAMS = {"objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 15,
          "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
          "deterministic": True, "force_row_wise": True, "num_threads": 2}
#: longest run of warned days the error table covers (longer runs use the last step's errors)
MAX_STEPS = 16
#: length of the contiguous blocks of weeks the folds are made of
BLOCK_WEEKS = 3


class CounterfactualError(ValueError):
    """Too little data, or no meteorology for the days asked."""


def design(obs_daily: pd.DataFrame, met_daily: pd.DataFrame, *, warnings: pd.DataFrame | None = None,
           decisions: pd.DataFrame | None = None, rules_of=None) -> pd.DataFrame:
    """One row per (area_id, date): targets, drivers, calendar, previous day, cut shares, decision forecasts.

    Parameters
    ----------
    obs_daily : DataFrame
        Observed daily values indexed by (area_id, date) with ``aqi`` [1] and ``pm25_24h`` [µg/m³].
    met_daily : DataFrame
        Daily drivers indexed by (area_id, date).
    warnings : DataFrame, optional
        Levels in force: ``area_id, date, level``; the cut share of the level (by the rule set in force that day,
        :func:`forecast.levels.reduction_share`) becomes ``share`` [0–1], the previous day's ``share_prev``.
    decisions : DataFrame, optional
        The forecasts the warnings were decided on: ``area_id, date, aqi`` (shortest lead) and optionally
        ``aqi_lead<k>``; they become ``dec_<col>`` = log(1 + D) − log(1 + AQI of the day before).
    rules_of : callable, optional
        Date → the rule set in force (the region's, :meth:`forecast.region.Region.rules_in_force`; default
        :func:`forecast.levels.rules_in_force`).
    """
    obs = obs_daily.reset_index()
    obs = obs[["area_id", "date", "aqi", "pm25_24h"] + (["dust"] if "dust" in obs else [])]
    met = met_daily.reset_index()
    met["date"] = pd.to_datetime(met["date"])
    cols = [c for c in MET if c in met.columns]
    today = met[["area_id", "date"] + cols]
    prev = today.assign(date=today["date"] + pd.Timedelta(days=1)).rename(columns={c: f"{c}_prev" for c in cols})
    frame = obs.merge(today, on=["area_id", "date"], how="inner").merge(prev, on=["area_id", "date"], how="left")
    lag = obs[["area_id", "date", "aqi", "pm25_24h"]].assign(date=obs["date"] + pd.Timedelta(days=1)).rename(
        columns={"aqi": "aqi_prev", "pm25_24h": "pm25_prev"})
    frame = frame.merge(lag, on=["area_id", "date"], how="left")
    cal = F.calendar_features(frame.rename(columns={"date": "target_date"}))
    # the fireworks of the day before, too: the growth after a festival night is its smoke clearing
    before = F.calendar_features(frame[["area_id"]].assign(target_date=frame["date"] - pd.Timedelta(days=1)))
    before = before[[c for c in before.columns if c.startswith("cal_fireworks_")]].add_suffix("_prev")
    frame = pd.concat([frame, cal, before], axis=1)
    frame["share"] = 0.0
    if warnings is not None and len(warnings):
        w = warnings.assign(date=pd.to_datetime(warnings["date"]).dt.normalize())
        w = w[w["level"].isin(levels.LEVELS[1:])]
        rules_of = rules_of or levels.rules_in_force
        shares = pd.Series([levels.reduction_share(lv, rules_of(d)) for lv, d in zip(w["level"], w["date"])],
                           index=pd.MultiIndex.from_arrays([w["area_id"], w["date"]]))
        shares = shares.groupby(level=[0, 1]).max()
        key = pd.MultiIndex.from_arrays([frame["area_id"], frame["date"]])
        frame["share"] = shares.reindex(key).fillna(0.0).to_numpy()
    sp = frame[["area_id", "date", "share"]].assign(date=frame["date"] + pd.Timedelta(days=1))
    frame = frame.merge(sp.rename(columns={"share": "share_prev"}), on=["area_id", "date"], how="left")
    frame["share_prev"] = frame["share_prev"].fillna(0.0)
    if decisions is not None and len(decisions):
        dcols = decision_columns(decisions)
        d = decisions.assign(date=pd.to_datetime(decisions["date"])).set_index(["area_id", "date"])[dcols]
        vals = d.reindex(pd.MultiIndex.from_arrays([frame["area_id"], frame["date"]])).to_numpy(float)
        for j, c in enumerate(dcols):
            frame[f"dec_{c}"] = np.log1p(vals[:, j]) - np.log1p(frame["aqi_prev"].to_numpy(float))
    return frame.sort_values(["area_id", "date"]).reset_index(drop=True)


def decision_columns(decisions: pd.DataFrame) -> list[str]:
    """The decision-forecast columns: ``aqi`` (shortest lead) and ``aqi_lead<k>``."""
    return ["aqi"] + sorted(c for c in decisions.columns if c.startswith("aqi_lead"))


def warned_days(warnings: pd.DataFrame) -> set:
    """(area_id, date) pairs with measures active, and the day after each (carry-over)."""
    out = set()
    for a, d in zip(warnings["area_id"], pd.to_datetime(warnings["date"])):
        out.add((a, d))
        out.add((a, d + pd.Timedelta(days=1)))
    return out


@dataclass
class Counterfactual:
    boosters: dict            # target → list of fold boosters (growth in log space)
    features: list[str]
    areas: list[str]
    fold_of_week: dict        # week number → fold
    errors: pd.DataFrame      # out-of-fold recursion errors on untreated days: area_id, date, step, target, …
    info: dict = field(default_factory=dict)

    def _X(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = frame.reindex(columns=[f for f in self.features if f != "area"]).astype(float)
        X.insert(0, "area", frame["area_id"].map({a: i for i, a in enumerate(self.areas)}).astype(float))
        return X[self.features]

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The features of :meth:`_X` as a float array (prediction; no pandas re-indexing per call)."""
        X = np.full((len(frame), len(self.features)), np.nan)
        codes = {a: i for i, a in enumerate(self.areas)}
        for j, f in enumerate(self.features):
            if f == "area":
                X[:, j] = frame["area_id"].map(codes).to_numpy(float)
            elif f in frame.columns:
                X[:, j] = frame[f].to_numpy(float)
        return X

    def growth(self, frame: pd.DataFrame, target: str, fold: np.ndarray | None = None) -> np.ndarray:
        """Predicted log growth per row: the mean of the fold models, or the model of ``fold`` per row."""
        X = self._matrix(frame)
        if fold is None:
            return np.mean([b.predict(X) for b in self.boosters[target]], axis=0)
        out = np.empty(len(frame))
        for f in np.unique(fold):
            m = fold == f
            out[m] = self.boosters[target][int(f)].predict(X[m])
        return out

    def step(self, frame: pd.DataFrame, lag: dict, fold: np.ndarray | None = None) -> dict:
        """One day of the counterfactual: from the previous day's levels ``lag`` (target → log(1 + value)),
        without cuts; the decision innovations are re-expressed relative to that previous AQI."""
        rows = frame.copy()
        for c in TREATMENT:
            rows[c] = 0.0
        obs_aqi_prev = np.log1p(frame["aqi_prev"].to_numpy(float))
        for t, col in LAGS.items():
            rows[col] = np.expm1(lag[t])
        for c in [c for c in rows.columns if c.startswith("dec_")]:
            rows[c] = rows[c].to_numpy(float) + obs_aqi_prev - lag["aqi"]
        return {t: lag[t] + self.growth(rows, t, fold) for t in TARGETS}

    def predict(self, frame: pd.DataFrame, *, steps: np.ndarray, fold: np.ndarray | None = None) -> pd.DataFrame:
        """Counterfactual (no cuts) of every row, run forward: a row with ``steps = h`` grows from the
        counterfactual of the row before it (``h − 1``), a row with ``h = 1`` from the observed day before.

        ``frame`` must hold each run's rows in date order, consecutive, per area.
        """
        frame = frame.reset_index(drop=True)
        steps = np.asarray(steps, int)
        level = {t: np.full(len(frame), np.nan) for t in TARGETS}
        for h in range(1, int(steps.max()) + 1):
            m = np.flatnonzero(steps == h)
            if not len(m):
                continue
            if h == 1:
                lag = {t: np.log1p(frame[c].to_numpy(float)[m]) for t, c in LAGS.items()}
            else:
                lag = {t: level[t][m - 1] for t in TARGETS}
            new = self.step(frame.iloc[m], lag, None if fold is None else fold[m])
            for t in TARGETS:
                level[t][m] = new[t]
        out = frame[["area_id", "date"]].copy()
        for t in TARGETS:
            out[f"cf_{t}"] = np.expm1(level[t])
        return out


def _steps(frame: pd.DataFrame, treated: np.ndarray) -> np.ndarray:
    """Step of every treated row inside its run (1 = first warned day of the run); 0 for untreated rows."""
    steps = np.zeros(len(frame), int)
    prev_area, prev_date, run = None, None, 0
    for i, (a, d, tr) in enumerate(zip(frame["area_id"], frame["date"], treated)):
        if tr and a == prev_area and prev_date is not None and d - prev_date == pd.Timedelta(days=1) and run > 0:
            run += 1
        else:
            run = 1 if tr else 0
        steps[i] = run if tr else 0
        prev_area, prev_date = a, d
    return steps


def _week(dates: pd.Series) -> np.ndarray:
    return ((pd.to_datetime(dates) - pd.Timestamp("2000-01-03")).dt.days // 7).to_numpy()


def fit(table: pd.DataFrame, holdout: set, *, seed: int = 0, rounds: int = 300, folds: int = 5) -> Counterfactual:
    """Train on every row of :func:`design` whose (area_id, date) is not in ``holdout`` (the evaluated window).

    The folds are interleaved weeks; each fold's model serves the out-of-fold recursion errors of its weeks.
    """
    import lightgbm as lgb

    keys = list(zip(table["area_id"], table["date"]))
    train = table[[k not in holdout for k in keys]]
    train = train.dropna(subset=["pm25_24h", "aqi", "pm25_prev", "aqi_prev"]).reset_index(drop=True)
    if len(train) < 100:
        raise CounterfactualError(f"only {len(train)} area-days to learn the counterfactual from; need at least 100")
    feats = ["area"] + [c for c in train.columns if c not in ("area_id", "date", "aqi", "pm25_24h", "dust")]
    week = _week(train["date"])
    weeks = np.unique(week)
    k = max(2, min(folds, len(weeks)))
    # blocks of BLOCK_WEEKS consecutive weeks: a fold model misses whole spells, as the episode's model misses
    # the episode window — so its errors are the ones to expect there (interleaved single weeks would flatter it)
    fold_of_week = {int(w): (i // BLOCK_WEEKS) % k for i, w in enumerate(weeks)}
    fold = np.array([fold_of_week[int(w)] for w in week])
    model = Counterfactual({t: [] for t in TARGETS}, feats, sorted(train["area_id"].unique()), fold_of_week,
                           pd.DataFrame())
    X = model._X(train)
    mono = [-1 if c in TREATMENT else 0 for c in feats]
    for t, col in TARGETS.items():
        y = np.log1p(train[col].to_numpy(float)) - np.log1p(train[LAGS[t]].to_numpy(float))
        for f in range(k):
            tr = fold != f
            params = {**PARAMS, "seed": seed, "monotone_constraints": mono}
            model.boosters[t].append(lgb.train(params, lgb.Dataset(X[tr], y[tr], categorical_feature=["area"]),
                                               rounds))
    model.errors = _recursion_errors(model, train, fold)
    model.info = {"training_days": int(len(train)), "treated_days": int((train["share"] > 0).sum()),
                  "heating_seasons": heating_seasons(train["date"]),
                  "folds": int(k), "rounds": rounds,
                  "decision_forecasts": [c for c in feats if c.startswith("dec_")],
                  "step1_mae_pm25": float(model.errors.query("step == 1 and target == 'pm25'")["abs_err"].mean())}
    return model


def heating_seasons(dates: pd.Series, *, min_days: int = 60) -> int:
    """Number of heating seasons (October – March) with at least ``min_days`` distinct days in ``dates``."""
    d = pd.DatetimeIndex(pd.to_datetime(dates).unique())
    d = d[(d.month >= 10) | (d.month <= 3)]
    season = np.where(d.month >= 10, d.year, d.year - 1)
    counts = pd.Series(season).value_counts()
    return int((counts >= min_days).sum())


#: fewer heating seasons of history than this and the estimate is flagged (see README: one winter was not enough)
MIN_SEASONS = 2


def _recursion_errors(model: Counterfactual, train: pd.DataFrame, fold: np.ndarray) -> pd.DataFrame:
    """Out-of-fold errors of the counterfactual recursion on untreated days, for runs of 1 … MAX_STEPS days.

    For an untreated day d and step h, the recursion starts from the observed day d − h and runs h days on the
    model of d's fold (days d − h + 1 … d must be untreated and consecutive).
    """
    t = train.sort_values(["area_id", "date"]).reset_index(drop=True)
    fold = np.array([model.fold_of_week[int(w)] for w in _week(t["date"])])
    untreated = (t["share"].to_numpy() == 0) & (t["share_prev"].to_numpy() == 0)
    same = (t["area_id"].to_numpy()[1:] == t["area_id"].to_numpy()[:-1]) & \
        (np.diff(t["date"].to_numpy()).astype("timedelta64[D]").astype(int) == 1)
    prev_ok = np.concatenate([[False], same])  # row i continues row i − 1
    obs = {k: np.log1p(t[c].to_numpy(float)) for k, c in TARGETS.items()}
    decided = _decision_level(t)
    ok = untreated.copy()
    level: dict = {}
    rows = []
    for h in range(1, MAX_STEPS + 1):
        if h == 1:
            lag = {k: np.log1p(t[c].to_numpy(float)) for k, c in LAGS.items()}
        else:
            ok = ok & np.concatenate([[False], ok[:-1]]) & prev_ok
            lag = {k: np.concatenate([[np.nan], level[k][:-1]]) for k in TARGETS}
        level = model.step(t, lag, fold)
        for k in TARGETS:
            m = ok & np.isfinite(level[k]) & np.isfinite(obs[k])
            rows.append(pd.DataFrame({"area_id": t["area_id"].to_numpy()[m], "date": t["date"].to_numpy()[m],
                                      "step": h, "target": k, "cf": np.expm1(level[k][m]),
                                      "log_err": obs[k][m] - level[k][m],
                                      "abs_err": np.abs(np.expm1(obs[k][m]) - np.expm1(level[k][m])),
                                      "decided_aqi": decided[m]}))
    return pd.concat(rows, ignore_index=True)


def _replay_errors(err: pd.DataFrame, rows: pd.DataFrame, steps: np.ndarray, n_boot: int, seed: int):
    """Counterfactual errors for the episode's rows, replayed from untreated periods of the same months.

    Each draw shifts the whole episode to a random start date of the untreated record: row (area, date, step h)
    takes the out-of-fold recursion error of that area, the shifted date and step h — so the errors keep their
    correlation along a run (one recursion) and across areas (one weather situation). Where the replayed day is
    missing (treated, or no data) an error of the same step is drawn from the pool of that step.
    Returns the ``(n_boot, n_rows)`` log errors and the number of possible replay starts.
    """
    rng = np.random.default_rng(seed)
    d0 = rows["date"].min()
    offset = ((rows["date"] - d0).dt.days).to_numpy()
    span = int(offset.max())
    months = set(rows["date"].dt.month) | {m % 12 + 1 for m in rows["date"].dt.month} | \
        {(m - 2) % 12 + 1 for m in rows["date"].dt.month}
    dates = pd.DatetimeIndex(sorted(err["date"].unique()))
    starts = dates[dates.month.isin(months) & (dates + pd.Timedelta(days=span) <= dates.max())]
    if not len(starts):
        starts = dates[dates + pd.Timedelta(days=span) <= dates.max()]
    # dense error cube (area, calendar day, step); NaN where the day has no error of that step
    first = dates.min()
    n_days = int((dates.max() - first).days) + 1
    areas = sorted(set(err["area_id"]) | set(rows["area_id"]))
    a_of = {a: i for i, a in enumerate(areas)}
    max_h = int(max(err["step"].max(), 1))
    cube = np.full((len(areas), n_days, max_h + 1), np.nan)
    cube[err["area_id"].map(a_of).to_numpy(), (err["date"] - first).dt.days.to_numpy(),
         err["step"].to_numpy(int)] = err["log_err"].to_numpy(float)
    pools = {h: g["log_err"].to_numpy() for h, g in err.groupby("step")}
    h_of = np.array([h if h in pools else max(pools) for h in steps])
    s0 = (starts[rng.integers(len(starts), size=n_boot)] - first).days.to_numpy()
    out = cube[rows["area_id"].map(a_of).to_numpy()[None, :], s0[:, None] + offset[None, :], h_of[None, :]]
    miss = ~np.isfinite(out)
    for h in np.unique(h_of):
        m = miss & (h_of == h)[None, :]
        if m.any():
            out[m] = pools[h][rng.integers(len(pools[h]), size=int(m.sum()))]
    return out, int(len(starts))


def _calibration_errors(err: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The recursion errors that can stand for warned days: those of days that were not dust-dominated
    (``table``'s observed ``dust`` flag). A dust storm's forecast AQI is as high as a stagnation episode's, but the
    counterfactual under-predicts it many times more (two-winter test world: untreated April dust days with
    decision forecasts of 250–500 had log errors of +0.7 on average, up to +3 — they made the ``local``
    correction triple the largest episode); the effect leaves dust days out, so must its correction."""
    if "dust" not in table:
        return err
    dust = table.set_index(["area_id", "date"])["dust"].fillna(False).astype(bool)
    flag = dust.reindex(pd.MultiIndex.from_arrays([err["area_id"], pd.to_datetime(err["date"])]))
    return err[~flag.fillna(False).to_numpy(bool)]


def _comparable_calibration(err: pd.DataFrame, floor: float, steps: np.ndarray, min_n: int = 30):
    """Per step ``h``: the mean and spread of the out-of-fold recursion errors on untreated days whose decision
    forecast reached ``floor`` [AQI] (days as polluted as the warned ones), against those of all untreated days.

    Returns arrays over ``steps``: ``bias`` (mean log error of the comparable days), ``scale`` (their standard
    deviation / that of all days), ``mean_all`` and ``se`` (standard error of ``bias``, counting each calendar day
    once: the areas of a day share its weather), and the number of comparable error rows used.
    """
    comp = err[err["decided_aqi"] >= floor]
    out = {k: np.zeros(len(steps)) for k in ("bias", "scale", "mean_all", "se")}
    out["scale"][:] = 1.0
    by_all = {h: g["log_err"].to_numpy() for h, g in err.groupby("step")}
    by_comp = {h: g for h, g in comp.groupby("step")}
    n_used = 0
    for h in np.unique(steps):
        # the longest step up to h with enough comparable errors (long runs are rare among untreated days)
        hh = max([k for k, g in by_comp.items() if k <= h and len(g) >= min_n], default=None)
        if hh is None:
            continue
        g = by_comp[hh]
        e, a = g["log_err"].to_numpy(), by_all[hh]
        sel = steps == h
        out["bias"][sel] = e.mean()
        out["mean_all"][sel] = a.mean()
        out["scale"][sel] = max(1.0, e.std() / a.std()) if a.std() > 0 else 1.0
        out["se"][sel] = e.std() / np.sqrt(max(1, g["date"].nunique()))
        n_used = max(n_used, len(g))
    return out, n_used


def _local_calibration(err: pd.DataFrame, decided: np.ndarray, steps: np.ndarray, *, width: float = 0.15,
                       min_n: int = 40, min_dates: int = 20, max_step: int = 3):
    """Per row (decision forecast ``decided`` [AQI], step ``steps``): the mean and spread of the out-of-fold
    recursion errors of untreated days of the same step (the longest available up to it) whose decision forecast
    lies within a factor ``1 ± width`` of the row's (widened until ``min_n`` errors on ``min_dates`` different
    days: the areas of one day share its weather, one situation is not a sample), against those of all untreated
    days of that step. Steps beyond ``max_step`` take the errors of ``max_step``: long untreated runs as polluted
    as a long warned spell are few, and their mean drifts (on a two-winter world the correction of an 89-area-day
    episode from its steps up to 16 tripled the estimate). Same returns as :func:`_comparable_calibration`."""
    out = {k: np.zeros(len(steps)) for k in ("bias", "scale", "mean_all", "se")}
    out["scale"][:] = 1.0
    groups = {h: g.sort_values("decided_aqi") for h, g in err.dropna(subset=["decided_aqi"]).groupby("step")}
    n_used = 0
    for i, (d, h) in enumerate(zip(decided, steps)):
        if not np.isfinite(d):
            continue
        hh = max([k for k, g in groups.items() if k <= min(h, max_step) and len(g) >= min_n], default=None)
        if hh is None:
            continue
        g = groups[hh]
        lv, e = g["decided_aqi"].to_numpy(), g["log_err"].to_numpy()
        w = width
        while True:
            a, b = np.searchsorted(lv, [d / (1 + w), d * (1 + w)])
            if (b - a >= min_n and g["date"].iloc[a:b].nunique() >= min_dates) or w > 4:
                break
            w *= 1.5
        near = e[a:b]
        if len(near) < 2:
            continue
        out["bias"][i] = near.mean()
        # the replayed errors are of the row's own step (:func:`_replay_errors`): centre them on that step's mean
        own = groups[h] if h in groups else groups[max(groups)]
        out["mean_all"][i] = own["log_err"].mean()
        out["scale"][i] = max(1.0, near.std() / e.std()) if e.std() > 0 else 1.0
        out["se"][i] = near.std() / np.sqrt(max(1, g["date"].iloc[a:b].nunique()))
        n_used = max(n_used, len(near))
    return out, n_used


def effect(model: Counterfactual, table: pd.DataFrame, rows_mask: np.ndarray, *, target: str = "pm25",
           n_boot: int = 1000, level: float = 0.9, seed: int = 0, placebo: bool = False,
           calibrate: float | str | None = None) -> dict:
    """Mean effect (observed − counterfactual) over the rows of ``table`` selected by ``rows_mask``, with an
    interval from the recursion's out-of-fold errors replayed from untreated periods (:func:`_replay_errors`).

    ``table``: :func:`design` output (all days, so a run can be traced back to its first warned day). Only
    treated rows count, and not dust-dominated ones (the measures do not act on dust). ``placebo``: the
    selected rows need not be treated; consecutive selected days of an area form the runs (an episode without
    measures, where the estimate should be compatible with zero).

    Returns ``n_days``, ``estimate`` and ``interval`` [unit of the target], the observed and counterfactual means,
    ``relative`` (estimate / counterfactual mean) and ``rows``: the ``[area_id, date]`` pairs averaged over.
    """
    col = TARGETS[target]
    order = table.sort_values(["area_id", "date"]).index
    t = table.loc[order].reset_index(drop=True)
    mask = np.asarray(pd.Series(rows_mask, index=table.index).loc[order], bool)
    treated = (t["share"].to_numpy() > 0) if not placebo else mask
    steps = _steps(t, treated)
    dust = t["dust"].fillna(False).to_numpy(bool) if "dust" in t else np.zeros(len(t), bool)
    sel = np.flatnonzero(mask & treated & ~dust)
    empty = {"n_days": 0, "estimate": None, "interval": [None, None],
             "dust_days_excluded": int((mask & treated & dust).sum())}
    if not len(sel):
        return empty
    need = set()
    for i in sel:  # every run with a selected row, from its first day
        need.update(range(i - steps[i] + 1, i + 1))
    idx = np.array(sorted(need))
    run_rows = t.iloc[idx]
    cf = model.predict(run_rows, steps=steps[idx])[f"cf_{target}"].to_numpy(float)
    # the fold models' counterfactuals: a delete-a-group jackknife of the model's own estimation error
    k = len(model.boosters[target])
    per_fold = np.array([model.predict(run_rows, steps=steps[idx], fold=np.full(len(idx), f))[f"cf_{target}"]
                         .to_numpy(float) for f in range(k)])
    pick = np.isin(idx, sel)
    rows = run_rows[pick]
    cf, st, per_fold = cf[pick], np.minimum(steps[idx][pick], MAX_STEPS), per_fold[:, pick]
    obs = rows[col].to_numpy(float)
    ok = np.isfinite(obs) & np.isfinite(cf) & np.isfinite(per_fold).all(axis=0)
    rows, cf, st, obs, per_fold = rows[ok], cf[ok], st[ok], obs[ok], per_fold[:, ok]
    if not len(obs):
        return empty
    err = model.errors[model.errors["target"] == target]
    errors, n_replays = _replay_errors(err, rows, st, n_boot, seed)
    calibration = None
    if calibrate is not None and "decided_aqi" in err:
        err = _calibration_errors(err, t)
        # the recursion's errors on days as polluted as these (decision forecast ≥ calibrate × their median):
        # their mean is the counterfactual's bias there (it regresses towards ordinary days), their spread the
        # errors to replay
        if calibrate == "local":
            floor = None
            cal, n_comp = _local_calibration(err, _decision_level(rows), st)
        else:
            floor = calibrate * float(np.nanmedian(_decision_level(rows)))
            cal, n_comp = _comparable_calibration(err, floor, st)
        if n_comp:
            cf = np.expm1(np.log1p(cf) + cal["bias"])
            per_fold = np.expm1(np.log1p(per_fold) + cal["bias"][None, :])
            z = np.random.default_rng(seed + 2).standard_normal(n_boot)[:, None]
            errors = (errors - cal["mean_all"][None, :]) * cal["scale"][None, :] + z * cal["se"][None, :]
            calibration = {"aqi_floor": None if floor is None else round(floor, 1), "error_rows": int(n_comp),
                           "mean_bias": float(np.mean(cal["bias"])), "mean_scale": float(np.mean(cal["scale"]))}
    log_fold = np.log1p(per_fold)
    spread = np.sqrt(k - 1) * (log_fold - log_fold.mean(axis=0))  # jackknife-scaled deviations, log space
    pick_fold = np.random.default_rng(seed + 1).integers(k, size=n_boot)
    boots = np.mean(obs[None, :] - np.expm1(np.log1p(cf)[None, :] + spread[pick_fold] + errors), axis=1)
    estimate = float(np.mean(obs - cf))
    a = (1 - level) / 2
    lo, hi = np.quantile(boots, [a, 1 - a])
    cf_mean = float(cf.mean())
    return {"n_days": int(len(obs)), "observed_mean": float(obs.mean()), "counterfactual_mean": cf_mean,
            "estimate": estimate, "interval": [float(min(lo, estimate)), float(max(hi, estimate))],
            "level": level, "relative": estimate / cf_mean if cf_mean > 0 else None,
            "replays": n_replays, "max_step": int(st.max()),
            "dust_days_excluded": empty["dust_days_excluded"], "calibration": calibration,
            "rows": [[a, str(d.date())] for a, d in zip(rows["area_id"], rows["date"])]}


# ---- when the effect can be known, and when an estimate is a failure (issue #22) --------------------------------

DATA_DIR = Path(__file__).parent / "data"
EFFECT_POLICY = DATA_DIR / "effect_policy.yaml"
EFFECT_ANCHORS = DATA_DIR / "effect_anchors.yaml"
#: the reasons an episode's effect is not estimable (codes of ``effect_flags`` in ``forecast/data/labels.yaml``)
REASONS = ("festival_unseen", "few_comparable_days", "stagnant_days_treated")
#: the flags an estimate can carry
FLAGS = ("implausible_sign", "outside_anchors")
#: how the counterfactual is corrected by its errors on untreated days as polluted as the warned ones
#: (``effect_policy.yaml: estimation.calibration``; :func:`calibration_argument`)
CALIBRATIONS = ("comparable", "local", "none")


def calibration_argument(policy: dict):
    """The ``calibrate`` argument of :func:`effect` the policy asks for: ``comparable`` → the fraction of the
    warned days' median decision forecast that makes an untreated day comparable
    (``identifiability.comparable_days.forecast_fraction``: one definition of "comparable" for both), ``local`` →
    ``"local"``, ``none`` → ``None``."""
    method = (policy.get("estimation") or {}).get("calibration", "none")
    if method == "comparable":
        return float(policy["identifiability"]["comparable_days"]["forecast_fraction"])
    return "local" if method == "local" else None


def _load_yaml(path, what: str, required: tuple) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = load_yaml(fh)
    except OSError as exc:
        raise CounterfactualError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CounterfactualError(f"{path}: not valid YAML ({what}): {exc}") from exc
    if not isinstance(data, dict):
        raise CounterfactualError(f"{path}: the {what} must be a mapping, got {type(data).__name__}")
    missing = [k for k in required if k not in data]
    if missing:
        raise CounterfactualError(f"{path}: the {what} lacks {', '.join(missing)}; required: {', '.join(required)}")
    return data


def load_effect_policy(path=None) -> dict:
    """The identifiability thresholds and the plausibility bound (default the shipped
    ``response/data/effect_policy.yaml``).

    Raises
    ------
    CounterfactualError
        An unreadable file, or one without the required sections and thresholds (named with the file).
    """
    path = path or EFFECT_POLICY
    data = _load_yaml(path, "effect policy", ("identifiability", "plausibility"))
    need = {"festival": ("min_seasons_seen",), "comparable_days": ("forecast_fraction", "min_days"),
            "stagnant_days_treated": ("stagnant_aqi", "max_share")}
    ident = data["identifiability"] or {}
    for section, keys in need.items():
        for key in keys:
            value = (ident.get(section) or {}).get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise CounterfactualError(f"{path}: identifiability.{section}.{key} must be a number ≥ 0, got "
                                          f"{value!r}")
    method = (data.get("estimation") or {}).get("calibration", "none")
    if method not in CALIBRATIONS:
        raise CounterfactualError(f"{path}: estimation.calibration {method!r} is not one of "
                                  f"{', '.join(CALIBRATIONS)}")
    if not isinstance((data["plausibility"] or {}).get("max_effect"), (int, float)):
        raise CounterfactualError(f"{path}: plausibility.max_effect must be a number [µg/m³], got "
                                  f"{(data['plausibility'] or {}).get('max_effect')!r}")
    return data


def load_effect_anchors(path=None) -> dict:
    """Published effects of emergency measures (default the shipped ``response/data/effect_anchors.yaml``):
    ``anchors`` (each ``id``, ``reduction`` [low, high] [0–1], ``zh``, ``en``, ``citation``), ``flag_below``,
    ``flag_above`` [0–1].

    Raises
    ------
    CounterfactualError
        An unreadable file, a missing field, or a reduction range that is not 0 ≤ low ≤ high ≤ 1.
    """
    path = path or EFFECT_ANCHORS
    data = _load_yaml(path, "effect anchors", ("anchors", "flag_below", "flag_above"))
    for a in data["anchors"] or []:
        missing = [k for k in ("id", "reduction", "zh", "en", "citation") if k not in a]
        if missing:
            raise CounterfactualError(f"{path}: anchor {a.get('id', '?')!r} lacks {', '.join(missing)}")
        r = a["reduction"]
        if not (isinstance(r, list) and len(r) == 2 and 0 <= r[0] <= r[1] <= 1):
            raise CounterfactualError(f"{path}: anchor {a['id']!r}: reduction must be [low, high] with "
                                      f"0 ≤ low ≤ high ≤ 1, got {r!r}")
    if not 0 <= data["flag_below"] <= data["flag_above"]:
        raise CounterfactualError(f"{path}: need 0 ≤ flag_below ≤ flag_above, got {data['flag_below']!r}, "
                                  f"{data['flag_above']!r}")
    return data


def _fireworks_nights(table: pd.DataFrame) -> list[str]:
    return [c[len("cal_fireworks_"):] for c in table.columns
            if c.startswith("cal_fireworks_") and not c.endswith("_prev")]


def festival_days(table: pd.DataFrame) -> pd.DataFrame:
    """Per row of :func:`design`: whether a fireworks night falls on the day or the night before it (the smoke
    of the night, and its clearing), one boolean column per night."""
    out = pd.DataFrame(index=table.index)
    for night in _fireworks_nights(table):
        hours = table[f"cal_fireworks_{night}"].fillna(0)
        if f"cal_fireworks_{night}_prev" in table:
            hours = hours + table[f"cal_fireworks_{night}_prev"].fillna(0)
        out[night] = hours.to_numpy(float) > 0
    return out


def _decision_level(table: pd.DataFrame) -> np.ndarray:
    """The AQI the warnings were decided on (shortest lead) [1]; the previous day's observed AQI without it."""
    if "dec_aqi" in table:
        return np.expm1(table["dec_aqi"].to_numpy(float) + np.log1p(table["aqi_prev"].to_numpy(float)))
    return table["aqi_prev"].to_numpy(float)


def identifiability(table: pd.DataFrame, treated: np.ndarray, holdout: set, policy: dict) -> dict:
    """Whether the effect on the ``treated`` rows of ``table`` (:func:`design`) can be identified from the rows
    outside ``holdout`` (the training history), by the thresholds of ``policy`` (:func:`load_effect_policy`).

    Three reasons make it not estimable (``REASONS``):

    - ``festival_unseen``: a warned area-day has a fireworks night on it or the night before, and the history
      has that night in fewer than ``festival.min_seasons_seen`` heating seasons (the smoke of one night is
      larger than the whole cut effect; a model that has seen it once cannot separate the two);
    - ``few_comparable_days``: fewer than ``comparable_days.min_days`` untreated area-days in the history whose
      decision forecast [AQI] reaches ``forecast_fraction`` × the median of the warned area-days' (no overlap:
      the counterfactual would be an extrapolation);
    - ``stagnant_days_treated``: more than ``stagnant_days_treated.max_share`` of the history's heavy area-days
      (observed daily AQI > ``stagnant_aqi``) had measures in force (the model never saw such days without).

    Returns
    -------
    dict
        ``estimable`` (bool), ``reasons`` (``[{"code", "values"}]``, the values the message is built from) and
        ``checks`` (every measured quantity, whether or not it failed).
    """
    ident = policy["identifiability"]
    treated = np.asarray(treated, bool)
    train = np.array([k not in holdout for k in zip(table["area_id"], table["date"])], bool) & \
        np.isfinite(table["pm25_24h"].to_numpy(float)) & np.isfinite(table["pm25_prev"].to_numpy(float))
    dates = pd.to_datetime(table["date"])
    season = np.where(dates.dt.month >= 10, dates.dt.year, dates.dt.year - 1)
    reasons, checks = [], {}
    fest = festival_days(table)
    need = int(ident["festival"]["min_seasons_seen"])
    nights = {}
    for night in fest.columns:
        on = fest[night].to_numpy()
        if not (on & treated).any():
            continue
        seen = int(len(np.unique(season[on & train])))
        nights[night] = {"area_days": int((on & treated).sum()), "seasons_seen": seen}
        if seen < need:
            reasons.append({"code": "festival_unseen", "values": {"night": night, "seen": seen, "need": need,
                                                                  "days": int((on & treated).sum())}})
    checks["festivals"] = nights
    level = _decision_level(table)
    ref = float(np.nanmedian(level[treated])) if treated.any() and np.isfinite(level[treated]).any() else np.nan
    cd = ident["comparable_days"]
    untreated = (table["share"].to_numpy() == 0) & (table["share_prev"].to_numpy() == 0)
    if np.isfinite(ref):
        floor = float(cd["forecast_fraction"]) * ref
        n = int((train & untreated & (level >= floor)).sum())
        checks["comparable_days"] = {"days": n, "aqi_floor": round(floor, 1), "warned_median_aqi": round(ref, 1)}
        if n < int(cd["min_days"]):
            reasons.append({"code": "few_comparable_days", "values": {"days": n, "need": int(cd["min_days"]),
                                                                      "aqi": round(floor)}})
    sd = ident["stagnant_days_treated"]
    heavy = train & (table["aqi"].to_numpy(float) > float(sd["stagnant_aqi"]))
    if heavy.any():
        share = float((table["share"].to_numpy()[heavy] > 0).mean())
        checks["stagnant_days_treated"] = {"heavy_days": int(heavy.sum()), "treated_share": round(share, 3)}
        if share > float(sd["max_share"]):
            reasons.append({"code": "stagnant_days_treated", "values": {
                "share": f"{share:.0%}", "limit": f"{float(sd['max_share']):.0%}", "aqi": sd["stagnant_aqi"]}})
    return {"estimable": not reasons, "reasons": reasons, "checks": checks}


def plausibility(estimate: dict, policy: dict, anchors: dict | None = None) -> list[dict]:
    """The flags of one estimate (:func:`effect`'s dict, PM2.5 or AQI), ``[{"code", "values"}]`` (``FLAGS``):

    - ``implausible_sign``: the estimate is above ``plausibility.max_effect`` (cuts cannot raise PM2.5: the
      estimate failed, it is not a finding);
    - ``outside_anchors`` (with ``anchors``, :func:`load_effect_anchors`): the relative reduction
      (−estimate / counterfactual mean) is positive but below ``flag_below`` or above ``flag_above``.
    """
    if not estimate or estimate.get("estimate") is None:
        return []
    flags = []
    est = float(estimate["estimate"])
    lo, hi = estimate.get("interval") or [None, None]
    if est > float(policy["plausibility"]["max_effect"]):
        flags.append({"code": "implausible_sign", "values": {
            "estimate": round(est, 1), "significant": lo is not None and lo > 0}})
    elif anchors is not None and estimate.get("relative") is not None:
        reduction = -float(estimate["relative"])
        if reduction < anchors["flag_below"] or reduction > anchors["flag_above"]:
            flags.append({"code": "outside_anchors", "values": {
                "reduction": f"{reduction:.0%}", "low": f"{anchors['flag_below']:.0%}",
                "high": f"{anchors['flag_above']:.0%}"}})
    return flags


def flag_text(flag: dict, lang: str = "zh") -> str:
    """The message of a reason or flag (``{"code", "values"}``) in ``lang``: the ``effect_flags`` label of its
    code (``forecast/data/labels.yaml``) filled with its values."""
    from forecast import labels

    values = dict(flag.get("values") or {})
    if "night" in values:
        values["night"] = labels.label("effect_flags", f"night_{values['night']}", lang, default=values["night"])
    return labels.label("effect_flags", flag["code"], lang).format(**values)
