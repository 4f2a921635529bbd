"""Orchestrator for the forecaster: a data directory → train / forecast / verify.

It only sequences calls: inputs from the cached station store (:mod:`forecast.history`) and the cached
meteorology (:mod:`forecast.meteorology`), features (:mod:`forecast.features`), the model (:mod:`forecast.model`),
its card (:mod:`forecast.modelcard`), the scores (:mod:`forecast.verification`) and the archive of every forecast
issued (:mod:`forecast.archive`).

Whatever the data hold, each step says what it could not do: training warns once
(:class:`forecast.features.MissingDriversWarning`) about the drivers the meteorology cannot give and records them
in the card; a forecast carries ``warnings`` (target months the model never saw, lead days without meteorology)
and says where its meteorology came from (``met_source``); a verification's ``warnings`` say when the model is far
worse than persistence, a score is undefined, or the period holds months the model never saw.
"""
from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import consultation
from . import features as F
from . import archive, decision, document, history, levels, modelcard, workspace
from . import model as M
from . import verification as V
from .aqi import AQI_MAX
from .decision import Thresholds
from .nomenclature import parse_day
from .progress import Progress
from .region import Region, load_region
from .progress import bar as progress_bar


@dataclass
class Inputs:
    """Everything the forecaster reads from a data directory."""

    obs: F.Observations
    met_daily: pd.DataFrame
    met_lead: pd.DataFrame
    met_summary: dict
    history_meta: dict
    region: Region | None = None  #: the region the inputs were read for


def load_inputs(data, *, cache=None, progress: bool = False, workers: int | None = None,
                region: Region | None = None) -> Inputs:
    """Station observations and daily meteorological drivers of a data directory (both cached).

    Parameters
    ----------
    data : path-like
        Data directory (``stations/``, ``meteorology/``; layout in :mod:`forecast.workspace`).
    cache : path-like, optional
        Workspace for derived products (default ``DIR/.lantian``, see :func:`forecast.workspace.cache_dir`).
    progress : bool
        Show progress bars while reading and extracting.
    workers : int, optional
        Local processes for the GRIB extraction (default: CPU count, at most 4).
    region : Region, optional
        The region (areas, boundaries, calendar; :func:`forecast.region.load_region`); default the data
        directory's ``region/`` folder, else ``$LANTIAN_REGION``, else the shipped Inner Mongolia.

    Returns
    -------
    Inputs
        ``obs`` (daily, hourly and rolling-24-h area observations: AQI [1], concentrations [µg m⁻³]),
        ``met_daily`` (daily drivers per area and CST day), ``met_lead`` (per forecast run and lead day),
        ``met_summary`` and ``history_meta`` (what was read, from cache or not).
    """
    region = region or load_region(data=data)
    # derived incrementally and kept in the workspace: a warm run reads the area tables, not the station history
    obs, _, meta = history.area_observations(data, cache=cache, progress=progress, areas=region.areas)
    # the drivers where the AQI is measured: at each area's monitoring stations
    by_day, by_lead, summary = _daily_drivers(data, cache=cache, progress=progress, workers=workers,
                                              area_table=region.areas)
    return Inputs(obs, by_day, by_lead, summary, meta, region)


#: bumped when the kept daily drivers change meaning
_DRIVERS_FORMAT = "1"
_DRIVERS_SOURCES = ("meteorology.py", "drivers.py", "extraction.py", "gribread.py")


