"""Warning bulletins (Simplified Chinese) from editable templates, as Markdown and Word documents; an English
rendering for reading (``lang="en"``, ``templates/en/<kind>.md``; the bulletin issued is always the Chinese one).

Templates live in ``response/templates/<kind>.md`` (``issue``, ``upgrade``, ``downgrade``, ``lift``, ``advisory``)
with ``${placeholders}`` (Python ``string.Template``); a user may point ``template_dir`` at edited copies. A
template that names an unknown placeholder is an error, never a silently blank field.

A warning notice has the structure of a real one (REFERENCE 1.5 "warning content" [V2]; typical league/city
notices): the issuing body and the joint consultation (生态环境部门与气象部门联合会商), the level with its start and
expected end, the areas (a regional notice lists its member areas by name), the primary pollutant (the
forecast's), the expected AQI, the measures in three parts — 健康防护措施, 建议性污染减排措施, 强制性污染减排措施
(:func:`response.plans.measure_part`) — and who signs it (``response/data/signoff.yaml``, :func:`signer`; the
Taiyuan 2019 pattern [V2], UNVERIFIED for Inner Mongolia: the bulletin says so in its drafting notes).
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
import yaml

from forecast import areas as areas_mod
from forecast import labels
from forecast.aqi import AQI_MAX
from forecast.levels import LEVEL_NAMES_ZH
from forecast.tables import load_yaml

from . import causes as causes_mod
from . import plans as plans_mod
from .sanitize import plain

TEMPLATE_DIR = Path(__file__).parent / "templates"
SHIPPED_SIGNOFF = Path(__file__).parent / "data" / "signoff.yaml"
#: the three parts of the measures, as the bulletins head them
PART_ZH = {"health": "健康防护措施", "advisory": "建议性污染减排措施", "mandatory": "强制性污染减排措施"}
#: the heading of the drafting notes (what the officer checks before issuing; not part of the notice)
NOTES_ZH = "草稿说明（发布前核对并删除）"
KINDS = ("issue", "upgrade", "downgrade", "lift", "advisory")
RESPONSE_ZH = {"yellow": "Ⅲ级", "orange": "Ⅱ级", "red": "Ⅰ级", "none": "—"}
SEVERITY_ZH = {"yellow": "重污染天气过程", "orange": "较长时间的重污染天气过程", "red": "持续严重的重污染天气过程"}
#: the footer line before the audit chain head (:func:`render` ``chain_head``)
CHAIN_HEAD_ZH = "审计记录链头（audit chain head）："
POLLUTANT_ZH = {"pm25": "PM2.5", "pm10": "PM10", "o3": "臭氧（O3）", "so2": "SO2", "no2": "NO2", "co": "CO",
                "dust": "PM10（沙尘）"}
#: the primary pollutant when the forecast names none (:func:`forecast.document.derive_primary`)
PRIMARY_UNKNOWN_ZH = "待会商确定（预报未给出）"


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


def aqi_range_text(low_median: float, high_median: float, low: float, high: float, lang: str = "zh") -> str:
    """The expected daily AQI of a bulletin: ``"210–260（可能范围 180–300）"`` (``lang="en"``: ``"210–260
    (possible range 180–300)"``).

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
    capped = labels.phrase("aqi_capped", lang, top=f"{AQI_MAX:g}") if any(v > AQI_MAX for v in values) else ""
    return labels.phrase("aqi_range", lang, a=shown[0], b=shown[1], c=shown[2], d=shown[3], capped=capped)


def _measure_text(items: list[dict], lang: str = "zh") -> str:
    colon = "：" if lang == "zh" else ": "
    return "\n".join(f"{i}. **{m.get(f'dept_{lang}') or m['dept_zh']}**{colon}{m.get(lang) or m['zh']}"
                     for i, m in enumerate(items, 1)) or labels.phrase("no_measures", lang)


def measures_by_part(items: list[dict]) -> dict[str, list[dict]]:
    """Plan measures (:func:`response.plans.measures`) grouped into the three parts of a notice, in the order
    health, advisory, mandatory (:data:`response.plans.MEASURE_PARTS`; a measure without ``part`` by
    :func:`response.plans.measure_part`)."""
    out = {part: [] for part in plans_mod.MEASURE_PARTS}
    for m in items:
        out[plans_mod.measure_part(m)].append(m)
    return out


class SignoffError(ValueError):
    """A malformed sign-off file (the message names the file, the key and the allowed values)."""


def load_signoff(path: str | Path | None = None) -> dict:
    """Who signs a bulletin, per tier and level (default the shipped ``response/data/signoff.yaml``).

    Raises
    ------
    SignoffError
        An unreadable file, or a signer other than ``head``, ``deputy`` or ``office``.
    """
    path = Path(path) if path else SHIPPED_SIGNOFF
    try:
        table = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SignoffError(f"{path}: cannot read the sign-off table ({exc})") from None
    if not isinstance(table, dict) or not isinstance(table.get("signers"), dict) or \
            not isinstance(table.get("heads"), dict):
        raise SignoffError(f"{path}: expected a mapping with heads and signers")
    for tier, by_level in table["signers"].items():
        for level, who in (by_level or {}).items():
            if who not in SIGNER_ROLES:
                raise SignoffError(f"{path}: signers.{tier}.{level}: unknown signer {who!r}; allowed: "
                                   f"{', '.join(SIGNER_ROLES)}")
    return table


#: who may sign (``signoff.yaml`` ``signers``)
SIGNER_ROLES = ("head", "deputy", "office")


def signer(level: str, area_name: str, *, tier: str = "city", office: str = "",
           signoff: dict | None = None) -> str:
    """Who signs a bulletin of an area of ``tier`` (``region``, ``city``, ``county``) at ``level`` (a warning
    level, or ``health_advisory``), e.g. ``"包头市人民政府分管副市长"`` for a yellow warning of Baotou (Taiyuan 2019
    pattern [V2], ``signoff.yaml``; UNVERIFIED for Inner Mongolia).

    The head of government and the deputy in charge come from the longest ending of the area's name the table
    knows (自治区, 市, 盟, 旗 …); ``office`` is the issuing command office (its director signs as ``office``). An
    empty text when the table names no signer for the tier and level.
    """
    table = signoff or load_signoff()
    who = table["signers"].get(tier, {}).get(level)
    if who is None:
        return ""
    if who == "office":
        return f"{office or area_name + '重污染天气应急指挥部'}办公室主任"
    heads = table["heads"]
    endings = sorted(heads.get("suffix", {}), key=len, reverse=True)
    role = next((heads["suffix"][k] for k in endings if area_name.endswith(k)), heads["default"])
    return f"{area_name}{role[who]}"


#: the cause of a health advisory in words (title and text)
ADVISORY_CAUSE_ZH = {"dust": "沙尘", "o3": "臭氧污染", "fire": "火灾烟雾", "fireworks": "烟花爆竹燃放污染"}
#: why the cause gets no colour warning, in the advisory's text (REFERENCE 1.3, 1.4)
CAUSE_BASIS_ZH = {
    "dust": "沙尘等不可控因素造成的污染不纳入重污染天气应急减排。",
    "fire": "火灾烟雾等不可控因素造成的污染不纳入重污染天气应急减排。",
    "o3": "按照生态环境部关于进一步优化重污染天气应对机制的要求，臭氧污染以健康防护提示和挥发性有机物、氮氧化物日常执法"
          "监管应对，不启动颜色预警。",
    "fireworks": "烟花爆竹集中燃放造成的短时污染，按照生态环境部有关要求避免工业企业停产限产和施工工地停工。",
}


def _consultation(plans: dict) -> str:
    """``<ecology department>与<meteorological department>联合会商`` from the plans' departments."""
    depts = plans.get("departments", {})
    eco = depts.get("eco", {}).get("zh", "生态环境部门")
    met = depts.get("met", {}).get("zh", "气象部门")
    return f"{eco}与{met}联合会商"


def _tier(area_id: str, plans: dict, areas) -> str:
    if area_id == plans["region"]["id"]:
        return "region"
    return plans_mod.tier_of(area_id, areas)


def render(kind: str, *, area_id: str, level: str, previous: str = "none", window: str, start: str,
           aqi_range: str, primary: str | None = "pm25", met_cause: str = "", clause: str = "", issued_at: str,
           cause: str = "dust", template_dir: str | Path | None = None, plans: dict | None = None,
           area_name: str | None = None, areas: pd.DataFrame | None = None,
           chain_head: str | None = None, end: str = "", members: list[str] | None = None, dust: bool = False,
           withhold: dict | None = None, notes: list[str] | None = None,
           signoff: dict | None = None, lang: str = "zh") -> Bulletin:
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
    start, end : str
        Start of the warning, e.g. "2024年12月21日0时", and its expected end, e.g. "12月23日24时" (default: "另行通知";
        the lifting notice decides).
    aqi_range : str
        Expected daily AQI range, e.g. "210–260".
    primary : str or None
        The forecast's primary pollutant (``pm25``, ``pm10``, ``o3`` …, ``dust`` for dust-borne PM10; ``None``: the
        forecast names none — the bulletin says it is to be settled in the consultation).
    dust : bool
        The primary pollutant is dust-borne (``pm10`` shown as ``PM10（沙尘）``).
    cause : str
        The cause of a health advisory (``dust``, ``o3``, ``fire``, ``fireworks``), or of a warning (``pm``,
        ``fireworks``): measures limited to other causes are left out.
    withhold : dict, optional
        Measures not ordered (``{"part": "mandatory", "departments": [...]}``: the fireworks policy
        ``warning_without_plant_shutdowns``, :mod:`response.causes`); the bulletin lists them as not started.
    notes : list of str, optional
        Drafting notes for the officer (why the cause gives this response, what is unverified), printed after the
        sign-off under :data:`NOTES_ZH` together with the sign-off table's note while it is UNVERIFIED.
    members : list of str, optional
        The names of the member areas a regional bulletin covers (its 预警范围).
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
    signoff : dict, optional
        The sign-off table (:func:`load_signoff`; default the shipped one).
    lang : {"zh", "en"}
        ``"en"``: an English rendering for reading (``templates/en/<kind>.md``, the nomenclature's phrases, the
        plans' English measures and names); the texts given (``window``, ``start``, ``clause``, ``notes`` …) must
        then be English too. The bulletin issued is always the Chinese one.

    Raises
    ------
    BulletinError
        Unknown kind, missing template, a template naming an unknown placeholder, an area without a plan.
    """
    if kind not in KINDS:
        raise BulletinError(f"unknown bulletin kind {kind!r}; allowed: {', '.join(KINDS)}")
    labels._check_lang(lang)
    folder = Path(template_dir) if template_dir else TEMPLATE_DIR
    if lang != "zh":
        folder = folder / lang if (folder / lang).is_dir() else TEMPLATE_DIR / lang
    path = folder / f"{kind}.md"
    if not path.exists():
        raise BulletinError(f"{path}: template missing")
    template = string.Template(path.read_text(encoding="utf-8"))
    plans = plans or plans_mod.load_plans(areas=areas)
    authority = authority_of(area_id, plans, areas=areas)
    own_name = plans["region"]["name_zh"] if area_id == plans["region"]["id"] else str(_names(areas).loc[area_id])
    if area_name is None:
        area_name = own_name
    measure_level = "health_advisory" if kind == "advisory" else level
    items = plans_mod.measures(area_id, measure_level, plans=plans, areas=areas) if measure_level != "none" else []
    episode_cause = cause if kind == "advisory" else ("fireworks" if cause == "fireworks" else "pm")
    items, withheld = causes_mod.for_cause(items, causes_mod.Episode("", episode_cause, primary,
                                                                     withhold=withhold or {}))
    parts = measures_by_part(items)
    cause_zh = ADVISORY_CAUSE_ZH.get(cause, {"pm": "颗粒物污染"}.get(cause, cause))
    shown_primary = PRIMARY_UNKNOWN_ZH if primary is None else \
        POLLUTANT_ZH["dust"] if dust and primary == "pm10" else POLLUTANT_ZH.get(primary, primary)
    sign_level = "health_advisory" if kind == "advisory" else (previous if kind == "lift" else level)
    table = signoff or load_signoff()
    who = signer(sign_level, own_name, tier=_tier(area_id, plans, areas), office=authority, signoff=table)
    drafting = list(notes or [])
    if primary is None and kind != "lift":
        drafting.append("预报未给出首要污染物，请会商确定后填写。")
    if str(table.get("status", "")).upper().startswith("UNVERIFIED") and table.get("note_zh"):
        drafting.append(str(table["note_zh"]))
    if lang != "zh":
        values = _values_translated(lang, kind=kind, area_id=area_id, level=level, previous=previous, window=window,
                                    start=start, end=end, aqi_range=aqi_range, primary=primary, dust=dust,
                                    met_cause=met_cause, clause=clause, issued_at=issued_at, cause=cause,
                                    plans=plans, areas=areas, area_name=area_name, members=members, items=items,
                                    parts=parts, withheld=withheld, notes=list(notes or []), table=table)
    else:
        values = _values_zh(**locals())
    names = {m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)
             if m.group("named") or m.group("braced")}
    unknown = sorted(names - set(values))
    if unknown:
        raise BulletinError(f"{path}: unknown placeholder(s) {unknown}; allowed: {', '.join(sorted(values))}")
    markdown = template.substitute(values)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).rstrip() + "\n"
    if chain_head:
        head = CHAIN_HEAD_ZH if lang == "zh" else labels.phrase("chain_head", lang)
        markdown = f"{markdown.rstrip()}\n\n{head}{plain(chain_head)}\n"
    return Bulletin(kind, area_id, level, markdown)


def _values_zh(*, authority, area_name, level, previous, window, start, end, aqi_range, shown_primary, met_cause,
               clause, area_id, plans, areas, items, parts, withheld, issued_at, cause_zh, cause, members, who,
               drafting, **_) -> dict:
    """The Chinese bulletin's fields (the official text)."""
    scope = f"{area_name}（{'、'.join(members)}）" if members else f"{area_name}全域"
    return {
        "authority": authority, "recipients": "各有关部门、各有关单位",
        "level_zh": LEVEL_NAMES_ZH.get(level, level), "previous_zh": LEVEL_NAMES_ZH.get(previous, previous),
        "response_zh": RESPONSE_ZH.get(level, ""), "severity": SEVERITY_ZH.get(level, "污染天气"),
        "area_name": area_name, "window": window, "start": start, "end": end or "另行通知",
        "aqi_range": aqi_range, "primary": shown_primary, "met_cause": met_cause,
        "met_cause_short": met_cause.rstrip("。") or "气象条件变化", "clause": clause or "—",
        "plan_name": plan_name(area_id, plans=plans, areas=areas), "measures": _measure_text(items),
        "measures_health": _measure_text(parts["health"]), "measures_advisory": _measure_text(parts["advisory"]),
        "measures_mandatory": _measure_text(parts["mandatory"]),
        "withheld": ("按照烟花爆竹燃放污染应对要求，以下措施本次不启动：" + "；".join(
            f"{m['dept_zh']}：{m['zh']}" for m in withheld) + "。") if withheld else "",
        "issued_at": issued_at, "cause_zh": cause_zh, "cause_basis": CAUSE_BASIS_ZH.get(cause, ""),
        "consultation": _consultation(plans), "scope": scope, "signer": who or "（按本级预案确定）",
        "notes": (f"## {NOTES_ZH}\n\n" + "\n".join(f"- {n}" for n in drafting)) if drafting else "",
    }


def _english_name(area_id: str, plans: dict, areas, zh_name: str) -> str:
    """An area's English name (the area table's ``name_en``, the region plan's for the region), else its Chinese."""
    if area_id == plans["region"]["id"]:
        return plans["region"].get("name_en") or zh_name
    table = (areas_mod.load_areas() if areas is None else areas).set_index("area_id")
    if area_id in table.index and "name_en" in table.columns and isinstance(table.loc[area_id, "name_en"], str):
        return table.loc[area_id, "name_en"]
    return zh_name


def _values_translated(lang: str, *, kind, area_id, level, previous, window, start, end, aqi_range, primary, dust,
                       met_cause, clause, issued_at, cause, plans, areas, area_name, members, items, parts,
                       withheld, notes, table) -> dict:
    """The fields of a bulletin's rendering in ``lang`` (for reading; the nomenclature's phrases and the plans'
    English measures and department names)."""
    P = labels.phrase
    zh_own = plans["region"]["name_zh"] if area_id == plans["region"]["id"] else str(_names(areas).loc[area_id])
    own = _english_name(area_id, plans, areas, zh_own)
    shown = own if area_name is None or area_name == zh_own else area_name
    authority = P("authority", lang, name=own)
    shown_primary = P("primary_unknown", lang) if primary is None else P("primary_dust", lang) \
        if dust and primary == "pm10" else P("primary_o3", lang) if primary == "o3" else \
        labels.label("pollutants", primary, lang, default=str(primary))
    sign_level = "health_advisory" if kind == "advisory" else (previous if kind == "lift" else level)
    who = (table["signers"].get(_tier(area_id, plans, areas), {}) or {}).get(sign_level)
    signer_text = P("signer_unknown", lang) if who is None else P("signer_office", lang, office=authority) \
        if who == "office" else P(f"signer_{who}", lang, name=own, role="")
    drafting = list(notes)
    if primary is None and kind != "lift":
        drafting.append(P("draft_primary_unknown", lang))
    if str(table.get("status", "")).upper().startswith("UNVERIFIED") and table.get("note_zh"):
        drafting.append(str(table.get(f"note_{lang}") or P("signoff_unverified", lang)))
    depts = plans.get("departments", {})
    advisory = labels.load_labels()["advisory_causes"].get(cause, {})
    return {
        "authority": authority, "recipients": P("recipients", lang),
        "level_zh": labels.label("levels", level, lang, default=level),
        "previous_zh": labels.label("levels", previous, lang, default=previous),
        "response_zh": labels.label("response_grades", level, lang, default=""),
        "severity": labels.label("severities", level, lang, default=labels.label("severities", "none", lang)),
        "area_name": shown, "window": window, "start": start, "end": end or P("until_notice", lang),
        "aqi_range": aqi_range, "primary": shown_primary, "met_cause": met_cause,
        "met_cause_short": met_cause.rstrip(".。") or P("met_change", lang), "clause": clause or "—",
        "plan_name": P("plan_name", lang, name=own) if area_id != plans["region"]["id"] else
        P("plan_name", lang, name=plans["region"].get("name_en") or own),
        "measures": _measure_text(items, lang),
        "measures_health": _measure_text(parts["health"], lang),
        "measures_advisory": _measure_text(parts["advisory"], lang),
        "measures_mandatory": _measure_text(parts["mandatory"], lang),
        "withheld": P("withheld", lang, items="; ".join(
            f"{m.get(f'dept_{lang}') or m['dept_zh']}: {m.get(lang) or m['zh']}" for m in withheld))
        if withheld else "",
        "issued_at": issued_at, "cause_zh": advisory.get(lang, cause), "cause_basis": advisory.get(f"basis_{lang}", ""),
        "consultation": P("consultation", lang, eco=depts.get("eco", {}).get(lang, "ecology and environment bureau"),
                          met=depts.get("met", {}).get(lang, "meteorological service")),
        "scope": P("scope_members", lang, name=shown, members=", ".join(members)) if members else
        P("scope_all", lang, name=shown),
        "signer": signer_text,
        "notes": (f"## {P('draft_notes', lang)}\n\n" + "\n".join(f"- {n}" for n in drafting)) if drafting else "",
    }


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
