"""The audit trail of warning decisions: an append-only, tamper-evident SQLite store.

Every decision (proposed, issued, upgraded, downgraded, lifted, cancelled, and corrections; and the promotions and
rollbacks of the forecast model, :func:`model_event`) is a new row; triggers refuse UPDATE and DELETE, so nothing
stored is ever changed. The database runs in WAL mode; each append is one
``BEGIN IMMEDIATE`` transaction with a busy timeout, so concurrent writers queue instead of failing, and a process
killed mid-write leaves the last committed state. A file that is not a lantian audit store (another SQLite
database, or not SQLite at all), and a damaged store, are refused with a one-line :class:`AuditError` and never
written to. The schema is versioned with ``PRAGMA user_version`` and migrated forward by :func:`open_store`.

The hash chain (schema 3)
-------------------------
Every event carries ``prev_hash``, the ``event_hash`` of the event before it (:data:`GENESIS_HASH`, 64 zeros, for
the first), and ``event_hash``, the SHA-256 (lower-case hex) of its canonical form (:func:`canonical_form`):

    the UTF-8 bytes of the JSON object of every column but ``event_hash`` -- ``id``, ``recorded_at``, ``action``,
    ``area_id``, ``tier``, ``level``, ``valid_from``, ``valid_to``, ``issue_date``, ``forecast_ref``,
    ``model_version``, ``officer``, ``reason``, ``bulletin_sha256``, ``bulletin_text``, ``supersedes``,
    ``details``, ``prev_hash`` -- with each value exactly as stored (text as a JSON string, integers as JSON
    integers, NULL as ``null``; ``details`` is the stored JSON text, not re-parsed), keys sorted, no whitespace
    (separators ``,`` and ``:``), non-ASCII characters written as themselves. For these values this is the JSON
    Canonicalization Scheme (RFC 8785) and Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``. (A REAL another tool wrote is a JSON number; a BLOB is ``{"$blob": "<hex>"}``.)

An append reads the last row and computes both hashes inside its ``BEGIN IMMEDIATE`` transaction, so concurrent
writers chain one after the other. :meth:`AuditStore.verify` checks the chain, the ids (no gap, nothing cut from
the end), the triggers and the bulletin hashes; :meth:`AuditStore.chain_head` is the anchor to keep outside the
store (printed in bulletins, exported daily): whoever can rewrite the whole file can recompute the whole chain,
but not make it end in an anchor already handed out.

A store whose file or folder is marked read-only (no write bit) is opened read-only (``immutable=1``: no locks, no
side files; ``mode=ro`` when a write-ahead log holds events still to read); it can be read, verified and exported
elsewhere, and refuses appends. ``open_store(path, read_only=True)`` reads a live store (``mode=ro``).
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import sqlite3
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

APPLICATION_ID = 0x4C414E54  # "LANT"
SCHEMA_VERSION = 3
ACTIONS = ("proposed", "issued", "upgraded", "downgraded", "lifted", "maintained", "cancelled", "corrected",
           "advisory", "model_promoted", "model_rolled_back")
#: the model events (``lantian models promote`` / ``rollback``): no warning, for every area (:func:`model_event`)
MODEL_ACTIONS = ("model_promoted", "model_rolled_back")
#: the ``area_id`` of a model event: a model serves every area
MODEL_AREA = "*"
LEVELS = ("none", "yellow", "orange", "red")
TIERS = ("region", "city", "county")
#: the fields of an event (schema 2)
EVENT_FIELDS = ("id", "recorded_at", "action", "area_id", "tier", "level", "valid_from", "valid_to", "issue_date",
                "forecast_ref", "model_version", "officer", "reason", "bulletin_sha256", "bulletin_text",
                "supersedes", "details")
#: every column of the events table (schema 3: the event's fields and its two chain hashes)
COLUMNS = EVENT_FIELDS + ("prev_hash", "event_hash")
#: the columns the event hash covers (all but the hash itself)
HASHED_COLUMNS = EVENT_FIELDS + ("prev_hash",)
#: ``prev_hash`` of the first event
GENESIS_HASH = "0" * 64
_TEXT_FIELDS = ("action", "area_id", "tier", "level", "valid_from", "valid_to", "issue_date", "forecast_ref",
                "model_version", "officer", "reason")
_SQLITE_MAGIC = b"SQLite format 3\x00"

#: the triggers that make the table append-only (a missing or altered one is tampering)
TRIGGERS = {
    "events_no_update": "CREATE TRIGGER events_no_update BEFORE UPDATE ON events\n"
                        "            BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "events_no_delete": "CREATE TRIGGER events_no_delete BEFORE DELETE ON events\n"
                        "            BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
}


def _migrate_to_3(conn: sqlite3.Connection) -> None:
    """Schema 3: the hash chain, computed for the rows already stored (inside the migration's transaction).

    The UPDATE trigger is dropped and re-created from its own stored definition around the one-time filling of the
    two new columns, so a trigger that was already missing or altered stays so (and :meth:`AuditStore.verify`
    reports it): the migration never hides earlier tampering. Every row is kept; the counts are checked.
    """
    before = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    conn.execute("ALTER TABLE events ADD COLUMN prev_hash TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN event_hash TEXT")
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_no_update'"
                           ).fetchone()
    if trigger:
        conn.execute("DROP TRIGGER events_no_update")
    rows = conn.execute(f"SELECT {', '.join(EVENT_FIELDS)} FROM events ORDER BY id").fetchall()
    prev = GENESIS_HASH
    for row in rows:
        rec = dict(zip(EVENT_FIELDS, row), prev_hash=prev)
        digest = event_hash(rec)
        conn.execute("UPDATE events SET prev_hash = ?, event_hash = ? WHERE id = ?", (prev, digest, rec["id"]))
        prev = digest
    if trigger:
        conn.execute(trigger[0])
    after, hashed = conn.execute("SELECT COUNT(*), COUNT(event_hash) FROM events").fetchone()
    if not before == after == hashed:
        raise AuditError(f"migration to the hash chain: {before} rows before, {after} after, {hashed} hashed")


_MIGRATIONS = {
    1: f"""
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            recorded_at TEXT NOT NULL,
            action TEXT NOT NULL,
            area_id TEXT NOT NULL,
            tier TEXT NOT NULL,
            level TEXT NOT NULL,
            valid_from TEXT,
            valid_to TEXT,
            issue_date TEXT,
            forecast_ref TEXT,
            model_version TEXT,
            officer TEXT NOT NULL,
            reason TEXT,
            bulletin_sha256 TEXT,
            bulletin_text TEXT,
            supersedes INTEGER REFERENCES events(id)
        );
        CREATE INDEX events_area ON events(area_id, id);
        {TRIGGERS["events_no_update"]};
        {TRIGGERS["events_no_delete"]};
    """,
    2: """
        ALTER TABLE events ADD COLUMN details TEXT;
    """,
    3: _migrate_to_3,
}


class AuditError(ValueError):
    """An audit store that cannot be opened, read or written, or an event that cannot be recorded."""


# ---- the canonical form and the hashes --------------------------------------------------------------------------

def _canonical_value(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$blob": bytes(value).hex()}
    return value


def canonical_form(row: Mapping) -> bytes:
    """The bytes an event's hash is taken over (module docstring, "The hash chain").

    Parameters
    ----------
    row : mapping
        The event's stored values by column name; every name of :data:`HASHED_COLUMNS` is required (``details``
        as its stored JSON text), other keys (``event_hash``) are ignored.

    Returns
    -------
    bytes
        UTF-8 JSON, keys sorted, no whitespace, non-ASCII as itself (RFC 8785 for text, integers and null).
    """
    payload = {name: _canonical_value(row[name]) for name in HASHED_COLUMNS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def event_hash(row: Mapping) -> str:
    """SHA-256 (lower-case hex) of :func:`canonical_form` of ``row``: the event's ``event_hash``."""
    return hashlib.sha256(canonical_form(row)).hexdigest()


