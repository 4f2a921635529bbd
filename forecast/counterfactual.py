"""Weather-normalised effect of emergency measures: a counterfactual model of "no measures" days.

The counterfactual model is LightGBM on area-days without active measures (no warning in force that day or the
day before): the observed daily PM2.5 (and AQI) explained by the same day's and the previous day's meteorological
drivers, the emission calendar and the area.
The one exception is yesterday's observed PM2.5/AQI, which is untreated on the training days and on the first
day of an episode; inside an episode the model runs forward day by day on its own counterfactual of the day
before. For the warned days of an episode it gives the concentration that would have occurred without the
measures; the effect is observed − counterfactual (negative = the measures lowered it).

Uncertainty: the model's out-of-fold errors on comparable no-warning days (folds of whole weeks; "comparable" =
counterfactual prediction in the range of the episode's) — the estimated effect minus the true effect equals the
counterfactual's error, so the interval is ``estimate − quantiles(mean error)``, with the mean error of as many
days as the episode has drawn by a block bootstrap (blocks of consecutive days of one area, for the day-to-day
dependence). The point estimate is bias-corrected by the mean error of the comparable days.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import features as F

TARGETS = {"pm25": "pm25_24h", "aqi": "aqi"}
MET = ("temp_air", "rh", "wind_speed", "wind_u", "wind_v", "blh", "blh_night_min", "ventilation",
       "ventilation_min", "inversion_925_max", "inversion_850_max", "precip", "hdd", "stagnation", "pressure")
PARAMS = {"objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 15,
          "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
          "deterministic": True, "force_row_wise": True, "num_threads": 2}


class CounterfactualError(ValueError):
    """Too little data without measures, or no meteorology for the days asked."""


def design(obs_daily: pd.DataFrame, met_daily: pd.DataFrame) -> pd.DataFrame:
    """One row per (area_id, date): targets, same-day and previous-day drivers, calendar, area code."""
    obs = obs_daily.reset_index()[["area_id", "date", "aqi", "pm25_24h"]]
    met = met_daily.reset_index()
    met["date"] = pd.to_datetime(met["date"])
    cols = [c for c in MET if c in met.columns]
    today = met[["area_id", "date"] + cols]
    prev = today.assign(date=today["date"] + pd.Timedelta(days=1)).rename(columns={c: f"{c}_prev" for c in cols})
    frame = obs.merge(today, on=["area_id", "date"], how="inner").merge(prev, on=["area_id", "date"], how="left")
    # yesterday's observed PM2.5 and AQI: untreated on training days (days after a warning day are excluded) and on
    # the first day of an episode; inside an episode :meth:`Counterfactual.predict` replaces them by its own
    # counterfactual of the day before (the measures lowered the observed value)
    lag = obs.assign(date=obs["date"] + pd.Timedelta(days=1)).rename(columns={"aqi": "aqi_prev",
                                                                           "pm25_24h": "pm25_prev"})
    frame = frame.merge(lag, on=["area_id", "date"], how="left")
    cal = F.calendar_features(frame.rename(columns={"date": "target_date"}))
    return pd.concat([frame, cal], axis=1)


def warned_days(warnings: pd.DataFrame) -> set:
    """(area_id, date) pairs with measures active, and the day after each (carry-over)."""
    out = set()
    for a, d in zip(warnings["area_id"], pd.to_datetime(warnings["date"])):
        out.add((a, d))
        out.add((a, d + pd.Timedelta(days=1)))
    return out


@dataclass
class Counterfactual:
    boosters: dict
    features: list[str]
    areas: list[str]
    oof: pd.DataFrame  # area_id, date, target, pred, resid (obs − pred) on training (no-measure) days
    info: dict = field(default_factory=dict)

    def _X(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = frame.reindex(columns=[f for f in self.features if f != "area"]).astype(float)
        X.insert(0, "area", frame["area_id"].map({a: i for i, a in enumerate(self.areas)}).astype(float))
        return X[self.features]

    def _predict_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = self._X(frame)
        out = frame[["area_id", "date"]].copy()
        for t in TARGETS:
            out[f"cf_{t}"] = np.mean([np.expm1(b.predict(X)) for b in self.boosters[t]], axis=0)
        return out

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Counterfactual per row; rows whose previous day is also in ``frame`` (a treated run) take the
        counterfactual of that day as their lagged value, day by day."""
        frame = frame.sort_values(["area_id", "date"]).copy()
        have = set(zip(frame["area_id"], frame["date"]))
        inside = np.array([(a, d - pd.Timedelta(days=1)) in have for a, d in zip(frame["area_id"], frame["date"])])
        if not inside.any():
            return self._predict_rows(frame)
        out = []
        prev: dict = {}
        for _, row in frame.iterrows():
            r = row.to_frame().T.astype({c: float for c in self.features if c in row.index and c != "area"},
                                        errors="ignore")
            key = (row["area_id"], row["date"] - pd.Timedelta(days=1))
            if key in prev:
                r["pm25_prev"], r["aqi_prev"] = prev[key]
            p = self._predict_rows(r)
            prev[(row["area_id"], row["date"])] = (float(p["cf_pm25"].iloc[0]), float(p["cf_aqi"].iloc[0]))
            out.append(p)
        return pd.concat(out).loc[frame.index]


