"""Monitoring-station history: the CNEMC hourly archive, quality control, and area daily / rolling-24-h AQI.

The CNEMC archive is one ``china_sites_YYYYMMDD.csv`` per day with columns ``date,hour,type,<station code>…`` and one
row per hour and type; the station list (站点列表) has columns ``监测点编码,监测点名称,城市,经度,纬度[,对照点]``.
Both are translated here, once, into the nomenclature:

``history`` (tidy, one row per hourly value)
    ``time`` end of the averaging hour, China Standard Time (tz-aware ``Asia/Shanghai``); ``station``;
    ``area_id``; ``pollutant`` in ``pm25, pm10, so2, no2, co, o3``; ``value`` [µg m⁻³; mg m⁻³ for CO].
``sites``
    ``station, station_name, city, area_id, lon, lat, background``.

A day D holds the hourly values whose hour *ends* in (D 00:00, D+1 00:00], i.e. CNEMC hours 1–23 of D and hour 0 of
D+1, as HJ 663 forms natural-day means from the 1:00 … 24:00 values.

References
----------
GB 3095-2012 Table 4 note and HJ 663-2013 section 5 (data validity: ≥ 20 hourly values for a 24-h mean, ≥ 6 for an
8-h O3 mean, ≥ 14 valid 8-h means between 08:00 and 24:00 for the daily maximum 8-h O3).
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import aqi as _aqi
from .nomenclature import TZ
from ._tables import read_commented_csv
from .areas import load_areas, resolve

DATA_DIR = Path(__file__).parent / "data"
SPECIES = ("pm25", "pm10", "so2", "no2", "co", "o3")
#: CNEMC ``type`` values of the hourly concentrations → nomenclature (the _24h / AQI rows are derived and skipped)
CNEMC_TYPES = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}
CNEMC_DERIVED_TYPES = ("AQI", "PM2.5_24h", "PM10_24h", "SO2_24h", "NO2_24h", "O3_24h", "O3_8h", "O3_8h_24h", "CO_24h")
SITE_COLUMNS = {"监测点编码": "station", "监测点名称": "station_name", "城市": "city", "经度": "lon", "纬度": "lat",
                "对照点": "background"}
HISTORY_COLUMNS = ("time", "station", "area_id", "pollutant", "value")
QC_REASONS = ("non_numeric", "duplicate", "negative", "implausible", "stuck", "pm25_gt_pm10")
#: minimum valid hours (GB 3095-2012 / HJ 663-2013)
MIN_HOURS_24H = 20
MIN_HOURS_8H = 6
MIN_8H_MEANS_DAILY = 14
O3_8H_LIMIT = 160.0  # GB 3095-2012 grade II daily max 8-h O3 [µg m⁻³]


class StationDataError(ValueError):
    """A station file or table that cannot be used; the message names the file and the problem."""


@dataclass
class ReadLog:
    """What the reader skipped or dropped, file by file and row by row (nothing is dropped silently)."""

    entries: list[dict] = field(default_factory=list)
    files_read: int = 0

    def add(self, file, problem: str, row: int | None = None, action: str = "row skipped"):
        self.entries.append({"file": str(file), "row": row, "problem": problem, "action": action})

    def skip_file(self, file, problem: str):
        self.add(file, problem, None, "file skipped")

    @property
    def files_skipped(self) -> list[str]:
        return [e["file"] for e in self.entries if e["action"] == "file skipped"]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.entries, columns=["file", "row", "problem", "action"])

    def summary(self) -> str:
        skipped = len(self.files_skipped)
        rows = sum(1 for e in self.entries if e["action"] == "row skipped")
        other = len(self.entries) - skipped - rows
        return (f"{self.files_read} file(s) read, {skipped} skipped, {rows} row(s) skipped, "
                f"{other} other note(s)")


# --------------------------------------------------------------------------------------------------- station list
def read_station_list(path: str | Path, areas: pd.DataFrame | None = None, *, keep_unknown: bool = False
                      ) -> pd.DataFrame:
    """Read a CNEMC station list into ``sites``.

    Parameters
    ----------
    path : path-like
        CSV with ``监测点编码,监测点名称,城市,经度,纬度`` (optionally ``对照点``), or the English
        ``station,station_name,city,lon,lat[,background]``.
    areas : pandas.DataFrame, optional
        Area table (:func:`forecast.areas.load_areas`); stations whose ``城市`` is not one of its areas (the national
        list covers all of China) are dropped unless ``keep_unknown``.

    Returns
    -------
    pandas.DataFrame
        ``station, station_name, city, area_id, lon [°E], lat [°N], background`` (bool).

    Raises
    ------
    StationDataError
        Unreadable file, missing columns, duplicate station codes, coordinates out of range.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise StationDataError(f"{path}: cannot read station list ({exc})") from None
    raw.columns = [c.strip() for c in raw.columns]
    table = raw.rename(columns=SITE_COLUMNS)
    required = ["station", "station_name", "city", "lon", "lat"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise StationDataError(f"{path}: station list lacks column(s) {missing}; found {list(raw.columns)}; "
                               f"expected 监测点编码,监测点名称,城市,经度,纬度[,对照点]")
    table["station"] = table["station"].str.strip()
    dup = table["station"][table["station"].duplicated()].unique()
    if len(dup):
        raise StationDataError(f"{path}: duplicate station code(s) {list(dup)[:10]}")
    for col, lo, hi in (("lon", 70.0, 140.0), ("lat", 15.0, 56.0)):
        values = pd.to_numeric(table[col], errors="coerce")
        bad = table.loc[values.isna() | (values < lo) | (values > hi), "station"]
        if len(bad):
            raise StationDataError(f"{path}: station(s) {list(bad)[:10]} have {col} outside {lo}–{hi} or non-numeric")
        table[col] = values
    if "background" in table.columns:
        table["background"] = table["background"].fillna("").str.strip().str.upper().isin(["Y", "YES", "是", "1", "TRUE"])
    else:
        table["background"] = False
    table["area_id"] = resolve(table["city"], load_areas() if areas is None else areas).to_numpy()
    if not keep_unknown:
        table = table[table["area_id"].notna()]
    return table[["station", "station_name", "city", "area_id", "lon", "lat", "background"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------- archive
_FILE_DATE = re.compile(r"china_sites_(\d{8})\.csv$")


def _decode(path: Path, log: ReadLog) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.skip_file(path, f"cannot read ({exc.strerror or exc})")
        return None
    if not raw.strip():
        log.skip_file(path, "empty file")
        return None
    if b"\x00" in raw[:8192]:
        log.skip_file(path, "not a CSV file (binary content)")
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    log.skip_file(path, "not a text CSV file (neither UTF-8 nor GB18030)")
    return None


def _validate_lines(path: Path, log: ReadLog):
    """Decode a daily file and keep the lines with the header's number of fields: ``(header, lines, numbers)``."""
    text = _decode(path, log)
    if text is None:
        return None
    lines = text.splitlines()
    header = tuple(h.strip() for h in lines[0].split(","))
    missing = [c for c in ("date", "hour", "type") if c not in header]
    if missing:
        log.skip_file(path, f"wrong header: missing column(s) {missing}; found {list(header[:6])}")
        return None
    n_fields = len(header)
    good, numbers = [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.count(",") + 1
        if fields != n_fields:
            why = "truncated row" if fields < n_fields else "too many fields"
            log.add(path, f"line {number}: {why} ({fields} of {n_fields} fields)", number)
            continue
        good.append(line)
        numbers.append(number)
    if not numbers:
        log.skip_file(path, "no data rows")
        return None
    log.files_read += 1
    return header, good, numbers


def _parse_block(header, lines, numbers, files, stations, log: ReadLog, removed: list | None) -> pd.DataFrame:
    """Parse validated lines (of one or more files with the same header) into tidy rows."""
    frame = pd.read_csv(io.StringIO(",".join(header) + "\n" + "\n".join(lines)), dtype={"date": str, "type": str},
                        na_values=[""], keep_default_na=False, engine="c")
    frame.columns = [c.strip() for c in frame.columns]
    station_cols = [c for c in frame.columns if c not in ("date", "hour", "type")]
    if stations is not None:
        unknown = [c for c in station_cols if c not in stations]
        if unknown:
            for f in dict.fromkeys(files):
                log.add(f, f"unknown station code(s) not in the station list: {', '.join(unknown[:20])}"
                        + (" …" if len(unknown) > 20 else ""), None, "column(s) dropped")
        station_cols = [c for c in station_cols if c in stations]
    date = pd.to_datetime(frame["date"].str.strip(), format="%Y%m%d", errors="coerce").to_numpy()
    hour = pd.to_numeric(frame["hour"], errors="coerce").to_numpy(float)
    bad_time = np.isnat(date) | np.isnan(hour) | (hour < 0) | (hour > 23)
    for idx in np.flatnonzero(bad_time):
        log.add(files[idx], f"line {numbers[idx]}: bad date/hour {frame['date'].iat[idx]!r}/"
                f"{frame['hour'].iat[idx]!r}", numbers[idx])
    types = frame["type"].str.strip().to_numpy(dtype=object)
    known_type = np.isin(types, list(CNEMC_TYPES))
    odd = ~known_type & ~np.isin(types, CNEMC_DERIVED_TYPES) & ~bad_time
    for idx in np.flatnonzero(odd):
        log.add(files[idx], f"line {numbers[idx]}: unknown type {types[idx]!r}", numbers[idx])
    keep = known_type & ~bad_time
    if not keep.any() or not station_cols:
        return _empty_history(with_area=False)
    # wall-clock CST end-of-hour times; localised once at the end
    time = date[keep] + (hour[keep] * 3600).astype("timedelta64[s]")
    pollutant = np.array([CNEMC_TYPES[t] for t in types[keep]], dtype=object)
    block = frame[station_cols]
    numeric = [c.kind in "fiu" for c in block.dtypes]
    values = np.empty((int(keep.sum()), len(station_cols)))
    if all(numeric):
        values[:] = block.to_numpy(float)[keep]
    kept_files = np.asarray(files, dtype=object)[keep]
    for j, col in enumerate(station_cols):
        if numeric[j]:
            if not all(numeric):
                values[:, j] = block[col].to_numpy(float)[keep]
            continue
        column = block[col][keep]
        text = column.astype(str).str.strip()
        num = pd.to_numeric(text, errors="coerce").to_numpy(float)
        values[:, j] = num
        bad = np.isnan(num) & column.notna().to_numpy() & (text.str.lower() != "nan").to_numpy() & \
            (text != "").to_numpy()
        if removed is not None and bad.any():
            removed.append(pd.DataFrame({
                "time": pd.DatetimeIndex(time[bad]).tz_localize(TZ), "station": col, "pollutant": pollutant[bad],
                "value": np.nan, "raw": text.to_numpy()[bad], "reason": "non_numeric",
                "source": kept_files[bad].astype(str)}))
    n_t, n_s = values.shape
    flat = values.ravel()
    ok = ~np.isnan(flat)
    return pd.DataFrame({"time": pd.DatetimeIndex(np.repeat(time, n_s)[ok]).tz_localize(TZ),
                         "station": np.tile(np.asarray(station_cols, dtype=object), n_t)[ok],
                         "pollutant": np.repeat(pollutant, n_s)[ok], "value": flat[ok]})


def read_cnemc_file(path: str | Path, stations=None, *, log: ReadLog | None = None,
                    removed: list | None = None) -> pd.DataFrame | None:
    """Read one ``china_sites_YYYYMMDD.csv`` into tidy rows (without ``area_id``).

    Rows with a wrong number of fields (a truncated file), bad ``date``/``hour`` or unknown ``type`` are skipped and
    logged with their line number; columns of station codes not in ``stations`` are dropped and logged;
    non-numeric cells are removed and recorded in ``removed`` (reason ``non_numeric``). A file that cannot be used
    at all (wrong header, binary, empty) is logged and gives ``None``.
    """
    path = Path(path)
    log = ReadLog() if log is None else log
    checked = _validate_lines(path, log)
    if checked is None:
        return None
    header, lines, numbers = checked
    known = None if stations is None else frozenset(stations)
    return _parse_block(header, lines, numbers, [path] * len(lines), known, log, removed)


def _empty_history(with_area: bool = True) -> pd.DataFrame:
    cols = {"time": pd.Series(dtype=f"datetime64[ns, {TZ}]"), "station": pd.Series(dtype="string"),
            "pollutant": pd.Series(dtype="string"), "value": pd.Series(dtype=float)}
    if with_area:
        cols["area_id"] = pd.Series(dtype="string")
    return pd.DataFrame(cols)[[c for c in HISTORY_COLUMNS if c in cols]]


def archive_files(directory: str | Path, start=None, end=None) -> list[Path]:
    """``china_sites_YYYYMMDD.csv`` files of a directory in date order, optionally within [start, end]."""
    directory = Path(directory)
    if not directory.is_dir():
        raise StationDataError(f"{directory}: no such directory (expected the CNEMC archive china_sites_*.csv)")
    files = []
    for p in directory.iterdir():
        m = _FILE_DATE.search(p.name)
        if not m:
            continue
        day = pd.Timestamp(m.group(1))
        if (start is not None and day < pd.Timestamp(start)) or (end is not None and day > pd.Timestamp(end)):
            continue
        files.append(p)
    return sorted(files)


def read_cnemc_archive(files, sites: pd.DataFrame, *, progress: bool = False, log: ReadLog | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame, ReadLog]:
    """Read many CNEMC daily files into one ``history`` table.

    Parameters
    ----------
    files : directory or iterable of paths
        The archive directory or explicit files.
    sites : pandas.DataFrame
        Station list from :func:`read_station_list`; stations not in it are dropped (and logged).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    history : pandas.DataFrame
        Tidy hourly values (``time, station, area_id, pollutant, value``), sorted.
    removed : pandas.DataFrame
        Non-numeric cells removed while reading (reason ``non_numeric``).
    log : ReadLog
        Files and rows skipped, with the reason. A bad file never loses the files read before it.
    """
    if isinstance(files, (str, Path)):
        files = archive_files(files)
    files = list(files)
    log = ReadLog() if log is None else log
    removed: list[pd.DataFrame] = []
    parts = []
    iterator = files
    if progress:
        from tqdm import tqdm
        iterator = tqdm(files, desc="station files", unit="file")
    stations = frozenset(sites["station"])
    batch: dict = {"header": None, "lines": [], "numbers": [], "files": []}

    def flush():
        if batch["lines"]:
            part = _parse_block(batch["header"], batch["lines"], batch["numbers"], batch["files"], stations, log,
                                removed)
            if len(part):
                parts.append(part)
        batch.update(header=None, lines=[], numbers=[], files=[])

    # consecutive files with the same header are parsed together (one read_csv per batch, not per file)
    for path in iterator:
        checked = _validate_lines(Path(path), log)
        if checked is None:
            continue
        header, lines, numbers = checked
        if header != batch["header"] or len(batch["lines"]) > 20000:
            flush()
            batch["header"] = header
        batch["lines"].extend(lines)
        batch["numbers"].extend(numbers)
        batch["files"].extend([Path(path)] * len(lines))
    flush()
    history = pd.concat(parts, ignore_index=True) if parts else _empty_history(with_area=False)
    history = _attach_area(history, sites)
    removed_frame = pd.concat(removed, ignore_index=True) if removed else _empty_removed()
    return history, removed_frame, log


def _attach_area(history: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    area = dict(zip(sites["station"], sites["area_id"]))
    history = history.copy()
    station = pd.Categorical(history["station"])
    order = np.lexsort((_time_ns(history["time"]), _codes(history["pollutant"]), station.codes))
    history = history.iloc[order].reset_index(drop=True)
    history["area_id"] = history["station"].map(area).astype("string")
    history["station"] = history["station"].astype("string")
    history["pollutant"] = history["pollutant"].astype("string")
    history["value"] = history["value"].astype(float)
    return history[list(HISTORY_COLUMNS)]


def read_long_csv(path: str | Path, sites: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a plain long CSV ``time,station,pollutant,value`` (time in CST unless it carries an offset).

    Pollutant names may be the nomenclature (``pm25``) or CNEMC's (``PM2.5``). Returns ``(history, removed)``.

    Raises
    ------
    StationDataError
        Missing columns, unparseable times, unknown pollutants (the message lists them and the allowed set).
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype={"station": str, "pollutant": str, "value": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise StationDataError(f"{path}: cannot read long CSV ({exc})") from None
    missing = [c for c in ("time", "station", "pollutant", "value") if c not in frame.columns]
    if missing:
        raise StationDataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}; "
                               f"expected time,station,pollutant,value")
    pollutant = frame["pollutant"].str.strip().map(lambda p: CNEMC_TYPES.get(p, p.lower() if isinstance(p, str) else p))
    bad = sorted(set(pollutant.dropna()) - set(SPECIES))
    if bad:
        raise StationDataError(f"{path}: unknown pollutant(s) {bad}; allowed: {', '.join(SPECIES)}")
    time = pd.to_datetime(frame["time"], errors="coerce", utc=False, format="mixed")
    if time.isna().any():
        first = int(np.flatnonzero(time.isna().to_numpy())[0]) + 2
        raise StationDataError(f"{path}: line {first}: unparseable time {frame['time'].iat[first - 2]!r}")
    time = time.dt.tz_localize(TZ) if time.dt.tz is None else time.dt.tz_convert(TZ)
    value = pd.to_numeric(frame["value"], errors="coerce")
    nonnum = value.isna() & frame["value"].notna() & (frame["value"].str.strip() != "")
    removed = pd.DataFrame({"time": time[nonnum], "station": frame["station"][nonnum],
                            "pollutant": pollutant[nonnum], "value": np.nan, "raw": frame["value"][nonnum],
                            "reason": "non_numeric", "source": str(path)})
    keep = value.notna()
    history = pd.DataFrame({"time": time[keep], "station": frame["station"][keep].str.strip(),
                            "pollutant": pollutant[keep], "value": value[keep]})
    if sites is None:
        history["area_id"] = pd.NA
        history = history[list(HISTORY_COLUMNS)].sort_values(["station", "pollutant", "time"]).reset_index(drop=True)
        return history, removed.reset_index(drop=True)
    return _attach_area(history, sites), removed.reset_index(drop=True)


def _empty_removed() -> pd.DataFrame:
    return pd.DataFrame({"time": pd.Series(dtype=f"datetime64[ns, {TZ}]"), "station": pd.Series(dtype="string"),
                         "pollutant": pd.Series(dtype="string"), "value": pd.Series(dtype=float),
                         "raw": pd.Series(dtype="string"), "reason": pd.Series(dtype="string"),
                         "source": pd.Series(dtype="string")})


# --------------------------------------------------------------------------------------------------- QC
def load_qc_limits(path: str | Path | None = None) -> pd.DataFrame:
    """QC limits per pollutant (``max_hourly`` [µg m⁻³; mg m⁻³ for CO], ``stuck_hours`` [h])."""
    table = read_commented_csv(path or DATA_DIR / "qc_limits.csv").set_index("pollutant")
    missing = set(SPECIES) - set(table.index)
    if missing:
        raise StationDataError(f"QC limits table {path}: no row for {sorted(missing)}")
    return table


def quality_control(history: pd.DataFrame, *, limits: pd.DataFrame | None = None,
                    pm_tolerance: float = 5.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove bad hourly values and record each removal with its reason.

    Checks, in order: duplicate (time, station, pollutant) rows (the first is kept); negative values; values above
    the pollutant's ``max_hourly``; stuck sensors (identical values on at least ``stuck_hours`` consecutive hours);
    PM2.5 above PM10 + ``pm_tolerance`` in the same station-hour (both values removed).

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values.
    limits : pandas.DataFrame, optional
        From :func:`load_qc_limits` (default: the shipped table).
    pm_tolerance : float
        Allowance for instrument noise in the PM2.5 ≤ PM10 check. [µg m⁻³]

    Returns
    -------
    clean : pandas.DataFrame
        ``history`` without the removed values.
    removed : pandas.DataFrame
        ``time, station, pollutant, value, raw, reason, source`` with ``reason`` in :data:`QC_REASONS`.
    """
    limits = load_qc_limits() if limits is None else limits
    h = history.sort_values(["station", "pollutant", "time"], kind="stable").reset_index(drop=True)
    reason = pd.Series(pd.NA, index=h.index, dtype="string")

    dup = h.duplicated(["time", "station", "pollutant"], keep="first")
    reason[dup] = "duplicate"
    value = h["value"].to_numpy(float)
    reason[(value < 0) & reason.isna().to_numpy()] = "negative"
    max_hourly = h["pollutant"].map(limits["max_hourly"]).to_numpy(float)
    reason[(value > max_hourly) & reason.isna().to_numpy()] = "implausible"

    live = reason.isna().to_numpy()
    idx = np.flatnonzero(live)
    if len(idx):
        sub = h.iloc[idx]
        v = sub["value"].to_numpy(float)
        t = _time_ns(sub["time"])
        series = _codes(sub["station"]) * 16 + _codes(sub["pollutant"])
        key_change = series != np.roll(series, 1)
        step = np.diff(t, prepend=t[:1]) != 3_600_000_000_000
        new_run = key_change | step | (v != np.roll(v, 1))
        new_run[0] = True
        run_id = np.cumsum(new_run)
        run_len = np.bincount(run_id)[run_id]
        stuck_hours = sub["pollutant"].map(limits["stuck_hours"]).to_numpy(float)
        stuck = run_len >= stuck_hours
        reason.iloc[idx[stuck]] = "stuck"

    live = reason.isna().to_numpy()
    pollutant = h["pollutant"].to_numpy(dtype=object)
    is25, is10 = live & (pollutant == "pm25"), live & (pollutant == "pm10")
    if is25.any() and is10.any():
        key = _codes(h["station"]).astype(np.int64) * (1 << 40) + _time_ns(h["time"]) // 3_600_000_000_000
        pm10 = pd.Series(value[is10], index=key[is10])
        paired = pm10.reindex(key[is25]).to_numpy()
        bad_keys = key[is25][value[is25] > paired + pm_tolerance]
        if len(bad_keys):
            hit = np.isin(key, bad_keys) & (is25 | is10)
            reason[hit] = "pm25_gt_pm10"

    drop = reason.notna().to_numpy()
    removed = h.loc[drop, ["time", "station", "pollutant", "value"]].copy()
    removed["raw"] = h.loc[drop, "value"].map(repr).astype("string")
    removed["reason"] = reason[drop]
    removed["source"] = "qc"
    return h.loc[~drop].reset_index(drop=True), removed.reset_index(drop=True)


def _time_ns(times: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC) of a tz-aware or naive datetime Series, without object arrays."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _codes(values: pd.Series) -> np.ndarray:
    return pd.Categorical(values).codes.astype(np.int64)


def qc_summary(removed: pd.DataFrame) -> pd.DataFrame:
    """Counts of removed values per reason and pollutant."""
    if removed.empty:
        return pd.DataFrame(columns=["reason", "pollutant", "count"])
    return removed.groupby(["reason", "pollutant"]).size().rename("count").reset_index()


# --------------------------------------------------------------------------------------------------- storage
def save_history(history: pd.DataFrame, path: str | Path) -> Path:
    """Write ``history`` to parquet atomically (a failed write never damages an existing store)."""
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
    """Read a parquet ``history`` store written by :func:`save_history`."""
    path = Path(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise StationDataError(f"{path}: cannot read station history store ({exc})") from None
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise StationDataError(f"{path}: not a lantian station history (missing {missing})")
    for col in ("station", "area_id", "pollutant"):
        frame[col] = frame[col].astype("string")
    return frame


# --------------------------------------------------------------------------------------------------- aggregation
def _wide(history: pd.DataFrame, pollutant: str) -> pd.DataFrame:
    """Hourly values of one pollutant as a complete hourly (time × station) frame; gaps are NaN."""
    sub = history[history["pollutant"] == pollutant]
    if sub.empty:
        return pd.DataFrame()
    wide = sub.pivot_table(index="time", columns="station", values="value", aggfunc="first", observed=True)
    full = pd.date_range(wide.index.min(), wide.index.max(), freq="h")
    return wide.reindex(full)


def _day_of(end_times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Natural day of hourly values labelled by the end of their hour (01:00 … 24:00 belong to the day)."""
    return (end_times - pd.Timedelta(hours=1)).tz_localize(None).floor("D")


def station_daily(history: pd.DataFrame) -> pd.DataFrame:
    """Daily values per station with the validity rules of GB 3095-2012 / HJ 663-2013.

    Returns
    -------
    pandas.DataFrame
        Index (``date``, ``station``); columns ``pm25_24h, pm10_24h, so2_24h, no2_24h, co_24h`` (24-h means, NaN
        with fewer than 20 valid hours), ``o3_8h`` (daily maximum 8-h running mean over the windows ending 08:00 …
        24:00; needs ≥ 14 valid 8-h means, each from ≥ 6 hours, unless the maximum exceeds 160 µg m⁻³) and
        ``o3_1h`` (daily maximum 1-h O3, ≥ 20 valid hours). [µg m⁻³; mg m⁻³ for CO]
    """
    parts = {}
    for p in ("pm25", "pm10", "so2", "no2", "co"):
        wide = _wide(history, p)
        if wide.empty:
            continue
        day = _day_of(wide.index)
        grouped = wide.groupby(day)
        mean = grouped.mean().where(grouped.count() >= MIN_HOURS_24H)
        parts[f"{p}_24h"] = mean.stack(future_stack=True)
    wide = _wide(history, "o3")
    if not wide.empty:
        day = _day_of(wide.index)
        grouped = wide.groupby(day)
        parts["o3_1h"] = grouped.max().where(grouped.count() >= MIN_HOURS_24H).stack(future_stack=True)
        run8 = wide.rolling(8, min_periods=MIN_HOURS_8H).mean()
        start = wide.index - pd.Timedelta(hours=1)  # start hour of the last hour in the window
        in_window = (start.hour >= 7)  # windows ending 08:00 … 24:00
        run8 = run8[in_window]
        d8 = _day_of(run8.index)
        g8 = run8.groupby(d8)
        mx, n = g8.max(), g8.count()
        parts["o3_8h"] = mx.where((n >= MIN_8H_MEANS_DAILY) | (mx > O3_8H_LIMIT)).stack(future_stack=True)
    if not parts:
        return pd.DataFrame(columns=["pm25_24h"]).rename_axis(["date", "station"])
    out = pd.DataFrame(parts)
    out.index = out.index.set_names(["date", "station"])
    return out.sort_index()


def station_rolling_24h(history: pd.DataFrame) -> pd.DataFrame:
    """Rolling 24-h means (≥ 20 valid hours) per station and hour, and the trailing-24-h maximum 8-h O3.

    The rolling value at time t averages the 24 hours ending at t; it can cross calendar days, as the warning rules
    ask (REFERENCE 1.1). Index (``time``, ``station``); columns as in :func:`station_daily`.
    """
    parts = {}
    for p in ("pm25", "pm10", "so2", "no2", "co"):
        wide = _wide(history, p)
        if not wide.empty:
            parts[f"{p}_24h"] = wide.rolling(24, min_periods=MIN_HOURS_24H).mean().stack(future_stack=True)
    wide = _wide(history, "o3")
    if not wide.empty:
        run8 = wide.rolling(8, min_periods=MIN_HOURS_8H).mean()
        parts["o3_8h"] = run8.rolling(24, min_periods=MIN_8H_MEANS_DAILY).max().stack(future_stack=True)
    out = pd.DataFrame(parts)
    out.index = out.index.set_names(["time", "station"])
    return out.sort_index()


def _area_mean(per_station: pd.DataFrame, sites: pd.DataFrame, level: str) -> pd.DataFrame:
    """Mean over each area's assessment stations (background stations excluded) of valid station values."""
    assess = sites[~sites["background"].astype(bool)]
    area = dict(zip(assess["station"], assess["area_id"]))
    frame = per_station.reset_index()
    frame["area_id"] = frame["station"].map(area)
    frame = frame[frame["area_id"].notna()]
    value_cols = [c for c in per_station.columns]
    grouped = frame.groupby([level, "area_id"])
    out = grouped[value_cols].mean()
    out["n_stations"] = grouped["pm25_24h"].count() if "pm25_24h" in value_cols else grouped.size()
    return out


def area_daily(history: pd.DataFrame, sites: pd.DataFrame, *, standard: str = "auto") -> pd.DataFrame:
    """Daily concentrations and AQI per area (league/city or banner/county).

    Parameters
    ----------
    history : pandas.DataFrame
        Tidy hourly values, quality controlled.
    sites : pandas.DataFrame
        Station list with ``area_id`` and ``background``.
    standard : str
        AQI edition (``"auto"``: by date, HJ 633-2026 from 2026-03-01).

    Returns
    -------
    pandas.DataFrame
        One row per (``date``, ``area_id``) with the daily concentrations of :func:`station_daily` averaged over the
        area's assessment stations, ``n_stations`` (stations with a valid PM2.5 day) and the AQI columns of
        :func:`forecast.aqi.aqi`. Days that fail validity are missing (NaN AQI), never zero.
    """
    daily = _area_mean(station_daily(history), sites, "date").reset_index()
    return _with_aqi(daily, "date", standard)


def area_rolling_24h(history: pd.DataFrame, sites: pd.DataFrame, *, standard: str = "auto") -> pd.DataFrame:
    """Hourly rolling-24-h concentrations and AQI per area (for warnings that cross calendar days)."""
    rolling = _area_mean(station_rolling_24h(history), sites, "time").reset_index()
    return _with_aqi(rolling, "time", standard)


def _with_aqi(frame: pd.DataFrame, date_col: str, standard: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    conc = frame[[c for c in _aqi.DAILY_KEYS if c in frame.columns]].copy()
    dates = frame[date_col]
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    conc["_date"] = dates.to_numpy()
    table = _aqi.aqi(conc, standard=standard, date_column="_date" if standard == "auto" else None)
    table = table.drop(columns=[c for c in table.columns if c.startswith("iaqi_")])
    return pd.concat([frame.reset_index(drop=True), table.reset_index(drop=True)], axis=1)