def _bulletin_sha256(text: str | None) -> str | None:
    """The SHA-256 (hex) stored with a bulletin's text (``None`` when there is no text, or an empty one)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None


# ---- events, chain heads, verification reports --------------------------------------------------------------------

@dataclass
class Event:
    """One warning decision to record (the store adds ``id``, ``recorded_at`` and the hashes)."""

    action: str
    area_id: str
    tier: str
    level: str
    officer: str
    valid_from: str | None = None
    valid_to: str | None = None
    issue_date: str | None = None
    forecast_ref: str | None = None
    model_version: str | None = None
    reason: str | None = None
    bulletin_text: str | None = None
    supersedes: int | None = None
    details: dict | None = None

    def validate(self):
        """Raise :class:`AuditError` naming the bad value and the allowed set."""
        if self.action not in ACTIONS:
            raise AuditError(f"unknown action {self.action!r}; allowed: {', '.join(ACTIONS)}")
        if self.level not in LEVELS:
            raise AuditError(f"unknown level {self.level!r}; allowed: {', '.join(LEVELS)}")
        if self.tier not in TIERS:
            raise AuditError(f"unknown tier {self.tier!r}; allowed: {', '.join(TIERS)}")
        if not self.officer or not str(self.officer).strip():
            raise AuditError("an event needs the officer's name")
        if self.action in MODEL_ACTIONS and (not self.model_version or self.area_id != MODEL_AREA or
                                             self.level != "none"):
            raise AuditError(f"a {self.action} event names the model version, for area {MODEL_AREA!r} at level "
                             f"'none' (got version {self.model_version!r}, area {self.area_id!r}, level "
                             f"{self.level!r}): use model_event()")
        if self.action == "corrected" and self.supersedes is None:
            raise AuditError("a correction must name the event it supersedes")
        if self.supersedes is not None and (isinstance(self.supersedes, bool) or
                                            not str(self.supersedes).lstrip("-").isdigit()):
            raise AuditError(f"supersedes must be an event id (an integer), not {self.supersedes!r}")

    def _stored(self) -> dict:
        """The event's values as they will be stored (and hashed): text as text, ids as integers."""
        rec = {name: (None if getattr(self, name) is None else str(getattr(self, name))) for name in _TEXT_FIELDS}
        rec["bulletin_text"] = None if self.bulletin_text is None else str(self.bulletin_text)
        rec["bulletin_sha256"] = _bulletin_sha256(rec["bulletin_text"])
        rec["supersedes"] = None if self.supersedes is None else int(self.supersedes)
        rec["details"] = json.dumps(self.details, ensure_ascii=False, default=str) if self.details else None
        return rec


