"""Forecast verification: categorical, probabilistic and continuous scores, and the stable JSON contract.

Scores (REFERENCE 5.1; Wilks, *Statistical Methods in the Atmospheric Sciences*, ch. 9):

- contingency for "AQI > threshold": hits a, false alarms b, misses c, correct negatives d;
  TS = a/(a+b+c), POD = a/(a+c), FAR = b/(a+b), frequency bias = (a+b)/(a+c) (undefined → NaN, written as null);
- Brier score BS = mean((p − o)²) and skill BSS = 1 − BS/BS_ref against climatology;
- CRPS of a predictive distribution from its samples, CRPS = E|X − y| − ½ E|X − X′| (Gneiting & Raftery 2007);
- reliability (binned forecast probability against observed frequency) and the Murphy (1973) decomposition
  BS = REL − RES + UNC, per lead day for AQI > 150/200/300 and for P(level ≥ L) (:func:`reliability_scores`);
  the bins are this module's own few lines (xskillscore's ``reliability`` wants xarray objects and gives no
  decomposition); with bins of distinct probabilities the identity is exact, with wider bins it holds up to the
  within-bin variance of the forecasts (Stephenson et al. 2008), which ``brier`` makes visible;
- MAE, RMSE, bias (forecast − observed), and AQI-category accuracy (HJ 633 categories, exact).

The JSON contract read by the app, the evaluation and scripts::

    {"scores": [{"model", "lead_day", "threshold", "hits", "misses", "false_alarms", "correct_negatives",
                 "ts", "pod", "far", "frequency_bias", "brier_skill_score"}, …],
     "continuous": [{"model", "lead_day", "variable", "mae", "rmse", "bias", "category_accuracy"}, …],
     "reliability": [{"event", "lead_day", "n", "events", "brier", "reliability", "resolution", "uncertainty",
                      "bins": [{"p", "observed", "n"}, …]}, …],
     "level_decision": {"thresholds", "consequences", "sweep"},
     "warnings": ["…", …], …}

``warnings`` (:func:`quality_warnings`) says in words when the model is far worse than persistence (AQI MAE above
:data:`MAE_RATIO_LIMIT` × persistence's, or a bias beyond :data:`BIAS_SHARE_LIMIT` × persistence's MAE), when a
score is undefined, and which months of the period the model never saw: a verification that looks like a table
of numbers but says the model is unusable must not pass silently.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import aqi as aqi_mod
from . import levelprob, levels
from .distributions import split_normal_samples

MODELS = ("lantian", "persistence", "climatology")
THRESHOLDS = (150, 200, 300)
#: a lead day where the model's AQI MAE exceeds this multiple of persistence's earns a warning
MAE_RATIO_LIMIT = 1.2
#: a lead day where the model's |AQI bias| exceeds this share of persistence's MAE (and persistence's own |bias|)
#: earns a warning
BIAS_SHARE_LIMIT = 0.5
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def contingency(observed, forecast) -> dict:
    """2 × 2 contingency counts and scores of boolean event series (missing pairs are left out)."""
    o = np.asarray(observed, dtype=float)
    f = np.asarray(forecast, dtype=float)
    ok = np.isfinite(o) & np.isfinite(f)
    o, f = o[ok].astype(bool), f[ok].astype(bool)
    a = int((o & f).sum())
    b = int((~o & f).sum())
    c = int((o & ~f).sum())
    d = int((~o & ~f).sum())

    def ratio(num, den):
        return float(num / den) if den else float("nan")

    return {"hits": a, "misses": c, "false_alarms": b, "correct_negatives": d, "ts": ratio(a, a + b + c),
            "pod": ratio(a, a + c), "far": ratio(b, a + b), "frequency_bias": ratio(a + b, a + c)}


def brier_score(probability, observed) -> float:
    p = np.asarray(probability, float)
    o = np.asarray(observed, float)
    ok = np.isfinite(p) & np.isfinite(o)
    return float(np.mean((p[ok] - o[ok]) ** 2)) if ok.any() else float("nan")


def brier_skill_score(probability, observed, reference) -> float:
    """1 − BS/BS_ref; NaN when the reference is perfect (BS_ref = 0)."""
    bs = brier_score(probability, observed)
    ref = brier_score(reference, observed)
    return float(1 - bs / ref) if ref > 0 else float("nan")


def crps_ensemble(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS per case from samples ``(n_cases, n_members)`` (energy form; exact for the empirical distribution)."""
    x = np.sort(np.asarray(samples, float), axis=1)
    y = np.asarray(observed, float)[:, None]
    m = x.shape[1]
    term1 = np.abs(x - y).mean(axis=1)
    # E|X − X'| for sorted members: 2/m² Σ_i (2i − m − 1) x_i
    i = np.arange(1, m + 1)
    term2 = (2.0 / m ** 2) * ((2 * i - m - 1) * x).sum(axis=1)
    return term1 - 0.5 * term2


