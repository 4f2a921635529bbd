"""The station history store and its orchestrator: archive → QC → parquet store → area daily AQI.

The store is one parquet file of the tidy ``history`` table (:data:`HISTORY_COLUMNS`, defined with the reader in
:mod:`forecast.cnemc`), written atomically by :func:`save_history` and read back, checked, by
:func:`load_history`. :func:`build_history` sequences :mod:`forecast.cnemc` (reading), :mod:`forecast.qc` (quality
control) and the store, with a cache keyed by the archive files; :func:`area_table` adds :mod:`forecast.averaging`
(HJ 663-2013 daily or rolling-24-h area values and their HJ 633 AQI). :func:`area_observations` keeps the area
observations a forecast reads (daily, hourly, rolling-24-h AQI) in the workspace with a digest of the history per
day: a warm run reads them back without the history, a grown archive derives only the days from the first changed
one, and a keep from another code version is ignored (:func:`forecast.workspace.read_tables`).

The report of a build (``meta``, also ``history.json`` and ``read_log.csv`` in the cache, :func:`last_report`) says
what was read and what was not: the read log (files, rows and columns skipped; once, the stations of the station
list whose city is in no area of the area table), the QC removals, the species the archive carries and ``notes`` on
what follows from a missing one (a partial AQI, no dust days without PM10, a QC check that cannot apply).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import averaging, cnemc, qc, workspace
from .cnemc import HISTORY_COLUMNS, StationDataError
from .nomenclature import SPECIES, SPECIES_NAMES, TZ

# --------------------------------------------------------------------------------------------------- store
def save_history(history: pd.DataFrame, path: str | Path) -> Path:
    """Write ``history`` to parquet atomically (a failed write never damages an existing store).

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values (:data:`HISTORY_COLUMNS`); ``station``, ``area_id`` and ``pollutant`` are stored as
        categories.
    path : path-like
        The parquet file; its directory is created if needed. The data go to a temporary file beside it that
        replaces ``path`` only once complete.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame = history.copy()
        for col in ("station", "area_id", "pollutant"):
            if col in frame:
                frame[col] = frame[col].astype("category")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_history(path: str | Path) -> pd.DataFrame:
    """Read a parquet ``history`` store written by :func:`save_history`.

    Parameters
    ----------
    path : path-like
        The parquet file.

    Returns
    -------
    pandas.DataFrame
        Tidy hourly values (:data:`HISTORY_COLUMNS`): ``time`` (end of the hour, CST), ``station``, ``area_id``,
        ``pollutant`` (string dtype), ``value`` [µg m⁻³; mg m⁻³ for CO].

    Raises
    ------
    StationDataError
        The file is not readable parquet, or lacks a column of :data:`HISTORY_COLUMNS`.
    """
    path = Path(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise StationDataError(f"{path}: cannot read station history store ({exc})") from None
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise StationDataError(f"{path}: not a lantian station history (missing {missing})")
    for col in ("station", "area_id", "pollutant"):
        frame[col] = _strings(frame[col])
    return frame


def _strings(values: pd.Series) -> pd.Series:
    """``values`` as the pandas ``string`` dtype. Categories (as stored) are decoded by arrow from their codes:
    ``Series.astype("string")`` of a categorical builds one Python object per row first — for the 8 M rows of a
    three-winter archive 25 s and +710 MiB against 4 s and +160 MiB this way (measured on the seed-23 world)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype("string")
    codes = np.asarray(values.cat.codes)
    categories = pa.array(values.cat.categories.astype(str).to_numpy(object), pa.string())
    decoded = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), categories).dictionary_decode()
    return pd.Series(pd.array(decoded, dtype="string"), index=values.index, name=values.name)


# --------------------------------------------------------------------------------------------------- orchestrator
#: bumped when the store or its report changes meaning (old caches are then rebuilt)
_STORE_FORMAT = "4"
#: bumped when the kept raw rows per month (``history_raw/``) change meaning
_RAW_FORMAT = "1"


def _fingerprint(files: list[Path]) -> str:
    h = hashlib.sha1()
    for p in files:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def build_history(data, *, cache=None, progress: bool = False, refresh: bool = False, out=None, areas=None):
    """Read and quality-control a data directory's CNEMC archive, reusing the cached store when files are unchanged.

    Parameters
    ----------
    data : path-like
        Data directory with ``stations/sites.csv`` and ``stations/china_sites_YYYYMMDD.csv``
        (:mod:`forecast.workspace`).
    cache : path-like, optional
        Cache directory (default: ``DATA/.lantian``, or the user cache when that is not writable).
    progress : bool
        Show a progress bar while reading.
    refresh : bool
        Re-read the archive even when the cached store matches the files.
    out : path-like, optional
        Also write the quality-controlled store to this parquet file.
    areas : DataFrame, optional
        The region's area table (:class:`forecast.region.Region`; default the data directory's region): stations
        are matched to its areas, and the cache is kept per area table.

    Returns
    -------
    history : pandas.DataFrame
        Quality-controlled tidy hourly values.
    sites : pandas.DataFrame
        The station list (the stations in an area of ``areas``).
    report : dict
        ``files``, ``rows``, ``skipped`` (read log rows; the stations of cities not in the area table are one entry
        with action ``"stations dropped"``, e.g. ``stations of cities not in the area table: 石家庄 (4), 保定 (3)``),
        ``removed`` (QC counts), ``pollutants`` (species with values), ``notes`` (what a missing species implies:
        a partial AQI, no dust days, a QC check not applied; :func:`coverage_notes`), ``cached`` (bool),
        ``store``. :func:`report_lines` picks the lines for a user.

    Raises
    ------
    StationDataError
        No archive files, or an unusable station list — among them one of which no station is in an area (the
        message names the cities found and how to add one).
    """
    if areas is None:  # the data directory's own region (DIR/region/, else LANTIAN_REGION, else the shipped one)
        from .region import load_region

        areas = load_region(data=data).areas
    history, sites, meta = _build_history(data, cache=cache, progress=progress, refresh=refresh, areas=areas)
    if out:
        save_history(history, out)
    return history, sites, meta


def area_table(data, *, cache=None, rolling: bool = False, standard: str = "auto", areas=None,
               progress: bool = False, region=None) -> pd.DataFrame:
    """Area daily (or hourly rolling-24-h) concentrations and AQI of a data directory's station archive.

    ``areas``: only these area ids (default all).
    """
    history, sites, _ = build_history(data, cache=cache, progress=progress,
                                      areas=region.areas if region is not None else None)
    table = (averaging.area_rolling_24h if rolling else averaging.area_daily)(history, sites, standard=standard)
    if areas:
        table = table[table["area_id"].isin(list(areas))]
    return table


def _areas_key(areas) -> str:
    if areas is None:
        return "shipped"
    cols = [c for c in ("area_id", "name_zh", "short_zh", "name_en") if c in areas.columns]
    return hashlib.sha1(pd.util.hash_pandas_object(areas[cols], index=False).to_numpy().tobytes()).hexdigest()[:12]


def _archive_state(data, cache, areas):
    """The station list, archive files and store key of a data directory, without reading the archive."""
    log = cnemc.ReadLog()
    sites_path = workspace.sites_file(data)
    listed = cnemc.read_station_list(sites_path, areas, keep_unknown=True)
    sites = cnemc.stations_in_areas(listed, sites_path, log)
    files = cnemc.archive_files(workspace.stations_dir(data))
    if not files:
        raise StationDataError(f"{workspace.stations_dir(data)}: no china_sites_YYYYMMDD.csv files")
    # the station list decides each station's area: a changed list is a changed store
    key = f"{_STORE_FORMAT}:{_fingerprint(files)}:{_fingerprint([Path(sites_path)])}:{_areas_key(areas)}"
    return log, listed, sites, files, key


def _cached_meta(meta_path: Path, key: str) -> dict | None:
    """The store's report when it was written for ``key`` (else None; a damaged report is no report)."""
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("key") == key else None


