"""What the pages show on a first visit, computed once and kept on disk: the forecast document of an issue date
(the consultation and duty pages) and the evaluation of an episode (the review page, whose weather-normalised
effect trains models).

Each entry is one JSON file ``<workspace>/pages/<kind>/<key>.json`` (:func:`forecast.workspace.cache_dir`),
``kind`` ``forecast`` or ``review``. The key is a SHA-1 digest of everything the content depends on, so a changed
input gives another key and the old entry is never read again:

- the code and tables it is computed with (:func:`code_digest`: ``forecast/`` and ``response/``, their ``.py``
  files and data tables, and :data:`FORMAT`);
- the inputs (:func:`inputs_digest`: the station archive's state and the daily observations, the daily
  meteorological drivers, the region's areas and its own files);
- the model (:func:`model_digest`: the promoted version's ``model.json`` and climatology);
- for a forecast: the issue date and the decision thresholds in force;
- for a review: the episode's first and last day, the warnings record, the decision forecasts, the consultation
  records and the model's archived forecasts of the episode (:func:`archive_digest`).

The content is language-independent (the pages render it in the page language). A file that cannot be read —
damaged, partial, another key's, another format's — is ignored, the content computed again and the entry
rewritten, with a note (a :class:`forecast.history.CacheNote` warning and the returned note), never an error.
Entries are written atomically (a temporary file, then a rename): a reader sees the old entry or the new one.

The demo preparation (:mod:`lantian.demo`, its ``pages`` step) fills the cache for the held-out winter and the
most significant episode; on a real archive the first computation fills it and later visits read it. Nothing here
imports streamlit: the pages call :func:`forecast_document` and :func:`episode_review`.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import warnings as warnings_mod
from pathlib import Path

#: bumped when what an entry holds changes meaning
FORMAT = "1"
KINDS = ("forecast", "review")
ROOT = Path(__file__).resolve().parent.parent
#: the archived forecasts an episode's review reads: issued from this many days before its first day
#: (:func:`response.episodes.episode_forecasts`)
REVIEW_DAYS_BEFORE = 7
#: the packages whose code and tables the content is computed with
_PACKAGES = ("forecast", "response")


# ---- the key's parts -----------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code and tables of ``forecast/`` and ``response/`` (every ``.py`` file and every file under
    their ``data/`` and ``templates/`` folders) and of :data:`FORMAT`: another version of the code, another key."""
    h = hashlib.sha1(f"pagecache:{FORMAT}".encode())
    for package in _PACKAGES:
        base = ROOT / package
        files = sorted(base.glob("*.py")) + sorted(p for sub in ("data", "templates") for p in (base / sub).rglob("*")
                                                   if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _frame_digest(h, df) -> None:
    import pandas as pd

    h.update(repr((list(df.columns), df.shape)).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())


def inputs_digest(inputs) -> str:
    """A digest of what a forecast and an evaluation read from a data directory's inputs
    (:class:`forecast.forecasting.Inputs`): the station archive's state (its history key), the daily area
    observations, the daily meteorological drivers (per day and per forecast run), the region's area table and its
    own files (plans, calendar, rules, decision thresholds, boundaries). About 0.1 s on a three-winter world: a page
    computes it once per loaded inputs."""
    h = hashlib.sha1(str(inputs.history_meta.get("key")).encode())
    for df in (inputs.obs.daily, inputs.met_daily, inputs.met_lead):
        _frame_digest(h, df)
    region = inputs.region
    if region is not None:
        _frame_digest(h, region.areas.astype(str))
        for name in ("boundaries_file", "plans_file", "calendar_file", "rules_file", "decision_path"):
            h.update(f"{name}:{file_digest(getattr(region, name, None))};".encode())
    return h.hexdigest()


def file_digest(path) -> str:
    """A digest of a file's bytes (with its SQLite ``-wal`` file when there is one); ``"absent"`` without a file."""
    if path is None or not Path(path).is_file():
        return "absent"
    h = hashlib.sha1()
    for p in (Path(path), Path(f"{path}-wal")):
        if p.is_file():
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
    return h.hexdigest()


def model_digest(model_dir) -> str | None:
    """A digest of the model in use in ``model_dir`` (a versioned folder: its promoted version): its
    ``model.json`` (version, calibration) and its climatology; ``None`` without a usable model."""
    from forecast import registry
    from forecast.model import ModelError

    if model_dir is None:
        return None
    try:
        folder = Path(registry.resolve(model_dir))
    except (ModelError, OSError, ValueError):
        return None
    if not (folder / "model.json").is_file():
        return None
    return hashlib.sha1(f"{model_version(model_dir)}:{file_digest(folder / 'model.json')}:"
                        f"{file_digest(folder / 'climatology.parquet')}".encode()).hexdigest()


def model_version(model_dir) -> str | None:
    """The version of the model in use in ``model_dir`` from its card (the boosters are not loaded: that takes
    seconds); ``None`` without a usable model."""
    from forecast import registry
    from forecast.model import ModelError

    try:
        card = json.loads((Path(registry.resolve(model_dir)) / "model_card.json").read_text(encoding="utf-8"))
    except (ModelError, OSError, ValueError):
        return None
    return str(card.get("version", "unversioned")) if isinstance(card, dict) else None


def archive_digest(data, model_dir, start=None, end=None, *, cache=None) -> str:
    """The state of the forecast archive of the model in ``model_dir`` (file names, sizes, modification times;
    ``"none"`` without a model), of the forecasts issued from :data:`REVIEW_DAYS_BEFORE` days before ``start``
    through ``end`` when given (those an episode's review reads): a forecast archived there since changes it."""
    import pandas as pd

    from forecast import archive

    names = None
    if start is not None and end is not None:
        names = {f"{d:%Y%m%d}.parquet" for d in pd.date_range(pd.Timestamp(start) - pd.Timedelta(
            days=REVIEW_DAYS_BEFORE), pd.Timestamp(end))}

    version = model_version(model_dir) if model_dir is not None else None
    if version is None:
        return "none"
    folder = archive.archive_dir(data, cache) / version
    h = hashlib.sha1(version.encode())
    if folder.is_dir():
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if names is not None and entry.name not in names:
                continue
            st = entry.stat()
            h.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def _digest(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def forecast_key(data, model_dir, issued, *, inputs, cache=None, inputs_key: str | None = None) -> str:
    """The key of the forecast document of ``issued`` (module docstring). ``inputs_key``: :func:`inputs_digest`
    of ``inputs`` when already computed."""
    import pandas as pd

    from forecast import decision

    thresholds = decision.thresholds_in_force(data, cache=cache, region=inputs.region)
    return _digest("forecast", code_digest(), inputs_key or inputs_digest(inputs), model_digest(model_dir),
                   str(pd.Timestamp(issued).date()), thresholds.as_dict(), thresholds.source)


def review_key(data, start, end, *, model_dir, warnings, inputs, cache=None, inputs_key: str | None = None) -> str:
    """The key of the evaluation of the episode ``start`` … ``end`` (module docstring)."""
    import pandas as pd

    from forecast import consultation
    from response import episodes

    model = model_digest(model_dir)
    return _digest("review", code_digest(), inputs_key or inputs_digest(inputs), model,
                   archive_digest(data, model_dir, start, end, cache=cache) if model else "none",
                   str(pd.Timestamp(start).date()), str(pd.Timestamp(end).date()), file_digest(warnings),
                   file_digest(episodes.decision_forecasts_record(data)),
                   file_digest(consultation.store_path(data, cache)))


# ---- the entries ---------------------------------------------------------------------------------------------------

def entry_path(data, kind: str, key: str, *, cache=None) -> Path:
    """Where the entry ``key`` of ``kind`` lives (``<workspace>/pages/<kind>/<key>.json``)."""
    if kind not in KINDS:
        raise ValueError(f"page cache kind {kind!r}; allowed: {', '.join(KINDS)}")
    if len(key) != 40 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"page cache key {key!r}: not a SHA-1 hex digest")
    from forecast import workspace

    return workspace.cache_dir(data, cache) / "pages" / kind / f"{key}.json"


def read(data, kind: str, key: str, *, cache=None) -> tuple[dict | None, str | None]:
    """The content kept under ``key``, or ``None`` with a note saying why it was not used (``None`` and no note:
    there is no entry)."""
    path = entry_path(data, kind, key, cache=cache)
    if not path.exists():
        return None, None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key \
                or entry.get("kind") != kind or not isinstance(entry.get("value"), dict):
            raise ValueError("not an entry of this key and format")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return None, f"{path}: page cache entry unreadable ({exc}); computed again"
    return entry["value"], None


def write(data, kind: str, key: str, value: dict, *, cache=None) -> Path | None:
    """Keep ``value`` under ``key`` (atomically); ``None`` when it could not be written (a full or read-only disk:
    the page still shows it, the next visit computes it again)."""
    path = entry_path(data, kind, key, cache=cache)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"format": FORMAT, "kind": kind, "key": key, "value": value},
                                  ensure_ascii=False, default=str), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _note(f"{path}: page cache entry not written ({exc})")
        return None
    return path


