"""The consultation briefing (会商材料): the document a joint consultation session (environment + meteorology)
works from.

It composes the forecast (:mod:`forecast`) and the response (:func:`response.respond.respond`, run without writing
files or audit events) into one document: the issue, the model version, the rule set and the decision thresholds
in force; a level map of the region; the 7-day table per area (AQI median and 10–90 % range, P(≥ yellow/orange/
red)); the driver reading; the meteorological maps of the key days; the proposed level per tier; and how the
forecasts of the previous days verified.

Three layers, as the rest of the package:

- :func:`gather` reads what the briefing needs (the archived forecast of the issue date, else a new forecast; the
  archived forecasts of the previous days; the observed daily AQI; the gridded fields of the key days);
- :func:`build_briefing` turns that into a :class:`Briefing`, a document model of headings, paragraphs, tables
  (with cell colours) and images (PNG bytes drawn with matplotlib by :mod:`response.charts`, in memory) — no I/O;
- :func:`write_docx` writes the model as Word, :func:`write_pdf` converts it with LibreOffice when ``soffice`` is
  on the PATH (and says so when it is not), :func:`make_briefing` does all of it for the command line.

Text is Simplified Chinese (``lang="zh"``, the default) or English (``lang="en"``); the reasons of the proposed
levels are :func:`response.respond.respond`'s and stay Chinese.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import products
from forecast.features import FAMILY_NAMES_ZH
from forecast.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS
from forecast.nomenclature import CST_OFFSET, HEAVY_AQI

from .charts import MAP_PANELS, field_maps, level_map
from .sanitize import plain

#: languages a briefing is written in
LANGUAGES = ("zh", "en")
#: issue dates before the briefing's whose archived forecasts are verified [d]
VERIFY_DAYS = 7
#: key days (highest regional AQI median) that get meteorological maps
KEY_DAYS = 2
#: meteorological driver families (the others — persistence, calendar, climatology, lead — are not weather)
MET_FAMILIES = ("ventilation", "inversion", "humidity", "transport", "accumulation")
#: drivers named per area in the reading
DRIVERS_PER_AREA = 2
#: seconds LibreOffice may take to convert the document
PDF_TIMEOUT = 120

#: the forecast document's ``met_source`` in words
MET_SOURCE_NAMES = {"forecast": ("发布日的气象预报场", "the issue day's forecast run"),
                    "analysis": ("目标日的再分析场（代替预报场）", "the target days' analyses (standing in for a forecast)"),
                    "forecast and analysis": ("气象预报场与再分析场", "forecast run and analyses"),
                    "none": ("无（仅持续性、日历与气候背景）", "none (persistence, calendar and climatology only)")}
LEVEL_NAMES_EN = {"none": "no warning", "yellow": "yellow", "orange": "orange", "red": "red"}
ACTION_NAMES = {"issue": ("发布", "issue"), "upgrade": ("升级", "upgrade"), "downgrade": ("降级", "downgrade"),
                "lift": ("解除", "lift"), "maintain": ("维持", "maintain"), "none": ("无变化", "no change")}
_TEXT = {
    "title": ("重污染天气联合会商材料", "Heavy-pollution joint consultation briefing"),
    "s_overview": ("一、预报概况", "1. The forecast"),
    "s_map": ("二、预警级别分布", "2. Level map"),
    "s_table": ("三、未来7天空气质量预报", "3. The 7-day forecast"),
    "s_drivers": ("四、气象条件影响分析", "4. Meteorological drivers"),
    "s_maps": ("五、关键日气象要素场", "5. Meteorological maps of the key days"),
    "s_tiers": ("六、各级建议预警级别", "6. Proposed levels per tier"),
    "s_verify": ("七、近期预报检验", "7. How the last days' forecasts verified"),
    "t_region": ("区域（组团）", "Region zones"), "t_city": ("盟市", "Leagues/cities"),
    "t_county": ("旗县（市、区）", "Banners/counties"),
    "issue": ("预报发布时间", "Issued"), "generated": ("材料生成时间", "Briefing generated"),
    "model": ("预报模型", "Model"), "rules": ("预警分级规则", "Warning rules"),
    "thresholds": ("决策阈值", "Decision thresholds"),
    "source_archive": ("预报来源：预报存档（该日已发布的预报）", "Forecast: the archived forecast of the issue date"),
    "source_run": ("预报来源：本次运行（该日无存档预报）", "Forecast: run now (no archived forecast of the issue date)"),
    "adjusted": ("含会商订正：{n} 条（{areas}），级别按订正后的预报分级。",
                 "Includes {n} consultation adjustment(s) ({areas}); levels graded on the adjusted forecast."),
    "met_source": ("气象资料", "Meteorology"), "read_with": ("使用提示", "Read with"),
    "degraded": ("【数据降级】本次预报的输入数据不完整或不及时，请谨慎使用：",
                 "[Degraded] this forecast's inputs are stale or incomplete; read it with care:"),
    "area": ("地区", "Area"), "level": ("预报级别", "Level"), "proposed": ("建议级别", "Proposed level"),
    "in_force": ("现行级别", "In force"), "action": ("操作", "Action"), "reason": ("理由", "Reason"),
    "advisory": ("健康提示", "Health advisory"),
    "table_note": ("单元格：AQI 中位数（第二行为 10%–90% 区间）；单元格底色为该日所在预警时段的级别；P(≥级别)为"
                   "预报期内达到该级别的概率。", "Cells: AQI median (second line: 10–90 % range); the cell colour is the "
                   "level of the warning period the day falls in; P(≥ level) is the probability of reaching the "
                   "level within the forecast."),
    "map_caption": ("各盟市建议预警级别（含区域联动）", "Proposed level of each league/city (with the regional "
                    "cascade)"),
    "no_geoms": ("没有地区边界，无法绘制级别分布图。", "No area boundaries: no level map."),
    "drivers_note": ("按各地区AQI中位数最高的一天，列出贡献最大的气象因素；贡献按模型的相对变化折算为AQI（去掉该因素"
                     "后中位数的变化）。", "For each area's day of highest AQI median, the largest meteorological "
                     "drivers; each contribution is the model's relative change converted to AQI (how much the "
                     "median changes without it)."),
    "no_met_drivers": ("气象因素不在主要贡献之列（主要为{others}）", "no meteorological driver among the largest "
                       "({others})"),
    "no_drivers": ("预报未给出驱动因子。", "the forecast gives no drivers"),
    "key_days": ("关键日（区域AQI中位数最高）：{days}。各要素为该日（北京时）各时次的平均。",
                 "Key days (highest regional AQI median): {days}. Each field is the mean of the day's valid times "
                 "(China Standard Time)."),
    "no_fields": ("没有可用的格点气象场：{why}", "No gridded meteorological fields: {why}"),
    "no_field_day": ("{day}：气象场不覆盖该日。", "{day}: the fields do not cover this day."),
    "field_source": ("来源：{kind}", "Source: {kind}"),
    "kind_forecast": ("发布日 00 UTC 预报场", "the issue day's 00 UTC forecast run"),
    "kind_analysis": ("再分析场（代替预报场）", "analyses (standing in for a forecast run)"),
    "map_day": ("{day} 气象要素场", "Meteorological fields of {day}"),
    "no_zone": ("本次无区域（组团）预警。", "No regional (zone) warning."),
    "members": ("成员盟市", "Members"), "triggered_by": ("触发盟市", "Triggered by"),
    "zone": ("区域（组团）", "Zone"), "league": ("所属盟市", "League/city"),
    "counties": ("旗县（市、区）（*：有本地预报，其余随所属盟市）", "Banners/counties (*: own forecast; the others "
                 "follow their league/city)"),
    "no_states": ("未读取审计日志：操作按“当前无预警”给出。", "No audit store read: actions are given against "
                  "“no warning in force”."),
    "verify_note": ("统计 {first} 至 {last} 发布的 {k} 次预报（模型版本 {version}）中目标日已有实况的预报；重污染日指"
                    "日均AQI>{heavy}，以预报中位数判断。", "The {k} forecast(s) issued {first} … {last} (model "
                    "version {version}) whose target days are observed; a heavy day is daily AQI > {heavy}, "
                    "forecast by the median."),
    "no_archive": ("前 {days} 天（{first} 至 {last}）尚无模型版本 {version} 的预报存档，暂无法检验。",
                   "No archived forecast of model version {version} for the previous {days} days ({first} … "
                   "{last}) yet: nothing to verify."),
    "no_obs": ("前 {days} 天的存档预报的目标日尚无实况，暂无法检验。",
               "The target days of the previous {days} days' archived forecasts are not observed yet."),
    "n": ("样本（地区·日）", "Cases (area-days)"), "hits": ("命中", "Hits"), "misses": ("漏报", "Misses"),
    "false_alarms": ("空报", "False alarms"), "mae": ("平均绝对误差", "MAE"),
    "prob": ("P(≥{lv})", "P(≥{lv})"), "dust": ("沙尘", "dust"),
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][LANGUAGES.index(lang)]


class BriefingError(ValueError):
    """A briefing that cannot be made (an unknown language, an output that is not a writable .docx file)."""


# ---- the document model -----------------------------------------------------------------------------------------

@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Paragraph:
    text: str
    bold: bool = False


@dataclass
class Table:
    columns: list
    rows: list  #: list of lists of cell texts
    fills: list | None = None  #: per row, per cell: a fill colour ``#RRGGBB`` or None
    font_pt: float = 9


@dataclass
class Image:
    png: bytes
    width_cm: float
    caption: str = ""


@dataclass
class Briefing:
    """A briefing as a document model: ``blocks`` in order (headings, paragraphs, tables, images)."""

    title: str
    issue_date: str
    lang: str
    blocks: list = field(default_factory=list)
    notes: list = field(default_factory=list)  #: what the maker of the briefing should know (not in the document)

    def headings(self, level: int | None = 1) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Heading) and (level is None or b.level == level)]


# ---- what the briefing reads ------------------------------------------------------------------------------------

@dataclass
class BriefingInputs:
    """Everything :func:`build_briefing` needs, read by :func:`gather` (or assembled by a caller such as a page)."""

    doc: dict  #: the forecast document (:func:`forecast.forecasting.forecast_json`), adjusted when applicable
    region: object  #: :class:`forecast.region.Region`
    forecast_source: str = "run"  #: ``archive`` or ``run``
    decisions: dict | None = None  #: :func:`response.respond.respond`'s result (computed when None)
    states_known: bool = False  #: the warning states in force were read from an audit store
    past: pd.DataFrame | None = None  #: archived forecast rows of the previous issue dates
    observed: pd.Series | None = None  #: observed daily AQI indexed by (area_id, date)
    fields: dict | None = None  #: key day (Timestamp) → {var: (lat, lon, values)} and "wind" → (u, v); or None
    fields_kind: str | None = None  #: ``forecast`` or ``analysis``
    fields_problem: str | None = None  #: why there are no fields
    consultation: dict | None = None  #: :func:`forecast.consultation.adjusted_forecast`'s summary


def key_days(doc: dict, n: int = KEY_DAYS) -> list[pd.Timestamp]:
    """The ``n`` target days with the highest regional AQI (the largest median over the areas), in date order."""
    by_day: dict = {}
    for a in doc["areas"]:
        for d in a["days"]:
            day = pd.Timestamp(d["date"])
            by_day[day] = max(by_day.get(day, -np.inf), float(d["aqi"]["q50"]))
    top = sorted(by_day, key=lambda k: (-by_day[k], k))[:n]
    return sorted(top)


def daily_mean_fields(ds, day) -> dict | None:
    """The mean of the fields of :func:`forecast.meteorology.map_fields` over the valid times inside ``day`` (a
    China Standard Time day); ``None`` when no valid time falls in it.

    Returns ``{var: ndarray (lat, lon)}`` for :data:`MAP_PANELS` present, ``"lat"``, ``"lon"`` [degrees] and
    ``"wind_u"``, ``"wind_v"`` [m/s] when present."""
    day = pd.Timestamp(day).normalize()
    start = day - CST_OFFSET  # the CST day in naive UTC
    sel = ds.sel(valid_time=slice(start, start + pd.Timedelta(hours=23, minutes=59)))
    if sel.sizes.get("valid_time", 0) == 0:
        return None
    out = {"lat": np.asarray(ds["lat"].values), "lon": np.asarray(ds["lon"].values)}
    for var in (*MAP_PANELS, "wind_u", "wind_v"):
        if var in sel:
            out[var] = np.asarray(sel[var].mean("valid_time").values, dtype=float)
    return out


def archived_table(data, model_version: str, issued, *, cache=None) -> pd.DataFrame | None:
    """The archived forecast of ``issued`` by ``model_version`` (:mod:`forecast.archive`), or ``None``."""
    from forecast import archive, workspace

    try:
        name = workspace.safe_name(model_version, what="model version")
    except workspace.DataLayoutError:
        return None
    path = archive.archive_dir(data, cache) / name / f"{pd.Timestamp(issued):%Y%m%d}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def past_forecasts(data, model_version: str, issued, *, days: int = VERIFY_DAYS, cache=None) -> pd.DataFrame:
    """The archived forecasts of the ``days`` issue dates before ``issued`` (those there are), one frame."""
    issued = pd.Timestamp(issued).normalize()
    tables = [archived_table(data, model_version, issued - pd.Timedelta(days=k), cache=cache)
              for k in range(days, 0, -1)]
    tables = [t for t in tables if t is not None and len(t)]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def gather(data, model_dir, issued, *, cache=None, inputs=None, region=None, rules: str | None = None,
           thresholds=None, consultation: bool = True, audit=None, progress: bool = False,
           maps: bool = True) -> BriefingInputs:
    """Read what a briefing of ``issued`` needs.

    The forecast is the archived one of the issue date by the model's version (:mod:`forecast.archive`) when there
    is one and neither ``rules`` nor ``thresholds`` is given; otherwise it is run (and archived) now
    (:func:`forecast.forecasting.run_forecast`). With ``consultation`` the consultation's adjustments of the issue
    date are applied. ``audit`` (an audit store path) is read, never written, for the warning states in force.

    Raises
    ------
    forecast.model.ModelError, forecast.nomenclature.DateError
        An issue date that is not a date or that the data cannot forecast (no archive of it and no observations
        to start from).
    """
    from forecast import consultation as consultation_mod
    from forecast import forecasting
    from forecast import model as M
    from forecast.nomenclature import parse_day
    from forecast.region import load_region

    issued = parse_day(issued, "issue date")
    if not Path(data).is_dir():
        raise BriefingError(f"{data}: no such data directory (its workspace holds the forecast archive)")
    model = M.Forecaster.load(model_dir)
    region = region or (inputs.region if inputs is not None else None) or load_region(data=data)
    table = None if (rules or thresholds) else archived_table(data, model.version, issued, cache=cache)
    source = "archive" if table is not None else "run"
    if table is None:
        inputs = inputs or forecasting.load_inputs(data, cache=cache, progress=progress, region=region)
        table = forecasting.run_forecast(data, model_dir, issued, cache=cache, rules=rules, inputs=inputs,
                                         thresholds=thresholds)
    doc = forecasting.forecast_json(table, model)
    cons = None
    if consultation:
        doc, cons = consultation_mod.adjusted_forecast(doc, data, cache=cache)
    return from_document(doc, data, region=region, cache=cache, inputs=inputs, audit=audit, maps=maps,
                         forecast_source=source, consultation=cons, progress=progress)


def from_document(doc: dict, data, *, region=None, cache=None, inputs=None, observed=None, audit=None,
                  maps: bool = True, forecast_source: str = "run", consultation: dict | None = None,
                  progress: bool = False) -> BriefingInputs:
    """The rest of a briefing's inputs for a forecast document a caller holds (the consultation page's, adjusted
    or not): the proposed levels per tier (:func:`response.respond.respond`, no files, no audit events), the
    archived forecasts of the previous days with the observed daily AQI (``observed``, indexed by (area_id,
    date); else read from ``inputs`` or the data), and the gridded fields of the key days.

    ``audit`` (a path) is read, never written or created, for the warning states in force; a path that does not
    exist is ignored."""
    from forecast import forecasting, meteorology
    from forecast.region import load_region

    from . import lifecycle
    from .respond import respond

    region = region or (inputs.region if inputs is not None else None) or load_region(data=data)
    issued = pd.Timestamp(doc["issue_date"])
    states = None
    if audit is not None and Path(audit).exists():
        from .audit import open_store

        with open_store(audit, create=False) as store:
            states = lifecycle.states_from_events(store.events(), before=doc["issue_date"])
    decisions = respond(doc, out_dir=None, write_docx=False, states=states, region=region)
    past = past_forecasts(data, doc.get("model_version") or "", issued, cache=cache)
    if len(past) and observed is None:
        inputs = inputs or forecasting.load_inputs(data, cache=cache, progress=progress, region=region)
        observed = inputs.obs.daily["aqi"]
    fields, kind, problem = None, None, None
    if maps:
        try:
            ds = meteorology.map_fields(data, issued, cache=cache)
            kind = ds.attrs.get("kind")
            fields = {day: daily_mean_fields(ds, day) for day in key_days(doc)}
        except (ValueError, OSError) as exc:  # no GRIB files of the issue date: said in the document
            problem = " ".join(str(exc).split())
    return BriefingInputs(doc=doc, region=region, forecast_source=forecast_source, decisions=decisions,
                          states_known=states is not None, past=past, observed=observed, fields=fields,
                          fields_kind=kind, fields_problem=problem, consultation=consultation)


# ---- pure pieces ------------------------------------------------------------------------------------------------

def _int(x) -> int:
    return int(round(float(x)))


def _pct(p) -> str:
    return "–" if p is None or not np.isfinite(float(p)) else f"{_int(100 * float(p))}%"


def _level_name(level: str, lang: str) -> str:
    return LEVEL_NAMES_ZH[level] if lang == "zh" else LEVEL_NAMES_EN[level]


def _short_level(level: str, lang: str) -> str:
    """``黄色``, ``橙色``, ``红色`` (``yellow`` … in English): the level's colour, as P(≥ level) names it."""
    return LEVEL_NAMES_ZH[level][:2] if lang == "zh" else LEVEL_NAMES_EN[level]


