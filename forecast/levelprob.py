"""Warning-level probabilities: the chance that a forecast sequence of days reaches each warning level.

A warning level depends on runs of days (MEE-2024 orange: AQI > 200 for 48 h, or > 150 for 72 h), so its
probability needs the joint distribution of the lead days, not the days one by one. lantian builds it as a
Gaussian copula:

- **marginals**: each lead day's probability of exceeding each AQI cut point the rule set compares with. Where the
  cut is a threshold of the calibrated classifiers (AQI > 150, 200, 300: cross-fitted and isotonic,
  :mod:`forecast.model`), their probability is used; any other cut (MEE-2019's "AQI ≥ 500 for 24 h", a region's own
  thresholds) comes from the split normal through the day's quantiles (:mod:`forecast.distributions`). The
  exceedances are made non-increasing along the cuts.
- **dependence**: an AR(1) correlation ``rho`` of the latent Gaussian variable from one lead day to the next,
  fitted on the training period's out-of-fold record (:func:`fit`: the ``rho`` of :data:`RHO_GRID` with the least
  summed Brier score of P(level ≥ yellow / orange / red)).
- **grading**: ``n_samples`` sequences of states are drawn and each is graded with the rule set
  (:func:`forecast.levels.grade`); dust-dominated days (the dust flag) are below every cut — a dust episode gets a
  health advisory, not a warning.
- **recalibration**: the exceedances P(level ≥ L) go through an isotonic map per level fitted on the same
  out-of-fold record (:class:`LevelCalibration`; the identity for a level with fewer than :data:`MIN_EVENTS` cases).

The decided level comes from these calibrated exceedances and the decision thresholds (:mod:`forecast.decision`);
its clause and trigger days are those of the run most of the sampled sequences reaching that level share.

The sampler is this module's own code rather than a library's: it is vectorised over sequences (a sample's states
are coded base ``len(cuts) + 1`` into one integer, and each distinct code is graded once per rule set and cached),
so a winter's hindcast of a dozen areas grades in about a second.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr  # the standard normal cdf (scipy.stats imports ~2× slower)

from . import decision as _decision
from . import levels
from .distributions import split_normal_sf

N_SAMPLES = 400
#: candidate lead-to-lead correlations of the copula (:func:`fit`)
RHO_GRID = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
#: cases of a level (observed at or above it) the out-of-fold record needs before that level is recalibrated
MIN_EVENTS = 20
#: the thresholds of the calibrated classifiers (columns ``p_aqi_gt<T>``)
CLASSIFIER_THRESHOLDS = (150, 200, 300)
_CHUNK = 256  # sequences sampled at once (memory: chunk × samples × days × cuts)


def cut_points(rules: str, path=None) -> tuple[np.ndarray, np.ndarray]:
    """AQI cut points the rule set compares with, and a representative AQI for each state between them.

    A value is in state ``s`` when it exceeds ``s`` of the cuts: a clause "above X" has the cut X, "at least X" the
    cut just below X.
    """
    cuts = {float(c["above"]) if "above" in c else float(c["at_least"]) - 1e-6
            for c in levels.clause_leaves(rules, path)}
    c = np.array(sorted(cuts))
    reps = np.concatenate([[max(c[0] - 50, 0)], (c[:-1] + c[1:]) / 2, [c[-1] + 10]])
    return c, reps


def day_exceedance(frame: pd.DataFrame, cuts: np.ndarray) -> np.ndarray:
    """P(AQI > cut) per row and cut, shape ``(len(frame), len(cuts))``, non-increasing along the cuts.

    ``frame`` has the calibrated ``p_aqi_gt150/200/300`` (used for those cuts) and ``aqi_q10/q50/q90`` (the split
    normal, for any other cut).
    """
    out = np.empty((len(frame), len(cuts)))
    q = [frame[f"aqi_q{k}"].to_numpy(float) for k in (10, 50, 90)]
    for j, c in enumerate(cuts):
        th = next((t for t in CLASSIFIER_THRESHOLDS if abs(c - t) < 1e-9 and f"p_aqi_gt{t}" in frame), None)
        out[:, j] = frame[f"p_aqi_gt{th}"].to_numpy(float) if th is not None else split_normal_sf(c, *q)
    return np.minimum.accumulate(np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0), axis=1)


def _deviates(rng: np.random.Generator, shape: tuple, rho: float) -> np.ndarray:
    """Standard-normal deviates AR(1)-correlated with ``rho`` along the last axis."""
    z = rng.standard_normal(shape)
    for k in range(1, shape[-1]):
        z[..., k] = rho * z[..., k - 1] + np.sqrt(1 - rho ** 2) * z[..., k]
    return z


_GRADES: dict = {}


def _grade(code: int, n_days: int, base: int, reps: np.ndarray, rules: str, path) -> int:
    key = (rules, str(path), n_days, base, code)
    if key not in _GRADES:
        states = [(code // base ** d) % base for d in range(n_days)]
        _GRADES[key] = levels.LEVEL_RANK[levels.warning_level(reps[states], rules=rules, path=path)]
    return _GRADES[key]


_RUNS: dict = {}


def _run(code: int, level: str, n_days: int, base: int, reps: np.ndarray, rules: str, path):
    key = (rules, str(path), n_days, base, code, level)
    if key not in _RUNS:
        states = [(code // base ** d) % base for d in range(n_days)]
        _RUNS[key] = levels.level_run(reps[states], level, rules=rules, path=path)
    return _RUNS[key]


def sample_levels(exceed: np.ndarray, dust: np.ndarray, *, rho: float, rules: str, path=None,
                  n_samples: int = N_SAMPLES, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sampled warning levels of sequences of days.

    Parameters
    ----------
    exceed : ndarray, shape (n_seq, n_days, n_cuts)
        P(AQI > cut) per sequence, day and cut of :func:`cut_points` (:func:`day_exceedance`). [0–1]
    dust : ndarray of bool, shape (n_seq, n_days)
        Dust-dominated days (below every cut).
    rho : float
        Lead-to-lead correlation of the latent Gaussian variable.

    Returns
    -------
    ranks : ndarray of int8, shape (n_seq, n_samples)
        Level rank (:data:`forecast.levels.LEVEL_RANK`) of each sampled sequence.
    codes : ndarray of int64, shape (n_seq, n_samples)
        The sampled sequences' states, coded base ``n_cuts + 1`` (day ``d`` is digit ``d``).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    n_seq, n_days, n_cuts = exceed.shape
    _, reps = cut_points(rules, path)
    if len(reps) != n_cuts + 1:
        raise ValueError(f"exceedances for {n_cuts} cut(s) given, rule set {rules!r} compares with {len(reps) - 1}")
    base = n_cuts + 1
    weights = base ** np.arange(n_days, dtype=np.int64)
    codes = np.empty((n_seq, n_samples), np.int64)
    for lo in range(0, n_seq, _CHUNK):
        hi = min(lo + _CHUNK, n_seq)
        u = ndtr(_deviates(rng, (hi - lo, n_samples, n_days), rho))
        states = (u[..., None] > 1.0 - exceed[lo:hi, None, :, :]).sum(-1)
        states[np.broadcast_to(dust[lo:hi, None, :], states.shape)] = 0
        codes[lo:hi] = states @ weights
    uniq, inv = np.unique(codes, return_inverse=True)
    graded = np.array([_grade(int(c), n_days, base, reps, rules, path) for c in uniq], np.int8)
    return graded[inv.reshape(codes.shape)], codes


def exceedances(ranks: np.ndarray) -> np.ndarray:
    """P(level ≥ yellow, orange, red) per sequence from sampled ranks, shape ``(n_seq, 3)``."""
    return np.stack([(ranks >= r).mean(axis=1) for r in (1, 2, 3)], axis=1)


@dataclass
class LevelCalibration:
    """Isotonic maps of P(level ≥ L), fitted out of fold (:func:`fit`); a level without a map is left as is."""

    maps: dict = field(default_factory=dict)  # level → (x thresholds, y values)

    def apply(self, p_ge: np.ndarray) -> np.ndarray:
        """Recalibrated exceedances, shape ``(n, 3)``, non-increasing from yellow to red."""
        out = np.array(p_ge, float, copy=True)
        for j, level in enumerate(_decision.WARNING_LEVELS):
            xs, ys = self.maps.get(level, ((), ()))
            if len(xs) > 1:
                out[:, j] = np.interp(out[:, j], xs, ys)
        return np.minimum.accumulate(np.clip(out, 0.0, 1.0), axis=1)

    def to_json(self) -> dict:
        return {k: [list(map(float, xs)), list(map(float, ys))] for k, (xs, ys) in self.maps.items()}

    @classmethod
    def from_json(cls, doc: dict | None) -> "LevelCalibration":
        return cls({k: (tuple(v[0]), tuple(v[1])) for k, v in (doc or {}).items()})


def level_probabilities(p_ge: np.ndarray) -> np.ndarray:
    """P(none, yellow, orange, red) from the exceedances P(≥ yellow, orange, red), shape ``(n, 4)``."""
    p = np.column_stack([np.ones(len(p_ge)), p_ge, np.zeros(len(p_ge))])
    return np.clip(p[:, :-1] - p[:, 1:], 0.0, 1.0)


def _sequences(pred: pd.DataFrame):
    """Groups of (area, issue date) sequences with the same rule set and number of days: yields
    (rules, days per sequence, the group's rows sorted by area, issue date and lead)."""
    p = pred.sort_values(["area_id", "issue_date", "lead"], kind="stable")
    n_days = p.groupby(["area_id", "issue_date"], sort=False)["lead"].transform("size")
    for (rules, n), g in p.assign(_n=n_days.to_numpy()).groupby(["rules", "_n"], sort=False):
        yield rules, int(n), g


def _sampled(pred: pd.DataFrame, *, rho: float, path, n_samples: int, rng: np.random.Generator):
    """:func:`sample_levels` for every group of :func:`_sequences`: yields (rules, days per sequence, the group's
    rows, ranks, codes)."""
    for rule, n_days, g in _sequences(pred):
        cuts, _ = cut_points(rule, path)
        exceed = day_exceedance(g, cuts).reshape(-1, n_days, len(cuts))
        dust = g["dust"].fillna(False).to_numpy(bool).reshape(-1, n_days)
        ranks, codes = sample_levels(exceed, dust, rho=rho, rules=rule, path=path, n_samples=n_samples, rng=rng)
        yield rule, n_days, g, ranks, codes


def level_table(pred: pd.DataFrame, *, rho: float, calibration: LevelCalibration | None = None,
                thresholds: "_decision.Thresholds | None" = None, rules: str | None = None, path=None,
                n_samples: int = N_SAMPLES, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Level probabilities and the decided level per area and issue date.

    Parameters
    ----------
    pred : DataFrame
        Rows of one or more (area, issue date) sequences: ``area_id``, ``issue_date``, ``lead``, ``aqi_q10/q50/q90``
        [1], ``p_aqi_gt150/200/300`` [0–1], ``dust`` (bool) and, unless ``rules`` is given, ``rules``.
    rho : float
        Lead-to-lead correlation of the copula.
    calibration : LevelCalibration, optional
        Recalibration of P(level ≥ L) (none: the sampled exceedances as they are).
    thresholds : Thresholds, optional
        Decision thresholds (:func:`forecast.decision.load_thresholds`; default the shipped ones).
    rules, path : str, path-like, optional
        Rule set for every row (else the ``rules`` column) and the region's rules file.

    Returns
    -------
    DataFrame
        Per ``area_id``, ``issue_date``: ``rules``; ``p_ge_yellow/orange/red`` (calibrated) and ``p_level_<level>``;
        ``level`` (the decision), ``clause`` and ``trigger_days`` (lead days) of the decided level;
        ``level_median`` (what the median sequence alone grades to).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    thresholds = thresholds or _decision.load_thresholds()
    calibration = calibration or LevelCalibration()
    if rules is not None:
        pred = pred.assign(rules=rules)
    rows = []
    for rule, n_days, g, ranks, codes in _sampled(pred, rho=rho, path=path, n_samples=n_samples, rng=rng):
        cuts, reps = cut_points(rule, path)
        dust = g["dust"].fillna(False).to_numpy(bool).reshape(-1, n_days)
        p_ge = calibration.apply(exceedances(ranks))
        decided = _decision.decide(p_ge, thresholds)
        p_lv = level_probabilities(p_ge)
        keys = g[["area_id", "issue_date"]].iloc[::n_days].reset_index(drop=True)
        leads = g["lead"].to_numpy(int).reshape(-1, n_days)
        median = np.where(dust, 0.0, g["aqi_q50"].to_numpy(float).reshape(-1, n_days))
        base = len(cuts) + 1
        for i in range(len(keys)):
            level = decided[i]
            start_stop = _trigger(ranks[i], codes[i], level, n_days, base, reps, rule, path)
            rows.append({"area_id": keys.at[i, "area_id"], "issue_date": keys.at[i, "issue_date"], "rules": rule,
                         "level": level, "clause": levels.level_clause(level, rules=rule, path=path),
                         "trigger_days": [] if start_stop is None else
                         [int(d) for d in leads[i, start_stop[0]:start_stop[1]]],
                         "level_median": levels.warning_level(median[i], rules=rule, path=path),
                         **{f"p_ge_{k}": round(float(p_ge[i, j]), 4)
                            for j, k in enumerate(_decision.WARNING_LEVELS)},
                         **{f"p_level_{k}": round(float(p_lv[i, j]), 4) for j, k in enumerate(levels.LEVELS)}})
    return pd.DataFrame(rows)


def _trigger(ranks, codes, level, n_days, base, reps, rules, path):
    """The run of ``level``'s clause most of the samples at or above that level share (earliest on a tie)."""
    if level == "none":
        return None
    rank = levels.LEVEL_RANK[level]
    runs = Counter()
    for code, count in zip(*np.unique(codes[ranks >= rank], return_counts=True)):
        run = _run(int(code), level, n_days, base, reps, rules, path)
        if run is not None:
            runs[run] += int(count)
    if not runs:
        return None
    return max(runs, key=lambda r: (runs[r], -r[0]))


def observed_ranks(frame: pd.DataFrame, *, path=None) -> pd.Series:
    """The warning level rank the observed days of each (area, issue date) sequence imply (dust days count as
    below every threshold); sequences with an unobserved day are left out.

    ``frame``: rows with ``area_id``, ``issue_date``, ``lead``, ``rules``, ``y_aqi`` [1] and ``y_dust``.
    """
    out = {}
    for (area, issue), g in frame.sort_values("lead").groupby(["area_id", "issue_date"], sort=False):
        y = g["y_aqi"].to_numpy(float)
        if np.isnan(y).any():
            continue
        dust = g["y_dust"].astype("boolean").fillna(False).to_numpy(bool)
        out[(area, issue)] = levels.LEVEL_RANK[levels.warning_level(np.where(dust, 0.0, y), rules=g["rules"].iloc[0],
                                                                    path=path)]
    index = pd.MultiIndex.from_tuples(list(out), names=["area_id", "issue_date"]) if out else \
        pd.MultiIndex.from_arrays([[], []], names=["area_id", "issue_date"])
    return pd.Series(list(out.values()), index=index, dtype="int8", name="obs_rank")


def fit(oof: pd.DataFrame, observed: pd.Series, *, path=None, grid=RHO_GRID, n_samples: int = 200,
        seed: int = 0) -> tuple[float, LevelCalibration, pd.DataFrame]:
    """Lead-to-lead correlation and recalibration fitted on an out-of-fold record.

    Parameters
    ----------
    oof : DataFrame
        Out-of-fold forecast rows (the columns :func:`level_table` reads, with ``rules``).
    observed : Series
        :func:`observed_ranks` of the same sequences.

    Returns
    -------
    rho : float
        The grid value with the least summed Brier score of P(≥ yellow / orange / red).
    calibration : LevelCalibration
        Isotonic maps per level with at least :data:`MIN_EVENTS` observed cases (and one non-case).
    record : DataFrame
        Per sequence: ``area_id``, ``issue_date``, ``rules``, raw and calibrated ``p_ge_<level>``, ``obs_level``
        (the out-of-fold record the consequences of thresholds can be read from, :func:`forecast.decision.consequences`).
    """
    from sklearn.isotonic import IsotonicRegression

    keys = observed.index
    sel = oof.set_index(["area_id", "issue_date"]).loc[keys].reset_index()
    if sel.empty:
        return 0.6, LevelCalibration(), pd.DataFrame()
    raw = {}
    for rho in grid:
        parts = []
        rng = np.random.default_rng(seed)
        for _, n_days, g, ranks, _ in _sampled(sel, rho=rho, path=path, n_samples=n_samples, rng=rng):
            k = g[["area_id", "issue_date"]].iloc[::n_days]
            parts.append(pd.DataFrame(exceedances(ranks), columns=list(_decision.WARNING_LEVELS),
                                      index=pd.MultiIndex.from_frame(k)))
        raw[rho] = pd.concat(parts).reindex(keys)
    obs = observed.to_numpy()
    hits = np.stack([obs >= r for r in (1, 2, 3)], axis=1).astype(float)
    brier = {rho: float(((p.to_numpy() - hits) ** 2).sum(axis=1).mean()) for rho, p in raw.items()}
    best = min(brier, key=lambda r: (brier[r], r))
    p = raw[best].to_numpy()
    maps = {}
    for j, level in enumerate(_decision.WARNING_LEVELS):
        y = hits[:, j]
        if y.sum() >= MIN_EVENTS and y.sum() < len(y):
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p[:, j], y)
            maps[level] = (tuple(iso.X_thresholds_), tuple(iso.y_thresholds_))
    calibration = LevelCalibration(maps)
    cal = calibration.apply(p)
    rules_of = sel.drop_duplicates(["area_id", "issue_date"]).set_index(["area_id", "issue_date"])["rules"]
    record = pd.DataFrame({"rules": rules_of.reindex(keys).to_numpy(),
                           **{f"p_ge_{k}_raw": p[:, j] for j, k in enumerate(_decision.WARNING_LEVELS)},
                           **{f"p_ge_{k}": cal[:, j] for j, k in enumerate(_decision.WARNING_LEVELS)},
                           "obs_level": [levels.LEVELS[r] for r in obs]}, index=keys).reset_index()
    record.attrs["brier_by_rho"] = brier
    return float(best), calibration, record
