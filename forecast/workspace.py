"""Where lantian finds a data directory's parts and keeps what it derives from them.

A data directory has the layout that ``lantian simulate`` writes and that real data must follow::

    DIR/meteorology/analysis/*.grib2
    DIR/meteorology/forecast/YYYYMMDDHH/*.grib2
    DIR/stations/sites.csv
    DIR/stations/china_sites_YYYYMMDD.csv
    DIR/enterprises.csv        the emission-reduction list (README "Data directory layout")
    DIR/processes.csv          its 一厂一策 units (optional; the list is not standardised without it)
    DIR/inventory.csv
    DIR/grading.csv            an indicator assessment for ``lantian lists check`` (optional)

Derived products (station history store, extracted meteorology, forecast archive, consultation records) go to a
workspace: ``DIR/.lantian`` when ``DIR`` is writable, else ``$XDG_CACHE_HOME/lantian/<hash of DIR>`` (the data
directory may be read-only). cfgrib's index files are not kept there (:mod:`forecast.gribread`).

How lantian writes there, so that a full disk, a crash or a name read from a file cannot damage what is kept:

- :func:`append_line` adds one record to an append-only JSON-lines file as a single write, and takes it back when the
  write fails; :func:`read_jsonl` reads such a file line by line, skipping a damaged line with ``file:line``;
- :func:`output_dir` and :func:`safe_name` keep names that come from files (an issue date, a model version) from
  leaving the workspace;
- :func:`replacing_dir` writes a folder (a trained model) beside the old one and swaps it in when complete.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

try:  # POSIX: appends of two processes are serialised; elsewhere O_APPEND alone
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


class DataLayoutError(ValueError):
    """A data directory that lacks a required part, or a name that would leave the workspace."""


class AppendError(OSError):
    """A record that could not be appended (disk full, read-only file …); the file was left as it was."""


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


#: the first line of the README.md ``lantian simulate`` writes into a demo world (simulate/__init__.py)
DEMO_WORLD_MARKER = "# lantian demo world (simulated)"


def is_demo_world(data: str | Path) -> bool:
    """Whether ``data`` is a simulated demo world (its README.md starts with :data:`DEMO_WORLD_MARKER`)."""
    readme = Path(data) / "README.md"
    try:
        with open(readme, encoding="utf-8") as fh:
            return fh.readline().strip() == DEMO_WORLD_MARKER
    except (OSError, UnicodeDecodeError):
        return False


#: a name lantian accepts from a file as one path component: letters, digits, '.', '_', '-', not starting with a dot
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def safe_name(name, *, what: str = "name") -> str:
    """``name`` (from a file: a model version, an area id) as a single path component, or :class:`DataLayoutError`.

    Allowed: ASCII letters, digits, ``.``, ``_`` and ``-``, at most 100 characters, not starting with a dot and
    without ``..`` — so never an absolute path, a parent folder, a hidden file or a separator.
    """
    text = str(name)
    if not _SAFE_NAME.match(text) or ".." in text:
        raise DataLayoutError(f"{what} {text!r} cannot name a file or folder (allowed: letters, digits, '.', '_', "
                              "'-'; at most 100 characters; not starting with '.' and no '..')")
    return text


# ---- append-only record files ----------------------------------------------------------------------------------

def append_line(path: str | Path, text: str) -> Path:
    """Append ``text`` as one line to ``path``, atomically per record.

    The whole line (with its newline) goes to the file in one ``os.write`` on an ``O_APPEND`` descriptor (under an
    exclusive ``flock`` where the system has one, so two processes' records never interleave) and is ``fsync``-ed.
    When the write fails or is short (a full disk: ``ENOSPC``) the file is truncated back to its size before the
    write and :class:`AppendError` is raised: earlier records are intact and no half line is left behind. A file
    whose last line lacks its newline (a crash of an older writer) gets one first, so the new record stays a line
    of its own.

    Parameters
    ----------
    path : path-like
        The record file (created if missing, with its folder).
    text : str
        One record, without line breaks (``json.dumps`` output).

    Raises
    ------
    ValueError
        ``text`` contains a line break.
    AppendError
        The record could not be written; the file is unchanged.
    """
    path = Path(path)
    if "\n" in text or "\r" in text:
        raise ValueError(f"{path}: a record must be one line (got a line break in {text[:60]!r}…)")
    data = text.encode("utf-8") + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise AppendError(exc.errno, f"{path}: cannot be opened for the record ({exc.strerror or exc})") from exc
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)")
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                os.fsync(fd)
            raise AppendError(exc.errno, f"{path}: the record could not be written "
                              f"({exc.strerror or exc}); the file was left as it was") from exc
    finally:
        os.close(fd)  # closing releases the lock
    return path


def read_jsonl(path: str | Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """The records of a JSON-lines file as ``(line number, dict)`` and the lines skipped (``file:line: reason``).

    Lines are split at ``\\n`` only and decoded one by one, so a damaged line (half a record, bytes that are not
    UTF-8, a value that is not a JSON object) costs that line and nothing else. A missing file has no records.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], []
    records, problems = [], []
    for no, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problems.append(f"{path}:{no}: not UTF-8 text ({exc.reason} at byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{no}: not a JSON record ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(rec, dict):
            problems.append(f"{path}:{no}: not a JSON object ({type(rec).__name__})")
            continue
        records.append((no, rec))
    return records, problems


# ---- folders written whole --------------------------------------------------------------------------------------

def check_replaceable(directory: str | Path, *, is_ours=None) -> Path:
    """The resolved ``directory`` when :func:`replacing_dir` may write it (new, empty, or ``is_ours``), else
    :class:`DataLayoutError` naming it; nothing is written (so a long job can check before it starts)."""
    target = Path(directory).resolve()
    if target.exists() and not target.is_dir():
        raise DataLayoutError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and is_ours is not None and not is_ours(target):
        raise DataLayoutError(f"{target}: a folder with other files in it; it is not replaced")
    return target


@contextlib.contextmanager
def replacing_dir(directory: str | Path, *, is_ours=None):
    """Write a folder whole: yields a temporary sibling to fill; on success it replaces ``directory``.

    The old folder stays as it was until the new one is complete; when the body raises, the temporary folder is
    removed and the old one is untouched. The swap is two renames (old aside, new in place) with the old folder put
    back if the second fails, then the old one is deleted.

    Parameters
    ----------
    directory : path-like
        The folder to write (a symbolic link is followed: the folder it points to is replaced).
    is_ours : callable, optional
        ``is_ours(path) -> bool`` for an existing non-empty ``directory``: whether it is a folder this writer may
        replace (e.g. a lantian model). A folder that is not is refused with :class:`DataLayoutError` before
        anything is written, so a user's folder is never deleted.

    Raises
    ------
    DataLayoutError
        ``directory`` is a file, or a non-empty folder ``is_ours`` does not recognise.
    """
    target = check_replaceable(directory, is_ours=is_ours)
    target.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{os.urandom(3).hex()}"
    tmp = target.parent / f".{target.name}.new-{tag}"
    old = target.parent / f".{target.name}.old-{tag}"
    tmp.mkdir()
    try:
        yield tmp
        if target.exists():
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except OSError:
                os.replace(old, target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------------- derived caches
def source_digest(*paths, extra: str = "") -> str:
    """A digest of files (the code and tables a cache is derived with) and of ``extra``: a cache records it and is
    ignored when it differs, so one written by another version of the code is never trusted."""
    h = hashlib.sha1(extra.encode())
    for path in paths:
        try:
            h.update(Path(path).read_bytes())
        except OSError:
            h.update(f"missing {path}".encode())
    return h.hexdigest()


def write_tables(directory: str | Path, tables: dict, manifest: dict) -> Path:
    """Keep DataFrames in ``directory`` as one generation: each table to ``gen-<id>/<name>.parquet``, then
    ``manifest.json`` (with ``generation`` and ``tables``) replaced atomically to point at them, then older
    generations removed. A crash mid-way leaves the previous generation in force.

    Raises
    ------
    OSError
        The folder cannot be written (the caller decides whether that matters).
    """
    import tempfile
    import uuid

    directory = Path(directory)
    gen = uuid.uuid4().hex[:12]
    gdir = directory / f"gen-{gen}"
    gdir.mkdir(parents=True)
    try:
        for name, frame in tables.items():
            frame.to_parquet(gdir / f"{safe_name(name, what='table name')}.parquet")
    except Exception:
        shutil.rmtree(gdir, ignore_errors=True)
        raise
    record = {**manifest, "generation": gen, "tables": sorted(tables)}
    fd, tmp = tempfile.mkstemp(prefix="manifest.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False, default=str)
        os.replace(tmp, directory / "manifest.json")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for other in directory.glob("gen-*"):
        if other.name != gdir.name:
            shutil.rmtree(other, ignore_errors=True)
    return gdir


def read_tables(directory: str | Path, context: str) -> tuple[dict | None, dict | None, str | None]:
    """The tables kept by :func:`write_tables` when its manifest's ``context`` equals ``context``.

    Returns
    -------
    tables, manifest, note
        ``(None, None, None)`` when nothing is kept or it was kept for another context (another code version or
        setting: ignored, not trusted); ``(None, None, note)`` when the manifest or a table is damaged, ``note``
        naming the file and the problem (the caller derives the tables again, never fails).
    """
    import pandas as pd

    path = Path(directory) / "manifest.json"
    if not path.exists():
        return None, None, None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return None, None, f"{path}: damaged ({exc}); derived again"
    if manifest.get("context") != context:
        return None, None, None
    gdir = Path(directory) / f"gen-{manifest.get('generation')}"
    tables = {}
    try:
        for name in manifest.get("tables", []):
            tables[name] = pd.read_parquet(gdir / f"{name}.parquet")
    except Exception as exc:  # pyarrow raises several types for a damaged or missing file
        return None, None, f"{gdir / (str(name) + '.parquet')}: damaged ({type(exc).__name__}: {exc}); derived again"
    return tables, manifest, None
