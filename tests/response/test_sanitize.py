"""Text from files made safe for spreadsheets, CSV, pages and documents."""
import pandas as pd
import pytest

from response.sanitize import cell, frame_cells, plain


@pytest.mark.parametrize("text, expected", [
    ('=HYPERLINK("http://x","点我")', '\'=HYPERLINK("http://x","点我")'),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("＝1+1", "'＝1+1"),
    ("包头钢铁\x0b集团", "包头钢铁集团"), ("\x00\x1f正常", "正常"), ("普通企业", "普通企业"), (None, ""),
    ("非\ufffe字\uffff符\ud800", "非字符"), ("制表\t符", "制表符"),  # what XML 1.0 (Word) cannot hold; tabs
])
def test_cells_are_inert(text, expected):
    assert cell(text) == expected


def test_plain_keeps_newlines_only_when_asked():
    assert plain("a\nb\x0bc") == "abc" and plain("a\nb\x0bc", keep_newlines=True) == "a\nbc"


def test_frame_cells_leaves_numbers_alone():
    f = pd.DataFrame({"name": ["=cmd", "ok"], "capacity": [-7.0, 3.0]})
    out = frame_cells(f)
    assert out["name"].tolist() == ["'=cmd", "ok"] and out["capacity"].tolist() == [-7.0, 3.0]
    assert f["name"].tolist() == ["=cmd", "ok"]  # the input is not changed
