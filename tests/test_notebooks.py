"""The worked notebooks run top to bottom against the library (nbclient), on the small winter world."""
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, winter_world, winter_inputs, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LANTIAN_DATA", str(winter_world))
    monkeypatch.setenv("LANTIAN_MODEL", str(tmp_path / "model"))
    monkeypatch.setenv("LANTIAN_ROUNDS", "30")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


def test_three_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03"]
