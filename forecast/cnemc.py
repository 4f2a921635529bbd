"""The CNEMC hourly archive and station list: read once, translated into the nomenclature.

This is the I/O edge for station data: CNEMC's file layout, ``type`` names and Chinese column names are known here
and nowhere else.

The archive is one ``china_sites_YYYYMMDD.csv`` per day with columns ``date,hour,type,<station code>…`` and one row
per hour and type; the station list (站点列表) has columns ``监测点编码,监测点名称,城市,经度,纬度[,对照点]``. Both
become

``history`` (tidy, one row per hourly value; columns :data:`HISTORY_COLUMNS`)
    ``time`` end of the averaging hour, China Standard Time (tz-aware ``Asia/Shanghai``); ``station``;
    ``area_id``; ``pollutant`` in ``pm25, pm10, so2, no2, co, o3``; ``value`` [µg m⁻³; mg m⁻³ for CO].
``sites``
    ``station, station_name, city, area_id, lon, lat, background``.

CNEMC's ``hour`` 0 … 23 labels the hour by its end, so hour 0 of D+1 is the 24:00 value of day D (HJ 663-2013
forms natural-day means from the 1:00 … 24:00 values; the day itself is formed in :mod:`forecast.averaging`).
The derived rows of the archive (``AQI``, ``PM2.5_24h`` …, :data:`CNEMC_DERIVED_TYPES`) are skipped: lantian
recomputes them from the hourly values. Archives come as they are: any subset of the six species is read (an
older archive may carry PM2.5 only); what the AQI can be computed from is decided downstream
(:func:`forecast.aqi.aqi`, ``aqi_partial``). Nothing is dropped silently: the reader's :class:`ReadLog` lists every
skipped file, row and column — a row dated otherwise than its daily file, and once per station list the stations
of cities outside the area table — and non-numeric cells are returned as removals with reason ``non_numeric``.

References
----------
.. [1] HJ 663-2013 Technical Regulation for Ambient Air Quality Assessment (on trial), clause 3 (terms: 1-h mean,
   24-h mean as the mean of a natural day's hourly values).
.. [2] China National Environmental Monitoring Centre (CNEMC), national real-time air quality release: hourly
   station data ``china_sites_YYYYMMDD.csv`` and the station list.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .areas import load_areas, resolve
from .nomenclature import SPECIES, TZ

#: CNEMC ``type`` values of the hourly concentrations → nomenclature (the _24h / AQI rows are derived and skipped)
CNEMC_TYPES = {"PM2.5": "pm25", "PM10": "pm10", "SO2": "so2", "NO2": "no2", "CO": "co", "O3": "o3"}
#: CNEMC ``type`` values derived from the hourly rows (skipped without a log entry)
CNEMC_DERIVED_TYPES = ("AQI", "PM2.5_24h", "PM10_24h", "SO2_24h", "NO2_24h", "O3_24h", "O3_8h", "O3_8h_24h", "CO_24h")
#: station-list columns (Chinese CNEMC header → nomenclature)
SITE_COLUMNS = {"监测点编码": "station", "监测点名称": "station_name", "城市": "city", "经度": "lon", "纬度": "lat",
                "对照点": "background"}
#: columns of the tidy ``history`` table, in order (the store, :mod:`forecast.history`, keeps the same)
HISTORY_COLUMNS = ("time", "station", "area_id", "pollutant", "value")
#: the read-log action of the station-list note (stations of cities that match no area)
STATIONS_DROPPED = "stations dropped"
#: the read-log action of a row dated otherwise than its daily file (skipped, never moved; shown in the history's
#: report lines, :func:`forecast.history.report_lines`)
ROW_OTHER_DAY = "row skipped (dated otherwise)"
#: the columns of an area table (forecast/data/areas.csv), for the example row of the no-match error
_AREA_ROW = "{area_id},{name_zh},{short_zh},{name_en},city,,{gb},{lon:.2f},{lat:.2f}"


class StationDataError(ValueError):
    """A station file or table that cannot be used; the message names the file and the problem."""


@dataclass
class ReadLog:
    """What the reader skipped or dropped, file by file and row by row (nothing is dropped silently).

    Attributes
    ----------
    entries : list of dict
        One entry per note: ``file``, ``row`` (line number in the file, 1 = header; ``None`` for the whole file),
        ``problem`` (what was wrong) and ``action`` (``"row skipped"``, ``"row skipped (dated otherwise)"``,
        ``"file skipped"``, ``"column(s) dropped"``, ``"stations dropped"``).
    files_read : int
        Files with at least one usable data row.
    """

    entries: list[dict] = field(default_factory=list)
    files_read: int = 0

    def add(self, file, problem: str, row: int | None = None, action: str = "row skipped"):
        """Record one note about ``file`` (``row`` its line number, or ``None`` for the whole file)."""
        self.entries.append({"file": str(file), "row": row, "problem": problem, "action": action})

    def skip_file(self, file, problem: str):
        """Record that ``file`` could not be used at all."""
        self.add(file, problem, None, "file skipped")

    @property
    def stations_dropped(self) -> list[dict]:
        """The station-list notes: stations of cities that match no area (:func:`stations_in_areas`)."""
        return [e for e in self.entries if e["action"] == STATIONS_DROPPED]

    @property
    def files_skipped(self) -> list[str]:
        """The files that were skipped whole."""
        return [e["file"] for e in self.entries if e["action"] == "file skipped"]

    def to_frame(self) -> pd.DataFrame:
        """The entries as a table ``file, row, problem, action``."""
        return pd.DataFrame(self.entries, columns=["file", "row", "problem", "action"])

    def summary(self) -> str:
        """One line: files read and skipped, rows skipped, other notes."""
        skipped = len(self.files_skipped)
        rows = sum(1 for e in self.entries if e["action"] in ("row skipped", ROW_OTHER_DAY))
        other = len(self.entries) - skipped - rows
        return (f"{self.files_read} file(s) read, {skipped} skipped, {rows} row(s) skipped, "
                f"{other} other note(s)")


# --------------------------------------------------------------------------------------------------- station list
def read_station_list(path: str | Path, areas: pd.DataFrame | None = None, *, keep_unknown: bool = False,
                      log: ReadLog | None = None) -> pd.DataFrame:
    """Read a CNEMC station list into ``sites``.

    Parameters
    ----------
    path : path-like
        CSV with ``监测点编码,监测点名称,城市,经度,纬度`` (optionally ``对照点``), or the English
        ``station,station_name,city,lon,lat[,background]``.
    areas : pandas.DataFrame, optional
        Area table (the region's, :class:`forecast.region.Region`; default the shipped one); stations whose ``城市``
        is not one of its areas (the national list covers all of China) are dropped unless ``keep_unknown``
        (:func:`stations_in_areas`: one note in ``log`` names their cities and counts).
    keep_unknown : bool
        Keep the stations that match no area (``area_id`` ``<NA>``).
    log : ReadLog, optional
        Log to which the note on the dropped stations is added.

    Returns
    -------
    pandas.DataFrame
        ``station, station_name, city, area_id, lon [°E], lat [°N], background`` (bool).

    Raises
    ------
    StationDataError
        Unreadable file, missing columns, duplicate station codes, coordinates out of range; no station in any
        area of the area table (unless ``keep_unknown``; the message names the cities found and how to add one).
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
        flag = table["background"].fillna("").str.strip().str.upper()
        table["background"] = flag.isin(["Y", "YES", "是", "1", "TRUE"])
    else:
        table["background"] = False
    table["area_id"] = resolve(table["city"], load_areas() if areas is None else areas).to_numpy()
    table = table[["station", "station_name", "city", "area_id", "lon", "lat", "background"]].reset_index(drop=True)
    return table if keep_unknown else stations_in_areas(table, path, log)


def stations_in_areas(sites: pd.DataFrame, source: str | Path, log: ReadLog | None = None) -> pd.DataFrame:
    """The stations of a station list that lie in an area of the area table; the others are reported once.

    Parameters
    ----------
    sites : pandas.DataFrame
        A station list read with ``keep_unknown=True`` (:func:`read_station_list`): ``area_id`` ``<NA>`` where the
        station's city matches no area.
    source : path-like
        The station list's file, named in the note and the error.
    log : ReadLog, optional
        Receives one note (action ``"stations dropped"``) naming the cities of the dropped stations with their
        counts, e.g. ``stations of cities not in the area table: 石家庄 (4), 保定 (3)``.

    Returns
    -------
    pandas.DataFrame
        The rows of ``sites`` with an ``area_id``.

    Raises
    ------
    StationDataError
        The list is empty, or none of its stations is in an area: the message names the cities found and gives an
        example ``areas.csv`` row for the commonest (city names and the mean station coordinates filled in).
    """
    outside = sites["area_id"].isna().to_numpy()
    if not len(sites):
        raise StationDataError(f"{source}: the station list has no stations")
    if outside.all():
        counts = _city_counts(sites)
        city = counts.index[0]
        at = sites.loc[sites["city"].fillna("").astype(str).str.strip() == city, ["lon", "lat"]].mean()
        if city.isascii():  # an English list: the name gives the id; the Chinese names are the user's to add
            names = {"area_id": re.sub(r"\W+", "_", city.lower()), "name_zh": "<name_zh>", "short_zh": "<short_zh>",
                     "name_en": city}
        else:  # CNEMC writes 石家庄 for 石家庄市; an English name and id cannot be derived here
            full = city if city.endswith(("市", "盟", "州", "地区")) else f"{city}市"
            names = {"area_id": "<area_id>", "name_zh": full, "short_zh": city.removesuffix("市") or city,
                     "name_en": "<name_en>"}
        example = _AREA_ROW.format(**names, gb="<GB/T 2260 code>", lon=at["lon"], lat=at["lat"])
        raise StationDataError(
            f"{source}: none of its {len(sites)} stations is in an area of the area table (cities found: "
            f"{_format_counts(counts)}); add the city to the region's areas.csv, e.g. \"{example}\", or give "
            f"--region PATH (README: A region of your own)")
    if outside.any() and log is not None:
        log.add(source, f"stations of cities not in the area table: {_format_counts(_city_counts(sites[outside]))}",
                None, STATIONS_DROPPED)
    return sites[~outside].reset_index(drop=True)


def _city_counts(sites: pd.DataFrame) -> pd.Series:
    """Stations per city, the most first (ties by name)."""
    cities = sites["city"].fillna("").astype(str).str.strip().replace("", "(no city)")
    counts = cities.value_counts()
    order = sorted(counts.index, key=lambda c: (-counts[c], c))
    return counts[order]


def _format_counts(counts: pd.Series, limit: int = 20) -> str:
    shown = ", ".join(f"{city} ({n})" for city, n in counts.iloc[:limit].items())
    return shown + (f", … ({len(counts) - limit} more cities)" if len(counts) > limit else "")


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


def _file_days(files) -> np.ndarray:
    """The date in each file's name (``china_sites_YYYYMMDD.csv``), NaT for other names; one value per line."""
    days = {}
    for f in dict.fromkeys(files):
        m = _FILE_DATE.search(Path(f).name)
        days[f] = np.datetime64(pd.Timestamp(m.group(1)).date(), "ns") if m else np.datetime64("NaT", "ns")
    return np.array([days[f] for f in files], dtype="datetime64[ns]")


def _parse_block(header, lines, numbers, files, stations, log: ReadLog, removed: list | None,
                 listed=frozenset()) -> pd.DataFrame:
    """Parse validated lines (of one or more files with the same header) into tidy rows.

    ``stations``: the codes to keep (``None``: all); columns of other codes are dropped, with a note unless the code
    is in ``listed`` (a station of the list outside the area table, reported once by :func:`stations_in_areas`).
    A row whose date is not its file's date is skipped and logged.
    """
    frame = pd.read_csv(io.StringIO(",".join(header) + "\n" + "\n".join(lines)), dtype={"date": str, "type": str},
                        na_values=[""], keep_default_na=False, engine="c")
    frame.columns = [c.strip() for c in frame.columns]
    station_cols = [c for c in frame.columns if c not in ("date", "hour", "type")]
    if stations is not None:
        unknown = [c for c in station_cols if c not in stations and c not in listed]
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
    # a daily file holds the hours 0 … 23 of its own date: a row dated otherwise (a stale row of last year, a
    # mis-named file) cannot be placed with confidence, so it is skipped, never moved silently to its own date
    file_day = _file_days(files)
    off_day = ~bad_time & ~np.isnat(file_day) & (date != file_day)
    for idx in np.flatnonzero(off_day):
        log.add(files[idx], f"line {numbers[idx]}: row dated {pd.Timestamp(date[idx]):%Y-%m-%d} in the file of "
                f"{pd.Timestamp(file_day[idx]):%Y-%m-%d}", numbers[idx], ROW_OTHER_DAY)
    bad_time = bad_time | off_day
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

    Rows with a wrong number of fields (a truncated file), bad ``date``/``hour``, a date other than the one in the
    file's name, or an unknown ``type`` are skipped and logged with their line number; columns of station codes not in ``stations`` are dropped and logged;
    non-numeric cells are removed and recorded in ``removed`` (reason ``non_numeric``). A file that cannot be used
    at all (wrong header, binary, empty) is logged and gives ``None``.

    Parameters
    ----------
    path : path-like
        The daily file (UTF-8 or GB18030).
    stations : iterable of str, optional
        Station codes to keep (default: every column of the file).
    log : ReadLog, optional
        Log to append to (default: a new one, not returned).
    removed : list, optional
        A list to which a frame of the non-numeric cells is appended
        (``time, station, pollutant, value, raw, reason, source``).

    Returns
    -------
    pandas.DataFrame or None
        ``time`` (end of the hour, CST), ``station``, ``pollutant``, ``value`` [µg m⁻³; mg m⁻³ for CO], or
        ``None`` when the file cannot be used.
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
    """The ``china_sites_YYYYMMDD.csv`` files of a directory in date order, optionally within [start, end].

    Parameters
    ----------
    directory : path-like
        The archive directory.
    start, end : date-like, optional
        First and last day (inclusive) by the date in the file name.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    StationDataError
        ``directory`` does not exist.
    """
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


def read_cnemc_archive(files, sites: pd.DataFrame, *, progress: bool = False, log: ReadLog | None = None,
                       listed=None) -> tuple[pd.DataFrame, pd.DataFrame, ReadLog]:
    """Read many CNEMC daily files into one ``history`` table.

    Parameters
    ----------
    files : directory or iterable of paths
        The archive directory or explicit files.
    sites : pandas.DataFrame
        Station list from :func:`read_station_list`; stations not in it are dropped (and logged).
    progress : bool
        Show a progress bar on stderr.
    log : ReadLog, optional
        Log to append to (default: a new one).
    listed : iterable of str, optional
        Every station code of the station list, also those outside the area table (:func:`stations_in_areas`
        reports them once): their columns are dropped without a note per file. Default: the codes of ``sites``.

    Returns
    -------
    history : pandas.DataFrame
        Tidy hourly values (``time, station, area_id, pollutant, value``), sorted.
    removed : pandas.DataFrame
        Non-numeric cells removed while reading (reason ``non_numeric``).
    log : ReadLog
        Files and rows skipped, with the reason. A bad file never loses the files read before it.

    Raises
    ------
    StationDataError
        ``files`` is a directory that does not exist.
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
    known = frozenset(listed) if listed is not None else frozenset()
    batch: dict = {"header": None, "lines": [], "numbers": [], "files": []}

    def flush():
        if batch["lines"]:
            part = _parse_block(batch["header"], batch["lines"], batch["numbers"], batch["files"], stations, log,
                                removed, known)
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
    # sort by (station, pollutant, time) on integer keys: much faster than sort_values on strings
    station = pd.Categorical(history["station"]).codes
    pollutant = pd.Categorical(history["pollutant"]).codes
    time = pd.DatetimeIndex(history["time"]).as_unit("ns").asi8
    order = np.lexsort((time, pollutant, station))
    history = history.iloc[order].reset_index(drop=True)
    history["area_id"] = history["station"].map(area).astype("string")
    history["station"] = history["station"].astype("string")
    history["pollutant"] = history["pollutant"].astype("string")
    history["value"] = history["value"].astype(float)
    return history[list(HISTORY_COLUMNS)]


def read_long_csv(path: str | Path, sites: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a plain long CSV ``time,station,pollutant,value`` (time in CST unless it carries an offset).

    Parameters
    ----------
    path : path-like
        CSV with one row per hourly value; ``time`` is the end of the hour. Any subset of the six species (a file of
        PM2.5 alone is fine). Pollutant names may be the nomenclature (``pm25``) or CNEMC's (``PM2.5``), in any
        case, with or without the dot or an underscore (``PM25``, ``pm2_5``); CNEMC's derived rows (``AQI``,
        ``PM2.5_24h`` …) are skipped as in the archive. Values in µg m⁻³ (mg m⁻³ for CO).
    sites : pandas.DataFrame, optional
        Station list (:func:`read_station_list`) giving ``area_id``; without it ``area_id`` is ``<NA>``.

    Returns
    -------
    history : pandas.DataFrame
        Tidy hourly values (:data:`HISTORY_COLUMNS`), sorted by station, pollutant and time.
    removed : pandas.DataFrame
        Non-numeric values (reason ``non_numeric``).

    Raises
    ------
    StationDataError
        Missing columns, unparseable times, unknown pollutants (the message lists them and the allowed set), a row
        without a station or pollutant (the message names its line).
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
    for col in ("station", "pollutant"):
        empty = frame[col].isna() | (frame[col].fillna("").str.strip() == "")
        if empty.any():
            raise StationDataError(f"{path}: line {int(np.flatnonzero(empty.to_numpy())[0]) + 2}: no {col}")
    derived = frame["pollutant"].str.strip().isin(CNEMC_DERIVED_TYPES).to_numpy()
    frame = frame[~derived]  # the index stays the row number: line = index + 2
    pollutant = frame["pollutant"].map(_species_key)
    bad = sorted(set(frame["pollutant"][pollutant.isna()].str.strip()))
    if bad:
        raise StationDataError(f"{path}: unknown pollutant(s) {bad}; allowed: {', '.join(SPECIES)} "
                               f"(or CNEMC's {', '.join(CNEMC_TYPES)})")
    time = pd.to_datetime(frame["time"], errors="coerce", utc=False, format="mixed")
    if time.isna().any():
        first = frame.index[time.isna().to_numpy()][0]
        raise StationDataError(f"{path}: line {first + 2}: unparseable time {frame['time'].loc[first]!r}")
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


def _species_key(name: str) -> str | None:
    """The nomenclature's species for a pollutant name (``PM2.5``, ``pm25``, ``PM2_5``, ``o3`` …), else ``None``."""
    key = re.sub(r"[\s._-]", "", str(name)).lower()
    return key if key in SPECIES else None


def _empty_removed() -> pd.DataFrame:
    return pd.DataFrame({"time": pd.Series(dtype=f"datetime64[ns, {TZ}]"), "station": pd.Series(dtype="string"),
                         "pollutant": pd.Series(dtype="string"), "value": pd.Series(dtype=float),
                         "raw": pd.Series(dtype="string"), "reason": pd.Series(dtype="string"),
                         "source": pd.Series(dtype="string")})
