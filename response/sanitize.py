"""Text from files made safe for the places lantian writes it: spreadsheets, CSV exports, pages and bulletins.

Names in a registry, reasons typed by a user and areas in a forecast document are data, never instructions:

- :func:`plain` removes control characters (C0 and C1, except tab and newline where ``keep_newlines``) and the
  code points XML 1.0 cannot hold (lone surrogates, U+FFFE, U+FFFF): a vertical tab in an enterprise name must not
  break a table, a page or a Word document (XML 1.0 refuses most C0 characters);
- :func:`cell` also neutralises spreadsheet formulas: a text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is prefixed with an apostrophe (OWASP "CSV injection"), so Excel and LibreOffice show it as text;
- :func:`frame_cells` applies :func:`cell` to every text column of a table before it is exported.

Numbers are left alone: a negative number in a numeric column is a number, not a formula.
"""
from __future__ import annotations

import re

import pandas as pd

#: C0 and C1 controls, and what XML 1.0 cannot hold at all (lone surrogates, U+FFFE, U+FFFF: python-docx refuses them)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_NO_NEWLINES = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: the first characters that make a spreadsheet cell a formula (or a DDE call)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def plain(text, *, keep_newlines: bool = False) -> str:
    """``text`` as a string without control characters (tab and newline kept only with ``keep_newlines``)."""
    if text is None:
        return ""
    s = str(text)
    return (_CONTROL if keep_newlines else _CONTROL_NO_NEWLINES).sub("", s)


def cell(text) -> str:
    """A text safe for a spreadsheet or CSV cell: :func:`plain`, and a leading formula character escaped with
    ``'``."""
    s = plain(text)
    return "'" + s if s.startswith(FORMULA_PREFIXES) else s


def frame_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text (object/string) columns went through :func:`cell`; numbers untouched."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: cell(v) if isinstance(v, str) else v)
    return out
