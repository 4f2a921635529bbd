"""The audit store: append-only, concurrent writers, killed writers, foreign and corrupt files, migration, export;
the hash chain and what it finds, read-only stores, and the command line."""
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
        assert s.verify().intact  # the two writers' events form one chain
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
        assert s.verify_bulletins() == [] and s.verify().intact


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


# ---- the hash chain -------------------------------------------------------------------------------------------------

def _store(path, n=4):
    """A store of ``n`` events (a correction among them) with bulletins; returns its path."""
    with audit.open_store(path) as s:
        for i in range(n):
            s.append(event(i, details={"i": i}))
    return path


def _tamper(path, *statements):
    """Edit the file as someone with raw SQLite access would (triggers dropped and re-created as needed)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in statements:
        conn.execute(sql)
    conn.close()


DROP_UPDATE = "DROP TRIGGER events_no_update"
DROP_DELETE = "DROP TRIGGER events_no_delete"
RESTORE_UPDATE = audit.TRIGGERS["events_no_update"]
RESTORE_DELETE = audit.TRIGGERS["events_no_delete"]


def test_canonical_form_is_the_documented_json():
    row = {"id": 7, "recorded_at": "2024-12-20T01:02:03.000004+00:00", "action": "issued", "area_id": "baotou",
           "tier": "city", "level": "orange", "valid_from": None, "valid_to": None, "issue_date": "2024-12-20",
           "forecast_ref": None, "model_version": "m1", "officer": "王值班", "reason": 'a "quoted"\nreason',
           "bulletin_sha256": None, "bulletin_text": None, "supersedes": 3, "details": '{"k": 1}',
           "prev_hash": "ab" * 32, "event_hash": "ignored"}
    expected = ('{"action":"issued","area_id":"baotou","bulletin_sha256":null,"bulletin_text":null,'
                '"details":"{\\"k\\": 1}","forecast_ref":null,"id":7,"issue_date":"2024-12-20","level":"orange",'
                '"model_version":"m1","officer":"王值班","prev_hash":"' + "ab" * 32 + '",'
                '"reason":"a \\"quoted\\"\\nreason","recorded_at":"2024-12-20T01:02:03.000004+00:00",'
                '"supersedes":3,"tier":"city","valid_from":null,"valid_to":null}').encode("utf-8")
    assert audit.canonical_form(row) == expected
    assert audit.event_hash(row) == hashlib.sha256(expected).hexdigest()


def test_every_event_is_chained_to_the_previous_one(tmp_path):
    with audit.open_store(_store(tmp_path / "a.db")) as s:
        rows = s.events()
        assert rows[0]["prev_hash"] == audit.GENESIS_HASH == "0" * 64
        for before, after in zip(rows, rows[1:]):
            assert after["prev_hash"] == before["event_hash"]
        raw = sqlite3.connect(tmp_path / "a.db").execute(f"SELECT {', '.join(audit.COLUMNS)} FROM events").fetchall()
        for r in raw:
            rec = dict(zip(audit.COLUMNS, r))
            assert rec["event_hash"] == hashlib.sha256(audit.canonical_form(rec)).hexdigest()
        report = s.verify()
        assert report.intact and report.events == 4 and report.first_bad_event is None
        assert report.head == s.chain_head() and s.chain_head().event_id == 4
        assert s.chain_head().event_hash == rows[-1]["event_hash"]
        assert "intact" in report.summary and s.chain_head().anchor in report.summary


def test_empty_store_verifies_and_has_no_head(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        assert s.chain_head() is None and s.verify().intact


@pytest.mark.parametrize("restore_trigger", [True, False])
def test_edited_level_is_found(tmp_path, restore_trigger):
    path = _store(tmp_path / "a.db")
    _tamper(path, DROP_UPDATE, "UPDATE events SET level = 'red' WHERE id = 2",
            *([RESTORE_UPDATE] if restore_trigger else []))
    with audit.open_store(path) as s:
        assert s.verify_bulletins() == []  # the old check saw nothing
        report = s.verify()
    assert not report.intact and report.first_bad_event == 2
    assert any(p.event_id == 2 and "changed after it was recorded" in p.message for p in report.problems)
    assert any("trigger events_no_update is missing" in str(p) for p in report.problems) != restore_trigger


def test_edited_row_with_its_hash_recomputed_breaks_the_next_link(tmp_path):
    path = _store(tmp_path / "a.db")
    with audit.open_store(path) as s:
        row = dict(next(r for r in s._rows() if r["id"] == 2), level="red")
    _tamper(path, DROP_UPDATE, f"UPDATE events SET level = 'red', event_hash = '{audit.event_hash(row)}' "
                               "WHERE id = 2", RESTORE_UPDATE)
    report = audit.verify_store(path)
    assert report.first_bad_event == 3 and "previous-event hash is not the hash of event 2" in str(report.problems[0])


def test_a_whole_rewritten_chain_is_found_only_by_an_anchor(tmp_path):
    """What the chain cannot do alone: someone who rewrites every hash after an edit. The anchor (a head kept
    elsewhere) catches it."""
    path = _store(tmp_path / "a.db")
    with audit.open_store(path) as s:
        anchor = s.chain_head()
        rows = s._rows()
    prev, updates = audit.GENESIS_HASH, []
    for r in rows:
        r = dict(r, level="red" if r["id"] == 2 else r["level"], prev_hash=prev)
        prev = audit.event_hash(r)
        updates.append(f"UPDATE events SET level = '{r['level']}', prev_hash = '{r['prev_hash']}', "
                       f"event_hash = '{prev}' WHERE id = {r['id']}")
    _tamper(path, DROP_UPDATE, *updates, RESTORE_UPDATE)
    assert audit.verify_store(path).intact  # consistent again: only an anchor can tell
    report = audit.verify_store(path, anchors=[anchor.anchor])
    assert report.first_bad_event == anchor.event_id and "anchor" in str(report.problems[0])


def test_deleted_row_is_found(tmp_path):
    path = _store(tmp_path / "a.db")
    _tamper(path, DROP_DELETE, "DELETE FROM events WHERE id = 2", RESTORE_DELETE)
    report = audit.verify_store(path)
    assert report.first_bad_event == 3 and report.events == 3
    assert "ids jump from 1 to 3: event 2 was deleted" in str(report.problems[0])


def test_deleted_last_rows_are_found(tmp_path):
    path = _store(tmp_path / "a.db")
    _tamper(path, DROP_DELETE, "DELETE FROM events WHERE id >= 3", RESTORE_DELETE)
    report = audit.verify_store(path)
    assert report.first_bad_event == 3 and "events 3–4 were deleted from the end" in str(report.problems[0])


@pytest.mark.parametrize("statements, found", [
    ([DROP_DELETE], "trigger events_no_delete is missing"),
    ([DROP_UPDATE], "trigger events_no_update is missing"),
    ([DROP_UPDATE, "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT 1; END"],
     "trigger events_no_update was altered"),
])
def test_dropped_or_altered_trigger_is_found(tmp_path, statements, found):
    path = _store(tmp_path / "a.db")
    _tamper(path, *statements)
    report = audit.verify_store(path)
    assert not report.intact and report.first_bad_event is None and found in str(report.problems[0])
    assert "the store itself" in report.summary


def test_rewritten_bulletin_with_its_stored_sha256_is_found(tmp_path):
    path = _store(tmp_path / "a.db")
    forged = "关于解除重污染天气预警的通知"
    _tamper(path, DROP_UPDATE, f"UPDATE events SET bulletin_text = '{forged}', "
                               f"bulletin_sha256 = '{hashlib.sha256(forged.encode()).hexdigest()}' WHERE id = 3",
            RESTORE_UPDATE)
    with audit.open_store(path) as s:
        assert s.verify_bulletins() == []  # text and its hash agree …
        report = s.verify()
    assert report.first_bad_event == 3  # … but the chain does not
    assert "changed after it was recorded" in str(report.problems[0])


def test_rewritten_bulletin_alone_is_named(tmp_path):
    path = _store(tmp_path / "a.db")
    _tamper(path, DROP_UPDATE, "UPDATE events SET bulletin_text = 'forged' WHERE id = 2", RESTORE_UPDATE)
    report = audit.verify_store(path)
    assert [p.event_id for p in report.problems] == [2, 2]
    assert any("bulletin text does not match" in p.message for p in report.problems)


def test_row_written_outside_lantian_is_named_and_appends_go_on(tmp_path):
    path = _store(tmp_path / "a.db", n=2)
    _tamper(path, "INSERT INTO events (recorded_at, action, area_id, tier, level, officer) "
                  "VALUES ('2024-01-01', 'issued', 'wuhai', 'city', 'red', 'someone')")
    with audit.open_store(path) as s:
        s.append(event(9))
        report = s.verify()
    assert [(p.event_id, p.message) for p in report.problems] == [(3, "it has no hash: it was written outside "
                                                                      "lantian.")]


def test_anchor_must_be_id_and_sha256(tmp_path):
    with audit.open_store(_store(tmp_path / "a.db")) as s:
        with pytest.raises(audit.AuditError, match="anchor '4:abc' is not ID:SHA256"):
            s.verify(anchors=["4:abc"])
        head = s.chain_head()
        assert audit.ChainHead.parse(head.anchor) == audit.ChainHead(head.event_id, head.event_hash)
        s.append(event(5))
        assert s.verify(anchors=[head.anchor]).intact  # an old anchor stays valid as the trail grows
        report = s.verify(anchors=[f"99:{'0' * 64}"])
    assert report.first_bad_event == 99 and "no longer has" in report.problems[0].message


# ---- migration to the chain -------------------------------------------------------------------------------------

def _schema_2_store(path, *, drop_delete_trigger=False):
    conn = sqlite3.connect(path, isolation_level=None)
    for v in (1, 2):
        for statement in [s.strip() for s in audit._MIGRATIONS[v].split(";\n") if s.strip()]:
            conn.execute(statement.rstrip(";"))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA application_id = {audit.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    text = "关于发布橙色预警的通知\n\n- 工业企业减排"
    conn.execute("INSERT INTO events (recorded_at, action, area_id, tier, level, officer, bulletin_sha256, "
                 "bulletin_text, details) VALUES ('2024-01-01T00:00:00+00:00', 'issued', 'wuhai', 'city', 'orange', "
                 "'老记录', ?, ?, ?)", (hashlib.sha256(text.encode()).hexdigest(), text, '{"override": false}'))
    conn.execute("INSERT INTO events (recorded_at, action, area_id, tier, level, officer, reason, supersedes) "
                 "VALUES ('2024-01-02T00:00:00+00:00', 'corrected', 'wuhai', 'city', 'red', '老记录', ?, 1)",
                 ("级别填错",))
    conn.execute("INSERT INTO events (recorded_at, action, area_id, tier, level, officer) "
                 "VALUES ('2024-01-05T00:00:00+00:00', 'lifted', 'wuhai', 'city', 'none', '老记录')")
    if drop_delete_trigger:
        conn.execute(DROP_DELETE)
    rows = conn.execute(f"SELECT {', '.join(audit.EVENT_FIELDS)} FROM events ORDER BY id").fetchall()
    conn.close()
    return rows


def test_migration_from_schema_2_keeps_every_row_and_verifies(tmp_path):
    path = tmp_path / "v2.db"
    before = _schema_2_store(path)
    with audit.open_store(path) as s:
        report = s.verify()
        assert report.intact and report.events == 3 and report.head.event_id == 3
        rows = s._rows()
        assert [tuple(r[c] for c in audit.EVENT_FIELDS) for r in rows] == before
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # the re-created trigger still refuses
            s._conn.execute("UPDATE events SET level = 'none'")
        new = s.append(event(details={"note": "新"}))
        assert new == 4 and s.events()[-1]["prev_hash"] == rows[-1]["event_hash"] and s.verify().intact
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == audit.SCHEMA_VERSION == 3


def test_migration_keeps_a_dropped_trigger_missing(tmp_path):
    """The migration seals what it finds; it does not hide that a trigger was already dropped."""
    path = tmp_path / "v2.db"
    _schema_2_store(path, drop_delete_trigger=True)
    report = audit.verify_store(path)
    assert [str(p) for p in report.problems] == [
        "trigger events_no_delete is missing: it was dropped, so rows could be changed or deleted without a trace "
        "in SQLite."]


def test_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "v2.db"
    before = _schema_2_store(path)
    calls = []

    def failing(row):
        calls.append(row["id"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return "f" * 64

    monkeypatch.setattr(audit, "event_hash", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        audit.open_store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "event_hash" not in [r[1] for r in conn.execute("PRAGMA table_info(events)")]
    assert conn.execute(f"SELECT {', '.join(audit.EVENT_FIELDS)} FROM events ORDER BY id").fetchall() == before
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")} == set(audit.TRIGGERS)


# ---- exports ------------------------------------------------------------------------------------------------------

def test_export_onto_the_store_refused_and_the_store_intact(tmp_path):
    path = _store(tmp_path / "a.db")
    (tmp_path / "link.db").symlink_to(path)
    before = path.read_bytes()
    with audit.open_store(path) as s:
        for target in (path, tmp_path / "sub" / ".." / "a.db", tmp_path / "link.db", tmp_path / "a.db-wal"):
            for force in (False, True):
                with pytest.raises(audit.AuditError, match="refusing to export onto it"):
                    s.export_csv(target, force=force)
        assert s.verify().intact and len(s.events()) == 4
    assert path.read_bytes() == before
    other = _store(tmp_path / "other.db", n=1)
    with audit.open_store(path) as s, pytest.raises(audit.AuditError, match="other.db: is an audit store"):
        s.export_csv(other, force=True)


def test_export_onto_an_existing_file_needs_force(tmp_path):
    path = _store(tmp_path / "a.db")
    out = tmp_path / "mine.csv"
    out.write_text("the user's own file")
    with audit.open_store(path) as s:
        with pytest.raises(audit.AuditError, match="mine.csv: exists; refusing to overwrite it"):
            s.export_csv(out)
        assert out.read_text() == "the user's own file"
        with pytest.raises(audit.AuditError, match="is a folder"):
            s.export_csv(tmp_path)
        assert s.export_csv(out, force=True) == out
    assert len(list(csv.DictReader(open(out, encoding="utf-8-sig")))) == 4
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []  # no temporary file left


def test_export_is_inert_in_a_spreadsheet(tmp_path):
    with audit.open_store(tmp_path / "a.db") as s:
        s.append(event(officer="=HYPERLINK(\"http://x\",\"点击\")", reason="理由\x0b含控制符",
                       bulletin_text="-2+3 开头的通知\n第二行\x07\n=第三行"))
        s.export_csv(tmp_path / "e.csv")
    row = next(csv.DictReader(open(tmp_path / "e.csv", encoding="utf-8-sig")))
    assert row["officer"].startswith("'=HYPERLINK") and row["reason"] == "理由含控制符"
    # line breaks kept, the cell starts as text
    assert row["bulletin_text"] == "'-2+3 开头的通知\n第二行\n=第三行"
    assert list(row) == list(audit.COLUMNS) and len(row["event_hash"]) == 64


# ---- damaged and read-only stores -------------------------------------------------------------------------------

def _damage(path, kind):
    data = path.read_bytes()
    if kind == "garbage":
        path.write_bytes(b"\x00garbage" * 2000)
    elif kind == "truncated":
        path.write_bytes(data[:1000])
    elif kind == "page_one_destroyed":
        path.write_bytes(data[:100] + b"\xff" * 3996 + data[4096:])
    elif kind == "later_pages_destroyed":
        path.write_bytes(data[:8192] + b"\xa5" * (len(data) - 8192))


DAMAGES = ["garbage", "truncated", "page_one_destroyed", "later_pages_destroyed"]


@pytest.mark.parametrize("kind", DAMAGES)
def test_damaged_store_gives_an_audit_error_and_is_never_written(tmp_path, kind):
    path = tmp_path / "a.db"
    with audit.open_store(path) as s:
        for i in range(40):
            s.append(event(i, bulletin_text="通知" * 300))
    _damage(path, kind)
    before = path.read_bytes()
    for action in (lambda s: s.events(), lambda s: s.verify(), lambda s: s.append(event()),
                   lambda s: s.export_csv(tmp_path / "e.csv")):
        with pytest.raises(audit.AuditError, match="a.db") as info:
            with audit.open_store(path) as s:
                action(s)
        assert "\n" not in str(info.value)
    assert path.read_bytes() == before


def test_missing_store_is_not_created_for_reading(tmp_path):
    with pytest.raises(audit.AuditError, match="no audit store there"):
        audit.open_store(tmp_path / "typo.db", create=False)
    with pytest.raises(audit.AuditError, match="no audit store there"):
        audit.verify_store(tmp_path / "typo.db")
    assert not (tmp_path / "typo.db").exists()
    (tmp_path / "empty.db").touch()
    with pytest.raises(audit.AuditError, match="empty.db: an empty file, not an audit store"):
        audit.open_store(tmp_path / "empty.db", create=False)
    assert (tmp_path / "empty.db").read_bytes() == b""


@pytest.fixture
def read_only(tmp_path):
    """Make a file or folder read-only for the test, writable again afterwards (for tmp_path's clean-up)."""
    made = []

    def make(p):
        p.chmod(0o555 if p.is_dir() else 0o444)
        made.append(p)

    yield make
    for p in made:
        p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_store_can_be_read_verified_and_exported(tmp_path, read_only, what):
    folder = tmp_path / "archive"
    path = _store(folder / "a.db")
    before = path.read_bytes()
    read_only(path if what == "file" else folder)
    with audit.open_store(path) as s:
        assert s.read_only and len(s.events()) == 4
        assert s.verify().intact and s.chain_head().event_id == 4
        s.export_csv(tmp_path / "e.csv")
        with pytest.raises(audit.AuditError, match=f"read-only \\(.*{what} is marked read-only\\); cannot record"):
            s.append(event())
    assert path.read_bytes() == before and sorted(p.name for p in folder.iterdir()) == ["a.db"]
    assert len(list(csv.DictReader(open(tmp_path / "e.csv", encoding="utf-8-sig")))) == 4


def test_read_only_store_of_an_old_schema_is_readable_but_not_verifiable(tmp_path, read_only):
    path = tmp_path / "v2.db"
    _schema_2_store(path)
    read_only(path)
    with audit.open_store(path) as s:
        rows = s.events()
        assert len(rows) == 3 and rows[0]["details"] == {"override": False} and rows[0]["event_hash"] is None
        with pytest.raises(audit.AuditError, match="schema 2 has no hash chain .* read-only"):
            s.verify()
    assert sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("PRAGMA user_version").fetchone()[0] == 2


def test_read_only_on_request_sees_a_live_store(tmp_path):
    path = _store(tmp_path / "a.db")
    with audit.open_store(path) as writer, audit.open_store(path, read_only=True) as reader:
        writer.append(event(9))
        assert len(reader.events()) == 5 and reader.verify().intact
        with pytest.raises(audit.AuditError, match="opened read-only"):
            reader.append(event())


# ---- the command line -------------------------------------------------------------------------------------------

def test_cli_verify_exit_codes_and_head(tmp_path, capsys):
    from lantian.cli import main

    path = _store(tmp_path / "a.db")
    assert main(["audit", "--db", str(path), "--verify"]) == 0
    assert "intact — 4 event(s)" in capsys.readouterr().out
    assert main(["audit", "--db", str(path), "--head"]) == 0
    anchor = capsys.readouterr().out.split()[0]
    assert anchor == audit.verify_store(path).head.anchor
    assert main(["audit", "--db", str(path), "--anchor", anchor]) == 0
    capsys.readouterr()
    _tamper(path, DROP_UPDATE, "UPDATE events SET level = 'red' WHERE id = 2", RESTORE_UPDATE)
    assert main(["audit", "--db", str(path), "--verify"]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED — 1 problem(s), first bad event 2" in out and "event 2: its fields no longer give" in out
    assert main(["audit", "--db", str(tmp_path / "typo.db"), "--verify"]) == 2
    assert "no audit store there" in capsys.readouterr().err and not (tmp_path / "typo.db").exists()
    assert main(["audit", "--db", str(path), "--anchor", "4:xyz"]) == 2
    assert "is not ID:SHA256" in capsys.readouterr().err


def test_cli_export_onto_the_store_or_an_existing_file(tmp_path, capsys):
    from lantian.cli import main

    path = _store(tmp_path / "a.db")
    before = path.read_bytes()
    for argv in (["--export", str(path)], ["--export", str(path), "--force"]):
        assert main(["audit", "--db", str(path), *argv]) == 2
        err = capsys.readouterr().err
        assert "refusing to export onto it" in err and err.count("\n") == 1
    assert path.read_bytes() == before and audit.verify_store(path).intact
    out = tmp_path / "e.csv"
    out.write_text("keep me")
    assert main(["audit", "--db", str(path), "--export", str(out)]) == 2
    assert "exists; refusing to overwrite" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["audit", "--db", str(path), "--export", str(out), "--force"]) == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) > 4