def model_event(action: str, *, version: str, officer: str, previous: str | None = None, model_dir=None,
                reason: str | None = None, details: dict | None = None) -> Event:
    """The audit event of a model promotion (``model_promoted``) or rollback (``model_rolled_back``): the version
    now in use in ``model_version``, the one it replaces and the model folder in ``details``, the officer who did it.
    It names no area (:data:`MODEL_AREA`) and no warning level, so the warning life cycle never reads it."""
    where = {} if model_dir is None else {"model_dir": str(model_dir)}
    return Event(action=action, area_id=MODEL_AREA, tier="region", level="none", officer=officer,
                 model_version=version, reason=reason, details={"previous": previous, **where, **(details or {})})


_ANCHOR = re.compile(r"^\s*(\d+):([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class ChainHead:
    """The last event of the chain: its id and hash (``anchor``, ``ID:SHA256``, is what to keep elsewhere)."""

    event_id: int
    event_hash: str
    recorded_at: str | None = None

    @property
    def anchor(self) -> str:
        """``ID:SHA256``, the form :meth:`parse` reads back and ``lantian audit --anchor`` takes."""
        return f"{self.event_id}:{self.event_hash}"

    def __str__(self) -> str:
        return self.anchor

    @classmethod
    def parse(cls, text: str) -> "ChainHead":
        """A head from its anchor ``ID:SHA256`` (as ``lantian audit --head`` prints it).

        Raises
        ------
        AuditError
            ``text`` is not an event id, a colon and 64 hexadecimal digits.
        """
        m = _ANCHOR.match(str(text))
        if not m:
            raise AuditError(f"anchor {text!r} is not ID:SHA256 (an event id, a colon and 64 hex digits, as "
                             "`lantian audit --head` prints it)")
        return cls(int(m.group(1)), m.group(2).lower())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the trail: the event it concerns (``None`` for the store as a whole) and one sentence."""

    event_id: int | None
    message: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.message}" if self.event_id is not None else self.message


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`AuditStore.verify` found: ``intact`` or the problems, the first bad event first."""

    path: Path
    events: int
    head: ChainHead | None
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        """No problem found: the chain, the ids, the triggers, the bulletin hashes (and anchors) all hold."""
        return not self.problems

    @property
    def first_bad_event(self) -> int | None:
        """The lowest event id with a problem (``None`` when intact or only store-wide problems)."""
        ids = [p.event_id for p in self.problems if p.event_id is not None]
        return min(ids) if ids else None

    @property
    def summary(self) -> str:
        """One line: intact with the event count and the chain head, or TAMPERED with the first bad event."""
        if self.intact:
            head = f"chain head {self.head.anchor}" if self.head else "no events yet"
            return f"{self.path}: intact — {self.events} event(s), {head}; triggers in place; bulletin hashes match"
        first = self.first_bad_event
        where = f"first bad event {first}" if first is not None else "the store itself"
        return f"{self.path}: TAMPERED — {len(self.problems)} problem(s), {where}"

    @property
    def verdict(self) -> str:
        """One line: :attr:`summary`, and when tampered what is wrong first (for a status line on a page)."""
        return self.summary if self.intact else f"{self.summary}: {self.problems[0]}"

    def lines(self) -> list[str]:
        """:attr:`summary`, then every problem on its own line (one sentence each)."""
        return [self.summary] + [f"  {p}" for p in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())


# ---- the store -----------------------------------------------------------------------------------------------------

class AuditStore:
    """Append-only, hash-chained store of warning events (use :func:`open_store`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False, version: int =
                 SCHEMA_VERSION, columns: Iterable[str] = COLUMNS, why_read_only: str = ""):
        self.path = path
        self._conn = conn
        self.read_only = read_only
        self.schema_version = version
        self._columns = set(columns)
        self._why_read_only = why_read_only
        self._sound = False  # integrity checked before this connection's first write

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextlib.contextmanager
    def _sql(self, doing: str):
        """SQLite's errors (a damaged page, a locked or read-only file) as one :class:`AuditError` naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise AuditError(f"{self.path}: cannot {doing} ({exc})") from None

    def _select(self, columns=COLUMNS) -> str:
        """The select list of ``columns`` (a column an old read-only store lacks reads as NULL)."""
        return ", ".join(c if c in self._columns else f"NULL AS {c}" for c in columns)

    # -- writing --

    def append(self, event: Event) -> int:
        """Record one event, chained to the last one; returns its id.

        Raises
        ------
        AuditError
            A bad event (:meth:`Event.validate`), a correction naming an event that does not exist, a read-only or
            damaged store, or a store still locked after the busy timeout.
        """
        event.validate()
        if self.read_only:
            raise AuditError(f"{self.path}: the audit store is read-only{self._why_read_only}; cannot record the "
                             "event (open a writable store)")
        rec = event._stored()
        with self._sql("record the event"):
            self._check_sound()
            with self._conn:  # BEGIN … COMMIT (or ROLLBACK on error)
                self._conn.execute("BEGIN IMMEDIATE")
                if rec["supersedes"] is not None:
                    hit = self._conn.execute("SELECT 1 FROM events WHERE id = ?", (rec["supersedes"],)).fetchone()
                    if not hit:
                        raise AuditError(f"event {rec['supersedes']} to supersede does not exist")
                last = self._conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY id DESC LIMIT 1"
                                          ).fetchone()
                seq = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
                rec["id"] = max(seq[0] if seq else 0, last[0] if last else 0) + 1
                rec["recorded_at"] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
                rec["prev_hash"] = _link_of(dict(zip(COLUMNS, last))) if last else GENESIS_HASH
                rec["event_hash"] = event_hash(rec)
                self._conn.execute(f"INSERT INTO events ({', '.join(COLUMNS)}) "
                                   f"VALUES ({', '.join('?' * len(COLUMNS))})", [rec[c] for c in COLUMNS])
                stored = self._conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events WHERE id = ?",
                                            (rec["id"],)).fetchone()
                if event_hash(dict(zip(COLUMNS, stored))) != rec["event_hash"]:  # what is stored is what was hashed
                    raise AuditError(f"{self.path}: event {rec['id']} was not stored as hashed; nothing recorded")
                return int(rec["id"])

    def _check_sound(self) -> None:
        """Refuse to write into a damaged file (checked once per connection, before its first write)."""
        if not self._sound:
            _quick_check(self._conn, self.path)
            self._sound = True

    # -- reading --

    def _rows(self) -> list[dict]:
        """Every row as stored (``details`` as its JSON text), in id order."""
        with self._sql("read the audit trail"):
            rows = self._conn.execute(f"SELECT {self._select()} FROM events ORDER BY id").fetchall()
        return [dict(zip(COLUMNS, r)) for r in rows]

    def events(self, area_id: str | None = None) -> list[dict]:
        """The events in id order (all, or of one area), one dict per event with every column of :data:`COLUMNS`
        (``details`` parsed from its JSON)."""
        sql = f"SELECT {self._select()} FROM events"
        args: tuple = ()
        if area_id:
            sql += " WHERE area_id = ?"
            args = (area_id,)
        with self._sql("read the audit trail"):
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        out = []
        for r in rows:
            rec = dict(zip(COLUMNS, r))
            try:
                rec["details"] = json.loads(rec["details"]) if rec["details"] else None
            except (TypeError, ValueError):
                raise AuditError(f"{self.path}: event {rec['id']}: its details are not JSON") from None
            out.append(rec)
        return out

    def verify_bulletins(self) -> list[int]:
        """Ids of events whose stored bulletin text no longer matches its hash (should be empty)."""
        return [r["id"] for r in self._rows() if _bulletin_sha256(r["bulletin_text"]) != r["bulletin_sha256"]]

    def _require_chain(self) -> None:
        if self.schema_version < 3:
            raise AuditError(f"{self.path}: audit schema {self.schema_version} has no hash chain and the store is "
                             f"read-only{self._why_read_only}, so it cannot be migrated; verify a writable copy")

    def chain_head(self) -> ChainHead | None:
        """The last event's id and hash (``None`` for an empty store): the anchor to print in a bulletin's footer
        or export daily, and to give back to :meth:`verify` later."""
        self._require_chain()
        with self._sql("read the chain head"):
            row = self._conn.execute("SELECT id, event_hash, recorded_at FROM events ORDER BY id DESC LIMIT 1"
                                     ).fetchone()
        return ChainHead(int(row[0]), row[1], row[2]) if row else None

    def verify(self, anchors: Iterable[ChainHead | str] = ()) -> VerifyReport:
        """Check that the trail is as it was recorded.

        The checks: the triggers exist with their definitions; the ids run 1, 2, 3 … with no gap and nothing cut
        from the end (SQLite's id counter); each event's ``prev_hash`` is the previous event's ``event_hash``
        (:data:`GENESIS_HASH` for the first) and its ``event_hash`` recomputes from its fields; each bulletin text
        matches its SHA-256; and each anchor given (a head taken earlier) is still in the chain with its hash.

        Parameters
        ----------
        anchors : iterable of ChainHead or str, optional
            Heads taken earlier (:meth:`chain_head`, or ``ID:SHA256`` as ``lantian audit --head`` prints).

        Returns
        -------
        VerifyReport
            ``intact``, or the problems (one sentence each), the first bad event first.

        Raises
        ------
        AuditError
            The file is damaged (SQLite's integrity check fails), a bad anchor, or a read-only store of a schema
            before the chain.
        """
        anchors = [a if isinstance(a, ChainHead) else ChainHead.parse(a) for a in anchors]
        self._require_chain()
        _quick_check(self._conn, self.path)
        with self._sql("verify the audit trail"):
            triggers = dict(self._conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                               "AND tbl_name = 'events'").fetchall())
            seq = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        rows = self._rows()
        store_wide: list[Problem] = []
        for name, expected in TRIGGERS.items():
            if name not in triggers:
                store_wide.append(Problem(None, f"trigger {name} is missing: it was dropped, so rows could be "
                                                "changed or deleted without a trace in SQLite."))
            elif _normalise_sql(triggers[name]) != _normalise_sql(expected):
                store_wide.append(Problem(None, f"trigger {name} was altered: it no longer is the definition that "
                                                "refuses changes to recorded events."))
        problems = _check_rows(rows, seq[0] if seq else None)
        by_id = {r["id"]: r for r in rows}
        for a in anchors:
            row = by_id.get(a.event_id)
            if row is None:
                problems.append(Problem(a.event_id, f"the anchor {a.anchor[:20]}… names an event the trail no "
                                                     "longer has (the trail was cut or rewritten)."))
            elif row["event_hash"] != a.event_hash:
                problems.append(Problem(a.event_id, f"its hash is not the anchor's {a.event_hash[:12]}… (the trail "
                                                     "was rewritten after the anchor was taken)."))
        problems.sort(key=lambda p: p.event_id)
        last = rows[-1] if rows else None
        head = ChainHead(int(last["id"]), last["event_hash"], last["recorded_at"]) if last else None
        return VerifyReport(self.path, len(rows), head, tuple(store_wide + problems))

    # -- export --

    def export_csv(self, path: str | Path, force: bool = False) -> Path:
        """Write every event to a CSV file (UTF-8 with BOM, for Excel), atomically.

        Text goes through :func:`response.sanitize.cell` (control characters removed, a leading formula
        character escaped with ``'``; a bulletin keeps its line breaks), so the file is inert in a spreadsheet. It
        is a view for people, not a verifiable copy: the hashes are over the stored text. To keep a verifiable
        copy, copy the store itself (``sqlite3 audit.db ".backup copy.db"``).

        Parameters
        ----------
        path : path-like
            The CSV to write. Never the store itself, its ``-wal``/``-shm``/``-journal`` files or another audit
            store; an existing file only with ``force``.
        force : bool, default False
            Replace ``path`` if it exists.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        AuditError
            ``path`` is the store (or its journal, or another audit store), a folder, or an existing file without
            ``force``.
        """
        from . import sanitize

        path = Path(path)
        _check_export_target(path, self.path, force)
        lines = []
        for e in self.events():
            e["details"] = json.dumps(e["details"], ensure_ascii=False, default=str) if e["details"] else None
            lines.append([_csv_cell(name, e[name], sanitize) for name in COLUMNS])
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8-sig") as fh:
                w = csv.writer(fh)
                w.writerow(COLUMNS)
                w.writerows(lines)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            _publish(Path(tmp), path, force)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return path