def continuous(forecast, observed) -> dict:
    f = np.asarray(forecast, float)
    o = np.asarray(observed, float)
    ok = np.isfinite(f) & np.isfinite(o)
    e = f[ok] - o[ok]
    return {"n": int(ok.sum()), "mae": float(np.abs(e).mean()) if ok.any() else float("nan"),
            "rmse": float(np.sqrt((e ** 2).mean())) if ok.any() else float("nan"),
            "bias": float(e.mean()) if ok.any() else float("nan")}


def category_accuracy(forecast_aqi, observed_aqi) -> float:
    """Share of cases whose forecast AQI falls in the observed AQI category (HJ 633 categories 1–6)."""
    f = np.asarray(forecast_aqi, float)
    o = np.asarray(observed_aqi, float)
    ok = np.isfinite(f) & np.isfinite(o)
    if not ok.any():
        return float("nan")
    cf = aqi_mod.category(np.ceil(f[ok]))["category"].to_numpy(int)
    co = aqi_mod.category(np.ceil(o[ok]))["category"].to_numpy(int)
    return float(np.mean(cf == co))


def score_table(cases: pd.DataFrame) -> dict:
    """All scores per model and lead day from a table of verification cases.

    ``cases`` has one row per (model, area_id, issue_date, lead) with ``aqi`` (point forecast: median),
    ``pm25``, ``p_gt150/200/300`` (probabilities; 0/1 for deterministic baselines), ``event_gt150/200/300`` (the
    yes/no forecast of each event), ``crps_aqi`` (per case) and the
    observations ``obs_aqi``, ``obs_pm25``; climatological probabilities ``clim_p150/200/300`` give the BSS
    reference.
    """
    scores, cont = [], []
    for (model, lead), g in cases.groupby(["model", "lead"], sort=True):
        obs = g["obs_aqi"].to_numpy(float)
        ok = np.isfinite(obs)
        for th in THRESHOLDS:
            o = np.where(ok, obs > th, np.nan)
            rec = {"model": model, "lead_day": int(lead), "threshold": th,
                   **contingency(o, np.where(ok, g[f"event_gt{th}"].to_numpy(float), np.nan)),
                   "brier_skill_score": brier_skill_score(g[f"p_gt{th}"].to_numpy(float)[ok], o[ok],
                                                          g[f"clim_p{th}"].to_numpy(float)[ok])}
            scores.append(rec)
        for var in ("aqi", "pm25"):
            c = continuous(g[var], g[f"obs_{var}"])
            rec = {"model": model, "lead_day": int(lead), "variable": var, "n": c["n"], "mae": c["mae"],
                   "rmse": c["rmse"], "bias": c["bias"],
                   "category_accuracy": category_accuracy(g["aqi"], g["obs_aqi"]) if var == "aqi" else None}
            if var == "aqi" and "crps_aqi" in g:
                crps = g["crps_aqi"].to_numpy(float)
                rec["crps"] = float(np.nanmean(crps)) if np.isfinite(crps).any() else float("nan")
            cont.append(rec)
    ref = {(r["lead_day"]): r.get("crps") for r in cont if r["model"] == "climatology" and r["variable"] == "aqi"}
    for r in cont:
        if r["variable"] == "aqi" and r.get("crps") is not None and ref.get(r["lead_day"]):
            r["crps_skill_score"] = 1 - r["crps"] / ref[r["lead_day"]]
    return {"scores": _clean(scores), "continuous": _clean(cont)}