def _build_history(data, *, cache=None, progress: bool = False, refresh: bool = False, areas=None):
    log, listed, sites, files, key = _archive_state(data, cache, areas)
    cdir = workspace.cache_dir(data, cache)
    store, meta_path = cdir / "history.parquet", cdir / "history.json"
    previous = None
    if not refresh and store.exists():
        try:
            previous = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            previous = None
        if isinstance(previous, dict) and previous.get("key") == key:
            try:
                history = load_history(store)
            except StationDataError:  # a damaged store is read again from the archive
                history = None
            if history is not None:
                previous["cached"] = True
                return history, sites, previous
    raw = _RawParts(cdir, files, sites, listed["station"], _fingerprint([Path(workspace.sites_file(data))]),
                    _areas_key(areas))
    raw.update(progress=progress, refresh=refresh)
    for entry in raw.log_entries():
        log.entries.append(entry)
    log.files_read = raw.files_read()
    removed_read = raw.removed_read()
    start = None  # the first hour whose QC is derived again (None: all)
    if (not refresh and isinstance(previous, dict) and previous.get("format") == _STORE_FORMAT
            and previous.get("context") == raw.context and raw.first_changed is not None):
        found = raw.safe_start(raw.first_changed)
        if found is not None:
            start, context = (pd.Timestamp(x) for x in found)
    clean_parts, removed_parts = [], []
    # the parts are held as categories of the station list's codes, areas and the species (a fraction of the memory
    # of strings; sorted categories keep the store's order); strings only for the table returned
    dtypes = {"station": pd.CategoricalDtype(sorted(set(sites["station"].astype(str)))),
              "area_id": pd.CategoricalDtype(sorted(set(sites["area_id"].dropna().astype(str)))),
              "pollutant": pd.CategoricalDtype(sorted(SPECIES))}
    if start is not None:
        try:
            old = pd.read_parquet(store)  # kept as categories: only the rows before the cut are used
            if [c for c in HISTORY_COLUMNS if c not in old.columns]:
                raise StationDataError(f"{store}: not a lantian station history")
            old_removed = pd.read_csv(cdir / "qc_removed.csv", dtype={"raw": "string"})
        except (StationDataError, OSError, ValueError):
            start = None
        else:
            cut = start.tz_localize(TZ)
            clean_parts.append(_categorical(old[old["time"] < cut], dtypes))
            del old
            old_removed = old_removed[old_removed["source"] == "qc"]
            old_removed["time"] = pd.to_datetime(old_removed["time"], utc=True).dt.tz_convert(TZ)
            removed_parts.append(old_removed[old_removed["time"] < cut])
    chunks = raw.chunks(context) if start is not None else raw.chunks()
    for clean, removed in _qc_chunks(chunks, start.value if start is not None else None):
        clean_parts.append(_categorical(clean, dtypes))
        removed_parts.append(removed)
    clean = pd.concat(clean_parts, ignore_index=True) if clean_parts else _categorical(cnemc._empty_history(), dtypes)
    clean_parts.clear()  # the parts go before the sort copies the table
    clean = _sorted(clean)
    removed = pd.concat([removed_read, *removed_parts], ignore_index=True)
    save_history(clean, store)
    for col in ("station", "area_id", "pollutant"):
        clean[col] = _strings(clean[col])
    removed.astype({"raw": "string"}).to_csv(cdir / "qc_removed.csv", index=False)
    log.to_frame().to_csv(cdir / "read_log.csv", index=False)
    present = set(clean["pollutant"].unique())
    pollutants = [p for p in SPECIES if p in present]
    meta = {"key": key, "format": _STORE_FORMAT, "context": raw.context, "files": len(files),
            "files_read": log.files_read, "files_parsed": raw.parsed, "rows": int(len(clean)),
            "skipped": log.entries, "removed": qc.qc_summary(removed).to_dict("records"),
            "pollutants": pollutants, "notes": coverage_notes(pollutants, qc.checks_not_applied(clean)),
            "store": str(store), "period": [str(clean["time"].min()), str(clean["time"].max())] if len(clean) else None,
            "derived_from": str(start) if start is not None else None,
            "based_on": previous.get("key") if start is not None else None}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str))
    meta["cached"] = False
    return clean, sites, meta


