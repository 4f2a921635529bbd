"""Where lantian finds a data directory's parts and keeps what it derives from them.

A data directory has the layout that ``lantian simulate`` writes and that real data must follow::

    DIR/meteorology/analysis/*.grib2
    DIR/meteorology/forecast/YYYYMMDDHH/*.grib2
    DIR/stations/sites.csv
    DIR/stations/china_sites_YYYYMMDD.csv
    DIR/enterprises.csv
    DIR/inventory.csv

Derived products (station history store, extracted meteorology, cfgrib indexes) go to a cache: ``DIR/.lantian`` when
``DIR`` is writable, else ``$XDG_CACHE_HOME/lantian/<hash of DIR>`` (the data directory may be read-only).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


class DataLayoutError(ValueError):
    """A data directory that lacks a required part."""


def stations_dir(data: str | Path) -> Path:
    data = Path(data)
    sub = data / "stations"
    return sub if sub.is_dir() else data


def sites_file(data: str | Path) -> Path:
    if not Path(data).is_dir():
        raise DataLayoutError(f"{data}: no such data directory")
    path = stations_dir(data) / "sites.csv"
    if not path.exists():
        raise DataLayoutError(f"{path}: station list not found (expected DIR/stations/sites.csv)")
    return path


def cache_dir(data: str | Path, cache: str | Path | None = None) -> Path:
    """Writable cache directory for ``data`` (created if needed)."""
    if cache is not None:
        path = Path(cache)
    else:
        data = Path(data).resolve()
        path = data / ".lantian"
        if not (os.access(data, os.W_OK) or path.is_dir() and os.access(path, os.W_OK)):
            base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lantian"
            path = base / hashlib.sha1(str(data).encode()).hexdigest()[:12]
    path.mkdir(parents=True, exist_ok=True)
    return path


def audit_path(data: str | Path, cache: str | Path | None = None) -> Path:
    """The default audit store of a data directory (``<workspace>/audit.db``)."""
    return cache_dir(data, cache) / "audit.db"


def output_dir(data: str | Path, *parts: str, cache: str | Path | None = None) -> Path:
    """A folder for derived outputs inside the workspace (``<workspace>/<parts…>``), created if needed.

    ``parts`` are names lantian makes (an issue date, ``"app"``); they are checked never to leave the workspace.
    """
    root = cache_dir(data, cache).resolve()
    path = root.joinpath(*[str(p) for p in parts]).resolve()
    if root != path and root not in path.parents:
        raise DataLayoutError(f"{path}: outside the workspace {root}")
    path.mkdir(parents=True, exist_ok=True)
    return path
