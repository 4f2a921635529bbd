"""The audit trail of warning decisions: an append-only SQLite store.

Every decision (proposed, issued, upgraded, downgraded, lifted, cancelled, and corrections) is a new row; triggers
refuse UPDATE and DELETE, so nothing stored is ever changed. The database runs in WAL mode; each append is one
``BEGIN IMMEDIATE`` transaction with a busy timeout, so concurrent writers queue instead of failing, and a process
killed mid-write leaves the last committed state. A file that is not a lantian audit store (another SQLite
database, or not SQLite at all) is refused with a clear error and never touched. The schema is versioned with
``PRAGMA user_version`` and migrated forward by :func:`open_store`.
"""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

APPLICATION_ID = 0x4C414E54  # "LANT"
SCHEMA_VERSION = 2
ACTIONS = ("proposed", "issued", "upgraded", "downgraded", "lifted", "maintained", "cancelled", "corrected",
           "advisory")
LEVELS = ("none", "yellow", "orange", "red")
TIERS = ("region", "city", "county")
COLUMNS = ("id", "recorded_at", "action", "area_id", "tier", "level", "valid_from", "valid_to", "issue_date",
           "forecast_ref", "model_version", "officer", "reason", "bulletin_sha256", "bulletin_text", "supersedes",
           "details")

_MIGRATIONS = {
    1: """
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
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    """,
    2: """
        ALTER TABLE events ADD COLUMN details TEXT;
    """,
}


class AuditError(ValueError):
    """An audit store that cannot be opened or an event that cannot be recorded."""


@dataclass
class Event:
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
        if self.action not in ACTIONS:
            raise AuditError(f"unknown action {self.action!r}; allowed: {', '.join(ACTIONS)}")
        if self.level not in LEVELS:
            raise AuditError(f"unknown level {self.level!r}; allowed: {', '.join(LEVELS)}")
        if self.tier not in TIERS:
            raise AuditError(f"unknown tier {self.tier!r}; allowed: {', '.join(TIERS)}")
        if not self.officer or not str(self.officer).strip():
            raise AuditError("an event needs the officer's name")
        if self.action == "corrected" and self.supersedes is None:
            raise AuditError("a correction must name the event it supersedes")


def _check_file(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise AuditError(f"{path}: not an SQLite database (refusing to touch it)")


class AuditStore:
    """Append-only store of warning events (use :func:`open_store`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self._conn = conn

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def append(self, event: Event) -> int:
        """Record one event; returns its id."""
        event.validate()
        text = event.bulletin_text
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        row = (now, event.action, event.area_id, event.tier, event.level, event.valid_from, event.valid_to,
               event.issue_date, event.forecast_ref, event.model_version, event.officer, event.reason, digest, text,
               event.supersedes, json.dumps(event.details, ensure_ascii=False, default=str) if event.details else None)
        try:
            with self._conn:  # BEGIN … COMMIT (or ROLLBACK on error)
                self._conn.execute("BEGIN IMMEDIATE")
                if event.supersedes is not None:
                    hit = self._conn.execute("SELECT 1 FROM events WHERE id = ?", (event.supersedes,)).fetchone()
                    if not hit:
                        raise AuditError(f"event {event.supersedes} to supersede does not exist")
                cur = self._conn.execute(
                    f"INSERT INTO events ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * (len(COLUMNS) - 1))})",
                    row)
                return int(cur.lastrowid)
        except sqlite3.OperationalError as exc:
            raise AuditError(f"{self.path}: cannot record the event ({exc})") from None

    def events(self, area_id: str | None = None) -> list[dict]:
        sql = f"SELECT {', '.join(COLUMNS)} FROM events"
        args: tuple = ()
        if area_id:
            sql += " WHERE area_id = ?"
            args = (area_id,)
        rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        out = []
        for r in rows:
            rec = dict(zip(COLUMNS, r))
            rec["details"] = json.loads(rec["details"]) if rec["details"] else None
            out.append(rec)
        return out

    def verify_bulletins(self) -> list[int]:
        """Ids of events whose stored bulletin text no longer matches its hash (should be empty)."""
        bad = []
        for e in self.events():
            if e["bulletin_text"] is not None and \
                    hashlib.sha256(e["bulletin_text"].encode("utf-8")).hexdigest() != e["bulletin_sha256"]:
                bad.append(e["id"])
        return bad

    def export_csv(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            w.writeheader()
            for e in self.events():
                e["details"] = json.dumps(e["details"], ensure_ascii=False) if e["details"] else ""
                w.writerow(e)
        return path


def open_store(path: str | Path, *, timeout: float = 30.0) -> AuditStore:
    """Open (creating and migrating as needed) the audit store at ``path``."""
    path = Path(path)
    _check_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.DatabaseError as exc:
        raise AuditError(f"{path}: not a usable SQLite database ({exc}); refusing to touch it") from None
    user_tables = [t for t in tables if not t.startswith("sqlite_")]
    if app_id != APPLICATION_ID and user_tables:
        conn.close()
        raise AuditError(f"{path}: an SQLite database of another application (tables {user_tables[:5]}); "
                         "refusing to touch it")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise AuditError(f"{path}: cannot prepare the audit store ({exc})") from None
    return AuditStore(path, conn)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise AuditError(f"{path}: audit schema {version} is newer than this lantian ({SCHEMA_VERSION})")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            # all migrations run inside this one transaction (statements end with ";" + newline)
            for statement in [s.strip() for s in _MIGRATIONS[v].split(";\n") if s.strip()]:
                conn.execute(statement.rstrip(";"))
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