def under_measures(cases: pd.DataFrame, in_force: pd.DataFrame, *, threshold: int = 200,
                   model: str = "lantian") -> list[dict]:
    """The yes/no forecast of "AQI > ``threshold``" split by whether the target day had a warning in force in the
    area (its emission cuts and measures acting on the day verified), per lead day.

    A heavy day forecast for a day on which the area's contingency plan was in force and that then stayed below the
    threshold counts as a false alarm in :func:`score_table`, although the measures may be what kept it below:
    a verification against observations cannot tell a false alarm from a prevented heavy day. This splits the
    contingency counts so a reader sees how much of the false-alarm ratio falls on such days, and the scores of the
    days without measures (where the observation is what the forecast was of).

    Parameters
    ----------
    cases : DataFrame
        Verification cases (:func:`verification_cases`): ``model``, ``area_id``, ``lead``, ``target_date``,
        ``obs_aqi`` [1] and ``event_gt<threshold>``.
    in_force : DataFrame
        ``area_id``, ``date`` (and optionally ``level``): the days each area had a warning in force (the warnings
        record, :func:`response.episodes.read_warnings`; rows with level ``none`` are not in force).
    threshold : int
        One of :data:`THRESHOLDS` [1].

    Returns
    -------
    list of dict
        Per lead day: ``false_alarms`` and ``false_alarms_under_measures`` (of them, on a day with a warning in
        force), ``days_under_measures`` (verified cases on such days), and ``ts``/``pod``/``far`` of the cases
        without measures in force (``*_without_measures``).

    Raises
    ------
    ValueError
        A threshold outside :data:`THRESHOLDS`, or ``in_force`` without ``area_id`` and ``date``.
    """
    if threshold not in THRESHOLDS:
        raise ValueError(f"threshold {threshold!r} is not one of {list(THRESHOLDS)}")
    if not {"area_id", "date"} <= set(in_force.columns):
        raise ValueError(f"the warnings in force need columns area_id, date; got {list(in_force.columns)}")
    w = in_force if "level" not in in_force.columns else \
        in_force[~in_force["level"].fillna("none").astype(str).isin(["none", ""])]
    keys = set(zip(w["area_id"].astype(str), pd.to_datetime(w["date"]).dt.normalize()))
    # the cases score_table counts: an observation and a yes/no forecast
    g = cases[(cases["model"] == model) & np.isfinite(cases["obs_aqi"].to_numpy(float))
              & np.isfinite(cases[f"event_gt{threshold}"].to_numpy(float))]
    out = []
    for lead, c in g.groupby("lead", sort=True):
        under = np.fromiter(((a, d) in keys for a, d in zip(c["area_id"].astype(str),
                                                             pd.to_datetime(c["target_date"]).dt.normalize())),
                            bool, len(c))
        fc = c[f"event_gt{threshold}"].to_numpy(float) > 0.5
        ob = c["obs_aqi"].to_numpy(float) > threshold
        free = contingency(ob[~under].astype(float), fc[~under].astype(float))
        out.append({"lead_day": int(lead), "threshold": threshold, "false_alarms": int((fc & ~ob).sum()),
                    "false_alarms_under_measures": int((fc & ~ob & under).sum()),
                    "days_under_measures": int(under.sum()), "cases": int(len(c)),
                    "ts_without_measures": free["ts"], "pod_without_measures": free["pod"],
                    "far_without_measures": free["far"]})
    return _clean(out)


