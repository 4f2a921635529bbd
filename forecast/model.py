"""The LightGBM AQI forecaster: quantiles, calibrated exceedance probabilities, warning-level probabilities, drivers.

One set of boosters serves every area and lead day (``area`` and ``lead`` are features), on the feature columns
the training rows give values for (a column without a single value — a driver the meteorology cannot give, a
pollutant never measured — is left out and listed in ``Forecaster.left_out``; a model never trains on NaN
columns):

- quantile regression (pinball loss) of log(1 + AQI) and log(1 + PM2.5) at 10/50/90 %; quantile crossings are
  removed by sorting;
- binary classifiers for AQI > 150, > 200, > 300 and for a dust-dominated day, cross-fitted: the training weeks
  are split into 5 interleaved folds; each fold model is trained on the other folds and calibrated (isotonic) on its
  own, and a forecast averages the 5 calibrated probabilities (as scikit-learn's ``CalibratedClassifierCV``).
  Heavy days are rare (a few per cent of area-days): the classifiers up-weight the positive class by
  ``sqrt(negatives / positives)`` (at most 10) so the trees split on them, and the calibration maps the scores back
  to probabilities. The yes/no event forecast (``event_gt…``, used by the categorical scores) is "probability ≥ the
  threshold that maximised TS on the out-of-fold probabilities of the whole training period";
- warning-level probabilities come from sampling: each lead day's predictive distribution is a split normal in
  log space through the 10/50/90 % quantiles, the days are tied by a Gaussian copula with an AR(1) correlation
  across lead days estimated on the held-out block, and every sampled 7-day sequence is graded with the warning
  rules (dust-flagged days count as below every threshold: they get a health advisory, not a warning);
- driver contributions are LightGBM ``pred_contrib`` of the median-AQI booster (log space), summed per family.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import distributions as D
from . import features as F
from . import levels

QUANTILES = (0.1, 0.5, 0.9)
THRESHOLDS = (150, 200, 300)
TARGETS = {"aqi": "y_aqi", "pm25": "y_pm25"}
MODEL_FORMAT = 1
#: columns that are never features
NOT_FEATURES = {"area_id", "issue_date", "target_date", "met_source", "y_aqi", "y_pm25", "y_pm10", "y_dust",
                "clim_n", "clim_months"}
DEFAULT_PARAMS = {"learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20, "feature_fraction": 0.8,
                  "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
                  "deterministic": True, "force_row_wise": True, "num_threads": 2}
N_ROUNDS = 300


class ModelError(ValueError):
    """A model that cannot be trained, loaded or applied to the data given."""


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a feature table that are features (everything but keys, targets and bookkeeping)."""
    cols = [c for c in frame.columns if c not in NOT_FEATURES and not c.startswith("y_")]
    return cols


def empty_features(frame: pd.DataFrame) -> list[str]:
    """Feature columns without a single value in ``frame`` (left out of training: a model never trains on a
    column of NaN)."""
    return [c for c in feature_columns(frame) if c != "area" and frame[c].isna().all()]


