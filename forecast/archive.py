"""The forecast archive: every forecast lantian issued, as it was issued.

``<workspace>/archive/forecasts/<model version>/<YYYYMMDD>.parquet``, one row per area and lead day, written
atomically (temporary file, then rename) by every ``lantian forecast`` and read by the evaluation and the app. The
model version comes from a model card (a file): it is checked to be a plain name before it becomes a folder.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import workspace


class ArchiveError(ValueError):
    """A model version that cannot name an archive folder."""


def archive_dir(data, cache=None) -> Path:
    """The archive's root folder of a data directory (created if needed)."""
    path = workspace.cache_dir(data, cache) / "archive" / "forecasts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _version_dir(root: Path, model_version: str) -> Path:
    """``root/<model_version>``, the version checked to be one plain folder name (:func:`forecast.workspace.
    safe_name`: never an absolute path, ``..`` or a separator)."""
    try:
        name = workspace.safe_name(model_version, what="model version")
    except workspace.DataLayoutError:
        raise ArchiveError(f"model version {model_version!r} cannot name an archive folder (allowed: letters, "
                           "digits, '.', '_', '-'; at most 100 characters; not starting with '.' and no '..')"
                           ) from None
    return root / name


def store(table: pd.DataFrame, data, model_version: str, issued, *, cache=None) -> Path:
    """Archive one issue date's forecast table (atomically); returns the file."""
    root = archive_dir(data, cache)
    folder = _version_dir(root, model_version)
    folder.mkdir(parents=True, exist_ok=True)
    if root.resolve() not in folder.resolve().parents:  # a symbolic link planted in the workspace
        raise ArchiveError(f"{folder}: leads outside the archive {root}; not written")
    issued = pd.Timestamp(issued)
    path = folder / f"{issued:%Y%m%d}.parquet"
    tmp = folder / f".{issued:%Y%m%d}.parquet.tmp"
    table.assign(issued_at=datetime.now(timezone.utc).isoformat()).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def archived_forecasts(data, *, cache=None, model_version: str | list[str] | None = None) -> pd.DataFrame:
    """Every archived forecast (optionally of one model version, or of several), newest archive rows last; the
    column ``model_version`` names the version each row was archived under."""
    root = archive_dir(data, cache)
    if model_version is None:
        dirs = sorted(p for p in root.iterdir() if p.is_dir())
    else:
        names = [model_version] if isinstance(model_version, str) else list(model_version)
        dirs = [_version_dir(root, v) for v in names]
    files = [f for d in dirs if d.is_dir() for f in sorted(d.glob("*.parquet"))]
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f).assign(model_version=f.parent.name) for f in files], ignore_index=True)


def as_issued(table: pd.DataFrame) -> pd.DataFrame:
    """Per issue date, the forecast of the model version archived first (earliest ``issued_at``): the one the duty
    team had on that day. A later version's forecast of the same date (a hindcast after a promotion) does not
    replace it."""
    if table.empty or "issued_at" not in table or table["model_version"].nunique() < 2:
        return table
    first = (table.groupby(["issue_date", "model_version"], sort=False)["issued_at"].min().reset_index()
             .sort_values(["issue_date", "issued_at", "model_version"]).drop_duplicates("issue_date"))
    keep = table.set_index(["issue_date", "model_version"]).index.isin(
        first.set_index(["issue_date", "model_version"]).index)
    return table[keep].reset_index(drop=True)
