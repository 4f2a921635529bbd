"""Model versions: a versioned model folder, its promoted version, and the record of promotions and rollbacks.

A versioned model folder keeps every trained version with its card, and says which one is in use::

    models/<name>/registry.json                 promoted version, history, comparisons (written atomically)
    models/<name>/registry.json.bak             the registry before its last change
    models/<name>/versions/<model version>/     a plain model folder each (boosters, model.json, model_card.json …)
    models/<name>/comparisons/<file>.json       the verification results of each comparison (``lantian models compare``)

:func:`resolve` maps a folder to the model folder to load: a plain model folder (``model.json``, as ``lantian
train`` writes it into a new folder) is itself; a versioned folder is its promoted version. ``Forecaster.load``
calls it, so the app, the command line and the daily cycle use the promoted version without knowing about versions.

The rules (``models/README.md``):

- ``lantian train`` into a versioned folder adds a version and does not promote it — except the first version of a
  folder without any, which is promoted (there is nothing to compare it with, and a folder without a promoted
  version could not forecast);
- a version is promoted only after a comparison with the promoted one on a held-out period after both training
  periods (:func:`compare`), or with ``force`` and a reason; a rollback returns to the version promoted before the
  current one (promotions are a stack: each rollback undoes one);
- nothing here deletes a version: a damaged ``registry.json`` is refused with one line naming it and the versions
  found on disk, and is never rewritten; the last good state is in ``registry.json.bak``.

Who may promote, and the audit trail, are the caller's (``response.accounts.authorize``, ``response.audit``):
:func:`promote` and :func:`rollback` take a ``record`` callback that writes the audit event before the registry
changes, so a promotion never takes effect without its record.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import model as M
from . import workspace

try:  # POSIX: two writers of one registry queue
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

REGISTRY_FILE = "registry.json"
BACKUP_FILE = "registry.json.bak"
VERSIONS_DIR = "versions"
COMPARISONS_DIR = "comparisons"
LOCK_FILE = ".registry.lock"
REGISTRY_FORMAT = 1
#: what the history of a registry records
HISTORY_ACTIONS = ("adopted", "added", "promoted", "rolled_back")
#: the card entries that make two trainings on the same data the same model (same data, seed and settings)
_SAME_MODEL = ("data_hash", "seed", "rounds", "params", "libraries")


class RegistryError(M.ModelError):
    """A versioned model folder that cannot be read or changed as asked (names the file or value and the allowed
    set)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- what a folder is ------------------------------------------------------------------------------------------

def is_versioned(path) -> bool:
    """Whether ``path`` is a versioned model folder (``registry.json``, or a ``versions/`` folder whose registry is
    missing — then :func:`load` refuses it, naming the versions on disk)."""
    p = Path(path)
    return (p / REGISTRY_FILE).exists() or (p / VERSIONS_DIR).is_dir()


def versions_on_disk(root) -> list[str]:
    """The version folders under ``root/versions`` that hold a model, oldest first (card ``created``, then name)."""
    vdir = Path(root) / VERSIONS_DIR
    if not vdir.is_dir():
        return []
    found = []
    for d in vdir.iterdir():
        if d.is_dir() and not d.name.startswith(".") and M.Forecaster.is_model_dir(d):
            found.append((str(_card(d).get("created", "")), d.name))
    return [name for _, name in sorted(found)]