def _daily_drivers(data, *, cache=None, progress: bool = False, workers: int | None = None, area_table=None):
    """Daily drivers at the stations (:func:`forecast.meteorology.daily` of :func:`forecast.meteorology.ingest`),
    kept in the workspace (``drivers/``) under a key of every GRIB file's cache entry: while every file is
    extracted and none changed, they are read back instead of combining hundreds of per-file tables again; a
    new or changed file is extracted and the drivers derived again. A damaged keep is derived again (warned)."""
    import hashlib

    here = Path(__file__).parent
    context = workspace.source_digest(*(here / n for n in _DRIVERS_SOURCES),
                                      extra=f"{_DRIVERS_FORMAT}:{pd.__version__}:{np.__version__}")
    ddir = workspace.cache_dir(data, cache) / "drivers"
    quick = _drivers_quick_key(data, area_table)
    tables, manifest, note = workspace.read_tables(ddir, context)
    if tables is not None and quick is not None and manifest.get("quick_key") == quick:
        # no GRIB file, station list or area changed since the drivers were kept: read back without the GRIB
        # machinery (its imports alone take longer than the forecast)
        summary = dict(manifest["summary"])
        summary["from_cache"] = summary["files"] - summary["failed"]
        return tables["by_day"], tables["by_lead"], summary
    from . import meteorology

    analysis, runs = meteorology.grib_files(data)
    store = workspace.cache_dir(data, cache) / "meteorology"
    sig = meteorology._areas_signature(meteorology.targets(data, "stations", area_table))
    keys = [meteorology._file_key(p, sig) for p in analysis + runs]
    files_key = hashlib.sha1("\n".join(keys).encode()).hexdigest()

    def extracted() -> bool:
        return all((store / f"{k}.parquet").exists() and (store / f"{k}.json").exists() for k in keys)

    if keys and extracted():
        if note:
            warnings.warn(f"daily drivers: {note}", history.CacheNote, stacklevel=3)
        if tables is not None and manifest.get("files_key") == files_key:
            if quick is not None and manifest.get("quick_key") != quick:  # kept again with this run's quick key
                with contextlib.suppress(OSError, ValueError):
                    workspace.write_tables(ddir, tables, {**{k: v for k, v in manifest.items()
                                                             if k not in ("generation", "tables")},
                                                          "quick_key": quick})
            summary = dict(manifest["summary"])
            summary["from_cache"] = summary["files"] - summary["failed"]
            return tables["by_day"], tables["by_lead"], summary
    met = meteorology.ingest(data, cache=cache, progress=progress, workers=workers, at="stations",
                             area_table=area_table)
    by_day, by_lead = meteorology.daily(met)
    summary = met.summary()
    if extracted():  # only a complete extraction is kept (a failed file is tried again next time)
        try:
            workspace.write_tables(ddir, {"by_day": by_day, "by_lead": by_lead},
                                   {"context": context, "files_key": files_key, "summary": summary,
                                    "quick_key": quick})
        except (OSError, ValueError) as exc:
            warnings.warn(f"daily drivers: could not be kept in {ddir} ({exc})", history.CacheNote, stacklevel=3)
    return by_day, by_lead, summary


