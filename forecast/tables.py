"""Reading the shipped regulatory/data tables: CSV whose leading ``#`` lines document source and edition."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd


def read_commented_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV, skipping whole lines that start with ``#`` (a ``#`` inside a cell, e.g. a colour, is kept)."""
    with open(path, encoding="utf-8") as fh:
        body = "".join(line for line in fh if not line.lstrip().startswith("#"))
    return pd.read_csv(io.StringIO(body), **kwargs)