def _day_text(day, lang: str) -> str:
    day = pd.Timestamp(day)
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day:%d %b %Y}"


def _names(region, lang: str) -> dict:
    column = "name_zh" if lang == "zh" or "name_en" not in region.areas else "name_en"
    return dict(zip(region.areas["area_id"], region.areas[column].astype(str)))


def _area_order(region, ids) -> list:
    """``ids`` in the region's order: leagues/cities first, then banners/counties, then any others."""
    tiers = dict(zip(region.areas["area_id"], region.areas["tier"]))
    rank = {a: i for i, a in enumerate(region.areas["area_id"])}
    return sorted(ids, key=lambda a: (0 if tiers.get(a) == "city" else 1, rank.get(a, len(rank)), a))


def driver_effects_aqi(day: dict) -> list[dict]:
    """A forecast day's drivers in AQI points (``family``, ``aqi``), largest first: the exact additive split of the
    model's median of :func:`forecast.products.driver_effects_aqi` (the pages' split), the unlisted families
    (``other``) left out."""
    frame = products.driver_effects_aqi({"days": [day]})
    out = [{"family": r.family, "aqi": float(r.aqi)} for r in frame.itertuples() if r.family != "other"]
    return sorted(out, key=lambda r: -abs(r["aqi"]))


def _family_name(family: str, lang: str) -> str:
    return FAMILY_NAMES_ZH.get(family, family) if lang == "zh" else family.replace("_", " ")