def under_measures_text(rows: list[dict]) -> str:
    """The false alarms on days with measures in force, a line per lead day (for ``lantian verify``; the scores of
    the days without measures stay in the JSON: those days are mostly clean ones, and their scores read as the
    model's error rate when printed beside it)."""
    if not rows:
        return ""
    th = rows[0]["threshold"]
    lines = [f"AQI > {th} false alarms on days with a warning in force (the measures may have prevented the heavy "
             "day; a warning decided on the same forecast makes the two coincide whether or not it acted):",
             "  lead  false alarms  on days under measures  share  verified days under measures"]
    for r in rows:
        n, k = r["false_alarms"], r["false_alarms_under_measures"]
        share = f"{k / n:.0%}" if n else "—"
        lines.append(f"  {r['lead_day']:>4} {n:>13} {k:>23} {share:>6} {r['days_under_measures']:>30}")
    return "\n".join(lines)


def _clean(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                        round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
    return out


def table_text(result: dict, thresholds=(200,), leads=None) -> str:
    """A readable verification table (Markdown) from the JSON contract."""
    s = pd.DataFrame(result["scores"])
    c = pd.DataFrame(result["continuous"])
    if leads is not None:
        s, c = s[s["lead_day"].isin(leads)], c[c["lead_day"].isin(leads)]
    lines = []
    for th in thresholds:
        sub = s[s["threshold"] == th].pivot_table(index="lead_day", columns="model",
                                                  values=["ts", "pod", "far", "brier_skill_score"])
        lines.append(f"AQI > {th}: TS / POD / FAR / BSS by lead day")
        lines.append("| lead | " + " | ".join(f"{m} TS" for m in MODELS) + " | lantian POD | lantian FAR | " +
                     " | ".join(f"{m} BSS" for m in MODELS) + " |")
        lines.append("|" + "---|" * (2 * len(MODELS) + 3))
        for lead, row in sub.iterrows():
            def g(metric, model):
                v = row.get((metric, model))
                return "–" if v is None or pd.isna(v) else f"{v:.2f}"
            lines.append(f"| {lead} | " + " | ".join(g("ts", m) for m in MODELS) +
                         f" | {g('pod', 'lantian')} | {g('far', 'lantian')} | " +
                         " | ".join(g("brier_skill_score", m) for m in MODELS) + " |")
        lines.append("")
    aqi = c[c["variable"] == "aqi"].pivot_table(index="lead_day", columns="model",
                                                values=["mae", "category_accuracy", "crps"])
    lines.append("AQI: MAE / category accuracy / CRPS by lead day")
    lines.append("| lead | " + " | ".join(f"{m} MAE" for m in MODELS) + " | " +
                 " | ".join(f"{m} cat." for m in MODELS) + " | " + " | ".join(f"{m} CRPS" for m in MODELS) + " |")
    lines.append("|" + "---|" * (3 * len(MODELS) + 1))
    for lead, row in aqi.iterrows():
        def g(metric, model, fmt="{:.1f}"):
            v = row.get((metric, model))
            return "–" if v is None or pd.isna(v) else fmt.format(v)
        lines.append(f"| {lead} | " + " | ".join(g("mae", m) for m in MODELS) + " | " +
                     " | ".join(g("category_accuracy", m, "{:.2f}") for m in MODELS) + " | " +
                     " | ".join(g("crps", m) for m in MODELS) + " |")
    return "\n".join(lines)


# ---- reliability ----------------------------------------------------------------------------------------------

RELIABILITY_BINS = np.linspace(0.0, 1.0, 11)


def reliability(probability, observed, bins=RELIABILITY_BINS) -> pd.DataFrame:
    """Reliability table: per probability bin the mean forecast probability ``p``, the observed frequency
    ``observed`` and the number of cases ``n`` (empty bins left out; missing pairs left out).

    Bins are closed on the left, the last one on both sides ([0, 0.1), …, [0.9, 1.0]).
    """
    p = np.asarray(probability, float)
    o = np.asarray(observed, float)
    ok = np.isfinite(p) & np.isfinite(o)
    p, o = p[ok], o[ok]
    idx = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, len(bins) - 2)
    rows = []
    for b in np.unique(idx):
        m = idx == b
        rows.append({"bin_low": float(bins[b]), "bin_high": float(bins[b + 1]), "p": float(p[m].mean()),
                     "observed": float(o[m].mean()), "n": int(m.sum())})
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "p", "observed", "n"])