@dataclass
class Forecaster:
    """Trained boosters and calibrators (see module docstring)."""

    features: list[str]
    areas: list[str]
    boosters: dict = field(default_factory=dict)  # name → lightgbm.Booster
    calibrators: dict = field(default_factory=dict)  # name → (x thresholds, y values) of the isotonic map
    lead_correlation: float = 0.6
    decision: dict = field(default_factory=dict)  # name → probability above which the event is forecast
    card: dict = field(default_factory=dict)
    seed: int = 0
    left_out: list = field(default_factory=list)  #: feature columns without a value in the training rows

    # ---- preparing the matrix ------------------------------------------------------------------------------
    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.features if c not in frame.columns and c != "area"]
        if missing:
            raise ModelError(f"the data cannot supply the model's features {missing[:8]}"
                             f"{' …' if len(missing) > 8 else ''} (model trained with "
                             f"{self.card.get('met_variables', '?')}; run `lantian ingest` or retrain)")
        X = frame.reindex(columns=[c for c in self.features if c != "area"]).astype(float)
        if "area" in self.features:
            codes = {a: i for i, a in enumerate(self.areas)}
            X.insert(0, "area", frame["area_id"].map(codes).astype(float))
            X = X[self.features]
        return X

    # ---- training ------------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, frame: pd.DataFrame, *, seed: int = 0, params: dict | None = None, rounds: int = N_ROUNDS,
            folds: int = 5, progress=None) -> "Forecaster":
        """Train on a feature table with targets (rows without an observed AQI are left out).

        Feature columns without a single value in the training rows (a driver the meteorology cannot give, a
        pollutant never measured) are left out of the model and listed in ``left_out``.

        Raises
        ------
        ModelError
            Fewer than 200 rows with an observed AQI, or fewer than 2 weeks.
        """
        import lightgbm as lgb
        from sklearn.isotonic import IsotonicRegression

        data = frame[frame["y_aqi"].notna()].reset_index(drop=True)
        if len(data) < 200:
            raise ModelError(f"only {len(data)} training rows with an observed AQI; need at least 200")
        empty = empty_features(data)
        feats = ["area"] + [c for c in feature_columns(data) if c != "area" and c not in empty]
        model = cls(features=feats, areas=sorted(data["area_id"].unique()), seed=seed, left_out=empty)
        X = model.matrix(data)
        p = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
        # cross-fitting folds of whole weeks, interleaved (week k goes to fold k mod K): every fold spans the
        # seasons, and the day-to-day dependence does not leak between a model and the weeks it is calibrated on
        week = ((data["issue_date"] - pd.Timestamp("2000-01-03")).dt.days // 7).to_numpy()
        weeks = np.unique(week)
        if len(weeks) < 2:
            raise ModelError(f"training period of {len(weeks)} week(s) is too short: cross-fitted calibration needs "
                             "at least 2 weeks")
        folds = min(folds, len(weeks))  # short periods (tests, a first season) get fewer folds
        fold_of_week = {w: i % folds for i, w in enumerate(weeks)}
        fold = np.array([fold_of_week[w] for w in week])
        jobs = [(f"{t}_q{int(q * 100)}", t, q) for t in TARGETS for q in QUANTILES] + \
               [(f"p{th}", None, th) for th in THRESHOLDS] + [("dust", None, "dust")]
        step = progress or (lambda name: None)
        for name, target, q in jobs:
            if target is not None:
                y = np.log1p(data[TARGETS[target]].to_numpy(float))
                ok = np.isfinite(y)
                ds = lgb.Dataset(X[ok], y[ok], categorical_feature=["area"], free_raw_data=False)
                model.boosters[name] = lgb.train({**p, "objective": "quantile", "alpha": q}, ds, rounds)
                step(name)
                continue
            y = (data["y_aqi"] > q).to_numpy(int) if q != "dust" else \
                data["y_dust"].fillna(False).astype(bool).to_numpy(int)
            oof = np.zeros(len(y))
            for k in range(folds):
                train_rows, held = fold != k, fold == k
                pos = max(int(y[train_rows].sum()), 1)
                neg = max(int((1 - y[train_rows]).sum()), 1)
                weight = float(min(10.0, np.sqrt(neg / pos)))
                ds = lgb.Dataset(X[train_rows], y[train_rows], categorical_feature=["area"], free_raw_data=False)
                booster = lgb.train({**p, "objective": "binary", "scale_pos_weight": weight}, ds, rounds)
                key = f"{name}_f{k}"
                model.boosters[key] = booster
                score = booster.predict(X[held])
                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, y[held])
                model.calibrators[key] = (iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
                oof[held] = model._calibrated(X[held], key)
                step(key)
            if q != "dust":  # decision threshold for the yes/no forecast: TS-maximising on out-of-fold cases
                model.decision[name] = _best_ts_threshold(oof, y)
        model.lead_correlation = model._estimate_lead_correlation(data, X)
        return model

    def _estimate_lead_correlation(self, data: pd.DataFrame, X: pd.DataFrame) -> float:
        """AR(1) correlation between consecutive lead days of the standardised log-AQI errors."""
        q = self._quantiles(X, "aqi")
        y = np.log1p(data["y_aqi"].to_numpy(float))
        mid, lo, hi = D.split_normal_params(q[:, 0], q[:, 1], q[:, 2])
        z = np.where(y < mid, (y - mid) / np.maximum(lo, 1e-3), (y - mid) / np.maximum(hi, 1e-3))
        frame = pd.DataFrame({"area_id": data["area_id"].to_numpy(), "issue": data["issue_date"].to_numpy(),
                              "lead": data["lead"].to_numpy(), "z": np.clip(z, -5, 5)})
        wide = frame.pivot_table(index=["area_id", "issue"], columns="lead", values="z")
        pairs = [wide[[k, k + 1]].dropna().to_numpy() for k in wide.columns if k + 1 in wide.columns]
        pairs = np.concatenate(pairs) if pairs else np.empty((0, 2))
        if len(pairs) < 30:
            return 0.6
        return float(np.clip(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1], 0.0, 0.95))

    # ---- prediction ----------------------------------------------------------------------------------------
    def _quantiles(self, X: pd.DataFrame, target: str) -> np.ndarray:
        q = np.column_stack([np.expm1(self.boosters[f"{target}_q{int(a * 100)}"].predict(X)) for a in QUANTILES])
        return np.sort(np.clip(q, 0, None), axis=1)

    def _calibrated(self, X: pd.DataFrame, key: str) -> np.ndarray:
        score = self.boosters[key].predict(X)
        xs, ys = self.calibrators[key]
        return np.interp(score, xs, ys) if len(xs) > 1 else np.full(len(score), ys[0] if ys else 0.0)

    def _probability(self, X: pd.DataFrame, name: str) -> np.ndarray:
        """Mean of the calibrated probabilities of the fold models of classifier ``name``."""
        keys = sorted(k for k in self.boosters if k.rsplit("_f", 1)[0] == name and "_f" in k)
        if not keys:
            raise ModelError(f"the model has no classifier {name!r}")
        return np.mean([self._calibrated(X, k) for k in keys], axis=0)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per row of a feature table: ``aqi_q10/q50/q90``, ``pm25_q10/q50/q90``, ``p_aqi_gt150/200/300``
        (calibrated), ``p_dust`` and ``dust`` (flag, p ≥ 0.5)."""
        X = self.matrix(frame)
        out = frame[["area_id", "issue_date", "lead", "target_date"]].copy()
        for target in TARGETS:
            q = self._quantiles(X, target)
            for i, a in enumerate(QUANTILES):
                out[f"{target}_q{int(a * 100)}"] = np.round(q[:, i], 1)
        probs = np.column_stack([self._probability(X, f"p{th}") for th in THRESHOLDS])
        probs = np.minimum.accumulate(probs, axis=1)  # P(>300) ≤ P(>200) ≤ P(>150)
        for i, th in enumerate(THRESHOLDS):
            out[f"p_aqi_gt{th}"] = np.round(probs[:, i], 4)
            out[f"event_gt{th}"] = probs[:, i] >= self.decision.get(f"p{th}", 0.5)
        out["p_dust"] = np.round(self._probability(X, "dust"), 4)
        out["dust"] = out["p_dust"] >= 0.5
        return out

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Driver contributions to the median log(1 + AQI) per row, summed by family (columns = families)."""
        X = self.matrix(frame)
        contrib = self.boosters["aqi_q50"].predict(X, pred_contrib=True)
        fam = [F.family_of(f) for f in self.features]
        out = pd.DataFrame(contrib[:, :-1], columns=self.features, index=frame.index).T
        out = out.groupby(np.asarray(fam)).sum().T
        out["baseline"] = contrib[:, -1]
        return out

    # ---- warning levels --------------------------------------------------------------------------------------
    def level_probabilities(self, pred: pd.DataFrame, *, rules: str, n_samples: int = 400,
                            seed: int | None = None) -> pd.DataFrame:
        """Warning level (from the median sequence) and the probability of each level per area and issue date.

        ``pred`` is :meth:`predict` output for lead days 1 … n of each (area, issue date).
        """
        rng = np.random.default_rng(self.seed if seed is None else seed)
        rows = []
        for (area, issue), g in pred.sort_values("lead").groupby(["area_id", "issue_date"], sort=False):
            q = g[["aqi_q10", "aqi_q50", "aqi_q90"]].to_numpy(float)
            rows.append({"area_id": area, "issue_date": issue,
                         **sequence_levels(q, g["dust"].to_numpy(bool), g["lead"].to_numpy(int),
                                           rho=self.lead_correlation, rules=rules, rng=rng, n_samples=n_samples)})
        return pd.DataFrame(rows)

    # ---- persistence ---------------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write boosters, feature list, calibrators and the model card (JSON) to ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for name, booster in self.boosters.items():
            booster.save_model(str(d / f"{name}.txt"))
        meta = {"format": MODEL_FORMAT, "features": self.features, "areas": self.areas, "seed": self.seed,
                "calibrators": self.calibrators, "lead_correlation": self.lead_correlation,
                "decision": self.decision,
                "boosters": sorted(self.boosters)}
        (d / "model.json").write_text(json.dumps(meta, indent=1))
        (d / "model_card.json").write_text(json.dumps(self.card, ensure_ascii=False, indent=1, default=str))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> "Forecaster":
        import lightgbm as lgb

        d = Path(directory)
        meta_path = d / "model.json"
        if not meta_path.exists():
            raise ModelError(f"{d}: not a lantian model directory (no model.json; train one with `lantian train`)")
        try:
            meta = json.loads(meta_path.read_text())
            card = json.loads((d / "model_card.json").read_text()) if (d / "model_card.json").exists() else {}
        except json.JSONDecodeError as exc:
            raise ModelError(f"{meta_path}: damaged model file ({exc})") from None
        if meta.get("format") != MODEL_FORMAT:
            raise ModelError(f"{meta_path}: model format {meta.get('format')} is not {MODEL_FORMAT}; retrain")
        model = cls(features=meta["features"], areas=meta["areas"], seed=meta.get("seed", 0),
                    calibrators={k: tuple(v) for k, v in meta["calibrators"].items()},
                    lead_correlation=meta["lead_correlation"], decision=meta.get("decision", {}), card=card)
        for name in meta["boosters"]:
            path = d / f"{name}.txt"
            if not path.exists():
                raise ModelError(f"{path}: booster missing from the model directory")
            model.boosters[name] = lgb.Booster(model_file=str(path))
        return model

    @property
    def version(self) -> str:
        return str(self.card.get("version", "unversioned"))