def driver_sentence(area: dict, name: str, lang: str = "zh", *, n: int = DRIVERS_PER_AREA) -> str:
    """One sentence on an area's largest meteorological drivers on its day of highest AQI median."""
    peak = max(area["days"], key=lambda d: (float(d["aqi"]["q50"]), -d["lead_day"]))
    head = (f"{name}：{_day_text(peak['date'], lang)}（AQI中位数约{_int(peak['aqi']['q50'])}）" if lang == "zh" else
            f"{name}: {_day_text(peak['date'], lang)} (AQI median about {_int(peak['aqi']['q50'])})")
    effects = driver_effects_aqi(peak)
    if not effects:
        return head + ("，" if lang == "zh" else ", ") + _t("no_drivers", lang) + ("。" if lang == "zh" else ".")
    met = [r for r in effects if r["family"] in MET_FAMILIES and _int(r["aqi"]) != 0][:n]
    if not met:
        others = ("、" if lang == "zh" else ", ").join(_family_name(r["family"], lang) for r in effects)
        return head + ("，" if lang == "zh" else ", ") + _t("no_met_drivers", lang).format(others=others) + \
            ("。" if lang == "zh" else ".")
    if lang == "zh":
        parts = [f"{_family_name(r['family'], lang)}因素使AQI{'升高' if r['aqi'] > 0 else '降低'}约{abs(_int(r['aqi']))}"
                 for r in met]
        return head + "，" + "，".join(parts) + "。"
    parts = [f"{_family_name(r['family'], lang)} {'raises' if r['aqi'] > 0 else 'lowers'} the AQI by about "
             f"{abs(_int(r['aqi']))}" for r in met]
    return head + ": " + "; ".join(parts) + "."


