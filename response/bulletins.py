"""Warning bulletins (Simplified Chinese) from editable templates, as Markdown and Word documents.

Templates live in ``response/templates/<kind>.md`` (``issue``, ``upgrade``, ``downgrade``, ``lift``, ``advisory``)
with ``${placeholders}`` (Python ``string.Template``); a user may point ``template_dir`` at edited copies. A
template that names an unknown placeholder is an error, never a silently blank field.
"""
from __future__ import annotations

import hashlib
import math
import numbers
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast import areas as areas_mod
from forecast.aqi import AQI_MAX
from forecast.levels import LEVEL_NAMES_ZH

from . import plans as plans_mod
from .sanitize import plain

TEMPLATE_DIR = Path(__file__).parent / "templates"
KINDS = ("issue", "upgrade", "downgrade", "lift", "advisory")
RESPONSE_ZH = {"yellow": "Ⅲ级", "orange": "Ⅱ级", "red": "Ⅰ级", "none": "—"}
SEVERITY_ZH = {"yellow": "重污染天气过程", "orange": "较长时间的重污染天气过程", "red": "持续严重的重污染天气过程"}
#: the footer line before the audit chain head (:func:`render` ``chain_head``)
CHAIN_HEAD_ZH = "审计记录链头（audit chain head）："
POLLUTANT_ZH = {"pm25": "PM2.5", "pm10": "PM10", "o3": "臭氧（O3）", "so2": "SO2", "no2": "NO2", "co": "CO",
                "dust": "PM10（沙尘）"}


class BulletinError(ValueError):
    """Unknown bulletin kind, missing template, or a template field nobody fills."""


@dataclass
class Bulletin:
    kind: str
    area_id: str
    level: str
    markdown: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.markdown.encode("utf-8")).hexdigest()

    @property
    def title(self) -> str:
        return self.markdown.splitlines()[0].lstrip("# ").strip()


def _plan_of(area_id: str, plans: dict, areas) -> tuple[str, dict]:
    try:
        return plans_mod.plan_of(area_id, plans=plans, areas=areas)
    except plans_mod.PlanError:
        raise BulletinError(f"no plan (and so no issuing authority) for area {area_id!r}") from None


def authority_of(area_id: str, plans: dict | None = None, *, areas: pd.DataFrame | None = None) -> str:
    """The issuing authority of an area's bulletins: the office of the plan it implements (its own, else its
    league/city's; the region plan's for the region's id, by default ``<region>重污染天气应对指挥部``)."""
    plans = plans or plans_mod.load_plans(areas=areas)
    owner, plan = _plan_of(area_id, plans, areas)
    if owner == plans["region"]["id"]:
        return plan.get("office_zh", f"{plan['name_zh']}重污染天气应对指挥部办公室").removesuffix("办公室")
    if "office_zh" not in plan:
        raise BulletinError(f"no plan (and so no issuing authority) for area {area_id!r}")
    return plan["office_zh"].removesuffix("办公室")


def plan_name(area_id: str, *, plans: dict | None = None, areas: pd.DataFrame | None = None) -> str:
    """The name of the plan an area implements (``<area>重污染天气应急预案``; the region plan's for the region)."""
    plans = plans or plans_mod.load_plans(areas=areas)
    owner, plan = _plan_of(area_id, plans, areas)
    if owner == plans["region"]["id"]:
        return plan.get("plan_zh", f"{plan['name_zh']}重污染天气应急预案")
    return f"{_names(areas).loc[owner]}重污染天气应急预案"


def _names(areas: pd.DataFrame | None) -> pd.Series:
    return (areas_mod.load_areas() if areas is None else areas).set_index("area_id")["name_zh"]


def aqi_range_text(low_median: float, high_median: float, low: float, high: float) -> str:
    """The expected daily AQI of a bulletin: ``"210–260（可能范围 180–300）"``.

    Parameters
    ----------
    low_median, high_median : float
        The lowest and highest daily median AQI of the window [1].
    low, high : float
        The lowest 10 % and highest 90 % quantile of the window [1].

    Returns
    -------
    str
        Whole numbers; a value above the top of HJ 633's scale (an upper quantile shifted by a consultation
        adjustment) is written as 500 and the text says the scale ends there.

    Raises
    ------
    BulletinError
        A value that is not a number, is negative, or is out of order (a bulletin never states an AQI that is not
        one); a forecast document is checked before (:mod:`forecast.document`), so this is a last guard.
    """
    values = (low_median, high_median, low, high)
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
               for v in values) or \
            not (low <= low_median <= high_median <= high):
        raise BulletinError(f"AQI range {values}: expected numbers 0 … {AQI_MAX:g} in the order 10 % quantile ≤ "
                            "medians ≤ 90 % quantile")
    shown = [int(round(min(v, AQI_MAX))) for v in values]
    capped = f"，指数上限为{AQI_MAX:g}" if any(v > AQI_MAX for v in values) else ""
    return f"{shown[0]}–{shown[1]}（可能范围 {shown[2]}–{shown[3]}{capped}）"


def _measure_text(items: list[dict]) -> str:
    return "\n".join(f"{i}. **{m['dept_zh']}**：{m['zh']}" for i, m in enumerate(items, 1)) or "（无）"


