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
  threshold that maximised TS on the out-of-fold probabilities of the whole training period". Lead days 1–2
  (:data:`SHORT_LEADS`) have AQI > 150/200/300 classifiers of their own (``p200_L12_f<k>`` …), trained (with
  smaller leaves, :data:`SHORT_PARAMS`), calibrated and given a decision threshold on those lead days' rows only;
  the other lead days use the classifiers of every lead day;
- warning-level probabilities (:mod:`forecast.levelprob`): the calibrated exceedance probabilities of each lead day
  tied by a Gaussian copula across lead days, every sampled sequence graded with the warning rules; the copula's
  correlation and an isotonic recalibration of P(level ≥ L) are fitted on the out-of-fold probabilities of the
  training period (the record is kept as ``levels_oof.csv`` beside the model); the proposed level is a decision on
  those probabilities against thresholds (:mod:`forecast.decision`);
- driver contributions are LightGBM ``pred_contrib`` of the median-AQI booster (log space), summed per family.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import features as F
from . import levelprob, levels
from .decision import Thresholds

QUANTILES = (0.1, 0.5, 0.9)
THRESHOLDS = (150, 200, 300)
TARGETS = {"aqi": "y_aqi", "pm25": "y_pm25"}
MODEL_FORMAT = 2
#: columns that are never features
NOT_FEATURES = {"area_id", "issue_date", "target_date", "met_source", "y_aqi", "y_pm25", "y_pm10", "y_dust",
                "clim_n", "clim_months"}
DEFAULT_PARAMS = {"learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 300, "feature_fraction": 0.8,
                  "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1,
                  "deterministic": True, "force_row_wise": True, "num_threads": 2}