def forecast_table(doc: dict, names: dict, order: list, lang: str = "zh") -> Table:
    """The 7-day table: per area the AQI median with its 10–90 % range per day (integers), P(≥ yellow/orange/
    red) in %, and the level; day cells in the colour of the level covering the day."""
    first = next(a for a in doc["areas"])
    dates = [d["date"] for d in sorted(first["days"], key=lambda d: d["lead_day"])]
    columns = [_t("area", lang)] + [f"D{i + 1}\n{pd.Timestamp(d):%m-%d}" for i, d in enumerate(dates)] + \
        [_t("prob", lang).format(lv=_short_level(k, lang)) for k in ("yellow", "orange", "red")] + \
        [_t("level", lang)]
    by_id = {a["area_id"]: a for a in doc["areas"]}
    rows, fills = [], []
    for area_id in order:
        a = by_id[area_id]
        days = {d["lead_day"]: d for d in a["days"]}
        row, fill = [names.get(area_id, area_id)], [None]
        for lead in range(1, len(dates) + 1):
            d = days.get(lead)
            if d is None:
                row.append("–")
                fill.append(None)
                continue
            text = f"{_int(d['aqi']['q50'])}\n{_int(d['aqi']['q10'])}–{_int(d['aqi']['q90'])}"
            if d.get("dust"):
                text += f" {_t('dust', lang)}"
            if d.get("adjusted"):
                text += " ✎"
            row.append(text)
            lv = products.level_on_day(a, lead)
            fill.append(LEVEL_COLOURS[lv] if lv != "none" else None)
        p = a.get("p_at_least") or {}
        row += [_pct(p.get(k)) for k in ("yellow", "orange", "red")]
        fill += [None, None, None]
        row.append(_level_name(a["level"], lang) + (" ✎" if a.get("adjusted") else ""))
        fill.append(LEVEL_COLOURS[a["level"]] if a["level"] != "none" else None)
        rows.append(row)
        fills.append(fill)
    return Table(columns, rows, fills, font_pt=8)