def brier_decomposition(probability, observed, bins=RELIABILITY_BINS) -> dict:
    """Brier score and its Murphy decomposition over probability bins.

    Returns
    -------
    dict
        ``n``, ``events``, ``brier`` (exact), ``reliability`` = Σ n_k (p̄_k − ō_k)² / N (smaller is better),
        ``resolution`` = Σ n_k (ō_k − ō)² / N (larger is better), ``uncertainty`` = ō (1 − ō); NaN without cases.
    """
    p = np.asarray(probability, float)
    o = np.asarray(observed, float)
    ok = np.isfinite(p) & np.isfinite(o)
    n = int(ok.sum())
    if not n:
        nan = float("nan")
        return {"n": 0, "events": 0, "brier": nan, "reliability": nan, "resolution": nan, "uncertainty": nan}
    table = reliability(p[ok], o[ok], bins)
    base = float(o[ok].mean())
    return {"n": n, "events": int(o[ok].sum()), "brier": float(np.mean((p[ok] - o[ok]) ** 2)),
            "reliability": float((table["n"] * (table["p"] - table["observed"]) ** 2).sum() / n),
            "resolution": float((table["n"] * (table["observed"] - base) ** 2).sum() / n),
            "uncertainty": base * (1 - base)}


def reliability_scores(hc: pd.DataFrame, record: pd.DataFrame | None = None) -> list[dict]:
    """Reliability and Brier decomposition of lantian's probabilities: per lead day for AQI > 150/200/300, and
    for P(level ≥ yellow/orange/red) of the level record (``lead_day`` None: a level covers the whole sequence).

    ``hc``: hindcast rows with ``p_aqi_gt<T>`` and ``y_aqi``; ``record``: :func:`level_record`.
    """
    out = []
    for lead, g in hc.groupby("lead", sort=True):
        y = g["y_aqi"].to_numpy(float)
        for th in THRESHOLDS:
            o = np.where(np.isfinite(y), (y > th).astype(float), np.nan)
            p = g[f"p_aqi_gt{th}"].to_numpy(float)
            out.append({"event": f"aqi>{th}", "lead_day": int(lead), **brier_decomposition(p, o),
                        "bins": reliability(p, o).to_dict("records")})
    if record is not None and len(record):
        rank = record["obs_level"].map(levels.LEVEL_RANK).to_numpy()
        for r, level in enumerate(("yellow", "orange", "red"), 1):
            p = record[f"p_ge_{level}"].to_numpy(float)
            o = (rank >= r).astype(float)
            out.append({"event": f"level>={level}", "lead_day": None, **brier_decomposition(p, o),
                        "bins": reliability(p, o).to_dict("records")})
    return [{**_clean([{k: v for k, v in r.items() if k != "bins"}])[0],
             "bins": _clean(r["bins"])} for r in out]


def reliability_text(rows: list[dict]) -> str:
    """The Brier decomposition table (Markdown) of :func:`reliability_scores`."""
    lines = ["Reliability: Brier score = REL − RES + UNC (REL small and RES large is good)",
             "| event | lead | n | events | BS | REL | RES | UNC |", "|---|---|---|---|---|---|---|---|"]

    def f(v):
        return "–" if v is None else f"{v:.4f}"
    for r in rows:
        lines.append(f"| {r['event']} | {r['lead_day'] if r['lead_day'] is not None else 'seq.'} | {r['n']} | "
                     f"{r['events']} | {f(r['brier'])} | {f(r['reliability'])} | {f(r['resolution'])} | "
                     f"{f(r['uncertainty'])} |")
    return "\n".join(lines)


# ---- the hindcast's cases ---------------------------------------------------------------------------------------