def plain(value: dict) -> dict:
    """``value`` as it reads back from its entry (JSON: NumPy numbers as numbers, timestamps as text), so that a
    page shows the same whether the content was computed now or read."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _note(text: str) -> None:
    from forecast.history import CacheNote

    warnings_mod.warn(text, CacheNote, stacklevel=3)


def cached(data, kind: str, key: str, compute, *, cache=None) -> tuple[dict, str | None]:
    """The content under ``key``, else ``compute()`` kept there: ``(content, note)``, the note saying why an entry
    was not used (damaged, partial), else ``None``."""
    value, note = read(data, kind, key, cache=cache)
    if value is not None:
        return value, None
    if note:
        _note(note)
    value = plain(compute())
    write(data, kind, key, value, cache=cache)
    return value, note


# ---- what the pages read -------------------------------------------------------------------------------------------

def forecast_document(data, model_dir, issued, *, inputs, cache=None, inputs_key: str | None = None
                      ) -> tuple[dict, str | None]:
    """The forecast document of ``issued`` (:func:`forecast.forecasting.forecast_json` of
    :func:`forecast.forecasting.run_forecast`, which archives it), from the cache when kept: ``(document, note)``."""
    from forecast import forecasting

    key = forecast_key(data, model_dir, issued, inputs=inputs, cache=cache, inputs_key=inputs_key)

    def compute():
        return forecasting.forecast_json(forecasting.run_forecast(data, model_dir, issued, cache=cache,
                                                                  inputs=inputs))
    return cached(data, "forecast", key, compute, cache=cache)


def episode_review(data, start, end, *, model_dir, warnings, inputs, cache=None, inputs_key: str | None = None
                   ) -> tuple[dict, str | None]:
    """The evaluation of the episode ``start`` … ``end`` (:func:`response.evaluation.evaluate_episode`), from the
    cache when kept: ``(report, note)``."""
    from response import evaluation

    key = review_key(data, start, end, model_dir=model_dir, warnings=warnings, inputs=inputs, cache=cache,
                     inputs_key=inputs_key)

    def compute():
        return evaluation.evaluate_episode(data, start, end, model_dir=model_dir, warnings=warnings, cache=cache,
                                           inputs=inputs)
    return cached(data, "review", key, compute, cache=cache)


def precompute_forecasts(data, model_dir, issue_dates, *, inputs, cache=None, progress=None) -> int:
    """Keep the forecast documents of ``issue_dates`` (in that order) that are not kept yet, each the document
    :func:`forecast_document` computes — one issue date at a time (the level probabilities are Monte Carlo draws
    per call: a batch would give slightly other ones) with the model loaded once — but not archived (the archive
    keeps the forecasts as they were issued). Returns how many were computed. ``progress(done, total)``."""
    import pandas as pd

    from forecast import decision, forecasting
    from forecast.model import Forecaster

    ikey = inputs_digest(inputs)
    days = list(dict.fromkeys(pd.Timestamp(d).normalize() for d in issue_dates))
    keys = {d: forecast_key(data, model_dir, d, inputs=inputs, cache=cache, inputs_key=ikey) for d in days}
    todo = [d for d in days if read(data, "forecast", keys[d], cache=cache)[0] is None]
    if not todo:
        return 0
    model = Forecaster.load(model_dir)
    thresholds = decision.thresholds_in_force(data, cache=cache, region=inputs.region)
    clim = forecasting._climatology(model.directory)
    for k, d in enumerate(todo):
        table = forecasting.forecast_table(model, inputs, [d], clim, thresholds=thresholds)
        write(data, "forecast", keys[d], plain(forecasting.forecast_json(table)), cache=cache)
        if progress:
            progress(k + 1, len(todo))
    return len(todo)