def _link_of(last: dict) -> str:
    """The hash the next event chains to: the last event's stored hash (recomputed if it has none, i.e. it was
    written outside lantian; :meth:`AuditStore.verify` reports that row)."""
    if last.get("event_hash"):
        return last["event_hash"]
    return event_hash({**last, "prev_hash": last.get("prev_hash") or GENESIS_HASH})


def _check_rows(rows: list[dict], seq: int | None) -> list[Problem]:
    """The ids, the chain and the bulletin hashes of ``rows`` (in id order); ``seq`` is SQLite's id counter."""
    problems = []
    prev_id, prev_hash = 0, GENESIS_HASH
    for r in rows:
        i = r["id"]
        if i != prev_id + 1:
            missing = f"event {prev_id + 1}" if i == prev_id + 2 else f"events {prev_id + 1}–{i - 1}"
            problems.append(Problem(i, f"the ids jump from {prev_id} to {i}: {missing} "
                                       f"{'was' if i == prev_id + 2 else 'were'} deleted."))
        if not r["event_hash"] or not r["prev_hash"]:
            problems.append(Problem(i, "it has no hash: it was written outside lantian."))
        elif event_hash(r) != r["event_hash"]:
            problems.append(Problem(i, "its fields no longer give its stored hash: the row was changed after it was "
                                       "recorded."))
        if r["prev_hash"] and r["prev_hash"] != prev_hash:
            problems.append(Problem(i, f"its previous-event hash is not the hash of event {prev_id}: an earlier "
                                       "event was changed, replaced or removed after it was recorded."
                                    if prev_id else "its previous-event hash is not the chain's start (64 zeros): "
                                                    "the events before it were removed or replaced."))
        if _bulletin_sha256(r["bulletin_text"]) != r["bulletin_sha256"]:
            problems.append(Problem(i, "its bulletin text does not match the bulletin's stored SHA-256: the bulletin "
                                       "was rewritten."))
        prev_id, prev_hash = i, r["event_hash"] or _link_of(r)
    last_id = rows[-1]["id"] if rows else 0
    if seq is None and rows:
        problems.append(Problem(last_id, "SQLite's id counter for the events is missing: the store's bookkeeping "
                                         "was edited."))
    elif seq is not None and seq > last_id:
        missing = f"event {seq}" if seq == last_id + 1 else f"events {last_id + 1}–{seq}"
        problems.append(Problem(last_id + 1, f"{missing} {'was' if seq == last_id + 1 else 'were'} deleted from the "
                                             f"end of the trail (SQLite's id counter is at {seq})."))
    elif seq is not None and seq < last_id:
        problems.append(Problem(last_id, f"SQLite's id counter ({seq}) is below the last id: the store's bookkeeping "
                                         "was edited."))
    return problems