def verification_cases(hc: pd.DataFrame, clim_samples: dict) -> pd.DataFrame:
    """Verification cases of lantian and the two baselines from a hindcast table.

    Parameters
    ----------
    hc : DataFrame
        Hindcast rows (:func:`forecast.forecasting.hindcast`): quantiles, probabilities and event flags of the
        model, ``aqi_now``/``pm25_now`` (persistence: the rolling-24-h value at the issue time), ``clim_*``
        (climatology of the training period) and the observed ``y_aqi``, ``y_pm25``. [1], [µg m⁻³]
    clim_samples : dict
        ``(area_id, month)`` → observed daily AQI of the training period (climatology's CRPS). [1]

    Returns
    -------
    DataFrame
        One row per model and case, the input of :func:`score_table`.
    """
    base = hc[["area_id", "issue_date", "lead", "target_date", "y_aqi", "y_pm25", "clim_p150", "clim_p200",
               "clim_p300"]].rename(columns={"y_aqi": "obs_aqi", "y_pm25": "obs_pm25"})
    lt = base.assign(model="lantian", aqi=hc["aqi_q50"].to_numpy(), pm25=hc["pm25_q50"].to_numpy(),
                     p_gt150=hc["p_aqi_gt150"].to_numpy(), p_gt200=hc["p_aqi_gt200"].to_numpy(),
                     p_gt300=hc["p_aqi_gt300"].to_numpy(),
                     **{f"event_gt{th}": hc[f"event_gt{th}"].to_numpy(float) for th in THRESHOLDS})
    ok = np.isfinite(lt["obs_aqi"].to_numpy(float))
    crps = np.full(len(lt), np.nan)
    samples = split_normal_samples(hc["aqi_q10"].to_numpy(float)[ok], hc["aqi_q50"].to_numpy(float)[ok],
                                     hc["aqi_q90"].to_numpy(float)[ok])
    crps[ok] = crps_ensemble(samples, lt["obs_aqi"].to_numpy(float)[ok])
    lt["crps_aqi"] = crps
    now = hc["aqi_now"].to_numpy(float)
    pe = base.assign(model="persistence", aqi=now, pm25=hc["pm25_now"].to_numpy(float),
                     **{f"p_gt{th}": np.where(np.isfinite(now), (now > th).astype(float), np.nan)
                        for th in THRESHOLDS},
                     **{f"event_gt{th}": np.where(np.isfinite(now), (now > th).astype(float), np.nan)
                        for th in THRESHOLDS})
    pe["crps_aqi"] = np.abs(pe["aqi"] - pe["obs_aqi"])
    cl = base.assign(model="climatology", aqi=hc["clim_aqi"].to_numpy(float), pm25=hc["clim_pm25"].to_numpy(float),
                     **{f"p_gt{th}": hc[f"clim_p{th}"].to_numpy(float) for th in THRESHOLDS},
                     **{f"event_gt{th}": (hc["clim_aqi"].to_numpy(float) > th).astype(float)
                        for th in THRESHOLDS})
    crps_c = np.full(len(cl), np.nan)
    months = pd.to_datetime(cl["target_date"]).dt.month.to_numpy()
    for i, (area, month, y) in enumerate(zip(cl["area_id"], months, cl["obs_aqi"])):
        s = clim_samples.get((area, month))
        if s is not None and np.isfinite(y):
            crps_c[i] = crps_ensemble(s[None, :], np.array([y]))[0]
    cl["crps_aqi"] = crps_c
    return pd.concat([lt, pe, cl], ignore_index=True)


def level_record(hc: pd.DataFrame, *, path=None) -> pd.DataFrame:
    """Per area and issue date of a hindcast: ``rules``, lantian's ``p_ge_yellow/orange/red``, its proposed
    ``level`` and ``level_median``, and ``obs_level`` — the level the observed days imply (dust-dominated days below
    every threshold); sequences with an unobserved day are left out. The record the consequences of decision
    thresholds are read from (:func:`forecast.decision.consequences`)."""
    first = hc.sort_values("lead").groupby(["area_id", "issue_date"], sort=True).first()
    obs = levelprob.observed_ranks(hc, path=path)
    cols = ["rules", "p_ge_yellow", "p_ge_orange", "p_ge_red", "level", "level_median"]
    rec = first.loc[obs.index, [c for c in cols if c in first.columns]].copy()
    rec["obs_level"] = [levels.LEVELS[r] for r in obs.to_numpy()]
    return rec.reset_index()