def verification_rows(past: pd.DataFrame, observed: pd.Series, *, heavy: float = HEAVY_AQI) -> pd.DataFrame:
    """Per area, the archived forecasts' medians against the observed daily AQI: ``n`` (area-days), ``hits``,
    ``misses``, ``false_alarms`` of heavy days (AQI > ``heavy``; forecast by the median) and ``mae`` [1].

    ``past`` has ``area_id``, ``target_date``, ``aqi_q50`` (archive rows); ``observed`` is indexed by
    ``(area_id, date)``. Forecast days without an observation are left out."""
    from forecast import verification as V

    if past is None or not len(past) or observed is None or not len(observed):
        return pd.DataFrame(columns=["area_id", "n", "hits", "misses", "false_alarms", "mae"])
    obs = observed.rename("observed").reset_index()
    obs.columns = ["area_id", "target_date", "observed"]
    obs["target_date"] = pd.to_datetime(obs["target_date"]).dt.normalize()
    f = past[["area_id", "target_date", "aqi_q50"]].copy()
    f["target_date"] = pd.to_datetime(f["target_date"]).dt.normalize()
    m = f.merge(obs, on=["area_id", "target_date"], how="inner").dropna(subset=["observed", "aqi_q50"])
    rows = []
    for area_id, g in m.groupby("area_id", sort=False):
        c = V.contingency(g["observed"] > heavy, g["aqi_q50"] > heavy)
        rows.append({"area_id": area_id, "n": len(g), "hits": c["hits"], "misses": c["misses"],
                     "false_alarms": c["false_alarms"], "mae": V.continuous(g["aqi_q50"], g["observed"])["mae"]})
    return pd.DataFrame(rows, columns=["area_id", "n", "hits", "misses", "false_alarms", "mae"])


# ---- the briefing -----------------------------------------------------------------------------------------------