@pytest.mark.parametrize("kind, flags", [("garbage", []), ("later_pages_destroyed", ["--verify"])])
def test_cli_damaged_store_is_one_line_and_untouched(tmp_path, kind, flags):
    path = _store(tmp_path / "bad.db", n=40)
    _damage(path, kind)
    before = path.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "lantian", "audit", "--db", str(path), *flags],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "bad.db" in proc.stderr
    assert path.read_bytes() == before


def test_respond_with_a_damaged_store_is_one_line(tmp_path, capsys):
    import json

    from lantian.cli import main

    path = _store(tmp_path / "bad.db", n=40)
    _damage(path, "later_pages_destroyed")
    before = path.read_bytes()
    days = [{"lead_day": k + 1, "date": f"2024-12-{21 + k}", "aqi": {"q10": 80, "q50": 100, "q90": 120},
             "p_aqi_gt": {"150": 0.1, "200": 0.0, "300": 0.0}, "dust": False, "p_dust": 0.0, "drivers": []}
            for k in range(7)]
    doc = {"issue_date": "2024-12-20", "model_version": "m", "areas": [
        {"area_id": "baotou", "level": "none", "clause": "", "trigger_days": [], "rules": "MEE-2024",
         "days": days}]}
    (tmp_path / "f.json").write_text(json.dumps(doc))
    assert main(["respond", "--forecast", str(tmp_path / "f.json"), "--out", str(tmp_path / "out"),
                 "--audit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.db" in err and err.count("\n") == 1
    assert path.read_bytes() == before