def _normalise_sql(sql: str) -> str:
    return " ".join(sql.replace(";", " ; ").split()).lower()


def _csv_cell(name: str, value, sanitize) -> str:
    """One exported value: numbers as they are, text through :func:`response.sanitize.cell` (a bulletin's later
    lines are only stripped of control characters: a formula is decided by the start of a cell)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    if name == "bulletin_text":
        first, sep, rest = sanitize.plain(value, keep_newlines=True).partition("\n")
        return sanitize.cell(first) + sep + rest
    return sanitize.cell(value)


# ---- files: what is refused, how it is opened ---------------------------------------------------------------------

def _is_audit_store(path: Path) -> bool:
    """Whether ``path`` is an SQLite file with lantian's application id (header bytes 68–71)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(72)
    except OSError:
        return False
    return head[:16] == _SQLITE_MAGIC and len(head) == 72 and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def _check_export_target(path: Path, store: Path, force: bool) -> None:
    target, own = path.resolve(), store.resolve()
    journals = {own.with_name(own.name + suffix) for suffix in ("-wal", "-shm", "-journal")}
    same = target == own or (path.exists() and own.exists() and os.path.samefile(path, own))
    if same or target in journals:
        raise AuditError(f"{path}: that is the audit store {store}{'' if same else ' (its journal)'}; refusing to "
                         "export onto it (even with force): give another file name")
    if path.is_dir():
        raise AuditError(f"{path}: is a folder; give a file name for the export")
    if path.exists() and _is_audit_store(path):
        raise AuditError(f"{path}: is an audit store; refusing to overwrite it with an export (even with force)")
    if (path.exists() or path.is_symlink()) and not force:
        raise AuditError(f"{path}: exists; refusing to overwrite it (use force=True, `lantian audit --export … "
                         "--force`)")