def level_scores(hc: pd.DataFrame, *, path=None) -> list[dict]:
    """Warning-level verification per model: forecast level vs the level the observed 7 days imply.

    Observed dust-dominated days count as below every threshold (they get an advisory, not a warning); the rule
    set is the one the hindcast graded with (column ``rules``; ``path`` the region's rules file). Returns hits,
    misses, false alarms, correct negatives and the exact-level accuracy per model.
    """
    observed = levelprob.observed_ranks(hc, path=path)  # graded once, for every model
    out = []
    for model_name in MODELS:
        counts = {"hits": 0, "misses": 0, "false_alarms": 0, "correct_negatives": 0, "exact": 0, "n": 0}
        for (area, issue), g in hc.sort_values("lead").groupby(["area_id", "issue_date"]):
            if (area, issue) not in observed.index:  # a day of the sequence unobserved
                continue
            rules = g["rules"].iloc[0]
            obs_level = levels.LEVELS[observed.loc[(area, issue)]]
            if model_name == "lantian":
                fc_level = g["level"].iloc[0]
            elif model_name == "persistence":
                fc_level = levels.warning_level(np.full(len(g), g["aqi_now"].iloc[0]), rules=rules, path=path) \
                    if np.isfinite(g["aqi_now"].iloc[0]) else "none"
            else:
                fc_level = levels.warning_level(g["clim_aqi"].fillna(0).to_numpy(float), rules=rules, path=path)
            o, f = obs_level != "none", fc_level != "none"
            key = "hits" if o and f else "misses" if o else "false_alarms" if f else "correct_negatives"
            counts[key] += 1
            counts["exact"] += int(obs_level == fc_level)
            counts["n"] += 1
        counts["exact_level_accuracy"] = round(counts["exact"] / counts["n"], 4) if counts["n"] else None
        out.append({"model": model_name, **counts})
    return out


# ---- warnings ---------------------------------------------------------------------------------------------------

def lead_list(leads) -> str:
    """``[1, 2, 3]`` → ``"1–3"``, ``[1, 3]`` → ``"1, 3"``."""
    leads = sorted(int(k) for k in leads)
    if len(leads) > 2 and leads == list(range(leads[0], leads[-1] + 1)):
        return f"{leads[0]}–{leads[-1]}"
    return ", ".join(str(k) for k in leads)


def month_names(months) -> str:
    """Months in words, runs of three or more consecutive months as a range: ``[11, 12, 1, 2]`` → ``"Nov–Feb"``,
    ``[3, 4, 5, 9]`` → ``"Mar–May, Sep"``, ``[12, 1]`` → ``"Dec, Jan"``."""
    runs: list[list[int]] = []
    for m in (int(m) for m in months):
        if runs and m == runs[-1][-1] % 12 + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    names = [MONTH_NAMES[r[0] - 1] + (f"–{MONTH_NAMES[r[-1] - 1]}" if len(r) >= 3 else "") if len(r) != 2
             else f"{MONTH_NAMES[r[0] - 1]}, {MONTH_NAMES[r[1] - 1]}" for r in runs]
    return ", ".join(names)