#: shallow trees with many rows per leaf: on the three bench worlds (``make bench``, bench_skill) 7 leaves and 300
#: rows per leaf raised the day-1 Brier skill for AQI > 200 from 0.29 to 0.37 and day 5 from 0.06 to 0.11 against
#: 31 / 20 (15 / 100: 0.33 / 0.07; 5 / 800: 0.31 / 0.07) — the heavy days are few and the trees overfitted them
N_ROUNDS = 300
#: the out-of-fold level record of the training period, beside the model (:func:`forecast.levelprob.fit`)
LEVEL_RECORD = "levels_oof.csv"
#: lead days with exceedance classifiers of their own (AQI > 150/200/300, boosters ``p<th>_L12_f<k>``): trained on
#: those lead days' rows only, with their own calibration and TS-maximising decision threshold; the other lead days
#: keep the classifiers of every lead day. Measured on the three bench worlds (bench_skill; AQI > 200 classifier,
#: mean over the worlds): day-1 TS 0.375 → 0.408, POD 0.62 → 0.65, FAR 0.51 → 0.46 (TS up and FAR down on every
#: world), day 2 TS 0.357 → 0.388; Brier skill at day 1 0.368 → 0.357 (world 23: 0.38 → 0.24); leads 3–7 of such a
#: model lost Brier skill (day 5 0.11 → −0.13), hence only days 1–2. ``()``: one set of classifiers for every lead
SHORT_LEADS = (1, 2)
#: parameters of the lead-day-1–2 classifiers that differ from :data:`DEFAULT_PARAMS` (a ``params`` given to
#: :meth:`Forecaster.fit` overrides both). Those classifiers see 2/7 of the rows, so the 300 rows per leaf tuned on
#: every lead day's rows were ~3.5 times coarser for them. Measured on the three bench worlds (bench_skill harness,
#: the days-1–2 AQI > 200 classifier, mean over the worlds and over three booster seeds): min_data_in_leaf
#: 300 → 50 raised the day-1 TS 0.419 → 0.458 [11 / 23 / 42: 0.50 / 0.32 / 0.44 → 0.52 / 0.35 / 0.50], POD 0.64 →
#: 0.70, Brier skill 0.38 → 0.42, and lowered FAR 0.45 → 0.43 (100 rows: TS 0.448, 25 rows: worse than 50; AQI > 150:
#: TS 0.563 → 0.578, Brier skill 0.52 → 0.55; the README's trials table)
SHORT_PARAMS = {"min_data_in_leaf": 50}


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
    level_calibration: levelprob.LevelCalibration = field(default_factory=levelprob.LevelCalibration)
    level_record: pd.DataFrame | None = None  #: out-of-fold level record of the training period (:func:`fit`)
    #: the folder the model was loaded from or saved to (a versioned folder's promoted version: :meth:`load`)
    directory: Path | None = None

    # ---- preparing the matrix ------------------------------------------------------------------------------
    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        # the time-lagged run pair's features are absent without forecast runs: NaN, as on a row without both runs
        missing = [c for c in self.features if c not in frame.columns and c != "area"
                   and not c.endswith(F.RUN_PAIR_SUFFIXES)]
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
            folds: int = 5, progress=None, rules_of=None, rules_path=None) -> "Forecaster":
        """Train on a feature table with targets (rows without an observed AQI are left out).

        ``rules_of`` maps issue dates (a DatetimeIndex) to the warning rule set in force on each (default
        :func:`forecast.levels.rules_in_force` with ``rules_path``): the observed levels the level probabilities
        are fitted to are graded with it.

        Feature columns without a single value in the training rows (a driver the meteorology cannot give, a
        pollutant never measured) are left out of the model and listed in ``left_out``.

        Raises
        ------
        ModelError
            Fewer than 200 rows with an observed AQI, or fewer than 2 weeks.
        """
        import lightgbm as lgb

        data = frame[frame["y_aqi"].notna()].reset_index(drop=True)
        if len(data) < 200:
            raise ModelError(f"only {len(data)} training rows with an observed AQI; need at least 200")
        empty = empty_features(data)
        feats = ["area"] + [c for c in feature_columns(data) if c != "area" and c not in empty]
        model = cls(features=feats, areas=sorted(data["area_id"].unique()), seed=seed, left_out=empty)
        X = model.matrix(data)
        p = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
        p_short = {**DEFAULT_PARAMS, **SHORT_PARAMS, **(params or {}), "seed": seed}
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
        short = data["lead"].isin(SHORT_LEADS).to_numpy()
        oofs = {}
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
            oof = model._cross_fit(name, X, y, fold, folds, p, rounds, step)
            if q != "dust":  # decision threshold for the yes/no forecast: TS-maximising on out-of-fold cases
                model.decision[name] = _best_ts_threshold(oof, y)
                if short.any() and not short.all():  # the short lead days' own classifiers (SHORT_LEADS)
                    sname = short_name(name, SHORT_LEADS)
                    oof_s = model._cross_fit(sname, X[short], y[short], fold[short], folds, p_short, rounds, step)
                    model.decision[sname] = _best_ts_threshold(oof_s, y[short])
                    oof[short] = oof_s
            oofs[name] = oof
        model._fit_levels(data, X, oofs, rules_of=rules_of, rules_path=rules_path)
        return model

    def _cross_fit(self, name: str, X: pd.DataFrame, y: np.ndarray, fold: np.ndarray, folds: int, params: dict,
                   rounds: int, step) -> np.ndarray:
        """Fold models ``<name>_f<k>`` of a binary classifier, each calibrated (isotonic) on the weeks it did not
        see; returns the out-of-fold calibrated probabilities."""
        import lightgbm as lgb
        from sklearn.isotonic import IsotonicRegression

        oof = np.zeros(len(y))
        for k in range(folds):
            train_rows, held = fold != k, fold == k
            if not held.any():
                continue
            pos = max(int(y[train_rows].sum()), 1)
            neg = max(int((1 - y[train_rows]).sum()), 1)
            weight = float(min(10.0, np.sqrt(neg / pos)))
            ds = lgb.Dataset(X[train_rows], y[train_rows], categorical_feature=["area"], free_raw_data=False)
            booster = lgb.train({**params, "objective": "binary", "scale_pos_weight": weight}, ds, rounds)
            key = f"{name}_f{k}"
            self.boosters[key] = booster
            score = booster.predict(X[held])
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, y[held])
            self.calibrators[key] = (iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
            oof[held] = self._calibrated(X[held], key)
            step(key)
        return oof

    def _fit_levels(self, data: pd.DataFrame, X: pd.DataFrame, oofs: dict, *, rules_of=None, rules_path=None):
        """The copula's lead-to-lead correlation and the recalibration of P(level ≥ L), on the out-of-fold
        probabilities of the training rows (:func:`forecast.levelprob.fit`)."""
        issues = pd.DatetimeIndex(data["issue_date"].unique())
        rules_of = rules_of or (lambda days: [levels.rules_in_force(d, rules_path) for d in days])
        rule = dict(zip(issues, rules_of(issues)))
        q = self._quantiles(X, "aqi")
        probs = np.minimum.accumulate(np.column_stack([oofs[f"p{th}"] for th in THRESHOLDS]), axis=1)
        oof = data[["area_id", "issue_date", "lead", "y_aqi", "y_dust"]].assign(
            rules=data["issue_date"].map(rule).to_numpy(), aqi_q10=q[:, 0], aqi_q50=q[:, 1], aqi_q90=q[:, 2],
            dust=oofs["dust"] >= 0.5, **{f"p_aqi_gt{th}": probs[:, i] for i, th in enumerate(THRESHOLDS)})
        observed = levelprob.observed_ranks(oof, path=rules_path)
        self.lead_correlation, self.level_calibration, self.level_record = levelprob.fit(
            oof, observed, path=rules_path, seed=self.seed)

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

    def short_classifiers(self) -> dict[tuple, list[str]]:
        """Lead days with exceedance classifiers of their own → the classifier names per threshold
        (:data:`SHORT_LEADS`; read from the booster names, empty for a model without them)."""
        out = {}
        for th in THRESHOLDS:
            for key in self.boosters:
                base, _, rest = key.partition("_L")
                if base == f"p{th}" and rest and "_f" in rest:
                    leads = tuple(int(c) for c in rest.split("_f")[0])
                    out.setdefault(leads, {})[th] = f"p{th}_L{rest.split('_f')[0]}"
        return {leads: [names[th] for th in THRESHOLDS] for leads, names in out.items() if len(names) == len(THRESHOLDS)}

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
        cut = np.array([self.decision.get(f"p{th}", 0.5) for th in THRESHOLDS])[None, :].repeat(len(X), axis=0)
        for leads, names in self.short_classifiers().items():  # the short lead days' own classifiers
            rows = frame["lead"].isin(leads).to_numpy()
            if rows.any():
                probs[rows] = np.column_stack([self._probability(X[rows], n) for n in names])
                cut[rows] = [self.decision.get(n, 0.5) for n in names]
        probs = np.minimum.accumulate(probs, axis=1)  # P(>300) ≤ P(>200) ≤ P(>150)
        for i, th in enumerate(THRESHOLDS):
            out[f"p_aqi_gt{th}"] = np.round(probs[:, i], 4)
            out[f"event_gt{th}"] = probs[:, i] >= cut[:, i]
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
    def level_probabilities(self, pred: pd.DataFrame, *, rules: str | None = None, path=None,
                            thresholds: Thresholds | None = None, n_samples: int = levelprob.N_SAMPLES,
                            seed: int | None = None) -> pd.DataFrame:
        """Level probabilities and the proposed level per area and issue date (:func:`forecast.levelprob.level_table`).

        ``pred`` is :meth:`predict` output for lead days 1 … n of each (area, issue date), with a ``rules`` column
        unless ``rules`` is given; ``path`` the region's rules file; ``thresholds`` the decision thresholds (default
        the shipped ones).
        """
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return levelprob.level_table(pred, rho=self.lead_correlation, calibration=self.level_calibration,
                                     thresholds=thresholds, rules=rules, path=path, n_samples=n_samples, rng=rng)

    # ---- persistence ---------------------------------------------------------------------------------------
    @staticmethod
    def is_model_dir(path: str | Path) -> bool:
        """Whether ``path`` holds a lantian model (``model.json``): the only non-empty folder :meth:`save` replaces."""
        return (Path(path) / "model.json").is_file()

    def save(self, directory: str | Path, *, also=None) -> Path:
        """Write boosters, feature list, calibrators and the model card (JSON) to ``directory``, atomically.

        The model is written whole into a temporary folder beside ``directory``, which replaces the old folder only
        when complete (:func:`forecast.workspace.replacing_dir`): a failure part-way leaves the old model as it
        was. ``.format-<MODEL_FORMAT>`` is an empty stamp naming the file format (what ``make run`` tests).

        Parameters
        ----------
        directory : path-like
            The model folder: new, empty, or a lantian model (with ``model.json``) to replace.
        also : callable, optional
            ``also(folder)`` writes further files that belong with the model (the training climatology) into the
            temporary folder before the swap.

        Raises
        ------
        ModelError
            ``directory`` is a file, or a folder with other files that is not a lantian model: it is never
            replaced.
        """
        from . import workspace

        try:
            with workspace.replacing_dir(directory, is_ours=self.is_model_dir) as d:
                for name, booster in self.boosters.items():
                    booster.save_model(str(d / f"{workspace.safe_name(name, what='booster name')}.txt"))
                meta = {"format": MODEL_FORMAT, "features": self.features, "areas": self.areas, "seed": self.seed,
                        "calibrators": self.calibrators, "lead_correlation": self.lead_correlation,
                        "level_calibration": self.level_calibration.to_json(), "decision": self.decision,
                        "boosters": sorted(self.boosters)}
                (d / "model.json").write_text(json.dumps(meta, indent=1))
                (d / "model_card.json").write_text(json.dumps(self.card, ensure_ascii=False, indent=1,
                                                              default=str))
                if self.level_record is not None and len(self.level_record):
                    self.level_record.to_csv(d / LEVEL_RECORD, index=False)
                (d / f".format-{MODEL_FORMAT}").touch()
                if also is not None:
                    also(d)
        except workspace.DataLayoutError as exc:
            raise ModelError(f"{exc}: a model is saved into a new or empty folder, or over a lantian model "
                             "(with model.json)") from None
        self.directory = Path(directory)
        return self.directory

    @classmethod
    def load(cls, directory: str | Path) -> "Forecaster":
        """Load the model in ``directory``: a model folder, or a versioned one (its promoted version,
        :func:`forecast.registry.resolve`); the folder read is the model's ``directory``.

        Raises
        ------
        ModelError
            Not a model folder, a damaged or outdated model, or a versioned folder without a promoted version or
            with a damaged ``registry.json`` (:class:`forecast.registry.RegistryError`).
        """
        import lightgbm as lgb

        from . import registry

        d = registry.resolve(directory)
        meta_path = d / "model.json"
        if not meta_path.exists():
            raise ModelError(f"{d}: not a lantian model directory (no model.json; train one with `lantian train`)")
        try:
            meta = json.loads(meta_path.read_text())
            card = json.loads((d / "model_card.json").read_text()) if (d / "model_card.json").exists() else {}
        except json.JSONDecodeError as exc:
            raise ModelError(f"{meta_path}: damaged model file ({exc})") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("boosters"), list):
            raise ModelError(f"{meta_path}: damaged model file (not a lantian model description)")
        from . import workspace

        for name in meta["boosters"]:  # names from a file become file names: never a path
            try:
                workspace.safe_name(name, what="booster name")
            except workspace.DataLayoutError as exc:
                raise ModelError(f"{meta_path}: {exc}") from None
        if meta.get("format") != MODEL_FORMAT:
            raise ModelError(f"{meta_path}: model format {meta.get('format')} is not {MODEL_FORMAT}; retrain")
        model = cls(features=meta["features"], areas=meta["areas"], seed=meta.get("seed", 0),
                    calibrators={k: tuple(v) for k, v in meta["calibrators"].items()},
                    lead_correlation=meta["lead_correlation"], decision=meta.get("decision", {}), card=card,
                    level_calibration=levelprob.LevelCalibration.from_json(meta.get("level_calibration")),
                    directory=d)
        for name in meta["boosters"]:
            path = d / f"{name}.txt"
            if not path.exists():
                raise ModelError(f"{path}: booster missing from the model directory")
            model.boosters[name] = lgb.Booster(model_file=str(path))
        return model

    @property
    def version(self) -> str:
        return str(self.card.get("version", "unversioned"))


def short_name(name: str, leads) -> str:
    """Name of the classifier ``name`` of the lead days ``leads`` (one digit each): ``p200`` (1, 2) → ``p200_L12``."""
    return f"{name}_L{''.join(str(int(k)) for k in leads)}"


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
