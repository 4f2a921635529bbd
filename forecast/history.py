"""Orchestrator for station history: archive → QC → parquet store → area daily AQI, with a cache keyed by the files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from . import stations, workspace


def _fingerprint(files: list[Path]) -> str:
    h = hashlib.sha1()
    for p in files:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def build_history(data, *, cache=None, progress: bool = False, refresh: bool = False, out=None):
    """Read and quality-control a data directory's CNEMC archive, reusing the cached store when files are unchanged.

    Returns
    -------
    history : pandas.DataFrame
        Quality-controlled tidy hourly values.
    sites : pandas.DataFrame
        The station list.
    report : dict
        ``files``, ``rows``, ``skipped`` (read log rows), ``removed`` (QC counts), ``cached`` (bool), ``store``.

    ``out``: also write the quality-controlled store to this parquet file.
    """
    history, sites, meta = _build_history(data, cache=cache, progress=progress, refresh=refresh)
    if out:
        stations.save_history(history, out)
    return history, sites, meta


def area_table(data, *, cache=None, rolling: bool = False, standard: str = "auto", areas=None,
               progress: bool = False) -> pd.DataFrame:
    """Area daily (or hourly rolling-24-h) concentrations and AQI of a data directory's station archive.

    ``areas``: only these area ids (default all).
    """
    history, sites, _ = build_history(data, cache=cache, progress=progress)
    table = (stations.area_rolling_24h if rolling else stations.area_daily)(history, sites, standard=standard)
    if areas:
        table = table[table["area_id"].isin(list(areas))]
    return table


def _build_history(data, *, cache=None, progress: bool = False, refresh: bool = False):
    sites = stations.read_station_list(workspace.sites_file(data))
    files = stations.archive_files(workspace.stations_dir(data))
    if not files:
        raise stations.StationDataError(f"{workspace.stations_dir(data)}: no china_sites_YYYYMMDD.csv files")
    cdir = workspace.cache_dir(data, cache)
    store, meta_path = cdir / "history.parquet", cdir / "history.json"
    key = _fingerprint(files)
    if not refresh and store.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            meta["cached"] = True
            return stations.load_history(store), sites, meta
    history, removed_read, log = stations.read_cnemc_archive(files, sites, progress=progress)
    clean, removed_qc = stations.quality_control(history)
    removed = pd.concat([removed_read, removed_qc], ignore_index=True)
    stations.save_history(clean, store)
    removed.astype({"raw": "string"}).to_csv(cdir / "qc_removed.csv", index=False)
    log.to_frame().to_csv(cdir / "read_log.csv", index=False)
    meta = {"key": key, "files": len(files), "files_read": log.files_read, "rows": int(len(clean)),
            "skipped": log.entries, "removed": stations.qc_summary(removed).to_dict("records"),
            "store": str(store), "period": [str(clean["time"].min()), str(clean["time"].max())] if len(clean) else None}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str))
    meta["cached"] = False
    return clean, sites, meta