def _overview(inp: BriefingInputs, lang: str) -> list:
    from forecast import levels as levels_mod

    doc, region = inp.doc, inp.region
    zh = lang == "zh"
    issued = pd.Timestamp(doc["issue_date"])
    issue_time = pd.Timestamp(doc.get("issue_time") or f"{doc['issue_date']}T16:00:00+08:00")
    now = pd.Timestamp(datetime.now(timezone.utc)).tz_convert("Asia/Shanghai")
    when = (f"{issue_time.year}年{issue_time.month}月{issue_time.day}日{issue_time.hour}时（北京时）" if zh else
            f"{issue_time:%Y-%m-%d %H:%M} CST")
    deg = doc.get("degraded") or {}
    out = [Paragraph(_t("degraded", lang) + ("；".join(deg.get("reasons") or []) if zh else
                                             "; ".join(deg.get("reasons_en") or deg.get("reasons") or [])))
           ] if deg else []
    out += [Paragraph(f"{_t('issue', lang)}：{when}" if zh else f"{_t('issue', lang)}: {when}"),
           Paragraph((f"{_t('generated', lang)}：{now:%Y-%m-%d %H:%M}（北京时）" if zh else
                      f"{_t('generated', lang)}: {now:%Y-%m-%d %H:%M} CST"))]
    model = " ".join(str(x) for x in (doc.get("model"), doc.get("model_version")) if x)
    out.append(Paragraph(f"{_t('model', lang)}{'：' if zh else ': '}{model or '–'}"))
    out.append(Paragraph(_t("source_archive" if inp.forecast_source == "archive" else "source_run", lang)))
    used = sorted({a.get("rules") for a in doc["areas"] if a.get("rules")})
    info = levels_mod.rules_in_force_info(issued, region.rules_path)
    rules = "、".join(used) if used else info.rules
    text = f"{_t('rules', lang)}{'：' if zh else ': '}{rules}"
    if info.fallback or (used and used != [info.rules]):
        text += ("（说明：" if zh else " (note: ") + info.note + ("）" if zh else ")")
    out.append(Paragraph(text))
    dec = doc.get("decision") or {}
    t = dec.get("thresholds") or {}
    if t:
        parts = ("，" if zh else ", ").join(
            f"P(≥{_short_level(k, lang)}) ≥ {_pct(t[k])}" for k in ("yellow", "orange", "red") if k in t)
        src = dec.get("source", "")
        if zh:
            text = f"{_t('thresholds', lang)}：{parts}；取满足条件的最高级别" + (f"（来源：{src}）" if src else "")
        else:
            text = f"{_t('thresholds', lang)}: {parts}; the highest level that meets its threshold" + \
                (f" (source: {src})" if src else "")
        out.append(Paragraph(text))
    if doc.get("met_source"):
        met = MET_SOURCE_NAMES.get(doc["met_source"], (doc["met_source"],) * 2)[0 if zh else 1]
        out.append(Paragraph(f"{_t('met_source', lang)}{'：' if zh else ': '}{met}"))
    cons = inp.consultation or {}
    if cons.get("adjustments"):
        names = _names(region, lang)
        out.append(Paragraph(_t("adjusted", lang).format(
            n=cons["adjustments"], areas=("、" if zh else ", ").join(names.get(a, a) for a in cons["areas"]))))
    for note in doc.get("warnings") or []:
        out.append(Paragraph(f"{_t('read_with', lang)}{'：' if zh else ': '}{note}"))
    return out


def _tier_blocks(inp: BriefingInputs, names: dict, lang: str) -> list:
    zh = lang == "zh"
    dec = inp.decisions
    out = [Heading(_t("t_region", lang), 2)]
    if dec["region"]:
        rows, fills = [], []
        for z in dec["region"]:
            rows.append([z["name_zh"], _level_name(z["level"], lang),
                         ("、" if zh else ", ").join(names.get(m, m) for m in z["members"]),
                         ("、" if zh else ", ").join(names.get(m, m) for m in z["triggered_by"])])
            fills.append([None, LEVEL_COLOURS[z["level"]] if z["level"] != "none" else None, None, None])
        out.append(Table([_t("zone", lang), _t("proposed", lang), _t("members", lang), _t("triggered_by", lang)],
                         rows, fills))
    else:
        out.append(Paragraph(_t("no_zone", lang)))
    out.append(Heading(_t("t_city", lang), 2))
    cities = dec["city"]
    cols = [_t("area", lang), _t("proposed", lang)] + \
        ([_t("in_force", lang), _t("action", lang)] if inp.states_known else []) + [_t("reason", lang)]
    rows, fills = [], []
    for r in cities:
        level = _level_name(r["level"], lang) + (f"（{_t('advisory', lang)}）" if r.get("health_advisory") else "")
        row = [names.get(r["area_id"], r["name_zh"]), level]
        fill = [None, LEVEL_COLOURS[r["level"]] if r["level"] != "none" else None]
        if inp.states_known:
            row += [_level_name(r["in_force"], lang), ACTION_NAMES.get(r["action"], (r["action"],) * 2)[0 if zh else 1]]
            fill += [None, None]
        rows.append(row + [plain(r["reason"])])
        fills.append(fill + [None])
    out.append(Table(cols, rows, fills))
    if not inp.states_known:
        out.append(Paragraph(_t("no_states", lang)))
    counties = dec["county"]
    if counties:
        out.append(Heading(_t("t_county", lang), 2))
        groups: dict = {}
        for r in counties:
            groups.setdefault((r.get("parent_id"), r["level"], bool(r.get("health_advisory"))), []).append(r)
        order = {c["area_id"]: i for i, c in enumerate(cities)}
        rows, fills = [], []
        for (parent, level, adv), recs in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], len(order)),
                                                                                   -LEVELS.index(kv[0][1]))):
            rows.append([names.get(parent, parent or "–"), _level_name(level, lang) +
                         (f"（{_t('advisory', lang)}）" if adv else ""),
                         ("、" if zh else ", ").join(names.get(r["area_id"], r["name_zh"]) +
                                                    ("*" if r.get("has_forecast") else "") for r in recs)])
            fills.append([None, LEVEL_COLOURS[level] if level != "none" else None, None])
        out.append(Table([_t("league", lang), _t("proposed", lang), _t("counties", lang)], rows, fills))
    return out


