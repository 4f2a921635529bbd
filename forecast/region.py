"""A region: the areas lantian forecasts and responds for, their boundaries, plans, calendar and warning rules.

A region is configuration the user owns. A region folder may hold any of::

    areas.csv               the area table (columns of the shipped forecast/data/areas.csv)
    boundaries.geojson      area polygons, each feature matched by a ``gb`` (GB/T 2260) or ``area_id`` property
    plans.yaml              the three-tier contingency plans (layout of response/data/plans.yaml)
    calendar.yaml           heating seasons, Spring Festival dates, fireworks nights (forecast/data/calendar.yaml)
    warning_rules.yaml      warning rule sets and which is in force when (forecast/data/warning_rules.yaml)
    decision.yaml           warning decision thresholds (forecast/data/decision.yaml, :mod:`forecast.decision`)
    lifecycle.yaml          when warnings are issued and lifted (response/data/lifecycle.yaml, response.lifecycle)

and whatever it lacks falls back to the shipped Inner Mongolia region, which stays the default. Which folder:
an explicit ``path`` (``--region PATH``), else ``DIR/region/`` inside the data folder, else the ``LANTIAN_REGION``
environment variable (the app reads it), else the shipped region. Any GB/T 2260 code works: no province is
special in code. One :class:`Region` is loaded at an entry point (a command, a page, an orchestrator) and passed
down; library functions take the area table from it, never from the shipped file behind the caller's back.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

from . import areas as areas_mod
from .tables import load_yaml

#: the environment variable naming a region folder (used when neither a path nor DIR/region/ is given)
REGION_ENV = "LANTIAN_REGION"
#: the sub-folder of a data directory that holds its region
DATA_SUBFOLDER = "region"
FILES = {"areas": ("areas.csv",), "boundaries": ("boundaries.geojson", "boundaries.json"),
         "plans": ("plans.yaml",), "calendar": ("calendar.yaml",), "rules": ("warning_rules.yaml",),
         "decision": ("decision.yaml",), "lifecycle": ("lifecycle.yaml",)}
SHIPPED_NAME = "内蒙古自治区 Inner Mongolia (shipped)"


class RegionError(ValueError):
    """A region folder or file that cannot be used (names the file and the problem)."""


@dataclass(eq=False)
class Region:
    """The areas and configuration files of one region (see the module docstring).

    Attributes
    ----------
    root : Path or None
        The region folder (``None``: the shipped region).
    areas : DataFrame
        The area table: ``area_id, name_zh, short_zh, name_en, tier, parent_id, gb, seat_lon, seat_lat``.
    boundaries_file, plans_file, calendar_file, rules_file, decision_path, lifecycle_path : Path or None
        The region's own files; ``None`` where the shipped one applies.
    """

    root: Path | None
    areas: pd.DataFrame
    boundaries_file: Path | None = None
    plans_file: Path | None = None
    calendar_file: Path | None = None
    rules_file: Path | None = None
    decision_path: Path | None = None
    name: str = SHIPPED_NAME
    sources: dict = field(default_factory=dict)
    lifecycle_path: Path | None = None

    @property
    def is_shipped(self) -> bool:
        return self.root is None

    @property
    def area_ids(self) -> list[str]:
        return self.areas["area_id"].tolist()

    def names(self, column: str = "name_zh") -> pd.Series:
        """``area_id`` → display name (default the full Chinese name)."""
        return self.areas.set_index("area_id")[column]

    @cached_property
    def boundaries(self) -> dict:
        """Shapely geometry per ``area_id`` (lon/lat degrees); areas without a polygon are left out."""
        return areas_mod.boundaries(self.areas, path=self.boundaries_file, missing="skip")

    def adjacency(self, tier: str = "city") -> dict[str, set[str]]:
        """Areas of one tier that share a border."""
        return areas_mod.adjacency(self.areas, tier=tier, geoms=self.boundaries)

    @property
    def rules_path(self):
        """The rules "file" to grade with: the region's own, the shipped one (the shipped region), or the shipped
        rule sets without Inner Mongolia's history (another region without one: the national rules apply)."""
        from . import levels

        if self.rules_file is not None:
            return str(self.rules_file)
        return None if self.is_shipped else levels.NATIONAL_ONLY

    def rules_in_force(self, date) -> str:
        """The warning rule set in force in this region on ``date`` (:func:`forecast.levels.rules_in_force`)."""
        from . import levels

        return levels.rules_in_force(date, self.rules_path)

    @cached_property
    def calendar(self) -> dict:
        """The calendar facts (the region's, else the shipped one)."""
        from .features import calendar_facts

        return calendar_facts(str(self.calendar_file) if self.calendar_file else None)

    def describe(self) -> str:
        """One line: which region, and which files are its own."""
        own = [k for k, v in self.sources.items() if v != "shipped"]
        return f"{self.name}: {len(self.areas)} areas" + (f"; own {', '.join(own)}" if own else "")


def _find(folder: Path, names) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    return None


def region_folder(path=None, *, data=None) -> Path | None:
    """The region folder that applies: ``path``, else ``DIR/region/``, else ``$LANTIAN_REGION``, else ``None``."""
    if path:
        folder = Path(path)
        if not folder.is_dir():
            raise RegionError(f"{folder}: no such region folder")
        return folder
    if data is not None and (Path(data) / DATA_SUBFOLDER).is_dir():
        return Path(data) / DATA_SUBFOLDER
    env = os.environ.get(REGION_ENV)
    if env:
        folder = Path(env)
        if not folder.is_dir():
            raise RegionError(f"{folder} (from {REGION_ENV}): no such region folder")
        return folder
    return None


def load_region(path=None, *, data=None) -> Region:
    """Load the region that applies (see :func:`region_folder`); the shipped Inner Mongolia region by default.

    Raises
    ------
    RegionError
        A region folder that does not exist, or a file in it that cannot be read (names the file).
    """
    folder = region_folder(path, data=data)
    if folder is None:
        return Region(None, areas_mod.load_areas(), sources={k: "shipped" for k in FILES})
    found = {k: _find(folder, names) for k, names in FILES.items()}
    try:
        areas = areas_mod.load_areas(found["areas"]) if found["areas"] else areas_mod.load_areas()
    except areas_mod.AreaError as exc:
        raise RegionError(str(exc)) from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RegionError(f"{found['areas']}: cannot read the area table ({exc})") from None
    for key in ("plans", "calendar", "rules", "decision", "lifecycle"):
        if found[key] is not None:
            try:
                load_yaml(found[key].read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
                raise RegionError(f"{found[key]}: not a readable YAML file ({exc})") from None
    if found["boundaries"] is not None:
        try:
            json.loads(found["boundaries"].read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RegionError(f"{found['boundaries']}: not a GeoJSON FeatureCollection ({exc})") from None
    name = folder.resolve().name if folder.name != DATA_SUBFOLDER else folder.resolve().parent.name
    return Region(folder, areas, found["boundaries"], found["plans"], found["calendar"], found["rules"],
                  found["decision"], name=name, sources={k: (str(v) if v else "shipped") for k, v in found.items()},
                  lifecycle_path=found["lifecycle"])
