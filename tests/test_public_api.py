"""Each package has a small public face (what a notebook user imports), and the layers import only downwards."""
import ast
import importlib
from pathlib import Path

import pytest

import forecast
import response

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", [forecast, response])
def test_no_public_name_shadows_a_module(package):
    modules = {p.stem for p in Path(package.__file__).parent.glob("*.py")}
    assert not set(package.__all__) & modules


@pytest.mark.parametrize("package", [forecast, response])
def test_every_public_name_resolves(package):
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


#: package → the project packages it must never import (the library never imports the simulator, the UI or the
#: command line; forecast never imports response)
FORBIDDEN = {"forecast": {"response", "simulate", "ui", "lantian", "app", "streamlit"},
             "response": {"simulate", "ui", "lantian", "app", "streamlit"},
             "simulate": {"ui", "lantian", "app", "streamlit"}}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_upwards(package):
    bad = {str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN[package])
           for p in (ROOT / package).rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}


def test_old_module_paths_are_gone():
    for old in ("response.cli", "response.commands", "response.levels", "forecast.simulate", "forecast.gribio",
                "forecast.counterfactual", "forecast.stations"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(old)
