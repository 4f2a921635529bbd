"""The wheel: built without network, installed outside the source tree, it ships its data and runs.

The packages are installed with ``pip install --target`` and imported from there (``PYTHONPATH``) by
subprocesses that run in a folder outside the repository, so a data file missing from
``[tool.setuptools.package-data]`` fails here even though the editable install finds it in the checkout.
"""
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from forecast import areas

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = ("forecast", "response", "simulate", "lantian")

pytestmark = pytest.mark.slow


def _package_dirs() -> list[Path]:
    """The top-level package folders ``[tool.setuptools.packages.find] include`` selects."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(p for p in ROOT.iterdir() if (p / "__init__.py").exists()
                  and any(fnmatch.fnmatch(p.name, pattern) for pattern in include))


def _pip(*args, cwd):
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    out = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, f"pip {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the project (an in-tree build would write ``build/`` and ``*.egg-info``
    into the shared checkout, and a stale ``build/lib`` can leak deleted files into the wheel)."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for package in _package_dirs():
        shutil.copytree(package, src / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # --no-build-isolation: the venv's setuptools and wheel (the dev extras), no network;
    # --check-build-dependencies: fail if they do not satisfy [build-system] requires
    _pip("wheel", "--no-deps", "--no-index", "--no-build-isolation", "--check-build-dependencies",
         "-w", str(base / "dist"), str(src), cwd=base)
    (whl,) = (base / "dist").glob("lantian-*.whl")
    return whl


@pytest.fixture(scope="module")
def target(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a plain folder (``pip install --target``)."""
    folder = tmp_path_factory.mktemp("target")
    _pip("install", "--no-deps", "--no-index", "--target", str(folder), str(wheel), cwd=folder)
    return folder


def _run_installed(args: list[str], target: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Python with the installed wheel first on ``sys.path``, in ``cwd`` (outside the repository)."""
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=600)


def test_wheel_ships_every_file_of_the_packages(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {str(p.relative_to(ROOT)) for d in _package_dirs() for p in d.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    missing = sorted(shipped - names)
    assert not missing, f"in the source packages but not in {wheel.name}: {missing}"
    # the data folders the code reads (Path(__file__).parent / ...), whether or not they are checked above
    for folder in ("forecast/data/", "response/data/", "response/templates/"):
        assert any(n.startswith(folder) for n in names), f"{folder} missing from {wheel.name}"
    assert "lantian = lantian.cli:main" in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()


RENDER = """
import json, sys
import forecast, lantian, response, simulate
from response import bulletins

b = bulletins.render("issue", area_id="baotou", level="orange", window="12月21日至12月22日",
                     start="2024年12月21日0时", aqi_range="230–240", issued_at="2024年12月20日")
print(json.dumps({"files": {m.__name__: m.__file__ for m in (forecast, response, simulate, lantian)},
                  "templates": str(bulletins.TEMPLATE_DIR), "markdown": b.markdown}, ensure_ascii=False))
"""


def test_installed_wheel_renders_a_bulletin(target, tmp_path):
    out = _run_installed(["-c", RENDER], target, tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    # imported from the wheel, not from the checkout (the editable install's finder also maps these names)
    for name in PACKAGES:
        assert res["files"][name].startswith(str(target)), f"{name} imported from {res['files'][name]}"
    assert res["templates"].startswith(str(target))
    text = res["markdown"]
    assert text.startswith("# 包头市")  # issuing authority from plans.yaml, area name from areas.csv
    assert "重污染天气**橙色预警**" in text and "启动Ⅱ级应急响应" in text  # orange = level II response
    assert "《包头市重污染天气应急预案》" in text
    assert "减排比例不低于 20%" in text  # the orange-level measures of the plan
    assert "${" not in text


def _area(area_id: str, level: str = "none", aqi=(100,) * 7, trigger=(), clause: str = "") -> dict:
    """One area of a forecast document (the shape `lantian forecast --out F.json` writes)."""
    return {"area_id": area_id, "level": level, "clause": clause, "trigger_days": list(trigger),
            "level_probabilities": {"none": 0.2, "yellow": 0.5, "orange": 0.3, "red": 0.0},
            "days": [{"lead_day": k + 1, "date": f"2024-12-{21 + k}",
                      "aqi": {"q10": a * 0.8, "q50": a, "q90": a * 1.2},
                      "p_aqi_gt": {"150": 0.1, "200": 0.1, "300": 0.0}, "dust": False, "p_dust": 0.0,
                      "drivers": [{"family": "ventilation", "name_zh": "通风扩散", "effect": 0.4}]}
                     for k, a in enumerate(aqi)]}


def test_installed_wheel_runs_respond(target, tmp_path):
    docs = [_area(a) if a != "baotou" else
            _area("baotou", "orange", (230, 240, 160, 120, 100, 100, 100), (1, 2), "AQI>200 持续≥48h")
            for a in areas.load_areas()["area_id"]]
    forecast_file = tmp_path / "forecast.json"
    forecast_file.write_text(json.dumps({"issue_date": "2024-12-20", "model_version": "m-test", "areas": docs},
                                        ensure_ascii=False), encoding="utf-8")
    out_dir = tmp_path / "out"
    # `python -m lantian` is the `lantian` console script (not on PATH in a --target install)
    out = _run_installed(["-m", "lantian", "respond", "--forecast", str(forecast_file), "--out", str(out_dir)],
                         target, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "[city] 包头市: issue → orange" in out.stdout
    decisions = json.loads((out_dir / "decisions.json").read_text(encoding="utf-8"))
    city = {r["area_id"]: r for r in decisions["city"]}
    assert city["baotou"]["action"] == "issue" and city["baotou"]["level"] == "orange"
    bulletin = out_dir / "bulletins" / "baotou_issue.md"
    assert bulletin.exists() and (out_dir / "bulletins" / "baotou_issue.docx").exists()
    assert "12月21日至12月22日" in bulletin.read_text(encoding="utf-8")