def quality_warnings(result: dict, *, unseen_months=(), trained_months=None) -> list[str]:
    """Plain-language warnings about a verification result (the contract's ``warnings``).

    Parameters
    ----------
    result : dict
        The scores of :func:`score_table` (``scores``, ``continuous``).
    unseen_months : sequence of int
        Calendar months of the verified target days that the model was never trained on.
    trained_months : sequence of int, optional
        The months it was trained on (named in the unseen-months warning).

    Returns
    -------
    list of str
        One sentence per finding, in this order: AQI MAE above :data:`MAE_RATIO_LIMIT` × persistence's at some
        lead days; |AQI bias| above :data:`BIAS_SHARE_LIMIT` × persistence's MAE and above persistence's |bias|;
        an event (AQI > threshold) observed but never forecast; the months never seen; lantian's scores that are
        undefined (per threshold, with the reason). Empty when there is nothing to say.
    """
    out = []
    cont = pd.DataFrame(result.get("continuous") or [])
    unseen = f" (never trained on {month_names(unseen_months)})" if len(unseen_months) else ""
    if len(cont):
        aqi = cont[cont["variable"] == "aqi"].pivot_table(index="lead_day", columns="model",
                                                          values=["mae", "bias"], aggfunc="first", dropna=False)
        worse, biased = [], []
        for lead, row in aqi.iterrows():
            mae, p_mae = row.get(("mae", "lantian")), row.get(("mae", "persistence"))
            bias, p_bias = row.get(("bias", "lantian")), row.get(("bias", "persistence"))
            if pd.notna(mae) and pd.notna(p_mae) and mae > MAE_RATIO_LIMIT * p_mae:
                worse.append((lead, mae, p_mae))
            if pd.notna(bias) and pd.notna(p_mae) and abs(bias) > BIAS_SHARE_LIMIT * p_mae and \
                    (pd.isna(p_bias) or abs(bias) > abs(p_bias)):
                biased.append((lead, bias, p_bias, p_mae))
        if worse:
            lead, mae, p_mae = worse[0]
            out.append(f"lantian's AQI MAE is more than {MAE_RATIO_LIMIT:g} × persistence's at lead day(s) "
                       f"{lead_list(w[0] for w in worse)} (day {lead}: {mae:.1f} vs {p_mae:.1f}){unseen}: "
                       "the model is worse than carrying today's AQI forward")
        if biased:
            lead, bias, p_bias, p_mae = biased[0]
            side = "under" if bias < 0 else "over"
            p_text = f"persistence {p_bias:+.1f}, " if pd.notna(p_bias) else ""
            out.append(f"lantian {side}-forecasts the AQI at lead day(s) {lead_list(b[0] for b in biased)} "
                       f"(day {lead}: bias {bias:+.1f}; {p_text}persistence MAE {p_mae:.1f}){unseen}")
    scores = pd.DataFrame(result.get("scores") or [])
    lt = scores[scores["model"] == "lantian"] if len(scores) else scores
    for th, g in (lt.groupby("threshold", sort=True) if len(lt) else ()):
        blind = g[(g["hits"] + g["false_alarms"] == 0) & (g["hits"] + g["misses"] > 0)]
        if len(blind):
            first = blind.iloc[0]
            out.append(f"lantian never forecast AQI > {th} at lead day(s) {lead_list(blind['lead_day'])} (day "
                       f"{int(first['lead_day'])}: {int(first['misses'])} such day(s) observed){unseen}: it cannot "
                       "warn of them")
    if len(unseen_months):
        trained = f" (trained on {month_names(trained_months)})" if trained_months else ""
        out.append(f"the period includes months the model never saw: {month_names(unseen_months)}{trained}; its "
                   "forecasts there extrapolate from other seasons")
    if len(lt):
        for th, g in lt.groupby("threshold", sort=True):
            names = {"ts": "TS", "pod": "POD", "far": "FAR", "frequency_bias": "frequency bias",
                     "brier_skill_score": "Brier skill score"}
            undefined = {m: g.loc[g[m].isna(), "lead_day"].tolist() for m in names if m in g}
            undefined = {m: v for m, v in undefined.items() if v}
            if not undefined:
                continue
            reasons = []
            if (g["hits"] + g["misses"]).eq(0).any():
                reasons.append(f"no day above {th} observed")
            if (g["hits"] + g["false_alarms"]).eq(0).any():
                reasons.append("none forecast")
            if "brier_skill_score" in undefined:
                reasons.append("climatology's Brier score is 0 or undefined")
            parts = [f"{names[m]} (lead day(s) {lead_list(v)})" for m, v in undefined.items()]
            out.append(f"AQI > {th}: lantian's {', '.join(parts)} undefined"
                       + (f" — {'; '.join(reasons)}" if reasons else ""))
    return out
