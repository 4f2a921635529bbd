"""Consultation adjustments (会商订正): the joint consultation's corrected AQI, kept beside the model's forecast.

The environment–meteorology consultation may correct the forecast AQI of an area and lead day, with a reason. The
record is its own: it is stored (append-only JSON lines, ``<workspace>/consultations.jsonl``) next to the
model's value and version, it drives the proposed warnings (:func:`apply` gives the adjusted forecast document that
``response.respond`` grades), and it is scored later next to the model (:func:`score`), in the verification and in
the post-episode review.

An adjustment moves the whole predictive distribution of that day: the 10/50/90 % quantiles are shifted in
log(1 + AQI) by the same amount as the median, so the uncertainty band keeps its width in relative terms; the
exceedance probabilities are those of the shifted split normal, and the level probabilities and the proposed level
are recomputed from the adjusted sequence exactly as for the model (:func:`forecast.levelprob.level_table`, with
the document's lead-day correlation, level recalibration and decision thresholds).
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import decision, levelprob, levels, workspace
from .aqi import AQI_MAX
from .distributions import split_normal_sf
from .region import load_region

#: the fields of one record, in file order
FIELDS = ("saved_at", "issue_date", "area_id", "lead_day", "model_version", "model_aqi", "consultation_aqi",
          "reason", "participants", "notes", "saved_by")
#: the highest AQI an adjustment may give (the top of HJ 633's scale)
MAX_AQI = int(AQI_MAX)
#: used when a forecast document does not carry the model's lead-day correlation (older archives)
DEFAULT_RHO = 0.6


class ConsultationError(ValueError):
    """An adjustment that cannot be stored or applied (names the bad value)."""


def store_path(data, cache=None) -> Path:
    """Where the consultation records of a data directory live (in its workspace, :mod:`forecast.workspace`)."""
    return workspace.cache_dir(data, cache) / "consultations.jsonl"


def make_record(doc: dict, area_id: str, lead_day: int, aqi: float, reason: str, *, participants: str = "",
                notes: str = "", saved_at: str | None = None, saved_by: str = "") -> dict:
    """A validated adjustment of ``doc`` (a forecast document): AQI ``aqi`` [1] for ``area_id`` on ``lead_day``,
    signed by ``saved_by`` (the logged-in account that saved it)."""
    area = next((a for a in doc["areas"] if a["area_id"] == area_id), None)
    if area is None:
        raise ConsultationError(f"area {area_id!r} is not in the forecast of {doc['issue_date']}; allowed: "
                                f"{', '.join(a['area_id'] for a in doc['areas'])}")
    days = {int(d["lead_day"]): d for d in area["days"]}
    if int(lead_day) not in days:
        raise ConsultationError(f"lead day {lead_day!r} not in the forecast; allowed: {sorted(days)}")
    if not np.isfinite(aqi) or not 0 <= float(aqi) <= MAX_AQI:
        raise ConsultationError(f"consultation AQI {aqi!r} outside 0 … {MAX_AQI}")
    if not str(reason).strip():
        raise ConsultationError("an adjustment needs a reason (会商订正必须说明理由)")
    return {"saved_at": saved_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "issue_date": str(doc["issue_date"]), "area_id": area_id, "lead_day": int(lead_day),
            "model_version": doc.get("model_version"), "model_aqi": round(float(days[int(lead_day)]["aqi"]["q50"]), 1),
            "consultation_aqi": round(float(aqi), 1), "reason": str(reason).strip(),
            "participants": str(participants).strip(), "notes": str(notes).strip(), "saved_by": str(saved_by).strip()}


def append(data, record: dict, *, cache=None) -> Path:
    """Append one record as one line, atomically (:func:`forecast.workspace.append_line`); earlier records are
    never rewritten.

    Raises
    ------
    ConsultationError
        The record could not be written (a full disk …); the file is as it was before.
    """
    path = store_path(data, cache)
    line = json.dumps({k: record.get(k) for k in FIELDS}, ensure_ascii=False)
    try:
        workspace.append_line(path, line)
    except workspace.AppendError as exc:
        raise ConsultationError(f"adjustment not saved: {exc.strerror}") from exc
    return path


def load(data=None, *, path=None, cache=None) -> tuple[pd.DataFrame, list[str]]:
    """Every stored record (oldest first) and a list of problems (``file:line: reason``) for lines skipped.

    A damaged line (half a record, not JSON, a bad value) is skipped and named; the other records are used.
    """
    path = Path(path) if path is not None else store_path(data, cache)
    cols = list(FIELDS)
    lines, problems = workspace.read_jsonl(path)
    rows = []
    for no, rec in lines:
        try:
            rec["lead_day"] = int(rec["lead_day"])
            rec["consultation_aqi"] = float(rec["consultation_aqi"])
            rec["model_aqi"] = float(rec["model_aqi"])
            if pd.isna(pd.Timestamp(rec["issue_date"])):
                raise ValueError("no issue_date")
            if not 0 <= rec["consultation_aqi"] <= MAX_AQI:
                raise ValueError(f"consultation_aqi {rec['consultation_aqi']} outside 0 … {MAX_AQI}")
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            problems.append(f"{path}:{no}: {type(exc).__name__}: {exc}")
            continue
        rows.append({k: rec.get(k) for k in cols})
    problems.sort(key=lambda text: int(text.removeprefix(f"{path}:").split(":", 1)[0]))  # in file order
    frame = pd.DataFrame(rows, columns=cols)
    frame["issue_date"] = pd.to_datetime(frame["issue_date"])
    return frame, problems


def latest(records: pd.DataFrame, issue_date=None) -> pd.DataFrame:
    """The last record per (issue date, area, lead day) — a later record supersedes an earlier one."""
    r = records
    if issue_date is not None:
        r = r[r["issue_date"] == pd.Timestamp(issue_date).normalize()]
    return r.drop_duplicates(["issue_date", "area_id", "lead_day"], keep="last").reset_index(drop=True)


def apply(doc: dict, adjustments: pd.DataFrame, *, n_samples: int = levelprob.N_SAMPLES, seed: int = 0,
          rules_path=None) -> dict:
    """The forecast document with the consultation's adjustments applied (a new document; ``doc`` is unchanged).

    Adjusted days carry ``adjusted`` (consultation AQI, model AQI, reason); adjusted areas carry ``model_level``
    and ``model_level_probabilities``; the document carries ``consultation`` (how many adjustments, applied to
    which model version). Records of another issue date are an error; an unknown area or lead day too.
    ``rules_path``: the region's rules file (:attr:`forecast.region.Region.rules_path`).
    """
    out = copy.deepcopy(doc)
    if adjustments is None or adjustments.empty:
        out["consultation"] = {"adjustments": 0}
        return out
    issue = pd.Timestamp(doc["issue_date"]).normalize()
    other = adjustments[pd.to_datetime(adjustments["issue_date"]).dt.normalize() != issue]
    if len(other):
        raise ConsultationError(f"adjustments for issue date(s) {sorted({str(d)[:10] for d in other['issue_date']})} "
                                f"cannot be applied to the forecast of {issue.date()}")
    by_area = {a["area_id"]: a for a in out["areas"]}
    rho = doc.get("lead_correlation")
    rho = DEFAULT_RHO if rho is None else float(rho)
    rng = np.random.default_rng(seed)
    calibration = levelprob.LevelCalibration.from_json(doc.get("level_calibration"))
    dec = doc.get("decision") or {}
    thresholds = decision.Thresholds(**dec["thresholds"], source=dec.get("source", "")) \
        if dec.get("thresholds") else decision.load_thresholds()
    for area_id, g in adjustments.groupby("area_id", sort=True):
        if area_id not in by_area:
            raise ConsultationError(f"adjusted area {area_id!r} is not in the forecast; allowed: {sorted(by_area)}")
        area = by_area[area_id]
        days = {int(d["lead_day"]): d for d in area["days"]}
        for rec in g.itertuples():
            if int(rec.lead_day) not in days:
                raise ConsultationError(f"adjusted lead day {rec.lead_day!r} of {area_id} not in the forecast; "
                                        f"allowed: {sorted(days)}")
            day = days[int(rec.lead_day)]
            model_q = dict(day["aqi"])
            shift = np.log1p(rec.consultation_aqi) - np.log1p(model_q["q50"])
            day["aqi"] = {k: float(np.expm1(np.log1p(v) + shift)) for k, v in model_q.items()}
            day["aqi"]["q50"] = float(rec.consultation_aqi)
            q = (day["aqi"]["q10"], day["aqi"]["q50"], day["aqi"]["q90"])
            day["p_aqi_gt"] = {k: float(split_normal_sf(float(k), *q)) for k in day["p_aqi_gt"]}
            day["adjusted"] = {"consultation_aqi": float(rec.consultation_aqi), "model_aqi": model_q,
                               "reason": rec.reason, "saved_at": rec.saved_at}
        ordered = sorted(area["days"], key=lambda d: d["lead_day"])
        seq = pd.DataFrame({"area_id": area_id, "issue_date": issue, "lead": [d["lead_day"] for d in ordered],
                            **{f"aqi_q{k}": [d["aqi"][f"q{k}"] for d in ordered] for k in (10, 50, 90)},
                            **{f"p_aqi_gt{k}": [d["p_aqi_gt"][str(k)] for d in ordered]
                               for k in levelprob.CLASSIFIER_THRESHOLDS},
                            "dust": [bool(d["dust"]) for d in ordered]})
        graded = levelprob.level_table(seq, rho=rho, calibration=calibration, thresholds=thresholds,
                                       rules=area.get("rules") or levels.rules_in_force(issue, rules_path),
                                       path=rules_path, n_samples=n_samples, rng=rng).iloc[0]
        area["model_level"] = area["level"]
        area["model_level_probabilities"] = area["level_probabilities"]
        area["level"], area["clause"], area["trigger_days"] = graded["level"], graded["clause"], \
            list(graded["trigger_days"])
        area["level_median"] = graded["level_median"]
        area["level_probabilities"] = {k: float(graded[f"p_level_{k}"]) for k in levels.LEVELS}
        area["p_at_least"] = {k: float(graded[f"p_ge_{k}"]) for k in decision.WARNING_LEVELS}
        area["adjusted"] = True
    out["consultation"] = {"adjustments": int(len(adjustments)), "areas": sorted(adjustments["area_id"].unique()),
                           "model_version_of_records": sorted({str(v) for v in adjustments["model_version"]})}
    return out


def adjusted_forecast(doc: dict, data, *, cache=None) -> tuple[dict, dict]:
    """The forecast document with the consultation's latest adjustments of its issue date applied.

    Returns the document (``doc`` itself when there is nothing to apply) and a summary: ``adjustments`` (count),
    ``areas``, ``problems`` (records skipped, with file:line) and ``records`` (the applied records as a list).
    """
    records, problems = load(data, cache=cache)
    adj = latest(records, doc["issue_date"])
    info = {"adjustments": int(len(adj)), "areas": sorted(adj["area_id"].unique()) if len(adj) else [],
            "problems": problems, "records": adj.to_dict("records")}
    if not len(adj):
        return doc, info
    return apply(doc, adj, rules_path=load_region(data=data).rules_path), info


def score(records: pd.DataFrame, daily: pd.DataFrame, *, start=None, end=None, threshold: float = 200) -> pd.DataFrame:
    """Model vs consultation on the adjusted cases, per lead day, against observed daily AQI.

    Parameters
    ----------
    records : DataFrame
        :func:`load` output (the latest record per case is scored).
    daily : DataFrame
        Observed daily values indexed by ``(area_id, date)`` with column ``aqi`` [1].
    start, end : date-like, optional
        Issue dates to include.

    Returns
    -------
    DataFrame
        One row per (``model`` in ``lantian, consultation``; ``lead_day``): ``n``, ``mae``, ``bias`` and the
        hits / misses / false alarms / TS for AQI > ``threshold`` — both on exactly the same cases.
    """
    r = latest(records)
    if start is not None:
        r = r[r["issue_date"] >= pd.Timestamp(start)]
    if end is not None:
        r = r[r["issue_date"] <= pd.Timestamp(end)]
    cols = ["model", "lead_day", "n", "mae", "bias", "hits", "misses", "false_alarms", "ts"]
    if r.empty:
        return pd.DataFrame(columns=cols)
    target = r["issue_date"] + pd.to_timedelta(r["lead_day"], unit="D")
    obs = daily["aqi"].reindex(pd.MultiIndex.from_arrays([r["area_id"], target])).to_numpy(float)
    r = r.assign(observed=obs).dropna(subset=["observed"])
    rows = []
    for lead, g in r.groupby("lead_day"):
        y = g["observed"].to_numpy() > threshold
        for name, col in (("lantian", "model_aqi"), ("consultation", "consultation_aqi")):
            err = g[col].to_numpy() - g["observed"].to_numpy()
            f = g[col].to_numpy() > threshold
            hits, misses, fa = int((f & y).sum()), int((~f & y).sum()), int((f & ~y).sum())
            rows.append({"model": name, "lead_day": int(lead), "n": int(len(g)), "mae": float(np.abs(err).mean()),
                         "bias": float(err.mean()), "hits": hits, "misses": misses, "false_alarms": fa,
                         "ts": hits / (hits + misses + fa) if hits + misses + fa else float("nan")})
    return pd.DataFrame(rows, columns=cols)