def fit(table: pd.DataFrame, exclude: set, *, seed: int = 0, rounds: int = 300, folds: int = 5) -> Counterfactual:
    """Train on the rows of ``design()`` whose (area_id, date) is not in ``exclude`` (warned days and the
    evaluated window)."""
    import lightgbm as lgb

    keys = list(zip(table["area_id"], table["date"]))
    train = table[[k not in exclude for k in keys]].dropna(subset=["pm25_24h", "aqi"]).reset_index(drop=True)
    if len(train) < 100:
        raise CounterfactualError(f"only {len(train)} area-days without measures to learn the counterfactual from; "
                                  "need at least 100")
    feats = ["area"] + [c for c in train.columns if c not in ("area_id", "date", "aqi", "pm25_24h")]
    train = train.dropna(subset=["pm25_prev"]).reset_index(drop=True)
    model = Counterfactual({t: [] for t in TARGETS}, feats, sorted(train["area_id"].unique()), pd.DataFrame())
    X = model._X(train)
    week = ((train["date"] - pd.Timestamp("2000-01-03")).dt.days // 7).to_numpy()
    weeks = np.unique(week)
    k = max(2, min(folds, len(weeks)))
    fold = np.array([{w: i % k for i, w in enumerate(weeks)}[w] for w in week])
    oof_rows = []
    for t, col in TARGETS.items():
        y = np.log1p(train[col].to_numpy(float))
        pred = np.zeros(len(y))
        for f in range(k):
            tr = fold != f
            b = lgb.train({**PARAMS, "seed": seed}, lgb.Dataset(X[tr], y[tr], categorical_feature=["area"]), rounds)
            pred[~tr] = b.predict(X[~tr])
            model.boosters[t].append(b)
        obs = train[col].to_numpy(float)
        oof_rows.append(pd.DataFrame({"area_id": train["area_id"], "date": train["date"], "target": t,
                                      "obs": obs, "pred": np.expm1(pred), "resid": obs - np.expm1(pred)}))
    model.oof = pd.concat(oof_rows, ignore_index=True)
    model.info = {"training_days": int(len(train)), "folds": int(k), "rounds": rounds,
                  "oof_mae_pm25": float(model.oof.query("target == 'pm25'")["resid"].abs().mean())}
    return model


def effect(model: Counterfactual, rows: pd.DataFrame, *, target: str = "pm25", n_boot: int = 2000,
           block: int = 4, level: float = 0.9, seed: int = 0) -> dict:
    """Mean effect (observed − counterfactual) over the given area-days, bias-corrected, with an interval.

    ``rows``: design rows (observed targets and drivers) of the days whose effect is wanted.
    """
    col = TARGETS[target]
    rows = rows.dropna(subset=[col])
    if rows.empty:
        return {"n_days": 0, "estimate": None, "interval": [None, None]}
    rows = rows.sort_values(["area_id", "date"])
    cf = model.predict(rows)[f"cf_{target}"].to_numpy(float)
    obs = rows[col].to_numpy(float)
    raw = float(np.mean(obs - cf))
    oof = model.oof[model.oof["target"] == target]
    lo, hi = np.quantile(cf, [0.1, 0.9])
    comp = oof[(oof["pred"] >= 0.8 * lo) & (oof["pred"] <= 1.25 * hi)]
    if len(comp) < 30:  # too few comparable days: use the closest 30 by prediction
        comp = oof.iloc[np.argsort(np.abs(oof["pred"].to_numpy() - np.median(cf)))[:30]]
    comp = comp.sort_values(["area_id", "date"])
    # blocks of consecutive days within an area
    blocks = []
    for _, g in comp.groupby("area_id"):
        r = g["resid"].to_numpy(float)
        blocks.extend(r[i:i + block] for i in range(0, len(r), block))
    rng = np.random.default_rng(seed)
    n = len(obs)
    means = np.empty(n_boot)
    lengths = np.array([len(b) for b in blocks])
    for i in range(n_boot):
        picked, total = [], 0
        while total < n:
            j = rng.integers(len(blocks))
            picked.append(blocks[j])
            total += lengths[j]
        means[i] = np.concatenate(picked)[:n].mean()
    bias = float(comp["resid"].mean())
    # true effect = estimate − error of the counterfactual mean; error of cf = −resid (resid = obs − pred)
    estimate = raw - bias
    a = (1 - level) / 2
    d_lo, d_hi = np.quantile(means - bias, [a, 1 - a])  # spread of the episode's mean counterfactual error
    return {"n_days": int(n), "observed_mean": float(obs.mean()), "counterfactual_mean": float(cf.mean()),
            "raw": raw, "bias_correction": -bias, "estimate": estimate,
            "interval": [float(estimate - d_hi), float(estimate - d_lo)], "level": level,
            "relative": estimate / float(cf.mean() + bias) if cf.mean() + bias > 0 else None,
            "comparable_days": int(len(comp))}