def _publish(tmp: Path, path: Path, force: bool) -> None:
    """Move the finished ``tmp`` to ``path``: replacing it with ``force``, else only if it still does not exist."""
    if force:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)  # atomic, and fails if ``path`` appeared meanwhile
        except FileExistsError:
            raise AuditError(f"{path}: exists; refusing to overwrite it (use force=True, `lantian audit --export … "
                             "--force`)") from None
        except OSError:  # a file system without hard links
            if path.exists():
                raise AuditError(f"{path}: exists; refusing to overwrite it") from None
            os.replace(tmp, path)
    with contextlib.suppress(OSError):  # the rename itself made durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _marked_read_only(path: Path) -> bool:
    """No write bit set (honoured even for root), or not writable for this process."""
    try:
        return not (path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path,
                                                                                                        os.W_OK)
    except OSError:
        return False


def _check_file(path: Path, create: bool) -> bool:
    """Whether ``path`` is to be created (absent or empty); raises when it cannot be an audit store."""
    if path.is_dir():
        raise AuditError(f"{path}: is a folder, not an audit store")
    if not path.exists():
        if not create:
            raise AuditError(f"{path}: no audit store there (no such file)")
        return True
    size = path.stat().st_size
    if size == 0:
        if not create:
            raise AuditError(f"{path}: an empty file, not an audit store")
        return True
    with open(path, "rb") as fh:
        head = fh.read(100)
    if head[:16] != _SQLITE_MAGIC:
        raise AuditError(f"{path}: not an SQLite database (refusing to touch it)")
    page = int.from_bytes(head[16:18], "big") if len(head) >= 18 else 0
    page = 65536 if page == 1 else page
    if len(head) < 100 or page < 512 or size < page or size % page:
        raise AuditError(f"{path}: a damaged SQLite file (truncated: {size} bytes is not a whole number of "
                         f"{page}-byte pages); refusing to touch it — restore the store from a backup")
    return False


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.Error as exc:
        raise AuditError(f"{path}: a damaged SQLite file ({exc}); refusing to touch it — restore the store from a "
                         "backup") from None
    if result != ["ok"]:
        found = " ".join("; ".join(map(str, result)).split())
        raise AuditError(f"{path}: a damaged SQLite file ({found[:160]}); refusing to touch it — restore the store "
                         "from a backup")


