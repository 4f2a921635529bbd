"""The forecast archive: every forecast lantian issued, as it was issued.

``<workspace>/archive/forecasts/<model version>/<YYYYMMDD>.parquet``, one row per area and lead day, written
atomically (temporary file, then rename) by every ``lantian forecast`` and read by the evaluation and the app. The
model version comes from a model card (a file): it is checked to be a plain name before it becomes a folder.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import workspace

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class ArchiveError(ValueError):
    """A model version that cannot name an archive folder."""


def archive_dir(data, cache=None) -> Path:
    """The archive's root folder of a data directory (created if needed)."""
    path = workspace.cache_dir(data, cache) / "archive" / "forecasts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _version_dir(root: Path, model_version: str) -> Path:
    if not _SAFE.match(str(model_version)) or ".." in str(model_version):
        raise ArchiveError(f"model version {model_version!r} cannot name an archive folder (allowed: letters, "
                           "digits, '.', '_', '-'; at most 100 characters)")
    return root / str(model_version)


def store(table: pd.DataFrame, data, model_version: str, issued, *, cache=None) -> Path:
    """Archive one issue date's forecast table (atomically); returns the file."""
    folder = _version_dir(archive_dir(data, cache), model_version)
    folder.mkdir(parents=True, exist_ok=True)
    issued = pd.Timestamp(issued)
    path = folder / f"{issued:%Y%m%d}.parquet"
    tmp = folder / f".{issued:%Y%m%d}.parquet.tmp"
    table.assign(issued_at=datetime.now(timezone.utc).isoformat()).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def archived_forecasts(data, *, cache=None, model_version: str | None = None) -> pd.DataFrame:
    """Every archived forecast (optionally of one model version), newest archive rows last."""
    root = archive_dir(data, cache)
    dirs = [_version_dir(root, model_version)] if model_version else sorted(p for p in root.iterdir() if p.is_dir())
    files = [f for d in dirs if d.is_dir() for f in sorted(d.glob("*.parquet"))]
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
