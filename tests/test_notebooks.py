"""The worked notebooks: they run top to bottom against the library (nbclient) on the small winter world — each
asserts in its own cells a few facts of what it shows, so a broken analysis fails —, and as stored they read without
running: a narrative between the steps and the outputs of a run (figures as PNG, a reasonable size)."""
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: the stored notebooks stay small enough to read on GitHub and to diff
MAX_BYTES = 2_500_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, winter_world, winter_inputs, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LANTIAN_DATA", str(winter_world))
    monkeypatch.setenv("LANTIAN_MODEL", str(tmp_path / "model"))
    monkeypatch.setenv("LANTIAN_ROUNDS", "30")
    # importing streamlit (the AppTests, in the same xdist worker) sets MPLBACKEND=Agg for the process, which the
    # kernel would inherit and draw nothing inline
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # the kernel starts in notebooks/: it imports this checkout's library, not an installed one
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert sum(o.get("data", {}).get("image/png") is not None for c in nb.cells if c.cell_type == "code"
               for o in c.outputs) >= 2  # the figures were drawn


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_notebook_reads_without_running(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    prose = [c for c in nb.cells if c.cell_type == "markdown"]
    # a narrative: text between the steps, not a title over a script
    assert len(code) >= 6 and len(prose) >= len(code) - 1 and sum(len(c.source) for c in prose) > 3000
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert all(c.get("outputs") for c in code), "a code cell without stored output"
    assert not [o for o in outputs if o.output_type == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2 and not [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert path.stat().st_size < MAX_BYTES


def test_three_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03"]