def _categorical(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """``frame`` with its id columns as the categories ``dtypes``."""
    frame = frame.copy()
    for col, dtype in dtypes.items():
        values = frame[col]
        frame[col] = values.astype(dtype) if isinstance(values.dtype, pd.CategoricalDtype) else \
            pd.Categorical(values.astype(object), dtype=dtype)
    return frame


def _sorted(history: pd.DataFrame) -> pd.DataFrame:
    """``history`` in store order (station, pollutant, time; ids compared as text), whatever order its parts came
    in; id columns as they are (strings, or sorted categories)."""
    station = pd.Categorical(history["station"]).codes
    pollutant = pd.Categorical(history["pollutant"]).codes
    time = pd.DatetimeIndex(history["time"]).as_unit("ns").asi8
    history = history.iloc[np.lexsort((time, pollutant, station))].reset_index(drop=True)
    history["value"] = history["value"].astype(float)
    return history[list(HISTORY_COLUMNS)]


def _wall_ns(times) -> np.ndarray:
    """Wall-clock CST times as int64 ns (naive)."""
    t = pd.DatetimeIndex(times)
    if t.tz is not None:
        t = t.tz_convert(TZ).tz_localize(None)
    return t.as_unit("ns").asi8


_HOUR, _DAY = 3_600_000_000_000, 86_400_000_000_000


def _raw_runs(rows: pd.DataFrame) -> pd.DataFrame:
    """The runs of one value on consecutive hours of a station and species, in the raw rows (before QC), at
    least two hours long: ``start``, ``end`` (wall-clock CST, int64 ns). Every run of the QC ``stuck`` check lies
    within one of them (its values are a subset of the raw rows)."""
    frame = pd.DataFrame({"s": pd.factorize(rows["station"])[0], "p": pd.factorize(rows["pollutant"])[0],
                          "v": rows["value"].to_numpy(float), "t": _wall_ns(rows["time"])}).drop_duplicates()
    frame = frame.sort_values(["s", "p", "v", "t"], kind="stable")
    s, p, v, t = (frame[c].to_numpy() for c in ("s", "p", "v", "t"))
    cont = np.zeros(len(t), dtype=bool)
    cont[1:] = (s[1:] == s[:-1]) & (p[1:] == p[:-1]) & (v[1:] == v[:-1]) & (t[1:] - t[:-1] == _HOUR)
    first = np.flatnonzero(~cont)
    last = np.append(first[1:] - 1, len(t) - 1)
    long = last > first
    return pd.DataFrame({"start": t[first[long]], "end": t[last[long]]})


def _cut(runs: pd.DataFrame, days, *, before: int):
    """The latest day start ``T`` of ``days`` such that every raw run crossing it (from ``T`` − 1 h to ``T``) ends
    before ``before`` (ns): the QC of the hours before ``T`` cannot change with the hours from ``before`` on.
    Returns ``(T, W)`` with ``W`` the earliest start of those runs (the hours a QC of the hours from ``T`` needs),
    or None."""
    start, end = runs["start"].to_numpy(), runs["end"].to_numpy()
    for d in sorted(days, reverse=True):
        d = int(d)
        cross = (start < d) & (end >= d)
        if not (end[cross] >= before).any():
            return d, int(min(start[cross].min(), d)) if cross.any() else d
    return None


def _qc_chunks(chunks, accept_from: int | None = None):
    """Quality-control raw rows that arrive in time order, chunk by chunk (a chunk: the rows of whole days), with
    bounded memory: each QC's results are kept up to the last day start ``T`` whose crossing raw runs are complete
    (:func:`_cut`); the rows from the earliest start of those runs are carried to the next chunk, whose results
    are kept from ``T`` on. ``accept_from`` (ns, wall clock): results before it are not yielded (the first chunk
    then starts at the context the caller chose). Yields ``(clean, removed)``; together they equal
    :func:`forecast.qc.quality_control` of all the rows (from ``accept_from``)."""
    carry, accept = None, accept_from

    def kept(frame, lo, hi):
        t = _wall_ns(frame["time"])
        ok = np.ones(len(frame), dtype=bool)
        if lo is not None:
            ok &= t >= lo
        if hi is not None:
            ok &= t < hi
        return frame[ok]

    for chunk in chunks:
        pending = chunk if carry is None else pd.concat([carry, chunk], ignore_index=True)
        if not len(pending):
            continue
        t = _wall_ns(pending["time"])
        days = np.unique(t - t % _DAY)
        days = days[days > (accept if accept is not None else days[0])]
        found = _cut(_raw_runs(pending), days, before=int(t.max())) if len(days) else None
        if found is None:
            carry = pending
            continue
        cut, context = found
        clean, removed = qc.quality_control(pending)  # the runs crossing the cut whole
        yield kept(clean, accept, cut), kept(removed, accept, cut)
        carry, accept = pending[t >= context].reset_index(drop=True), cut
    if carry is not None and len(carry):
        clean, removed = qc.quality_control(carry)
        yield kept(clean, accept, None), kept(removed, accept, None)


class _RawParts:
    """The archive as read, before QC, kept in the workspace per month (``history_raw/YYYYMM.parquet`` with the
    month's non-numeric cells and read-log entries): a file is parsed when it is new or changed; the rows of the
    unchanged files of its month are read back. ``first_changed`` is the first day (naive midnight) whose file was
    added, changed or removed."""

    def __init__(self, cdir: Path, files, sites, listed, sites_key: str, areas_key: str):
        self.dir = cdir / "history_raw"
        self.files, self.sites, self.listed = list(files), sites, listed
        self.context = workspace.source_digest(Path(__file__).parent / "cnemc.py",
                                               extra=f"{_RAW_FORMAT}:{sites_key}:{areas_key}:{pd.__version__}")
        self.months: dict = {}
        self.first_changed = None
        self.parsed = 0

    @staticmethod
    def _day(name: str) -> pd.Timestamp:
        return pd.Timestamp(cnemc._FILE_DATE.search(name).group(1))

    def _manifest(self) -> dict:
        try:
            manifest = json.loads((self.dir / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(manifest, dict) or manifest.get("context") != self.context:
            return {}
        return manifest.get("months", {}) if isinstance(manifest.get("months"), dict) else {}

    def _read_part(self, month: str):
        try:
            return (pd.read_parquet(self.dir / f"{month}.parquet"),
                    pd.read_parquet(self.dir / f"{month}.removed.parquet"))
        except Exception:  # missing or damaged: the month is parsed again
            return None

    def update(self, *, progress: bool = False, refresh: bool = False):
        old = {} if refresh else self._manifest()
        by_month: dict[str, list[Path]] = {}
        for path in self.files:
            by_month.setdefault(cnemc._FILE_DATE.search(path.name).group(1)[:6], []).append(path)
        self.dir.mkdir(parents=True, exist_ok=True)
        changed: list[pd.Timestamp] = []
        todo = []
        for month, paths in sorted(by_month.items()):
            prints = {p.name: _fingerprint([p]) for p in paths}
            before = old.get(month)
            if isinstance(before, dict) and before.get("files") == prints and (self.dir / f"{month}.parquet").exists():
                self.months[month] = before
                continue
            before_files = before.get("files", {}) if isinstance(before, dict) else {}
            stale = {n for n in set(before_files) | set(prints) if before_files.get(n) != prints.get(n)}
            changed.extend(self._day(n) for n in stale)
            todo.append((month, paths, prints, before if isinstance(before, dict) else None, stale))
        for month in set(old) - set(by_month):  # a month whose files are all gone
            changed.extend(self._day(n) for n in old[month].get("files", {}))
            for suffix in (".parquet", ".removed.parquet"):
                (self.dir / f"{month}{suffix}").unlink(missing_ok=True)
        iterator = todo
        if progress and todo:
            from tqdm import tqdm
            iterator = tqdm(todo, desc="station files (months)", unit="month")
        for month, paths, prints, before, stale in iterator:
            kept = self._read_part(month) if before is not None else None
            to_read = [p for p in paths if p.name in stale] if kept is not None else paths
            if kept is None:
                stale = set(prints) | set(before.get("files", {}) if before else {})
                changed.extend(self._day(n) for n in stale)
            part_log = cnemc.ReadLog()
            rows, removed, part_log = cnemc.read_cnemc_archive(to_read, self.sites, log=part_log,
                                                               listed=self.listed)
            self.parsed += len(to_read)
            entries, files_read = part_log.entries, part_log.files_read
            if kept is not None:
                old_rows, old_removed = kept
                stale_days = np.array([self._day(n).value for n in stale], dtype=np.int64)
                keep = ~np.isin(_wall_ns(old_rows["time"]) // _DAY * _DAY, stale_days)
                old_rows = old_rows[keep]
                old_removed = old_removed[~old_removed["source"].map(lambda s: Path(s).name in stale)]
                rows = pd.concat([old_rows.astype(rows.dtypes.to_dict()), rows], ignore_index=True)
                removed = pd.concat([old_removed, removed], ignore_index=True) if len(removed) else old_removed
                kept_entries = [e for e in before.get("log", []) if Path(e["file"]).name not in stale]
                entries = kept_entries + entries
                files_read += sum(1 for n in before.get("read", []) if n not in stale)
                read = [n for n in before.get("read", []) if n not in stale]
            else:
                read = []
            read += [p.name for p in to_read if not any(Path(e["file"]).name == p.name and
                                                        e["action"] == "file skipped" for e in part_log.entries)]
            for col in ("station", "area_id", "pollutant"):
                rows[col] = rows[col].astype("category")
            rows.to_parquet(self.dir / f"{month}.parquet", index=False)
            if not len(removed):
                removed = cnemc._empty_removed()
            removed.astype({"raw": "string", "source": "string"}).to_parquet(self.dir / f"{month}.removed.parquet",
                                                                             index=False)
            self.months[month] = {"files": prints, "log": entries, "read": sorted(set(read))}
            del rows, removed
        manifest = {"context": self.context, "months": self.months}
        tmp = self.dir / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, default=str))
        os.replace(tmp, self.dir / "manifest.json")
        self.first_changed = min(changed) if changed else None

    def log_entries(self) -> list[dict]:
        return [e for month in sorted(self.months) for e in self.months[month].get("log", [])]

    def files_read(self) -> int:
        return sum(len(self.months[m].get("read", [])) for m in self.months)

    def removed_read(self) -> pd.DataFrame:
        parts = [pd.read_parquet(self.dir / f"{m}.removed.parquet") for m in sorted(self.months)]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else cnemc._empty_removed()

    def chunks(self, start: pd.Timestamp | None = None):
        """The raw rows month by month (from ``start``, naive CST midnight, when given)."""
        for month in sorted(self.months):
            if start is not None and month < f"{start:%Y%m}":
                continue
            rows = pd.read_parquet(self.dir / f"{month}.parquet")
            for col in ("station", "area_id", "pollutant"):
                rows[col] = _strings(rows[col])
            if start is not None:
                rows = rows[_wall_ns(rows["time"]) >= start.value].reset_index(drop=True)
            yield rows

    def safe_start(self, first_changed: pd.Timestamp):
        """Where the QC of a grown archive starts again: ``(T, W)`` (ns, wall clock), ``T`` the latest day start
        before ``first_changed`` whose crossing raw runs all end before it (the QC of the hours before ``T``
        stands; from ``T`` on it is derived again, with the hours from ``W`` as context), searched back over at
        most two months; None: QC everything."""
        lo = first_changed - pd.Timedelta(days=45)
        months = [m for m in sorted(self.months) if f"{lo:%Y%m}" <= m <= f"{first_changed:%Y%m}"]
        if not months:
            return None
        rows = pd.concat([pd.read_parquet(self.dir / f"{m}.parquet", columns=["time", "station", "pollutant", "value"])
                          for m in months], ignore_index=True)
        t = _wall_ns(rows["time"])
        rows, t = rows[t < first_changed.value], t[t < first_changed.value]
        if not len(rows):
            return None
        days = np.unique(t - t % _DAY)[1:]  # the first day's start has no hour before it here
        return _cut(_raw_runs(rows), days, before=first_changed.value)


def coverage_notes(pollutants, checks_not_applied=()) -> list[str]:
    """What the species an archive lacks imply, one line per consequence group (for the history report).

    Parameters
    ----------
    pollutants : iterable of str
        Species with values (of ``pm25, pm10, so2, no2, co, o3``).
    checks_not_applied : iterable of str
        QC checks with nothing to apply to (:func:`forecast.qc.checks_not_applied`).

    Returns
    -------
    list of str
        Empty when all six species are present and every check applies; else one line, e.g. for PM2.5 alone:
        ``the archive carries PM2.5 only (no PM10, SO2, NO2, CO, O3): every daily AQI is a partial AQI …; without
        PM10 no day is flagged dust-dominated; QC check not applied: pm25_gt_pm10 (no PM10 values)``.
    """
    have = [p for p in SPECIES if p in set(pollutants)]
    lack = [p for p in SPECIES if p not in have]
    if not have:
        return ["the archive holds no hourly value of any species: no AQI can be computed"]
    parts = []
    if lack:
        names = ", ".join(SPECIES_NAMES[p] for p in have)
        parts.append(f"the archive carries {names} only (no {', '.join(SPECIES_NAMES[p] for p in lack)}): every "
                     f"daily AQI is a partial AQI, the largest IAQI of {names} (a lower bound of the full AQI; "
                     f"flagged aqi_partial in the area tables)")
    if "pm10" in lack:
        parts.append("without PM10 no day is flagged dust-dominated (the dust test needs PM10's IAQI and PM2.5/PM10)")
    parts.extend(f"QC check not applied: {check}" for check in checks_not_applied)
    return ["; ".join(parts)] if parts else []


def last_report(data, cache=None) -> dict | None:
    """The report of the last :func:`build_history` of a data directory (its cache's ``history.json``), or None.

    For a caller that read the archive through another function (:func:`area_table`) and wants its report.
    """
    path = workspace.cache_dir(data, cache) / "history.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def report_lines(report: dict | None) -> list[str]:
    """The lines of a build report a user should see: the stations dropped (one line), the rows dated otherwise
    than their daily file (one line per file: skipped, never moved to another day) and the coverage notes.

    Parameters
    ----------
    report : dict or None
        From :func:`build_history` (or :func:`last_report`; ``None`` gives no line).

    Returns
    -------
    list of str
        e.g. ``sites.csv: stations of cities not in the area table: 石家庄 (4), 保定 (3) — dropped``,
        ``china_sites_20240102.csv: 6 row(s) dated otherwise than the file (line 5: row dated 2023-01-02 in the file
        of 2024-01-02 …) — skipped, not moved``.
    """
    if not report:
        return []
    skipped = report.get("skipped", [])
    lines = [f"{e['file']}: {e['problem']} — dropped" for e in skipped if e.get("action") == cnemc.STATIONS_DROPPED]
    other_day: dict[str, list[str]] = {}
    for e in skipped:
        if e.get("action") == cnemc.ROW_OTHER_DAY:
            other_day.setdefault(e["file"], []).append(e["problem"])
    for file, problems in other_day.items():
        lines.append(f"{file}: {len(problems)} row(s) dated otherwise than the file ({problems[0]}"
                     f"{' …' if len(problems) > 1 else ''}) — skipped, not moved")
    return lines + list(report.get("notes", []))


# --------------------------------------------------------------------------------------------------- derived cache
#: bumped when the cached area observations change meaning (with the code version below, old caches are ignored)
_OBS_FORMAT = "1"
#: the modules and tables the area observations are derived with: a change to any gives another code version
_OBS_SOURCES = ("aqi.py", "averaging.py", "features.py", "cnemc.py", "qc.py", "history.py",
                "data/aqi_breakpoints.csv", "data/aqi_special_rules.yaml", "data/aqi_categories.csv",
                "data/qc_limits.csv")
#: days of history before the first changed day that an incremental update reads (the rolling 24-h O3 needs 31 h)
_TAIL_DAYS = 3


class CacheNote(UserWarning):
    """A cache that could not be used as it was (damaged, from another code version): it is rebuilt."""


def _code_version() -> str:
    """A digest of the code and tables the area observations are derived with (and of pandas/numpy versions)."""
    here = Path(__file__).parent
    return workspace.source_digest(*(here / name for name in _OBS_SOURCES),
                                   extra=f"{_OBS_FORMAT}:{pd.__version__}:{np.__version__}")


def _day_hashes(history: pd.DataFrame, *, chunk: int = 1_000_000) -> pd.Series:
    """One order-independent digest of the history's rows per natural day (CST; the hour ending 24:00 belongs to
    the day it ends): index ``day`` (naive midnight), values uint64. Two histories that differ in any row of a day
    differ in that day's digest (up to hash collisions). Computed ``chunk`` rows at a time (bounded memory)."""
    parts = []
    for start in range(0, len(history), chunk):
        part = history.iloc[start:start + chunk]
        time = part["time"]
        if getattr(time.dt, "tz", None) is not None:
            time = time.dt.tz_convert(TZ).dt.tz_localize(None)
        time = time.astype("datetime64[ns]")
        columns = {"time": time.to_numpy().view("int64"), "value": part["value"].to_numpy(float)}
        for col in ("station", "pollutant"):
            codes, uniques = pd.factorize(part[col])
            columns[col] = pd.util.hash_array(np.asarray(uniques, dtype=object))[codes]
        rows = pd.util.hash_pandas_object(pd.DataFrame(columns), index=False).to_numpy()
        day = (time - pd.Timedelta(hours=1)).dt.floor("D").to_numpy()
        parts.append(pd.Series(rows).groupby(day).sum())  # uint64 sums wrap: an order-independent digest
    if not parts:
        return pd.Series([], index=pd.DatetimeIndex([], name="day"), dtype="uint64", name="digest")
    digest = pd.concat(parts).groupby(level=0).sum() if len(parts) > 1 else parts[0]
    digest.index.name = "day"
    return digest.astype("uint64").rename("digest")


def _first_changed_day(old: pd.Series, new: pd.Series):
    """The first day whose digest differs, is new or is gone (None: the same rows)."""
    both = pd.concat([old.rename("old"), new.rename("new")], axis=1)
    differ = both["old"].isna() | both["new"].isna() | (both["old"] != both["new"])
    return pd.Timestamp(both.index[differ.to_numpy()].min()) if differ.any() else None


def _splice(old, new, first_day: pd.Timestamp):
    """Cached observations before ``first_day`` with those recomputed from ``first_day`` on."""
    from .features import Observations

    cut = first_day.tz_localize(TZ)  # hours ending after first_day 00:00 belong to first_day or later

    def hourly(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
        frame = pd.concat([a[a.index <= cut], b[b.index > cut]])
        frame = frame[sorted(frame.columns)]
        frame.columns.name = b.columns.name
        return frame

    dates = old.daily.index.get_level_values("date")
    daily = pd.concat([old.daily[dates < first_day],
                       new.daily[new.daily.index.get_level_values("date") >= first_day]]).sort_index()
    return Observations(daily, {p: hourly(old.hourly[p], new.hourly[p]) for p in new.hourly},
                        hourly(old.rolling, new.rolling), new.pollutants)


def _write_observations(odir: Path, obs, digests: pd.Series, manifest: dict):
    tables = {"daily": obs.daily, "rolling": obs.rolling, "days": digests.to_frame()}
    tables.update({f"hourly_{p}": frame for p, frame in obs.hourly.items()})
    workspace.write_tables(odir, tables, {**manifest, "pollutants": list(obs.pollutants)})


def _read_observations(odir: Path, context: str):
    """The cached observations, their day digests, manifest and a note (what was damaged); Nones when there are
    none or they were derived in another context (code version, station list, area table, AQI edition)."""
    from .features import Observations

    tables, manifest, note = workspace.read_tables(odir, context)
    if tables is None:
        return None, None, None, note and f"area observations: {note}"
    hourly = {name[len("hourly_"):]: frame for name, frame in tables.items() if name.startswith("hourly_")}
    try:
        obs = Observations(tables["daily"], hourly, tables["rolling"], tuple(manifest["pollutants"]))
        return obs, tables["days"]["digest"], manifest, None
    except (KeyError, TypeError) as exc:
        return None, None, None, f"area observations: {odir}: incomplete ({exc!r} missing); derived again"


def area_observations(data, *, cache=None, progress: bool = False, areas=None, standard: str = "auto"):
    """The area observations of a data directory (:func:`forecast.features.observations`), derived incrementally.

    The daily, hourly and rolling-24-h area tables are kept in the workspace (``observations/``) with a digest of
    the station history per day. When the archive files are those they were derived from, they are read back
    without reading the history; when files were added or changed, the history is rebuilt
    (:func:`build_history`) and only the days from the first one whose rows changed are derived again (from the
    history of that day and the :data:`_TAIL_DAYS` before it); the result equals a derivation from scratch.

    A cache written by another version of the code or for another station list, area table or AQI edition is
    ignored; a damaged one is derived again, with a :class:`CacheNote` warning — never an error.

    Parameters
    ----------
    data : path-like
        Data directory (:mod:`forecast.workspace`).
    cache : path-like, optional
        Workspace (default ``DATA/.lantian``).
    areas : DataFrame, optional
        The region's area table (default the data directory's region).
    standard : str
        AQI edition (``"auto"``: by date).

    Returns
    -------
    obs : forecast.features.Observations
    sites : DataFrame
        The station list (stations in an area).
    report : dict
        The history report (:func:`build_history`), with ``observations``: ``"cached"``, ``"updated from
        YYYY-MM-DD"`` or ``"derived"``, and ``cache_notes`` (what was rebuilt and why).
    """
    import warnings

    from . import features

    if areas is None:
        from .region import load_region

        areas = load_region(data=data).areas
    log, listed, sites, files, key = _archive_state(data, cache, areas)
    cdir = workspace.cache_dir(data, cache)
    odir = cdir / "observations"
    context = f"{_code_version()}:{standard}:{_fingerprint([Path(workspace.sites_file(data))])}:{_areas_key(areas)}"
    old, digests, manifest, note = _read_observations(odir, context)
    notes = [note] if note else []
    for n in notes:
        warnings.warn(n, CacheNote, stacklevel=2)
    if old is not None and manifest.get("history_key") == key:
        meta = _cached_meta(cdir / "history.json", key)
        if meta is not None:
            meta.update(cached=True, observations="cached", cache_notes=notes)
            return old, sites, meta
    history, sites, meta = build_history(data, cache=cache, progress=progress, areas=areas)
    since = meta.get("derived_from")
    if old is not None and since and meta.get("based_on") and manifest.get("history_key") == meta["based_on"]:
        # the history before the hours derived again is the one the kept digests describe: only the days from
        # the one before are hashed again (a row's day is the day its hour ends)
        t0 = pd.Timestamp(since) - pd.Timedelta(days=1)
        new_digests = pd.concat([digests[digests.index < t0],
                                 _day_hashes(history[history["time"] > t0.tz_localize(TZ)])])
        new_digests.index.name = "day"
    else:
        new_digests = _day_hashes(history)
    first = _first_changed_day(digests, new_digests) if old is not None else None
    if old is not None and first is None:
        obs, how = old, "cached"
    elif old is not None and first > new_digests.index.min():
        start = (first - pd.Timedelta(days=_TAIL_DAYS)).tz_localize(TZ)
        tail = history[history["time"] > start]
        obs, how = _splice(old, features.observations(tail, sites, standard=standard), first), \
            f"updated from {first.date()}"
        obs.pollutants = tuple(p for p in SPECIES if p in set(history["pollutant"].unique()))
    else:
        obs, how = features.observations(history, sites, standard=standard), "derived"
    try:
        _write_observations(odir, obs, new_digests, {"context": context, "history_key": meta["key"]})
    except OSError as exc:  # a full disk leaves the old cache; the forecast goes on
        notes.append(f"{odir}: could not keep the area observations ({exc})")
        warnings.warn(notes[-1], CacheNote, stacklevel=2)
    meta = {**meta, "observations": how, "cache_notes": notes}
    return obs, sites, meta