def _best_ts_threshold(prob: np.ndarray, y: np.ndarray) -> float:
    """Probability threshold that maximises the threat score on held-out cases (0.5 without any event)."""
    if y.sum() == 0:
        return 0.5
    best, best_ts = 0.5, -1.0
    for t in np.unique(np.round(prob, 3)):
        if t <= 0:
            continue
        f = prob >= t
        a = np.sum(f & (y == 1))
        ts = a / (np.sum(f | (y == 1)))
        if ts > best_ts:
            best, best_ts = float(t), ts
    return best


def sequence_levels(q: np.ndarray, dust: np.ndarray, leads: np.ndarray, *, rho: float, rules: str,
                    rng: np.random.Generator | None = None, n_samples: int = 400) -> dict:
    """Warning level of one area's forecast sequence and the probability of each level.

    Parameters
    ----------
    q : ndarray, shape (n_days, 3)
        AQI 10/50/90 % quantiles per lead day, in lead order. [1]
    dust : ndarray of bool
        Dust-dominated days (count as below every threshold: advisory, not warning).
    leads : ndarray of int
        The lead days of the rows (1 … n).
    rho : float
        AR(1) correlation of the standardised errors between consecutive lead days.

    Returns
    -------
    dict
        ``level`` (graded from the median sequence), ``clause``, ``trigger_days`` and ``p_level_<level>``.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    cuts, reps = level_states(rules)
    z = D.ar1_deviates(rng, n_samples, len(q), rho)
    sample = D.split_normal_values(z, q[:, 0], q[:, 1], q[:, 2])
    sample[:, dust] = 0.0
    states = np.searchsorted(cuts, sample, side="left")  # state s: above cuts[s-1]
    codes, counts = np.unique(states, axis=0, return_counts=True)
    probs = dict.fromkeys(levels.LEVELS, 0.0)
    for code, count in zip(codes, counts):
        probs[_grade_states(tuple(code), reps, rules)] += count / n_samples
    grading = levels.grade(np.where(dust, 0.0, q[:, 1]), rules=rules)
    return {"level": grading.level, "clause": grading.clause,
            "trigger_days": [] if grading.start is None else [int(d) for d in leads[grading.start:grading.stop]],
            **{f"p_level_{k}": round(v, 4) for k, v in probs.items()}}


def level_states(rules: str) -> tuple[np.ndarray, np.ndarray]:
    """AQI cut points that the rule set compares with, and a representative AQI for each state between them."""
    # a value is in state s when it exceeds s of the cut points (searchsorted, side="left"): "above X" → X,
    # "at least X" → just below X
    cuts = {float(c["above"]) if "above" in c else float(c["at_least"]) - 1e-6 for c in levels.clause_leaves(rules)}
    c = np.array(sorted(cuts))
    reps = np.concatenate([[max(c[0] - 50, 0)], (c[:-1] + c[1:]) / 2, [c[-1] + 10]])
    return c, reps


_GRADE_CACHE: dict = {}


def _grade_states(code: tuple, reps: np.ndarray, rules: str) -> str:
    key = (rules, code)
    if key not in _GRADE_CACHE:
        _GRADE_CACHE[key] = levels.warning_level(reps[list(code)], rules=rules)
    return _GRADE_CACHE[key]