def _verification_blocks(inp: BriefingInputs, names: dict, lang: str) -> list:
    issued = pd.Timestamp(inp.doc["issue_date"])
    first, last = issued - pd.Timedelta(days=VERIFY_DAYS), issued - pd.Timedelta(days=1)
    version = inp.doc.get("model_version") or "–"
    if inp.past is None or not len(inp.past):
        return [Paragraph(_t("no_archive", lang).format(days=VERIFY_DAYS, first=first.date(), last=last.date(),
                                                         version=version))]
    rows = verification_rows(inp.past, inp.observed)
    if not len(rows):
        return [Paragraph(_t("no_obs", lang).format(days=VERIFY_DAYS))]
    issues = pd.to_datetime(inp.past["issue_date"]).dt.normalize().unique()
    out = [Paragraph(_t("verify_note", lang).format(first=pd.Timestamp(min(issues)).date(),
                                                    last=pd.Timestamp(max(issues)).date(), k=len(issues),
                                                    version=version, heavy=HEAVY_AQI))]
    order = _area_order(inp.region, list(rows["area_id"]))
    rows = rows.set_index("area_id").loc[order]
    out.append(Table([_t("area", lang), _t("n", lang), _t("hits", lang), _t("misses", lang),
                      _t("false_alarms", lang), _t("mae", lang)],
                     [[names.get(a, a), str(int(r.n)), str(int(r.hits)), str(int(r.misses)), str(int(r.false_alarms)),
                       str(_int(r.mae))] for a, r in rows.iterrows()]))
    return out


def build_briefing(inp: BriefingInputs, lang: str = "zh") -> Briefing:
    """The briefing of :func:`gather`'s inputs as a document model (headings, paragraphs, tables, images).

    Raises
    ------
    BriefingError
        A language other than :data:`LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise BriefingError(f"language {lang!r} unknown; allowed: {', '.join(LANGUAGES)}")
    from .respond import respond

    doc, region = inp.doc, inp.region
    if inp.decisions is None:
        inp.decisions = respond(doc, out_dir=None, write_docx=False, region=region)
    names = _names(region, lang)
    zh = lang == "zh"
    title = f"{_t('title', lang)}（{_day_text(doc['issue_date'], lang)}）" if zh else \
        f"{_t('title', lang)} ({doc['issue_date']})"
    b = Briefing(title=title, issue_date=doc["issue_date"], lang=lang)
    b.blocks.append(Heading(title, 0))
    b.blocks.append(Heading(_t("s_overview", lang)))
    b.blocks += _overview(inp, lang)

    b.blocks.append(Heading(_t("s_map", lang)))
    geoms = region.boundaries
    levels = {r["area_id"]: r["level"] for r in inp.decisions["city"]}
    city_ids = region.areas.loc[region.areas["tier"] == "city", "area_id"].tolist()
    if any(a in geoms for a in [*levels, *city_ids]):
        counties = region.areas.loc[region.areas["tier"] == "county", "area_id"].tolist()
        b.blocks.append(Image(level_map(levels, geoms, names, lang, cities=city_ids, counties=counties), 16.0,
                              _t("map_caption", lang)))
    else:
        b.blocks.append(Paragraph(_t("no_geoms", lang)))

    b.blocks.append(Heading(_t("s_table", lang)))
    order = _area_order(region, [a["area_id"] for a in doc["areas"]])
    b.blocks.append(forecast_table(doc, names, order, lang))
    b.blocks.append(Paragraph(_t("table_note", lang)))

    b.blocks.append(Heading(_t("s_drivers", lang)))
    b.blocks.append(Paragraph(_t("drivers_note", lang)))
    by_id = {a["area_id"]: a for a in doc["areas"]}
    for area_id in order:
        b.blocks.append(Paragraph(driver_sentence(by_id[area_id], names.get(area_id, area_id), lang)))

    b.blocks.append(Heading(_t("s_maps", lang)))
    days = key_days(doc)
    b.blocks.append(Paragraph(_t("key_days", lang).format(days=("、" if zh else ", ").join(
        _day_text(d, lang) for d in days))))
    if inp.fields is None:
        b.blocks.append(Paragraph(_t("no_fields", lang).format(why=inp.fields_problem or "–")))
    else:
        kind = _t("kind_forecast" if inp.fields_kind == "forecast" else "kind_analysis", lang)
        b.blocks.append(Paragraph(_t("field_source", lang).format(kind=kind)))
        for day in days:
            f = inp.fields.get(day)
            if f is None or not any(v in f for v in MAP_PANELS):
                b.blocks.append(Paragraph(_t("no_field_day", lang).format(day=_day_text(day, lang))))
                continue
            b.blocks.append(Heading(_t("map_day", lang).format(day=_day_text(day, lang)), 2))
            b.blocks.append(Image(field_maps(f, geoms, city_ids, lang), 16.0))

    b.blocks.append(Heading(_t("s_tiers", lang)))
    b.blocks += _tier_blocks(inp, names, lang)
    b.blocks.append(Heading(_t("s_verify", lang)))
    b.blocks += _verification_blocks(inp, names, lang)
    return b


# ---- writers ----------------------------------------------------------------------------------------------------

def _shade(cell, colour: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), colour.lstrip("#").upper())
    tc_pr.append(shd)


def write_docx(briefing: Briefing, out) -> Path | io.BytesIO:
    """Write the briefing as Word to ``out`` (a path, or a binary file object such as ``io.BytesIO``)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    d = Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.0)
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Caption"):
        style = d.styles[name]
        style.font.name = "SimSun" if name in ("Normal", "Caption") else "SimHei"
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), style.font.name)
    d.styles["Normal"].font.size = Pt(11)
    for block in briefing.blocks:
        if isinstance(block, Heading):
            d.add_heading(plain(block.text), level=block.level)
        elif isinstance(block, Paragraph):
            para = d.add_paragraph()
            para.add_run(plain(block.text)).bold = block.bold
        elif isinstance(block, Table):
            table = d.add_table(rows=len(block.rows) + 1, cols=len(block.columns))
            table.style = "Table Grid"
            for r, cells in enumerate([block.columns] + block.rows):
                for c, text in enumerate(cells):
                    para = table.cell(r, c).paragraphs[0]
                    for i, line in enumerate(str(text).split("\n")):  # a line break inside a cell is kept
                        if i:
                            para.runs[-1].add_break()
                        run = para.add_run(plain(line))
                        run.font.size = Pt(block.font_pt)
                        run.bold = r == 0
                    colour = block.fills[r - 1][c] if (r and block.fills) else None
                    if colour:
                        _shade(table.cell(r, c), colour)
            d.add_paragraph()
        elif isinstance(block, Image):
            d.add_picture(io.BytesIO(block.png), width=Cm(block.width_cm))
            d.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if block.caption:
                cap = d.add_paragraph(plain(block.caption), style="Caption")
                cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if isinstance(out, (str, os.PathLike)):
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        d.save(str(out))
        return out
    d.save(out)
    return out


