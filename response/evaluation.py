"""Post-episode evaluation: the orchestrator that assembles one report per episode.

:func:`evaluate_episode` calls, in order, :mod:`response.episodes` (the areas, the warnings record, the archived
and decision forecasts, the timeline), :mod:`response.scoring` (forecast, warning and consultation quality, the
weather-normalised effect of the measures) and :mod:`response.report` (the Chinese summary); :func:`evaluate` runs
it over one episode or every detected one and writes the reports (JSON, offline HTML, summary text). The areas
are the region's (:mod:`forecast.region`), loaded once and passed down; a report carries its areas' names.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import consultation
from forecast import forecasting as FC
from forecast import workspace
from forecast.nomenclature import TZ
from forecast.region import Region, load_region
from response import counterfactual as CF
from response import episodes as EP
from response import report as R
from response import scoring as S


def evaluate_episode(data, start, end, *, areas: list[str] | None = None, model_dir=None, warnings=None,
                     cache=None, inputs: FC.Inputs | None = None, activated_cuts: dict | None = None,
                     rounds: int = 200, decisions=None, region: Region | None = None) -> dict:
    """Evaluate one episode; returns the report (JSON-able).

    ``region``: the region evaluated (its area table; :func:`forecast.region.load_region`); default the one the
    inputs were read for, else the data directory's ``region/`` folder, else ``$LANTIAN_REGION``, else the
    shipped Inner Mongolia. The report's ``episode`` names its areas (``names``: area id → Chinese name).

    ``warnings``: the warnings in force (see :func:`response.episodes.read_warnings`; ``None``: none —
    :func:`response.episodes.warnings_record` chooses a data directory's record). ``decisions``: the forecasts
    the warnings were decided on (CSV, see :func:`response.episodes.read_decision_forecasts`; default
    ``<data>/forecasts/decision_forecasts.csv`` when present; ``False``: do not use them). The emission-cut effect
    is conditioned on them — without them, days with measures are selected on the counterfactual's own error and
    the effect is biased towards zero (the report says so).

    Raises
    ------
    response.episodes.EvaluationError
        A window that is not within the observed days, unknown areas, unreadable warnings or decision forecasts.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    inputs = inputs or FC.load_inputs(data, cache=cache, region=region)
    region = region or getattr(inputs, "region", None) or load_region(data=data)
    obs = inputs.obs.daily
    EP.check_window(obs, start, end)
    areas = EP.episode_areas(obs, start, end, areas, known=region.area_ids)
    names = region.names()
    w = EP.read_warnings(warnings)
    adv = advisories_record(warnings)
    archive = EP.episode_forecasts(data, model_dir, start, end, cache=cache)
    rules = region.rules_in_force(start)
    if decisions is None:
        decisions = EP.decision_forecasts_record(data)
    dec = EP.read_decision_forecasts(decisions) if decisions not in (None, False) else None
    effect, model_info = episode_effect(obs, inputs.met_daily, w, dec, areas, start, end, rounds=rounds,
                                        decisions_source=decisions, rules_of=region.rules_in_force)
    report = {"episode": {"start": str(start.date()), "end": str(end.date()), "areas": areas, "rules": rules,
                          "names": {a: str(names.get(a, a)) for a in areas}},
              "gaps": EP.data_gaps(obs, areas, start, end),
              "timeline": EP.timeline(obs, w, archive, areas, start, end),
              "rolling_24h": EP.rolling_24h(inputs.obs.rolling, areas, start, end),
              "forecast_quality": {a: S.forecast_quality(archive, obs, a, start, end) for a in areas},
              "warning_quality": {a: S.warning_quality(w, obs, a, start, end, rules, advisories=adv) for a in areas},
              "effect": effect, "counterfactual_model": model_info, "warnings_used": int(len(w)),
              "advisories_used": int(len(adv)),
              "forecasts_used": int(archive["issue_date"].nunique()) if len(archive) else 0}
    if activated_cuts:
        report["activated_cuts_td"] = activated_cuts
    records, _ = consultation.load(data)
    report["consultation"] = S.consultation_quality(records, obs, areas, start, end)
    report["summary_zh"] = R.summary_zh(report, names=names)
    return report


def episode_effect(obs_daily, met_daily, warnings, decisions, areas, start, end, *, rounds: int = 200,
                   decisions_source=None, rules_of=None, policy: dict | None = None,
                   anchors: dict | None = None) -> tuple[dict, dict | None]:
    """The weather-normalised effect of the measures in one episode, honest where it cannot be known.

    The estimate of :func:`response.scoring.measures_effect`, then the identifiability check
    (:func:`response.counterfactual.identifiability`, thresholds of ``policy``, default
    :func:`response.counterfactual.load_effect_policy`): an episode that fails it gets ``pm25`` and ``aqi`` with
    ``estimable: False``, the ``reasons``, the area-days (``rows``) and no estimate nor interval (no per-area
    estimates either; the caveats and the model's info stay). Otherwise ``pm25`` and ``aqi`` carry
    ``estimable: True`` and their ``flags``
    (:func:`response.counterfactual.plausibility`: a rise is an ``implausible_sign``, a failure of the estimate;
    a relative reduction far from the published ``anchors`` — default
    :func:`response.counterfactual.load_effect_anchors` — is ``outside_anchors``). The effect always carries
    ``festivals`` (the fireworks nights on the episode's days) and ``anchors`` (the published context).

    Returns
    -------
    (dict, dict or None)
        The effect and the counterfactual model's info (``None`` when no model was trained).
    """
    policy = policy or CF.load_effect_policy()
    anchors = anchors or CF.load_effect_anchors()
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    w = warnings if warnings is not None and len(warnings) else None
    table = CF.design(obs_daily, met_daily, warnings=w, decisions=decisions, rules_of=rules_of)
    margin = pd.Timedelta(days=S.WINDOW_MARGIN_DAYS)
    holdout = {(a, d) for a in table["area_id"].unique() for d in pd.date_range(start - margin, end + margin)}
    in_ep = (table["area_id"].isin(areas) & (table["date"] >= start) & (table["date"] <= end)).to_numpy()
    treated = in_ep & (table["share"].to_numpy() > 0)
    fest = CF.festival_days(table)
    context = {"festivals": [n for n in fest.columns if (fest[n].to_numpy() & in_ep).any()],
               "anchors": [{k: a[k] for k in ("id", "reduction", "zh", "en", "citation")}
                           for a in anchors["anchors"]]}
    ident = CF.identifiability(table, treated, holdout, policy) if treated.any() else None
    effect, info = S.measures_effect(obs_daily, met_daily, warnings, decisions, areas, start, end, rounds=rounds,
                                     decisions_source=decisions_source, rules_of=rules_of,
                                     calibrate=CF.calibration_argument(policy))
    if ident is not None and "pm25" in effect:
        effect["identifiability"] = ident
        if not ident["estimable"]:  # the reasons, and no number (the caveats and the model's info stay)
            for key in ("pm25", "aqi"):
                rows = effect[key].get("rows", [])
                effect[key] = {"estimable": False, "estimate": None, "interval": [None, None],
                               "reasons": ident["reasons"], "n_days": len(rows), "rows": rows}
            effect.pop("pm25_by_area", None)
        else:
            for key in ("pm25", "aqi"):
                effect[key].update(estimable=True, flags=CF.plausibility(effect[key], policy,
                                                                          anchors if key == "pm25" else None))
            for est in (effect.get("pm25_by_area") or {}).values():
                est["flags"] = CF.plausibility(est, policy)
    return {**effect, **context}, info


ADVISORY_COLUMNS = ["area_id", "date", "issued"]


def advisories_from_events(events: list[dict]) -> pd.DataFrame:
    """The days each area had a health advisory, from audit events (``action == "advisory"``): from the CST day
    of its ``valid_from`` through that of its ``valid_to`` (the day of ``valid_from`` alone without one);
    ``issued`` is the advisory's issue date. Columns ``area_id, date, issued``."""
    rows = []
    for e in events:
        if e.get("action") != "advisory":
            continue
        first = _cst_day(e.get("valid_from") or e.get("issue_date") or e["recorded_at"])
        last = _cst_day(e["valid_to"]) if e.get("valid_to") else first
        for d in pd.date_range(first, max(first, last)):
            rows.append({"area_id": e["area_id"], "date": d, "issued": str(e.get("issue_date") or "")[:10] or None})
    return pd.DataFrame(rows, columns=ADVISORY_COLUMNS).drop_duplicates(["area_id", "date"])


def _cst_day(value) -> pd.Timestamp:
    t = pd.Timestamp(str(value))
    if t.tzinfo is not None:
        t = t.tz_convert(TZ).tz_localize(None)
    return t.normalize()


def advisories_record(source) -> pd.DataFrame:
    """The health advisories of a warnings record (:func:`advisories_from_events` of an audit store — open, or a
    ``.db`` / ``.sqlite`` file); empty for a CSV record or none."""
    if source is None:
        return pd.DataFrame(columns=ADVISORY_COLUMNS)
    if hasattr(source, "events"):
        return advisories_from_events(source.events())
    path = Path(source)
    if path.suffix == ".db" or path.name.endswith(".sqlite"):
        from response import audit

        with audit.open_store(path, read_only=True) as store:
            return advisories_from_events(store.events())
    return pd.DataFrame(columns=ADVISORY_COLUMNS)


def episode_significance(episodes: pd.DataFrame) -> pd.Series:
    """How significant each detected episode (:func:`response.episodes.detect_episodes`) is: its peak AQI [1]
    times its duration [d] (first to last day, inclusive); on the episodes' index."""
    if episodes.empty:
        return pd.Series(dtype=float)
    days = (pd.to_datetime(episodes["end"]) - pd.to_datetime(episodes["start"])).dt.days + 1
    return episodes["peak_aqi"].astype(float) * days


def most_significant_episode(episodes: pd.DataFrame, after=None) -> int | None:
    """The position (0-based) of the most significant episode (:func:`episode_significance`; the earliest of
    equals), ``None`` without any: the one the review opens on.

    ``after`` (a date, e.g. the model's last training day): only episodes ending after it compete — the ones the
    model forecast without having seen them, for which forecasts were archived and warnings decided — unless
    there is none, then every episode does."""
    sig = episode_significance(episodes)
    if sig.empty:
        return None
    values = sig.to_numpy(dtype=float)
    if after is not None:
        later = (pd.to_datetime(episodes["end"]) > pd.Timestamp(after)).to_numpy()
        if later.any():
            values = np.where(later, values, -np.inf)
    return int(np.argmax(values))


def evaluate(data, out, *, episode: str | None = None, season: str | None = None, areas=None, model_dir=None,
             warnings=None, cache=None, decisions=None, progress: bool = False,
             region: Region | None = None) -> dict:
    """Evaluate one episode (``episode="START:END"``) or every detected one (inside ``season`` when given) and
    write each report to ``out`` (plus ``season_summary.json`` for several).

    ``warnings``: the warnings record (audit store or CSV); default the one the app uses,
    :func:`response.episodes.warnings_record` (the workspace's audit store when it holds decisions, else
    ``DIR/warnings/issued.csv``). The result names the record used (``warnings``). ``region``: as for
    :func:`evaluate_episode` (loaded once here and passed down).

    Returns
    -------
    dict
        ``reports`` (the report dicts), ``paths`` (their files) and ``season_summary`` (``None`` for one episode).

    Raises
    ------
    response.episodes.EvaluationError
        A malformed window (checked before the data are read), one outside the observed days, or no episode found.
    """
    window = EP.parse_episode(episode) if episode else None
    season_window = EP.parse_episode(season) if season and not episode else None
    region = region or load_region(data=data)
    inputs = FC.load_inputs(data, cache=cache, progress=progress, region=region)
    if warnings is None:
        warnings = EP.warnings_record(data, workspace.audit_path(data, cache))
    if window is not None:
        windows = [window]
    else:
        eps = EP.detect_episodes(inputs.obs.daily)
        if season_window is not None:
            s, e = season_window
            eps = eps[(eps["start"] >= s) & (eps["end"] <= e)]
        windows = list(zip(eps["start"], eps["end"]))
        if not windows:
            raise EP.EvaluationError("no episode (daily AQI > 200) found; give --episode START:END")
    reports, paths = [], []
    for start, end in windows:
        report = evaluate_episode(data, start, end, areas=areas, model_dir=model_dir, warnings=warnings,
                                  cache=cache, inputs=inputs, decisions=decisions, region=region)
        paths.append(R.write_report(report, out, names=region.names()))
        reports.append(report)
    summary = None
    if len(reports) > 1:
        summary = R.season_summary(reports)
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "season_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return {"reports": reports, "paths": paths, "season_summary": summary,
            "warnings": str(warnings) if warnings is not None else None}
