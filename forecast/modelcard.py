"""The model card: what a trained forecaster was trained on, how, with which libraries, and how it verified.

A card (``model_card.json`` beside the boosters in ``models/<name>/``) is written at training
(:func:`training_card`) and completed by ``lantian verify`` (:func:`record_verification`) with the scores on a
period after the training period. The app, the briefing and the evaluation read it; it never decides anything.

What the card says about the data a model met: ``met_variables`` (the drivers it uses), ``met_missing`` (the
drivers left out because the meteorology cannot give them, with the reason), ``features_left_out`` (feature
columns without a value in the training rows), ``met_source`` (``"forecast"``, ``"analysis"`` — "perfect prog",
the analyses of the target days standing in for a forecast run — or ``"forecast and analysis"``) with the rows of
each in ``met_source_rows``, and ``trained_months`` (the calendar months of the target days it was trained on:
forecasts and verification for other months carry a warning).
"""
from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import features as F
from . import model as M


def data_hash(frame: pd.DataFrame) -> str:
    """Short hash of the training table (keys and targets) for the model card."""
    cols = [c for c in ("area_id", "issue_date", "lead", "y_aqi", "y_pm25") if c in frame.columns]
    h = hashlib.sha1(pd.util.hash_pandas_object(frame[cols], index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def library_versions() -> dict:
    """Versions of Python and the libraries a model's results depend on."""
    import lightgbm
    import sklearn

    return {"python": platform.python_version(), "lightgbm": lightgbm.__version__, "numpy": np.__version__,
            "pandas": pd.__version__, "scikit-learn": sklearn.__version__}


def training_card(model: M.Forecaster, frame: pd.DataFrame, *, last, name: str, seed: int, rounds: int,
                  met_missing: dict | None = None) -> dict:
    """The card of a model just trained on ``frame`` (feature rows with targets) up to the day ``last``.

    The version is ``<last day YYYYMMDD>-<data hash>``: the same data give the same version.

    Parameters
    ----------
    model : Forecaster
        The trained model.
    frame : DataFrame
        Its training table (:func:`forecast.forecasting.training_table`).
    last : date-like
        Last day whose observations were used.
    name : str
        The model's name.
    seed, rounds : int
        LightGBM seed and boosting rounds.
    met_missing : dict, optional
        Drivers left out and why (:func:`forecast.features.missing_drivers`).
    """
    used = frame[frame["y_aqi"].notna()]
    met_vars = sorted({c.removeprefix("met_").removesuffix("_prev").removesuffix("_d0").removesuffix("_lag2")
                       .removesuffix("_r2r") for c in model.features if c.startswith("met_")})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dhash = data_hash(used)
    return {
        "name": name, "version": f"{pd.Timestamp(last).strftime('%Y%m%d')}-{dhash[:8]}",
        "created": stamp, "training_period": [str(used["issue_date"].min().date()), str(pd.Timestamp(last).date())],
        "issue_hour_cst": F.ISSUE_HOUR, "lead_days": list(F.LEADS), "areas": model.areas,
        "rows": int(len(used)), "heavy_rows": int((used["y_aqi"] > 200).sum()),
        "met_variables": met_vars,
        "met_missing": dict(met_missing or {}),
        "features_left_out": list(model.left_out),
        "met_source": F.met_source_label(used["met_source"]),
        "met_source_rows": {k: int(v) for k, v in used["met_source"].value_counts().items()},
        "met_source_note": "forecast = 00 UTC run of the issue day (lead days k, k-1, 0); analysis = the analyses "
                           "of those days ('perfect prog'), used only where no run exists — a model trained on "
                           "analyses alone has learnt from perfect meteorology and forecasts with the errors of "
                           "whatever meteorology it is given",
        "trained_months": sorted(int(m) for m in used["target_date"].dt.month.unique()),
        "data_hash": dhash, "seed": seed, "rounds": rounds,
        # the days-1–2 classifiers' own settings as short_<name>: a model trained with other ones is another
        # model for the registry (_SAME_MODEL compares params)
        "params": {**M.DEFAULT_PARAMS, **{f"short_{k}": v for k, v in M.SHORT_PARAMS.items()}},
        "quantiles": list(M.QUANTILES), "thresholds": list(M.THRESHOLDS),
        "imbalance": "classifiers: scale_pos_weight = min(10, sqrt(neg/pos)); 5 cross-fitted fold models by "
                     "interleaved weeks, each calibrated (isotonic) on its held-out weeks; event forecast at the "
                     "out-of-fold TS-maximising probability",
        "lead_correlation": model.lead_correlation, "libraries": library_versions(),
        "verification": None,
        "verification_note": "filled by `lantian verify` on a period after the training period",
    }


def record_verification(model_dir, result: dict) -> Path:
    """Write the day-k scores for AQI > 200 of a verification result (``lantian verify``) into the model's card.

    The card is replaced atomically (written beside it, then renamed).
    """
    card_path = Path(model_dir) / "model_card.json"
    card = json.loads(card_path.read_text())
    s = pd.DataFrame(result["scores"])
    s = s[(s["model"] == "lantian") & (s["threshold"] == 200)]
    card["verification"] = {"period": result["period"], "cases": result["cases"],
                            "aqi_gt200": s[["lead_day", "ts", "pod", "far", "brier_skill_score"]].to_dict("records")}
    if result.get("reliability"):  # Brier decomposition (and the bins, for the reliability diagram)
        card["verification"]["reliability"] = result["reliability"]
    if result.get("level_decision"):
        dec = result["level_decision"]
        card["verification"]["level_decision"] = {k: dec[k] for k in ("thresholds", "source", "consequences")}
    tmp = card_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, ensure_ascii=False, indent=1, default=str))
    tmp.replace(card_path)
    return card_path


def last_training_day(model_dir) -> str | None:
    """The last day whose observations trained the model in ``model_dir`` (a model folder, or a versioned one: its
    promoted version), ``YYYY-MM-DD`` from the card's ``training_period``; ``None`` without a readable card."""
    from . import registry

    try:
        card = json.loads((registry.resolve(model_dir) / "model_card.json").read_text(encoding="utf-8"))
        return str(card["training_period"][1])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
