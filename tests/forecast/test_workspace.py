"""The workspace: atomic appends that survive a full disk, damaged lines skipped by file:line, names that never
become paths, folders replaced whole."""
import errno
import json
import os

import pytest

from forecast import workspace


def disk_full_after_half(monkeypatch, marker: bytes):
    """``os.write`` that, for data containing ``marker``, writes half the bytes and then fails with ENOSPC (a disk
    that filled up during the write); every other write goes through."""
    real = os.write

    def write(fd, data):
        if marker in bytes(data):
            real(fd, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_append_line_writes_whole_lines(tmp_path):
    path = tmp_path / "sub" / "records.jsonl"
    workspace.append_line(path, json.dumps({"a": 1}))
    workspace.append_line(path, json.dumps({"a": 2, "text": "换行\u2028分隔\x85"}, ensure_ascii=False))
    assert path.read_bytes().count(b"\n") == 2
    records, problems = workspace.read_jsonl(path)
    assert [r for _, r in records] == [{"a": 1}, {"a": 2, "text": "换行\u2028分隔\x85"}] and problems == []


def test_a_disk_full_append_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "records.jsonl"
    workspace.append_line(path, json.dumps({"a": 1}))
    before = path.read_bytes()
    disk_full_after_half(monkeypatch, b"DISKFULL")
    with pytest.raises(workspace.AppendError, match="records.jsonl.*No space left.*left as it was") as info:
        workspace.append_line(path, json.dumps({"a": 2, "pad": "DISKFULL" * 20}))
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    monkeypatch.undo()
    workspace.append_line(path, json.dumps({"a": 3}))
    records, problems = workspace.read_jsonl(path)
    assert [r["a"] for _, r in records] == [1, 3] and problems == []


def test_a_line_left_unterminated_by_a_crash_stays_apart(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2, "half')
    workspace.append_line(path, json.dumps({"a": 3}))
    records, problems = workspace.read_jsonl(path)
    assert [(no, r["a"]) for no, r in records] == [(1, 1), (3, 3)]
    assert len(problems) == 1 and problems[0].startswith(f"{path}:2: not a JSON record")


def test_damaged_lines_are_named_and_skipped(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"a": 1}\n\xff\xfe broken\n[1, 2]\n\n{"a": 5}\n')
    records, problems = workspace.read_jsonl(path)
    assert [no for no, _ in records] == [1, 5]
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:2", f"{path}:3"]
    assert "not UTF-8" in problems[0] and "not a JSON object" in problems[1]
    assert workspace.read_jsonl(tmp_path / "none.jsonl") == ([], [])


def test_a_record_is_one_line(tmp_path):
    with pytest.raises(ValueError, match="one line"):
        workspace.append_line(tmp_path / "r.jsonl", "a\nb")


@pytest.mark.parametrize("name", ["/tmp/evil", "../up", "a/b", "a\\b", "", ".hidden", "..", "a..b", "x" * 101,
                                  "名字", "a\x00b"])
def test_names_from_files_are_never_paths(name):
    with pytest.raises(workspace.DataLayoutError, match="cannot name a file or folder"):
        workspace.safe_name(name)


@pytest.mark.parametrize("name", ["20241231-abcd1234", "lantian-aqi_v2.1", "aqi_q50"])
def test_plain_names_pass(name):
    assert workspace.safe_name(name) == name


def test_output_dir_stays_in_the_workspace(tmp_path):
    assert workspace.output_dir(tmp_path, "app", "2024-12-20", cache=tmp_path / "ws").is_dir()
    for parts in (("..", "x"), ("/tmp", "x"), ("app", "../../x")):
        with pytest.raises(workspace.DataLayoutError, match="outside the workspace"):
            workspace.output_dir(tmp_path, *parts, cache=tmp_path / "ws")


def test_replacing_dir_keeps_the_old_folder_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "model"
    with workspace.replacing_dir(target) as d:
        (d / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with workspace.replacing_dir(target) as d:
            (d / "a.txt").write_text("half")
            raise RuntimeError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folder left behind
    assert (target / "a.txt").read_text() == "old"
    with workspace.replacing_dir(target) as d:
        (d / "b.txt").write_text("new")
    assert [p.name for p in target.iterdir()] == ["b.txt"] and [p.name for p in tmp_path.iterdir()] == ["model"]


def test_replacing_dir_refuses_a_folder_that_is_not_its_own(tmp_path):
    (tmp_path / "mine.csv").write_text("user data")
    with pytest.raises(workspace.DataLayoutError, match="other files in it"):
        with workspace.replacing_dir(tmp_path, is_ours=lambda p: (p / "model.json").exists()):
            pass
    assert [p.name for p in tmp_path.iterdir()] == ["mine.csv"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(workspace.DataLayoutError, match="not a folder"):
        workspace.check_replaceable(tmp_path / "file")


# ------------------------------------------------------------------------------- kept tables
def _frames():
    import pandas as pd

    return {"a": pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["p", "q"], name="k")),
            "b": pd.DataFrame({"y": ["u", None]}, dtype="string")}


def test_kept_tables_round_trip_in_their_context(tmp_path):
    import pandas as pd

    workspace.write_tables(tmp_path / "keep", _frames(), {"context": "c1", "extra": 3})
    tables, manifest, note = workspace.read_tables(tmp_path / "keep", "c1")
    assert note is None and manifest["extra"] == 3 and sorted(tables) == ["a", "b"]
    for name, frame in _frames().items():
        pd.testing.assert_frame_equal(tables[name], frame)
    assert workspace.read_tables(tmp_path / "keep", "c2") == (None, None, None)  # another code version: ignored
    assert workspace.read_tables(tmp_path / "nothing", "c1") == (None, None, None)


def test_a_new_generation_replaces_the_old_one(tmp_path):
    workspace.write_tables(tmp_path / "keep", _frames(), {"context": "c"})
    workspace.write_tables(tmp_path / "keep", {"a": _frames()["a"]}, {"context": "c"})
    assert len(list((tmp_path / "keep").glob("gen-*"))) == 1
    assert sorted(workspace.read_tables(tmp_path / "keep", "c")[0]) == ["a"]


def test_a_failed_write_keeps_the_previous_generation(tmp_path, monkeypatch):
    import pandas as pd

    workspace.write_tables(tmp_path / "keep", _frames(), {"context": "c"})

    def full(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    with pytest.raises(OSError, match="disk full"):
        workspace.write_tables(tmp_path / "keep", _frames(), {"context": "c"})
    monkeypatch.undo()
    tables, _, note = workspace.read_tables(tmp_path / "keep", "c")
    assert note is None and sorted(tables) == ["a", "b"]
    assert len(list((tmp_path / "keep").glob("gen-*"))) == 1


@pytest.mark.parametrize("damage", ["manifest", "table"])
def test_damaged_kept_tables_give_a_note_not_an_error(tmp_path, damage):
    gen = workspace.write_tables(tmp_path / "keep", _frames(), {"context": "c"})
    if damage == "manifest":
        (tmp_path / "keep" / "manifest.json").write_text("[1, 2")
        expected = "manifest.json: damaged"
    else:
        (gen / "b.parquet").write_bytes(b"not parquet")
        expected = "b.parquet: damaged"
    tables, manifest, note = workspace.read_tables(tmp_path / "keep", "c")
    assert tables is None and manifest is None and expected in note


def test_source_digest_follows_the_files(tmp_path):
    f = tmp_path / "code.py"
    f.write_text("x = 1")
    first = workspace.source_digest(f, extra="v1")
    assert workspace.source_digest(f, extra="v1") == first and workspace.source_digest(f, extra="v2") != first
    f.write_text("x = 2")
    assert workspace.source_digest(f, extra="v1") != first