def _drivers_quick_key(data, area_table) -> str | None:
    """A digest of every file under ``DIR/meteorology`` (path, size, modification time), the station list and the
    area table: equal keys mean the kept daily drivers were derived from these very files (None: no GRIB folder)."""
    import hashlib
    import os

    root = Path(data) / "meteorology"
    if not root.is_dir():
        return None
    h = hashlib.sha1()
    for sub in ("analysis", "forecast"):
        for root_dir, dirs, names in os.walk(root / sub, followlinks=True):
            dirs.sort()
            for name in sorted(names):
                st = os.stat(os.path.join(root_dir, name))
                h.update(f"{root_dir}/{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    try:
        st = workspace.sites_file(data).stat()
        h.update(f"sites:{st.st_size}:{st.st_mtime_ns};".encode())
    except (OSError, workspace.DataLayoutError):
        h.update(b"no sites")
    if area_table is not None:
        h.update(pd.util.hash_pandas_object(area_table.astype(str), index=False).to_numpy().tobytes())
    return h.hexdigest()


def _region_kw(inputs: Inputs) -> dict:
    """The region's area table and calendar for the features (the shipped ones when the inputs name none)."""
    if inputs.region is None:
        return {}
    return {"area_table": inputs.region.areas, "calendar": inputs.region.calendar}


def _calendar(inputs: Inputs) -> dict | None:
    return inputs.region.calendar if inputs.region is not None else None


def _rules_path(inputs: Inputs):
    """The region's rules file (``None``: the shipped one)."""
    return inputs.region.rules_path if inputs.region is not None else None


def _rules_on(inputs: Inputs, day) -> str:
    return inputs.region.rules_in_force(day) if inputs.region is not None else levels.rules_in_force(day)


def _dates(start, end) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")


def observed_period(inputs: Inputs) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last day with an area's daily AQI in ``inputs`` (a day of a few hours — the 24:00 value
    before the archive's first file — has none and does not count).

    Raises
    ------
    ModelError
        No observed day at all.
    """
    daily = inputs.obs.daily
    if "aqi" in daily.columns:
        daily = daily[daily["aqi"].notna()]
    days = daily.index.get_level_values("date")
    if not len(days):
        raise M.ModelError("the station data hold no observed day")
    return pd.Timestamp(days.min()).normalize(), pd.Timestamp(days.max()).normalize()


def _cover(inputs: Inputs) -> str:
    first, last = observed_period(inputs)
    return f"the station data cover {first.date()} … {last.date()}"


def issue_period(start, end, *, names: tuple[str, str] = ("start", "end")) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last issue date of a period (a verification), parsed and in order.

    Parameters
    ----------
    start, end : str or date-like
        First and last issue date (inclusive).
    names : (str, str)
        How the messages name them (``("--start", "--end")`` on the command line).

    Raises
    ------
    forecast.nomenclature.DateError
        A value that is not a date.
    ModelError
        ``start`` after ``end``.
    """
    first, last = parse_day(start, names[0]), parse_day(end, names[1])
    if first > last:
        raise M.ModelError(f"{names[0]} {first.date()} is after {names[1]} {last.date()}: a period runs from its "
                           "first issue date to its last")
    return first, last


# ---- training --------------------------------------------------------------------------------------------------

def training_table(inputs: Inputs, *, start=None, until=None, clim=None) -> pd.DataFrame:
    """Feature rows whose target day is observed and not after ``until`` (no observation after it is used)."""
    days = inputs.obs.daily.index.get_level_values("date")
    first = parse_day(start, "start") if start is not None else days.min() + pd.Timedelta(days=3)
    last_obs = days.max() if until is None else min(parse_day(until, "until"), days.max())
    if first >= last_obs:
        raise M.ModelError(f"training period {first.date()} … {last_obs.date()} is empty ({_cover(inputs)}; "
                           "training needs issue dates before the last observed day)")
    clim = F.climatology(inputs.obs.daily, until=last_obs, calendar=_calendar(inputs)) if clim is None else clim
    frame = F.make_features(inputs.obs, inputs.met_daily, inputs.met_lead, _dates(first, last_obs - pd.Timedelta(days=1)),
                            clim=clim, **_region_kw(inputs))
    frame = frame[frame["target_date"] <= last_obs]
    return frame


def train(data, model_dir, *, until=None, start=None, cache=None, progress: Progress = False, seed: int = 0,
          rounds: int | None = None, name: str = "lantian-aqi", inputs: Inputs | None = None) -> M.Forecaster:
    """Train the forecaster on a data directory's history up to ``until`` and save it with its model card.

    Parameters
    ----------
    data : path-like
        Data directory.
    model_dir : path-like
        Folder to write the model to (boosters, ``model.json``, ``climatology.parquet``, ``model_card.json``): new,
        empty or a lantian model, replaced whole only when the new model is complete (:meth:`Forecaster.save`);
        or a versioned model folder (:mod:`forecast.registry`), to which the model is added as a new version,
        not promoted unless it is the folder's first (``model.directory`` says where it went).
    until : date-like, optional
        Last day whose observations may be used (default: all); verify on days after it.
    start : date-like, optional
        First issue date (default: three days after the first observed day).
    cache : path-like, optional
        Workspace (see :func:`load_inputs`).
    progress : bool or callable
        ``True`` for a terminal bar, or ``f(done, total)`` called after every booster.
    seed : int
        LightGBM seed (the same data and seed give the same model).
    rounds : int, optional
        Boosting rounds per booster (default ``forecast.model.N_ROUNDS``, read at call time).
    name : str
        The model's name in its card.
    inputs : Inputs, optional
        Already loaded inputs (:func:`load_inputs`), to avoid reading twice.

    Returns
    -------
    Forecaster
        The trained model, its card in ``.card``.

    Raises
    ------
    ModelError
        An empty training period, or a ``model_dir`` with other files in it that is not a lantian model (refused
        before training: nothing is written).

    Warns
    -----
    MissingDriversWarning
        Once, when drivers of :data:`forecast.features.MET_VARS` cannot be computed from the meteorology (no
        boundary-layer height, no pressure levels …): they are left out of the features and listed in the card's
        ``met_missing``.
    """
    from . import registry

    rounds = rounds or M.N_ROUNDS
    versioned = registry.is_versioned(model_dir)
    if versioned:  # before any work: a damaged registry is refused, nothing is written
        registry.load(model_dir)
    else:
        try:  # before any work: a folder that is not a lantian model is never replaced
            workspace.check_replaceable(model_dir, is_ours=M.Forecaster.is_model_dir)
        except workspace.DataLayoutError as exc:
            raise M.ModelError(f"{exc}: a model is saved into a new or empty folder, or over a lantian model "
                               "(with model.json)") from None
    until = parse_day(until, "until") if until is not None else None
    start = parse_day(start, "start") if start is not None else None
    inputs = inputs or load_inputs(data, cache=cache, progress=bool(progress) and not callable(progress))
    days = inputs.obs.daily.index.get_level_values("date")
    last = days.max() if until is None else min(until, days.max())
    clim = F.climatology(inputs.obs.daily, until=last, calendar=_calendar(inputs))
    frame = training_table(inputs, start=start, until=last, clim=clim)
    missing = F.missing_drivers(inputs.met_daily, inputs.met_lead, frame)
    if missing:
        warnings.warn(F.missing_drivers_message(missing), F.MissingDriversWarning, stacklevel=2)
    n_weeks = frame["issue_date"].dt.to_period("W").nunique()
    n_jobs = len(M.TARGETS) * len(M.QUANTILES) + (len(M.THRESHOLDS) * (1 + bool(M.SHORT_LEADS)) + 1) * min(5, n_weeks)
    bar = progress_bar(progress, n_jobs, "training", "booster")
    try:
        model = M.Forecaster.fit(frame, seed=seed, rounds=rounds, progress=lambda n: bar.update(),
                                 rules_of=lambda days: [_rules_on(inputs, d) for d in days],
                                 rules_path=_rules_path(inputs))
    finally:
        bar.close()
    model.card = modelcard.training_card(model, frame, last=last, name=name, seed=seed, rounds=rounds,
                                         met_missing=missing)
    short = model.short_classifiers()
    model.card["short_lead_classifiers"] = {
        "lead_days": sorted({k for leads in short for k in leads}),
        "decision": {n: model.decision.get(n) for names in short.values() for n in names},
        "params": dict(M.SHORT_PARAMS) if short else {},
        "note": "AQI > 150/200/300 classifiers trained (with params overriding the card's params), calibrated and "
                "thresholded on these lead days' rows only (forecast.model.SHORT_LEADS, SHORT_PARAMS); the other "
                "lead days use the classifiers of every lead day"}
    # the climatology is written with the model, into its temporary folder: the old model stays whole until then
    def save(folder):
        model.save(folder, also=lambda tmp: clim.reset_index().to_parquet(tmp / "climatology.parquet", index=False))

    if versioned:  # a new version beside the others, not promoted (unless it is the folder's first)
        registry.add_version(model_dir, model, save=save)
    else:
        save(model_dir)
    return model


def _climatology(model_dir) -> pd.DataFrame:
    path = Path(model_dir) / "climatology.parquet"
    if not path.exists():
        raise M.ModelError(f"{path}: missing (retrain the model)")
    # a model trained before unseen months were filled gets them filled here (same rule)
    return F.complete_climatology(pd.read_parquet(path).set_index(["area_id", "month"]))


# ---- forecasting ----------------------------------------------------------------------------------------------

def forecast_table(model: M.Forecaster, inputs: Inputs, issue_dates, clim: pd.DataFrame, *,
                   rules: str | None = None, explain: bool = True, with_targets: bool = False,
                   thresholds: Thresholds | None = None) -> pd.DataFrame:
    """Forecast rows (area × issue date × lead day): quantiles, probabilities, dust flag, the proposed level with
    the level probabilities (per area and issue date, repeated on its rows; decided with ``thresholds``, default
    the shipped ones, :mod:`forecast.decision`), the top drivers and ``met_source``.

    ``attrs["warnings"]`` lists what the forecast should be read with (:func:`forecast_warnings`)."""
    dates = pd.DatetimeIndex(pd.to_datetime(issue_dates)).normalize()
    frame = F.make_features(inputs.obs, inputs.met_daily, inputs.met_lead, dates, clim=clim,
                            areas=model.areas, with_targets=with_targets, **_region_kw(inputs))
    notes = forecast_warnings(model, frame)
    pred = model.predict(frame)
    pred["met_source"] = frame["met_source"].to_numpy()
    # hours of the emission calendar's fireworks nights in the target day (the document's `fireworks` flag)
    pred["fireworks_hours"] = frame[[c for c in frame.columns if c.startswith("cal_fireworks_")]].sum(axis=1).to_numpy()
    rule = {d: rules or _rules_on(inputs, d) for d in dates}
    thresholds = thresholds or decision.load_thresholds()
    lv = model.level_probabilities(pred.assign(rules=pred["issue_date"].map(rule)), path=_rules_path(inputs),
                                   thresholds=thresholds)
    out = pred.merge(lv, on=["area_id", "issue_date"], how="left")
    # the reading of "AQI > X lasting N h" each rule set is graded with (warning_rules.yaml: duration)
    out["duration"] = out["rules"].map({r: levels.duration_reading(r, _rules_path(inputs))
                                        for r in out["rules"].dropna().unique()})
    if explain:
        contrib = model.contributions(frame)
        fams = [c for c in contrib.columns if c != "baseline"]
        vals = contrib[fams].to_numpy()
        order = np.argsort(-np.abs(vals), axis=1)[:, :3]
        out["drivers"] = [json.dumps([{"family": fams[j], "name_zh": F.FAMILY_NAMES_ZH.get(fams[j], fams[j]),
                                       "effect": round(float(np.expm1(vals[i, j])), 3)} for j in order[i]],
                                     ensure_ascii=False) for i in range(len(out))]
        # the median's value with every driver at its training mean, log(1 + AQI) (products.driver_effects_aqi)
        out["driver_baseline"] = contrib["baseline"].to_numpy()
    if with_targets:
        for c in ("y_aqi", "y_pm25", "y_dust", "aqi_now", "pm25_now", "clim_aqi", "clim_pm25", "clim_p150",
                  "clim_p200", "clim_p300"):
            out[c] = frame[c].to_numpy()
    out["model_version"] = model.version
    out["lead_correlation"] = model.lead_correlation
    out.attrs["warnings"] = notes
    for k, v in thresholds.as_dict().items():  # kept on the rows: the archive stores what a forecast decided with
        out[f"threshold_{k}"] = v
    out["threshold_source"] = thresholds.source
    out.attrs["level_calibration"] = model.level_calibration.to_json()
    return out


#: lead days whose lagged run pair a complete archive always has (the day before's run reaches lead day 6 + 1)
LAGGED_LEADS = 5


def forecast_warnings(model: M.Forecaster, frame: pd.DataFrame) -> list[str]:
    """What a forecast from the feature rows ``frame`` should be read with, in words.

    - target months the model was never trained on (the card's ``trained_months``);
    - lead days without any meteorology of the target day (no forecast run of the issue date and no analyses of
      those days yet): they rest on persistence, the calendar and the climatology;
    - meteorological features of the model that the data give no value for (a variable the model was trained
      with is absent from this meteorology: retrain on it);
    - the issue day's forecast run used without the run of the day before (the lagged run pair's features,
      :func:`forecast.features.lagged_run_features`, absent on lead days 1–:data:`LAGGED_LEADS`).
    """
    out = []
    trained = model.card.get("trained_months")
    if trained:
        unseen = F.unseen_months(trained, frame["target_date"])
        if unseen:
            out.append(f"target months the model never saw: {V.month_names(unseen)} (trained on "
                       f"{V.month_names(trained)}): the forecast extrapolates from other seasons")
    # the time-lagged run pair's features exist only where two runs do: their absence is not missing meteorology
    met = [f for f in model.features if f.startswith("met_") and f in frame.columns
           and not f.endswith(F.RUN_PAIR_SUFFIXES)]
    target = [f for f in met if not f.endswith(("_prev", "_d0"))]
    if target:
        empty_lead = frame[target].isna().all(axis=1).groupby(frame["lead"]).all()
        leads = [int(k) for k, v in empty_lead.items() if v]
        if leads:
            out.append(f"no meteorology for lead day(s) {V.lead_list(leads)} (no forecast run of the issue date and "
                       "no analyses of those days): they rest on persistence, the calendar and the climatology")
        have = frame[~frame["lead"].isin(leads)]
        dead = [f for f in met if len(have) and have[f].isna().all()]
        if dead:
            out.append(f"the meteorology gives no value for the model's features {', '.join(dead[:6])}"
                       f"{' …' if len(dead) > 6 else ''}: retrain the model on the variables this data has")
    # the lagged run pair absent where the issue day's run is used: yesterday's run is missing
    pair = [f for f in model.features if f.endswith(F.RUN_PAIR_SUFFIXES)]
    if pair and "met_source" in frame.columns:
        rows = ((frame["met_source"] == "forecast") & (frame["lead"] <= LAGGED_LEADS)).to_numpy()
        present = [f for f in pair if f in frame.columns]
        if rows.any() and (not present or frame.loc[rows, present].isna().all().all()):
            out.append("the forecast run of the day before the issue date is missing: the features of the two runs "
                       "(their mean and change) are absent, and the forecast rests on the issue day's run alone")
    return out


def run_forecast(data, model_dir, issued, *, cache=None, out=None, rules: str | None = None,
                 inputs: Inputs | None = None, progress: bool = False,
                 thresholds: Thresholds | None = None) -> pd.DataFrame:
    """Forecast for one issue date (16:00 CST), archive it, and write ``out`` (``.json`` or ``.csv``) when given.

    Parameters
    ----------
    data : path-like
        Data directory.
    model_dir : path-like
        A trained model (:func:`train`).
    issued : date-like
        Issue date ``D``; observations up to 16:00 CST of ``D`` are used, lead days are ``D + 1 … D + 7``.
    cache : path-like, optional
        Workspace (the archive is written there, :mod:`forecast.archive`).
    out : path-like, optional
        Also write the forecast as a JSON document (:func:`forecast_json`) or a CSV table.
    rules : str, optional
        Warning rule set (default: the one in force on the issue date, :func:`forecast.levels.rules_in_force`).
    inputs : Inputs, optional
        Already loaded inputs.
    thresholds : Thresholds, optional
        Decision thresholds (default those in force: :func:`forecast.decision.thresholds_in_force` — the
        consultation's setting, the region's, the shipped ones).

    Returns
    -------
    DataFrame
        One row per area and lead day: ``aqi_q10/q50/q90`` [1], ``pm25_q10/q50/q90`` [µg m⁻³],
        ``p_aqi_gt150/200/300`` [0–1], ``dust``, ``level`` (proposed), ``level_median``, ``p_ge_<level>``,
        ``p_level_<level>``, ``drivers`` (JSON),
        ``met_source``; ``attrs["warnings"]`` lists what to read it with (target months the model never saw, lead
        days without meteorology; :func:`forecast_warnings`), written into the JSON document too.

    Raises
    ------
    forecast.nomenclature.DateError
        An issue date that is not a date.
    ModelError
        An issue date before the first observed day or more than one day after the last (no observations to
        start from; the message names the data's first and last day), or an ``out`` that is neither .json nor .csv.
    """
    issued = parse_day(issued, "issue date")
    if out:
        _output_format(out)
    model = M.Forecaster.load(model_dir)
    inputs = inputs or load_inputs(data, cache=cache, progress=progress)
    first_obs, last_obs = observed_period(inputs)
    if issued < first_obs:
        raise M.ModelError(f"issue date {issued.date()} is before the first observed day {first_obs.date()} "
                           f"({_cover(inputs)}): no observations to start from")
    if issued > last_obs + pd.Timedelta(days=1):
        raise M.ModelError(f"issue date {issued.date()} is after the last observed day {last_obs.date()} + 1 "
                           f"({_cover(inputs)}): no observations to start from")
    thresholds = decision.thresholds_in_force(data, cache=cache, region=inputs.region, given=thresholds)
    table = forecast_table(model, inputs, [issued], _climatology(model.directory), rules=rules, thresholds=thresholds)
    archive.store(table, data, model.version, issued, cache=cache)
    if out:
        write_forecast(table, out, model)
    return table


def forecast_json(table: pd.DataFrame, model: M.Forecaster | None = None) -> dict:
    """The forecast as a JSON-able document: per area its level, clause, trigger days, level probabilities, rule
    set and the lead days (AQI and PM2.5 quantiles, exceedance probabilities, dust flag, drivers, the primary
    pollutant as far as the forecast tells it — :func:`forecast.document.derive_primary` — and the fireworks flag:
    a fireworks night of the region's emission calendar falls in the day; absent for a table from before the
    flag existed).

    This document is the contract between the forecaster and the response (:func:`response.respond.respond`); its
    schema is :mod:`forecast.document`'s, checked wherever a document is read. AQI quantiles are on HJ 633's scale
    0 … 500 (an upper quantile past the top of the scale is written as 500).
    ``decision`` gives the thresholds the proposed levels were decided with, ``level_calibration`` the
    recalibration of P(level ≥ L), so a consultation adjustment re-decides exactly as the model did.
    Document-level ``met_source`` says where the meteorology came from (``"forecast"``, ``"analysis"`` — the
    analyses of the target days, "perfect prog" — or ``"forecast and analysis"``) and ``warnings`` what to read
    the forecast with (:func:`forecast_warnings`; empty when nothing).
    """
    areas = []
    for area, g in table.sort_values("lead").groupby("area_id", sort=True):
        first = g.iloc[0]
        areas.append({
            "area_id": area, "level": first["level"], "clause": first["clause"],
            "trigger_days": first["trigger_days"] if isinstance(first["trigger_days"], list)
            else list(first["trigger_days"]),
            "level_probabilities": {k: float(first[f"p_level_{k}"]) for k in levels.LEVELS},
            "p_at_least": {k: float(first[f"p_ge_{k}"]) for k in decision.WARNING_LEVELS},
            "level_median": first["level_median"],
            "rules": first["rules"],
            # the reading of "lasting N h" the level was graded with (the rule set's; warning_rules.yaml header)
            **({"duration": first["duration"]} if isinstance(first.get("duration"), str) else {}),
            "days": [{"lead_day": int(r.lead), "date": str(pd.Timestamp(r.target_date).date()),
                      "aqi": {"q10": _aqi(r.aqi_q10), "q50": _aqi(r.aqi_q50), "q90": _aqi(r.aqi_q90)},
                      "pm25": {"q10": r.pm25_q10, "q50": r.pm25_q50, "q90": r.pm25_q90},
                      "p_aqi_gt": {"150": r.p_aqi_gt150, "200": r.p_aqi_gt200, "300": r.p_aqi_gt300},
                      "dust": bool(r.dust), "p_dust": r.p_dust, "met_source": r.met_source,
                      "primary": document.derive_primary(_aqi(r.aqi_q50), r.pm25_q90, dust=bool(r.dust),
                                                         date=r.target_date),
                      **({"fireworks": bool(r.fireworks_hours > 0)} if hasattr(r, "fireworks_hours") else {}),
                      "drivers": json.loads(r.drivers) if isinstance(getattr(r, "drivers", None), str) else [],
                      **({"baseline_aqi": round(float(np.expm1(r.driver_baseline)), 2)}
                         if np.isfinite(getattr(r, "driver_baseline", np.nan)) else {})}
                     for r in g.itertuples()]})
    issue = pd.Timestamp(table["issue_date"].iloc[0])
    return {"issue_date": str(issue.date()), "issue_time": f"{issue.date()}T{F.ISSUE_HOUR:02d}:00:00+08:00",
            "model": (model.card.get("name") if model else None), "model_version": table["model_version"].iloc[0],
            "lead_correlation": _finite(table["lead_correlation"].iloc[0]) if "lead_correlation" in table else None,
            "met_source": F.met_source_label(table["met_source"]) if "met_source" in table else None,
            "warnings": list(table.attrs.get("warnings", [])),
            "decision": _decision_doc(table),
            "level_calibration": table.attrs.get("level_calibration") or {},
            "areas": areas}


def _aqi(value) -> float:
    """An AQI quantile as the document carries it: on HJ 633's scale 0 … 500 (:data:`forecast.aqi.AQI_MAX`; the
    model's upper quantile can pass the top of the scale in an extreme episode — the level was decided before)."""
    return float(min(float(value), AQI_MAX))


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _decision_doc(table: pd.DataFrame) -> dict:
    """The thresholds a forecast table was decided with (kept on its rows, so an archived table has them too)."""
    if "threshold_yellow" in table:
        first = table.iloc[0]
        t = Thresholds(**{k: float(first[f"threshold_{k}"]) for k in decision.WARNING_LEVELS},
                       source=str(first.get("threshold_source", "")))
    else:
        t = decision.load_thresholds()
    return {"thresholds": t.as_dict(), "source": t.source,
            "rule": "highest level L with P(level >= L) >= its threshold"}


#: the formats :func:`write_forecast` writes, by file suffix
FORECAST_FORMATS = (".json", ".csv")


def _output_format(out) -> str:
    suffix = Path(out).suffix.lower()
    if suffix not in FORECAST_FORMATS:
        raise M.ModelError(f"{out}: unknown output format {Path(out).suffix!r}; allowed: "
                           f"{', '.join(FORECAST_FORMATS)}")
    return suffix


def write_forecast(table: pd.DataFrame, out, model=None) -> Path:
    suffix = _output_format(out)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        out.write_text(json.dumps(forecast_json(table, model), ensure_ascii=False, indent=1, default=str))
    else:
        t = table.copy()
        t["trigger_days"] = t["trigger_days"].map(lambda v: " ".join(str(x) for x in v))
        t.to_csv(out, index=False)
    return out


# ---- verification ---------------------------------------------------------------------------------------------

def hindcast(model: M.Forecaster, inputs: Inputs, start, end, clim: pd.DataFrame, *,
             rules: str | None = None, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """Rolling-origin hindcast: a forecast for every issue date in [start, end], each from the data available at
    its issue time (the features guarantee it), with observations attached."""
    return forecast_table(model, inputs, _dates(start, end), clim, rules=rules, explain=False, with_targets=True,
                          thresholds=thresholds)


#: the level record of the last verification, beside the model (:func:`run_verify`)
LEVEL_VERIFICATION = "levels_verification.csv"


def level_record(model_dir) -> tuple[pd.DataFrame, str]:
    """The record the consequences of decision thresholds are counted on, and what it is: the last verification's
    (``levels_verification.csv``), else the training period's out-of-fold record (``levels_oof.csv``); an empty
    frame when the model has neither."""
    from . import registry

    d = registry.resolve(model_dir)  # a versioned folder: its promoted version's record
    for name, what in ((LEVEL_VERIFICATION, "verification"), (M.LEVEL_RECORD, "training (out of fold)")):
        if (d / name).exists():
            try:
                return pd.read_csv(d / name, parse_dates=["issue_date"]), what
            except (OSError, ValueError, pd.errors.ParserError):
                continue
    return pd.DataFrame(), "none"


def run_verify(data, model_dir, start, end, *, cache=None, out=None, rules: str | None = None,
               inputs: Inputs | None = None, progress: bool = False, update_card: bool = True,
               thresholds: Thresholds | None = None, in_force: pd.DataFrame | None = None) -> dict:
    """Verify the model on issue dates [start, end] against persistence and climatology (the JSON contract).

    Parameters
    ----------
    data, model_dir : path-like
        Data directory and trained model.
    start, end : date-like
        First and last issue date; must lie after the model's training period.
    cache, out, rules, inputs, progress
        As for :func:`run_forecast`; ``out`` writes the result as JSON.
    update_card : bool
        Record the day-k scores for AQI > 200 in the model card (:func:`forecast.modelcard.record_verification`)
        and keep the level record beside the model (``levels_verification.csv``: what the consultation page
        counts the consequences of thresholds on).
    thresholds : Thresholds, optional
        Decision thresholds of the hindcast's proposed levels (default: those in force,
        :func:`forecast.decision.thresholds_in_force`).
    in_force : DataFrame, optional
        The days each area had a warning in force (``area_id, date[, level]``: the warnings record,
        :func:`response.episodes.read_warnings`): the AQI > 200 false alarms on those days are counted apart
        (``under_measures``, :func:`forecast.verification.under_measures`).

    Returns
    -------
    dict
        ``scores`` (TS/POD/FAR/frequency bias/Brier skill per model, lead day and threshold), ``continuous``
        (MAE/RMSE/bias [1], category accuracy), ``levels`` (warning hits/misses/false alarms), ``period``,
        ``cases``, ``table`` (text), ``consultation`` (model vs consultation on the adjusted cases),
        ``trained_months``, ``warnings`` (sentences, :func:`forecast.verification.quality_warnings`: the model
        far worse than persistence, undefined scores, months the model never saw; empty when nothing to say),
        ``reliability`` (Brier decomposition and reliability bins per lead day for AQI > 150/200/300 and per
        level) and ``level_decision`` (the thresholds, their consequences and a sweep of other values).

    Raises
    ------
    forecast.nomenclature.DateError
        A start or end that is not a date.
    ModelError
        A start after the end, a period that overlaps the training period, or one without an observed target day
        (the message names the data's first and last day).
    """
    start, end = issue_period(start, end)
    model = M.Forecaster.load(model_dir)
    train_end = model.card.get("training_period", [None, None])[1]
    if train_end and start <= pd.Timestamp(train_end):
        raise M.ModelError(f"verification starts {start.date()}, inside the training period "
                           f"(trained until {train_end}): verify on days the model never saw")
    inputs = inputs or load_inputs(data, cache=cache, progress=progress)
    first_obs, last_obs = observed_period(inputs)
    if start >= last_obs or end < first_obs:
        raise M.ModelError(f"verification period {start.date()} … {end.date()} has no issue date with an observed "
                           f"day to start from and one to verify on ({_cover(inputs)})")
    model_dir = model.directory  # a versioned folder: the promoted version, read and recorded in
    clim = _climatology(model_dir)
    thresholds = decision.thresholds_in_force(data, cache=cache, region=inputs.region, given=thresholds)
    hc = hindcast(model, inputs, start, end, clim, rules=rules, thresholds=thresholds)
    d = inputs.obs.daily.reset_index()
    d = d[d["date"] <= pd.Timestamp(train_end)] if train_end else d
    by_month = {(a, m): g["aqi"].dropna().to_numpy(float)
                for (a, m), g in d.assign(m=d["date"].dt.month).groupby(["area_id", "m"])}
    # climatology's CRPS: the observed days of the month, or of the months a month never observed was filled from
    clim_samples = {}
    if "clim_months" in clim.columns:
        for (a, m), src in clim["clim_months"].items():
            parts = [by_month.get((a, int(k))) for k in str(src).split(",")]
            parts = [p for p in parts if p is not None and len(p)]
            if parts:
                clim_samples[(a, m)] = np.concatenate(parts)
    else:
        clim_samples = by_month
    cases = V.verification_cases(hc, clim_samples)
    result = V.score_table(cases)
    result["levels"] = V.level_scores(hc, path=_rules_path(inputs))
    if in_force is not None:  # false alarms on days whose measures may have prevented the heavy day
        result["under_measures"] = V.under_measures(cases, in_force)
    record = V.level_record(hc, path=_rules_path(inputs))
    result["reliability"] = V.reliability_scores(hc, record)
    result["level_decision"] = {"thresholds": thresholds.as_dict(), "source": thresholds.source,
                                "consequences": decision.consequences(record, thresholds) if len(record) else None,
                                "sweep": decision.sweep(record).to_dict("records") if len(record) else []}
    result["period"] = [str(pd.Timestamp(start).date()), str(pd.Timestamp(end).date())]
    result["model_version"] = model.version
    result["cases"] = int(np.isfinite(hc["y_aqi"].to_numpy(float)).sum())
    result["table"] = V.table_text(result)
    trained = model.card.get("trained_months") or sorted(
        int(m) for m in clim.loc[clim["clim_n"] > 0].index.get_level_values("month").unique())
    result["trained_months"] = trained
    result["warnings"] = V.quality_warnings(result, unseen_months=F.unseen_months(trained, hc["target_date"]),
                                            trained_months=trained)
    records, problems = consultation.load(data)
    cons = consultation.score(records, inputs.obs.daily, start=start, end=end)
    # model vs consultation on the cases the consultation adjusted (an addition to the contract: extra key)
    result["consultation"] = cons.to_dict("records")
    if problems:
        result["consultation_problems"] = problems
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    if update_card:
        modelcard.record_verification(model_dir, result)
        record.to_csv(Path(model_dir) / LEVEL_VERIFICATION, index=False)
    return result