def render(kind: str, *, area_id: str, level: str, previous: str = "none", window: str, start: str,
           aqi_range: str, primary: str = "pm25", met_cause: str = "", clause: str = "", issued_at: str,
           cause: str = "dust", template_dir: str | Path | None = None, plans: dict | None = None,
           area_name: str | None = None, areas: pd.DataFrame | None = None,
           chain_head: str | None = None) -> Bulletin:
    """Render one bulletin.

    Parameters
    ----------
    kind : {"issue", "upgrade", "downgrade", "lift", "advisory"}
    area_id : str
        Issuing area (league/city or banner/county of ``areas``, or the region plan's id for a regional warning,
        e.g. ``inner_mongolia``).
    level, previous : str
        Level after and before the action.
    window : str
        Expected time window of the episode, e.g. "12月21日至12月23日".
    aqi_range : str
        Expected daily AQI range, e.g. "210–260".
    plans : dict, optional
        The plan system (default :func:`response.plans.load_plans` for ``areas``).
    area_name : str, optional
        The area the bulletin names (default the area's ``name_zh``; the region plan's name for the region).
    areas : DataFrame, optional
        The area table (``Region.areas``); default the shipped one.
    chain_head : str, optional
        The audit chain's head ``ID:SHA256`` when the bulletin is drafted (:meth:`response.audit.AuditStore.
        chain_head`): printed in a footer line after the template's text (whatever the template), so every copy of
        the bulletin carries an anchor of the trail kept outside the store (``lantian audit --verify --anchor``).
    """
    if kind not in KINDS:
        raise BulletinError(f"unknown bulletin kind {kind!r}; allowed: {', '.join(KINDS)}")
    folder = Path(template_dir) if template_dir else TEMPLATE_DIR
    path = folder / f"{kind}.md"
    if not path.exists():
        raise BulletinError(f"{path}: template missing")
    template = string.Template(path.read_text(encoding="utf-8"))
    plans = plans or plans_mod.load_plans(areas=areas)
    authority = authority_of(area_id, plans, areas=areas)
    if area_name is None:
        area_name = plans["region"]["name_zh"] if area_id == plans["region"]["id"] else _names(areas).loc[area_id]
    measure_level = "health_advisory" if kind == "advisory" else level
    items = plans_mod.measures(area_id, measure_level, plans=plans, areas=areas) if measure_level != "none" else []
    cause_zh = {"dust": "沙尘", "o3": "臭氧", "fire": "火灾烟雾"}.get(cause, cause)
    values = {
        "authority": authority, "recipients": "各有关部门、各有关单位",
        "level_zh": LEVEL_NAMES_ZH.get(level, level), "previous_zh": LEVEL_NAMES_ZH.get(previous, previous),
        "response_zh": RESPONSE_ZH.get(level, ""), "severity": SEVERITY_ZH.get(level, "污染天气"),
        "area_name": area_name, "window": window, "start": start, "aqi_range": aqi_range,
        "primary": POLLUTANT_ZH.get(primary, primary), "met_cause": met_cause,
        "met_cause_short": met_cause.rstrip("。") or "气象条件变化", "clause": clause or "—",
        "plan_name": plan_name(area_id, plans=plans, areas=areas), "measures": _measure_text(items), "issued_at": issued_at,
        "cause_zh": cause_zh,
    }
    names = {m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)
             if m.group("named") or m.group("braced")}
    unknown = sorted(names - set(values))
    if unknown:
        raise BulletinError(f"{path}: unknown placeholder(s) {unknown}; allowed: {', '.join(sorted(values))}")
    markdown = template.substitute(values)
    if chain_head:
        markdown = f"{markdown.rstrip()}\n\n{CHAIN_HEAD_ZH}{plain(chain_head)}\n"
    return Bulletin(kind, area_id, level, markdown)


def to_docx(bulletin: Bulletin, path: str | Path) -> Path:
    """Write a bulletin as a Word document (headings, numbered measures, bold runs)."""
    return markdown_to_docx(bulletin.markdown, path)


def markdown_to_docx(markdown: str, path: str | Path) -> Path:
    """Write the Markdown subset lantian produces (``#``/``##`` headings, ``**bold**``, ``|`` tables) as Word.

    Every text loses its control characters first (:func:`response.sanitize.plain`): Word's XML cannot hold them,
    and a name from a registry or an area table must not make the document fail."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    style.font.size = Pt(12)
    lines = [plain(line) for line in markdown.split("\n")]
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(set(c) <= set("-: ") for c in cells):
                    block.append(cells)
                i += 1
            table = doc.add_table(rows=len(block), cols=max(len(r) for r in block))
            table.style = "Table Grid"
            for r, cells in enumerate(block):
                for c, text in enumerate(cells):
                    table.cell(r, c).text = text
            continue
        i += 1
        if not line.strip():
            continue
        if line.startswith("# "):
            doc.add_heading(line[2:].strip(), level=1)
        elif line.startswith("## "):
            doc.add_heading(line[3:].strip(), level=2)
        else:
            para = doc.add_paragraph()
            for j, part in enumerate(re.split(r"\*\*", line)):
                if part:
                    para.add_run(part).bold = bool(j % 2)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