def _connect_read_only(path: Path, timeout: float, frozen: bool) -> sqlite3.Connection:
    """A read-only connection: ``mode=ro`` (sees the WAL; needs its ``-shm``, created if the folder allows), or,
    for a frozen store (read-only file or folder) without a WAL to read, ``immutable=1`` (no locks, no side files)."""
    uri = path.absolute().as_uri()
    wal = path.with_name(path.name + "-wal")
    has_wal = wal.exists() and wal.stat().st_size > 0
    if not frozen or has_wal:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if not frozen:
                raise
            warnings.warn(f"{path}: its write-ahead log {wal.name} cannot be read without write access to the "
                          "folder; events not yet checkpointed into the main file are not shown", stacklevel=3)
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=timeout, isolation_level=None,
                           check_same_thread=False)


def open_store(path: str | Path, *, timeout: float = 30.0, read_only: bool | None = None,
               create: bool = True) -> AuditStore:
    """Open (creating and migrating as needed) the audit store at ``path``.

    Parameters
    ----------
    path : path-like
        The SQLite file.
    timeout : float, default 30
        How long a write waits for another writer. [s]
    read_only : bool, optional
        Open without writing anything (no creation, no migration; appends refused). Default: read-only exactly when
        the file or its folder is marked read-only (no write bit, or not writable for this process).
    create : bool, default True
        Create a new store when ``path`` does not exist (or is empty); else refuse.

    Returns
    -------
    AuditStore

    Raises
    ------
    AuditError
        ``path`` is not SQLite, damaged, another application's database, a schema newer than this lantian, absent
        (``create=False`` or read-only) — one line naming the file; the file is not written to.
    """
    path = Path(path)
    new = _check_file(path, create and not read_only)
    why = ""
    frozen = False
    if not new:
        if _marked_read_only(path):
            frozen, why = True, " (the file is marked read-only)"
        elif _marked_read_only(path.parent):
            frozen, why = True, " (its folder is marked read-only)"
    ro = bool(read_only) or frozen
    if ro and not why:
        why = " (opened read-only)"
    conn = None
    try:
        if ro:
            conn = _connect_read_only(path, timeout, frozen)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0] if not ro else None
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        columns = [r[1] for r in conn.execute("PRAGMA table_info(events)")]
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        if new:
            raise AuditError(f"{path}: cannot create the audit store ({exc})") from None
        raise AuditError(f"{path}: a damaged or unusable SQLite file ({exc}); refusing to touch it") from None
    user_tables = [t for t in tables if not t.startswith("sqlite_")]
    if app_id != APPLICATION_ID and user_tables:
        conn.close()
        raise AuditError(f"{path}: an SQLite database of another application (tables {user_tables[:5]}); "
                         "refusing to touch it")
    if version > SCHEMA_VERSION:
        conn.close()
        raise AuditError(f"{path}: audit schema {version} is newer than this lantian ({SCHEMA_VERSION})")
    if ro:
        if "events" not in user_tables:
            conn.close()
            raise AuditError(f"{path}: no audit events table (an empty or unfinished store){why}")
        return AuditStore(path, conn, read_only=True, version=version, columns=columns, why_read_only=why)
    try:
        if user_tables and (version < SCHEMA_VERSION or journal != "wal" or app_id != APPLICATION_ID):
            _quick_check(conn, path)  # never write into a damaged file
        if journal != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        if version < SCHEMA_VERSION or app_id != APPLICATION_ID:
            _migrate(conn, path)
    except AuditError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise AuditError(f"{path}: cannot prepare the audit store ({exc})") from None
    return AuditStore(path, conn)


def verify_store(path: str | Path, anchors: Iterable[ChainHead | str] = ()) -> VerifyReport:
    """:meth:`AuditStore.verify` of the existing store at ``path`` (opened, checked, closed): the chain status a
    page or a cron job asks for. Raises :class:`AuditError` when the file is absent, damaged or not a store."""
    with open_store(path, create=False) as store:
        return store.verify(anchors)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Every migration from the stored version to :data:`SCHEMA_VERSION`, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise AuditError(f"{path}: audit schema {version} is newer than this lantian ({SCHEMA_VERSION})")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            step = _MIGRATIONS[v]
            if callable(step):
                step(conn)
                continue
            # SQL migrations: statements end with ";" + newline
            for statement in [s.strip() for s in step.split(";\n") if s.strip()]:
                conn.execute(statement.rstrip(";"))
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