def pdf_converter() -> str | None:
    """LibreOffice's ``soffice`` (or ``libreoffice``) on the PATH, or ``None``."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_pdf(docx_path) -> tuple[Path | None, str]:
    """Convert a written briefing to PDF beside it with LibreOffice; ``(path, note)``, the path ``None`` (and the
    note saying why) when no converter is on the PATH or the conversion fails — never an error."""
    docx_path = Path(docx_path)
    exe = pdf_converter()
    if exe is None:
        return None, "no PDF converter found (LibreOffice `soffice` not on PATH): Word only"
    with tempfile.TemporaryDirectory() as profile:
        try:
            run = subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                                  "--outdir", str(docx_path.parent), str(docx_path)],
                                 capture_output=True, text=True, timeout=PDF_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"PDF conversion failed ({exe}: {exc}): Word only"
    pdf = docx_path.with_suffix(".pdf")
    if run.returncode != 0 or not pdf.exists():
        why = " ".join((run.stderr or run.stdout or f"exit status {run.returncode}").split())[:200]
        return None, f"PDF conversion failed ({exe}: {why}): Word only"
    return pdf, f"PDF written by {exe}"


def check_out(out) -> Path:
    """The briefing's output file checked before any work: a ``.docx`` in a folder that can be written.

    Raises
    ------
    BriefingError
        Another suffix, an existing folder, or a folder that cannot be created or written."""
    out = Path(out)
    if out.suffix.lower() != ".docx":
        raise BriefingError(f"{out}: a briefing is written as Word: give a file ending in .docx")
    if out.is_dir():
        raise BriefingError(f"{out}: is a folder; give a file ending in .docx")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".briefing-", suffix=".tmp"):
            pass
    except OSError as exc:
        raise BriefingError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    return out


def make_briefing(data, model_dir, issued, out, *, lang: str = "zh", pdf: bool = True, **kw) -> dict:
    """Gather, build and write a briefing (:func:`gather` takes ``kw``); ``docx`` and ``pdf`` (or ``None``) paths,
    ``pdf_note``, ``forecast_source`` and the :class:`Briefing`."""
    if lang not in LANGUAGES:
        raise BriefingError(f"language {lang!r} unknown; allowed: {', '.join(LANGUAGES)}")
    out = check_out(out)
    inp = gather(data, model_dir, issued, **kw)
    briefing = build_briefing(inp, lang)
    path = write_docx(briefing, out)
    pdf_path, note = write_pdf(path) if pdf else (None, "PDF not asked for")
    return {"docx": path, "pdf": pdf_path, "pdf_note": note, "forecast_source": inp.forecast_source,
            "briefing": briefing, "fields_problem": inp.fields_problem}