def _card(folder: Path) -> dict:
    try:
        card = json.loads((Path(folder) / "model_card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def _not_a_model(path: Path) -> RegistryError:
    return RegistryError(f"{path}: not a lantian model folder (no model.json and no {REGISTRY_FILE}; allowed: a model "
                         "folder written by `lantian train`, or a versioned folder made by `lantian models init`)")


# ---- the registry ------------------------------------------------------------------------------------------------

@dataclass
class Registry:
    """The state of a versioned model folder (read with :func:`load`)."""

    root: Path
    promoted: str | None = None
    history: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.root / REGISTRY_FILE

    def versions(self) -> list[str]:
        """Every version on disk, oldest first."""
        return versions_on_disk(self.root)

    def version_dir(self, version: str) -> Path:
        """The folder of ``version``.

        Raises
        ------
        RegistryError
            ``version`` is not a version of this folder (the message lists those it has).
        """
        known = self.versions()
        if str(version) not in known:
            allowed = ", ".join(known) or f"none (train one with `lantian train --model {self.root}`)"
            raise RegistryError(f"{self.root}: unknown model version {str(version)!r}; allowed: {allowed}")
        return self.root / VERSIONS_DIR / str(version)

    def card(self, version: str) -> dict:
        return _card(self.version_dir(version))

    def promotion_stack(self) -> list[str]:
        """The promoted versions in order, each rollback having removed the last (the current one is last)."""
        stack: list[str] = []
        for h in self.history:
            if h["action"] in ("adopted", "promoted"):
                stack.append(h["version"])
            elif h["action"] == "rolled_back" and stack:
                stack.pop()
        return stack

    def previous(self) -> str | None:
        """The version a rollback returns to (promoted before the current one), or ``None``."""
        stack = self.promotion_stack()
        return stack[-2] if len(stack) >= 2 else None

    def comparison(self, candidate: str, current: str | None = None) -> dict | None:
        """The latest comparison on record of ``candidate`` with ``current`` (default: the promoted version) on a
        held-out period after both training periods, or ``None``."""
        current = self.promoted if current is None else current
        for c in reversed(self.comparisons):
            if c.get("candidate") == candidate and c.get("current") == current and \
                    _held_out(c.get("period"), self._train_end(candidate), self._train_end(current)):
                return c
        return None

    def _train_end(self, version: str | None):
        if version is None:
            return None
        tp = _card(self.root / VERSIONS_DIR / version).get("training_period") or [None, None]
        return tp[1]


def _held_out(period, *train_ends) -> bool:
    """Whether ``period`` ([start, end]) starts after every training end given."""
    try:
        start = pd.Timestamp(period[0])
    except (TypeError, ValueError, IndexError):
        return False
    return all(end is None or start > pd.Timestamp(end) for end in train_ends)


def _damaged(root: Path, problem: str) -> RegistryError:
    found = versions_on_disk(root)
    backup = root / BACKUP_FILE
    hint = f"restore it from {backup}" if backup.exists() else "restore it from a backup"
    return RegistryError(f"{root / REGISTRY_FILE}: {problem}; nothing was changed and the versions are kept "
                         f"({', '.join(found) or 'none'} in {root / VERSIONS_DIR}): {hint}")


def load(root) -> Registry:
    """Read the registry of a versioned model folder.

    Raises
    ------
    RegistryError
        ``root`` is not a versioned folder, or its ``registry.json`` is missing, not JSON, of another format, or
        names a promoted version that is not on disk (one line naming the file, the bad value and what is allowed,
        with the versions found on disk; nothing is written).
    """
    root = Path(root)
    path = root / REGISTRY_FILE
    if not path.exists():
        if (root / VERSIONS_DIR).is_dir():
            raise _damaged(root, "missing")
        raise _not_a_model(root) if not M.Forecaster.is_model_dir(root) else RegistryError(
            f"{root}: a plain model folder, not a versioned one (make it one with `lantian models init --model "
            f"{root}`)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(root, f"cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise _damaged(root, f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(doc, dict):
        raise _damaged(root, f"not a JSON object ({type(doc).__name__})")
    if doc.get("format") != REGISTRY_FORMAT:
        raise _damaged(root, f"format {doc.get('format')!r} is not {REGISTRY_FORMAT}")
    history, comparisons = doc.get("history", []), doc.get("comparisons", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise _damaged(root, "'history' is not a list of records")
    for i, h in enumerate(history):
        if h.get("action") not in HISTORY_ACTIONS or not isinstance(h.get("version"), str):
            raise _damaged(root, f"history record {i + 1} has action {h.get('action')!r} and version "
                                 f"{h.get('version')!r}; allowed actions: {', '.join(HISTORY_ACTIONS)}, with a version")
    if not isinstance(comparisons, list) or not all(isinstance(c, dict) for c in comparisons):
        raise _damaged(root, "'comparisons' is not a list of records")
    promoted = doc.get("promoted")
    reg = Registry(root, promoted, history, comparisons)
    if promoted is not None:
        known = reg.versions()
        if not isinstance(promoted, str) or promoted not in known:
            raise _damaged(root, f"promoted version {promoted!r} is not in {root / VERSIONS_DIR}; allowed: "
                                 f"{', '.join(known) or 'none'}")
    return reg


def resolve(path) -> Path:
    """The model folder to load for ``path``: ``path`` itself when it is a plain model folder, the promoted
    version's folder when it is a versioned one.

    Raises
    ------
    RegistryError
        A versioned folder without a promoted version or with a damaged registry, or a folder that is neither.
    """
    p = Path(path)
    if is_versioned(p):
        reg = load(p)
        if reg.promoted is None:
            known = reg.versions()
            raise RegistryError(f"{p}: no promoted model version (versions: {', '.join(known) or 'none'}); "
                                + ("train one with `lantian train`" if not known else
                                   "promote one with `lantian models promote`"))
        return p / VERSIONS_DIR / reg.promoted
    return p


def model_versions(path) -> list[str]:
    """The model versions that ``path`` stood for when it forecast: each version of a versioned folder that was
    ever in use (adopted or promoted, in the order of the history; a version trained but never promoted forecast
    for nobody), the card's version of a plain model folder (``unversioned`` without one) — the names its
    forecasts are archived under (:mod:`forecast.archive`). Reads the registry and cards only, never the boosters.

    Raises
    ------
    RegistryError
        A versioned folder with a damaged registry, or a folder that is no model.
    """
    p = Path(path)
    if is_versioned(p):
        used = [h["version"] for h in load(p).history if h["action"] in ("adopted", "promoted")]
        return list(dict.fromkeys(used))
    if not M.Forecaster.is_model_dir(p):
        raise _not_a_model(p)
    return [str(_card(p).get("version", "unversioned"))]


# ---- writing -------------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(root: Path):
    """An exclusive lock on the registry of ``root`` (two promotions, or a training and a promotion, queue)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(reg: Registry) -> Path:
    """Write the registry atomically (a temporary file, fsync, rename), keeping the one before as the backup."""
    doc = {"format": REGISTRY_FORMAT, "name": reg.root.name, "promoted": reg.promoted, "history": reg.history,
           "comparisons": reg.comparisons}
    path = reg.path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, ensure_ascii=False, indent=1, default=str))
        fh.flush()
        os.fsync(fh.fileno())
    if path.exists():
        bak_tmp = path.with_name(f".{BACKUP_FILE}.{os.getpid()}.tmp")
        shutil.copyfile(path, bak_tmp)
        os.replace(bak_tmp, path.with_name(BACKUP_FILE))
    os.replace(tmp, path)
    return path


def init(root, *, user: str | None = None) -> Registry:
    """Make ``root`` a versioned model folder.

    A new or empty folder gets an empty registry (the first version trained into it is promoted). A plain model
    folder is adopted: its model is copied to ``versions/<its version>/`` and promoted, the registry is written,
    and only then are the top-level model files removed (a crash part-way leaves the plain model or the versioned
    folder whole). A versioned folder is returned as it is.

    Raises
    ------
    RegistryError
        ``root`` is a file, or a folder with other files that is not a model.
    """
    root = Path(root)
    if is_versioned(root):
        return load(root)
    if root.exists() and not root.is_dir():
        raise RegistryError(f"{root}: exists and is not a folder")
    plain = M.Forecaster.is_model_dir(root)
    if root.is_dir() and not plain and any(p for p in root.iterdir() if p.name != LOCK_FILE):
        raise _not_a_model(root)
    with _locked(root):
        reg = Registry(root)
        if plain:
            card = _card(root)
            version = workspace.safe_name(card.get("version") or "unversioned", what="model version")
            members = [p for p in root.iterdir() if p.name not in (VERSIONS_DIR, LOCK_FILE, REGISTRY_FILE,
                                                                    BACKUP_FILE, COMPARISONS_DIR)]
            (root / VERSIONS_DIR).mkdir(exist_ok=True)
            tmp = root / VERSIONS_DIR / f".{version}.new-{os.getpid()}"
            tmp.mkdir()
            for p in members:
                (shutil.copytree if p.is_dir() else shutil.copy2)(p, tmp / p.name)
            os.replace(tmp, root / VERSIONS_DIR / version)
            reg.promoted = version
            reg.history.append({"at": _now(), "action": "adopted", "version": version, "previous": None,
                                "user": user,
                                "reason": "the plain model folder made versioned (`lantian models init`)"})
            _write(reg)
            for p in members:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        else:
            _write(reg)
    return reg


def _same_model(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in _SAME_MODEL) and a.get("training_period") == b.get("training_period")


def add_version(root, model: M.Forecaster, *, save) -> tuple[str, bool]:
    """Add a trained model as a new version of the versioned folder ``root`` (not promoted, unless it is the
    folder's first version).

    The version is the card's (``<last training day>-<data hash>``); a different model of the same data (another
    seed or other settings) gets ``-2``, ``-3`` … (and its card says so); the same model again adds nothing.

    Parameters
    ----------
    root : path-like
        A versioned model folder (:func:`init`).
    model : Forecaster
        The trained model with its card (its ``version`` may get a suffix).
    save : callable
        ``save(folder)`` writes the model into ``folder`` (``Forecaster.save`` with its climatology).

    Returns
    -------
    (str, bool)
        The version and whether it is promoted now.
    """
    root = Path(root)
    reg = load(root)  # a damaged registry refuses before anything is written
    base = workspace.safe_name(model.card.get("version") or "unversioned", what="model version")
    version, n = base, 1
    while (root / VERSIONS_DIR / version).exists():
        if _same_model(_card(root / VERSIONS_DIR / version), model.card):
            model.directory = root / VERSIONS_DIR / version
            return version, False
        n += 1
        version = f"{base}-{n}"
    model.card["version"] = version
    save(root / VERSIONS_DIR / version)
    model.directory = root / VERSIONS_DIR / version
    with _locked(root):
        reg = load(root)
        reg.history.append({"at": _now(), "action": "added", "version": version, "previous": reg.promoted,
                            "user": None, "reason": None})
        first = reg.promoted is None
        if first:
            reg.history.append({"at": _now(), "action": "promoted", "version": version, "previous": None,
                                "user": None, "reason": "the first version of the folder (nothing to compare with)",
                                "forced": False, "comparison": None})
            reg.promoted = version
        _write(reg)
    return version, first


# ---- comparison, promotion, rollback -------------------------------------------------------------------------------

def compare(root, candidate: str, data, start, end, *, cache=None, inputs=None, rules=None, thresholds=None,
            progress: bool = False) -> dict:
    """Verify the promoted version and ``candidate`` on the same held-out period (the ``lantian verify`` contract
    for each) and record the comparison.

    The period must start after both training periods. The candidate's card gets its scores, as ``lantian verify``
    would record them; the promoted version's card is left as it is. The two results are kept in
    ``comparisons/<current>__<candidate>__<start>_<end>.json`` and summarised in the registry.

    Returns
    -------
    dict
        ``current``, ``candidate``, ``period``, ``results`` (version → the verification result),
        ``side_by_side`` (per lead day and model, AQI > 200: TS, POD, FAR, BSS) and ``levels`` (version → the
        warning hits, misses and false alarms).

    Raises
    ------
    RegistryError
        No promoted version, an unknown candidate, the candidate is the promoted version, or a period that starts
        inside either training period.
    """
    from . import forecasting

    root = Path(root)
    reg = load(root)
    cand_dir = reg.version_dir(candidate)
    if reg.promoted is None:
        raise RegistryError(f"{root}: no promoted version to compare {candidate} with")
    if candidate == reg.promoted:
        raise RegistryError(f"{root}: {candidate} is the promoted version; compare another version "
                            f"(allowed: {', '.join(v for v in reg.versions() if v != reg.promoted) or 'none'})")
    start, end = forecasting.issue_period(start, end, names=("--start", "--end"))
    ends = {v: reg._train_end(v) for v in (reg.promoted, candidate)}
    if not _held_out([start], *ends.values()):
        last = max(pd.Timestamp(e) for e in ends.values() if e)
        raise RegistryError(f"comparison period starts {start.date()}, inside a training period ({reg.promoted} "
                            f"until {ends[reg.promoted]}, {candidate} until {ends[candidate]}): start after "
                            f"{last.date()}")
    inputs = inputs or forecasting.load_inputs(data, cache=cache, progress=progress)
    current = reg.promoted
    results = {}
    for version, folder in ((current, root / VERSIONS_DIR / current), (candidate, cand_dir)):
        results[version] = forecasting.run_verify(data, folder, start, end, cache=cache, rules=rules,
                                                  inputs=inputs, thresholds=thresholds,
                                                  update_card=version == candidate)
    return record_comparison(root, current, candidate, [str(start.date()), str(end.date())], results)


def record_comparison(root, current: str, candidate: str, period, results: dict) -> dict:
    """Keep the verification results of ``current`` and ``candidate`` on ``period`` ([start, end]) as a
    comparison (its file under ``comparisons/`` and a summary in the registry); what :func:`compare` returns.

    ``results`` maps each version to its ``lantian verify`` result (``scores``, ``levels``, ``cases``).

    Raises
    ------
    RegistryError
        An unknown version, or a period that starts inside either training period.
    """
    root = Path(root)
    reg = load(root)
    for v in (current, candidate):
        reg.version_dir(v)
        if v not in results:
            raise RegistryError(f"the comparison has no verification result of {v} (results of "
                                f"{', '.join(results) or 'none'})")
    if not _held_out(period, reg._train_end(current), reg._train_end(candidate)):
        raise RegistryError(f"comparison period {period[0]} … {period[1]} starts inside a training period "
                            f"({current} until {reg._train_end(current)}, {candidate} until "
                            f"{reg._train_end(candidate)})")
    start, end = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    results = {v: results[v] for v in (current, candidate)}
    side = [{"version": v, "role": "promoted" if v == current else "candidate", "lead_day": s["lead_day"],
             "ts": s.get("ts"), "pod": s.get("pod"), "far": s.get("far"), "bss": s.get("brier_skill_score")}
            for v, res in results.items() for s in res.get("scores", [])
            if s.get("model") == "lantian" and s.get("threshold") == 200]
    lev = {v: next(({k: r.get(k) for k in ("hits", "misses", "false_alarms", "exact_level_accuracy")}
                    for r in res.get("levels", []) if r.get("model") == "lantian"), {})
           for v, res in results.items()}
    name = f"{current}__{candidate}__{start:%Y%m%d}_{end:%Y%m%d}.json"
    (root / COMPARISONS_DIR).mkdir(exist_ok=True)
    out = root / COMPARISONS_DIR / name
    doc = {"current": current, "candidate": candidate, "period": list(period), "at": _now(),
           "file": str(out), "side_by_side": side,
           "levels": lev, "results": {v: {k: r for k, r in res.items() if k != "table"} for v, res in results.items()}}
    tmp = out.with_name(f".{name}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, out)
    with _locked(root):
        reg = load(root)
        reg.comparisons.append({"at": doc["at"], "current": current, "candidate": candidate, "period": list(period),
                                "file": f"{COMPARISONS_DIR}/{name}", "levels": lev,
                                "cases": {v: r.get("cases") for v, r in results.items()}})
        _write(reg)
    return {**doc, "results": results}


def promote(root, version: str, *, user: str, reason: str | None = None, force: bool = False, record=None) -> dict:
    """Make ``version`` the promoted version of ``root``.

    Refused unless a comparison of ``version`` with the promoted version on a held-out period after both training
    periods is on record (:func:`compare`), or ``force`` with a ``reason``. ``record(entry)`` is called with the
    history entry before the registry changes (the caller writes the audit event there; an error in it leaves the
    registry as it was) and may return a value kept as ``audit_event``.

    Returns
    -------
    dict
        The history entry: ``action`` ``promoted``, ``version``, ``previous``, ``user``, ``reason``, ``forced``,
        ``comparison`` (its file), ``at``.

    Raises
    ------
    RegistryError
        An unknown version, the version already promoted, no comparison on record (without ``force``), ``force``
        without a reason.
    """
    root = Path(root)
    with _locked(root):
        reg = load(root)
        reg.version_dir(version)
        if version == reg.promoted:
            raise RegistryError(f"{root}: {version} is already the promoted version")
        comp = reg.comparison(version) if reg.promoted is not None else None
        if force and not (reason or "").strip():
            raise RegistryError("promoting with --force needs --reason (why no comparison is needed)")
        if comp is None and reg.promoted is not None and not force:
            raise RegistryError(f"{root}: no comparison of {version} with the promoted {reg.promoted} on a held-out "
                                f"period after both training periods is on record; run `lantian models compare "
                                f"--model {root} --candidate {version} --data DIR --start … --end …` first, or "
                                "promote with --force --reason TEXT")
        entry = {"at": _now(), "action": "promoted", "version": version, "previous": reg.promoted, "user": user,
                 "reason": reason, "forced": bool(force and comp is None),
                 "comparison": comp.get("file") if comp else None,
                 "comparison_period": comp.get("period") if comp else None}
        return _apply(reg, entry, record)


def rollback(root, *, user: str, reason: str | None = None, record=None) -> dict:
    """Return ``root`` to the version promoted before the current one (``record`` as for :func:`promote`).

    Raises
    ------
    RegistryError
        No earlier promoted version (the message names the promotions on record), or its folder is gone.
    """
    root = Path(root)
    with _locked(root):
        reg = load(root)
        back = reg.previous()
        if back is None:
            raise RegistryError(f"{root}: no earlier promoted version to roll back to (promotions on record: "
                                f"{', '.join(reg.promotion_stack()) or 'none'})")
        reg.version_dir(back)
        entry = {"at": _now(), "action": "rolled_back", "version": back, "previous": reg.promoted, "user": user,
                 "reason": reason}
        return _apply(reg, entry, record)


def _apply(reg: Registry, entry: dict, record) -> dict:
    if record is not None:
        ref = record(dict(entry))
        if ref is not None:
            entry["audit_event"] = ref
    reg.history.append(entry)
    reg.promoted = entry["version"]
    _write(reg)
    return entry


# ---- what `lantian models list` shows -----------------------------------------------------------------------------

def listing(root) -> list[dict]:
    """One record per version, oldest first: ``version``, ``promoted`` (bool), ``versioned`` (bool), ``created``,
    ``training_period``, ``verification`` (the card's period and day-1 and day-3 scores for AQI > 200),
    ``compared`` (periods of the comparisons with the promoted version on record).

    A plain (unversioned) model folder is listed as its one model, with its card's facts, ``versioned`` false and
    ``promoted`` true (it is what loads; ``lantian models init`` makes it versioned).

    Raises
    ------
    RegistryError
        A damaged registry, or a folder that is no model.
    """
    root = Path(root)
    if not is_versioned(root):
        if not M.Forecaster.is_model_dir(root):
            raise _not_a_model(root)
        card = _card(root)
        return [_listed(card, str(card.get("version", "unversioned")), promoted=True, versioned=False, compared=[])]
    reg = load(root)
    return [_listed(_card(reg.root / VERSIONS_DIR / v), v, promoted=v == reg.promoted, versioned=True,
                    compared=[c["period"] for c in reg.comparisons if c.get("candidate") == v])
            for v in reg.versions()]


def _listed(card: dict, version: str, *, promoted: bool, versioned: bool, compared: list) -> dict:
    ver = card.get("verification") or {}
    days = {int(r.get("lead_day", 0)): r for r in ver.get("aqi_gt200", []) if isinstance(r, dict)}
    return {"version": version, "promoted": promoted, "versioned": versioned, "created": card.get("created"),
            "training_period": card.get("training_period"), "verification_period": ver.get("period"),
            "day1": days.get(1), "day3": days.get(3), "compared": compared}
