"""Reading the shipped regulatory/data tables: CSV whose leading ``#`` lines document source and edition."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import yaml

#: libyaml's safe loader where PyYAML was built with it (its wheels are): the same documents, 5–10× faster than the
#: pure-Python one (the nomenclature, 0.25 s → 0.03 s, is read on every page's first visit)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_commented_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV, skipping whole lines that start with ``#`` (a ``#`` inside a cell, e.g. a colour, is kept)."""
    with open(path, encoding="utf-8") as fh:
        body = "".join(line for line in fh if not line.lstrip().startswith("#"))
    return pd.read_csv(io.StringIO(body), **kwargs)


def load_yaml(stream):
    """``yaml.safe_load`` with libyaml's loader when available (:data:`_SAFE_LOADER`): a string or an open file;
    raises ``yaml.YAMLError`` as ``safe_load`` does."""
    return yaml.load(stream, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
