"""The audit store: append-only, concurrent writers, killed writers, foreign and corrupt files, migration, export."""
import csv
import hashlib
import multiprocessing as mp
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from response import audit
from response.lifecycle import in_force


def event(i=0, **kw):
    base = dict(action="issued", area_id="baotou", tier="city", level="orange", officer="王值班",
                valid_from="2024-12-21T00:00", issue_date="2024-12-20", model_version="m1",
                bulletin_text=f"通知 {i}", reason="test")
    base.update(kw)
    return audit.Event(**base)


def test_append_read_back_and_hashes(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        ids = [s.append(event(i)) for i in range(3)]
        assert ids == [1, 2, 3]
        rows = s.events()
        assert [r["bulletin_text"] for r in rows] == ["通知 0", "通知 1", "通知 2"]
        assert rows[0]["bulletin_sha256"] == hashlib.sha256("通知 0".encode()).hexdigest()
        assert s.verify_bulletins() == []
    assert sqlite3.connect(tmp_path / "a.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_no_update_no_delete(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        s.append(event())
        for sql in ("UPDATE events SET level = 'red'", "DELETE FROM events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                s._conn.execute(sql)
        assert s.events()[0]["level"] == "orange"


def test_corrections_are_new_events(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        first = s.append(event())
        with pytest.raises(audit.AuditError, match="must name the event it supersedes"):
            s.append(event(action="corrected"))
        with pytest.raises(audit.AuditError, match="event 99 to supersede does not exist"):
            s.append(event(action="corrected", supersedes=99))
        s.append(event(action="corrected", level="red", supersedes=first, reason="级别填写错误"))
        assert len(s.events()) == 2 and in_force(s)["baotou"].level == "red"
        s.append(event(action="lifted", level="none"))
        assert in_force(s)["baotou"].level == "none"


@pytest.mark.parametrize("kw, match", [({"action": "approved"}, "unknown action"), ({"level": "blue"}, "unknown level"),
                                       ({"tier": "nation"}, "unknown tier"), ({"officer": " "}, "officer")])
def test_bad_events_refused(tmp_path, kw, match):
    with audit.open_store(tmp_path / "a.db") as s:
        with pytest.raises(audit.AuditError, match=match):
            s.append(event(**kw))
        assert s.events() == []


def _writer(path, n, tag):
    with audit.open_store(path) as s:
        for i in range(n):
            s.append(event(i, officer=tag))


def test_two_processes_writing_at_once_both_land(tmp_path):
    path = tmp_path / "a.db"
    audit.open_store(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 150, tag)) for tag in ("甲", "乙")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with audit.open_store(path) as s:
        rows = s.events()
    assert len(rows) == 300 and len({r["id"] for r in rows}) == 300
    assert sum(r["officer"] == "甲" for r in rows) == 150


CHILD = """
import sys
from response import audit
s = audit.open_store(sys.argv[1])
i = 0
while True:
    new = s.append(audit.Event("proposed", "hohhot", "city", "yellow", "kill-test", bulletin_text="x" * 5000))
    print(new, flush=True)
    i += 1
"""


def test_killed_writer_leaves_a_consistent_store(tmp_path):
    path = tmp_path / "a.db"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    deadline = time.time() + 60
    while len(acknowledged) < 200 and time.time() < deadline:
        acknowledged.append(int(proc.stdout.readline()))
    proc.send_signal(signal.SIGKILL)  # in the middle of further appends
    proc.wait()
    assert len(acknowledged) >= 200
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with audit.open_store(path) as s:
        ids = {r["id"] for r in s.events()}
        assert set(acknowledged) <= ids  # everything acknowledged is there
        s.append(event())  # and the store still takes writes
        assert s.verify_bulletins() == []


def test_corrupt_file_refused_and_untouched(tmp_path):
    path = tmp_path / "a.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(audit.AuditError, match="a.db: not an SQLite database"):
        audit.open_store(path)
    assert path.read_bytes() == before


def test_damaged_sqlite_refused(tmp_path):
    path = tmp_path / "a.db"
    with audit.open_store(path) as s:
        s.append(event())
    data = bytearray(path.read_bytes())
    data[100:4000] = b"\xff" * 3900  # header kept, first page destroyed
    path.write_bytes(bytes(data))
    with pytest.raises(audit.AuditError, match="a.db"):
        audit.open_store(path)


def test_foreign_sqlite_database_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(audit.AuditError, match="another application"):
        audit.open_store(path)
    assert path.read_bytes() == before


def test_migration_from_schema_1(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in [s.strip() for s in audit._MIGRATIONS[1].split(";\n") if s.strip()]:
        conn.execute(statement.rstrip(";"))
    conn.execute(f"PRAGMA application_id = {audit.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO events (recorded_at, action, area_id, tier, level, officer) "
                 "VALUES ('2024-01-01', 'issued', 'wuhai', 'city', 'yellow', '老记录')")
    conn.commit()
    conn.close()
    with audit.open_store(path) as s:
        rows = s.events()
        assert rows[0]["officer"] == "老记录" and rows[0]["details"] is None
        s.append(event(details={"note": "新字段"}))
        assert s.events()[-1]["details"] == {"note": "新字段"}
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == audit.SCHEMA_VERSION


def test_export_csv(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        s.append(event(details={"k": 1}))
        s.export_csv(tmp_path / "e.csv")
    rows = list(csv.DictReader(open(tmp_path / "e.csv", encoding="utf-8-sig")))
    assert rows[0]["area_id"] == "baotou" and rows[0]["bulletin_text"] == "通知 0"
