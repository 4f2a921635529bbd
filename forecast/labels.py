"""The nomenclature a user reads: every code lantian shows (columns, levels, tiers, actions, pollutants, driver
families, units, sources, response kinds, verdicts …) → its Chinese label (the default) and its English one.

The labels are data, ``forecast/data/labels.yaml`` (:func:`load_labels`, with a ``path=`` override). What already
has a home is taken from it, not repeated: the level names and colours from :mod:`forecast.levels`
(``LEVEL_NAMES_ZH``, ``LEVEL_COLOURS``), the driver families' Chinese names from :mod:`forecast.features`
(``FAMILY_NAMES_ZH``), the pollutant symbols from :mod:`forecast.nomenclature` (``SPECIES_NAMES``).

An unknown code raises :class:`LabelError` naming the allowed codes (:func:`label`); ``default=`` gives a defined
fallback where a table may carry codes of a newer library (the review tables). Area names come from the area
table (:func:`area_label`), never from here. :func:`forbidden_tokens` lists the codes that must never appear in the
Chinese UI (the app's tests check the rendered text against it).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

from .levels import LEVEL_COLOURS, LEVEL_NAMES_ZH
from .nomenclature import SPECIES_NAMES
from .tables import load_yaml

LABELS_FILE = Path(__file__).parent / "data" / "labels.yaml"
LANGS = ("zh", "en")
#: what an empty table cell shows (never ``None`` / ``nan``)
EMPTY = "—"
_RAISE = object()


class LabelError(ValueError):
    """An unknown kind, code or language (the message names the allowed ones)."""


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise LabelError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    return lang


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    from .features import FAMILY_NAMES_ZH

    with open(path, encoding="utf-8") as fh:
        table = load_yaml(fh)
    if not isinstance(table, dict):
        raise LabelError(f"{path}: expected a mapping of kinds, got {type(table).__name__}")
    fills = {"levels": LEVEL_NAMES_ZH, "families": FAMILY_NAMES_ZH, "pollutants": SPECIES_NAMES}
    for kind, entries in table.items():
        if not isinstance(entries, dict):
            raise LabelError(f"{path}: kind {kind!r} is not a mapping of codes")
        for code, entry in entries.items():
            entry = dict(entry or {})
            if "zh" not in entry and code in fills.get(kind, {}):
                entry["zh"] = fills[kind][code]
            missing = [lang for lang in LANGS if lang not in entry]
            if missing:
                raise LabelError(f"{path}: {kind}.{code} has no {' / '.join(missing)} label")
            entries[code] = entry
    return table


def load_labels(path: str | Path | None = None) -> dict:
    """The nomenclature: kind → code → ``{"zh": …, "en": …, …}`` (cached per file).

    Raises
    ------
    LabelError
        A kind that is not a mapping, or a code without a Chinese or English label (after the fills from
        :mod:`forecast.levels`, :mod:`forecast.features`, :mod:`forecast.nomenclature`).
    """
    return _load(str(path or LABELS_FILE))


def kinds(path=None) -> list[str]:
    """The kinds of codes the nomenclature names (``levels``, ``tiers``, ``actions``, ``columns`` …)."""
    return list(load_labels(path))


def codes(kind: str, path=None) -> list[str]:
    """The codes of one kind."""
    table = load_labels(path)
    if kind not in table:
        raise LabelError(f"unknown kind of label {kind!r}; allowed: {', '.join(table)}")
    return list(table[kind])


def label(kind: str, code, lang: str = "zh", *, field: str | None = None, default=_RAISE, path=None) -> str:
    """The label of ``code`` of ``kind`` in ``lang`` (``"zh"`` or ``"en"``).

    Parameters
    ----------
    kind : str
        ``levels``, ``levels_short``, ``tiers``, ``actions``, ``pollutants``, ``causes``, ``families``,
        ``response_kinds``, ``verdicts``, ``outcomes``, ``met_sources``, ``sources``, ``records``, ``models``,
        ``columns``, ``units`` (:func:`kinds`).
    code : str
        The code (``"orange"``, ``"issue"``, ``"society_td"`` …).
    field : str, optional
        Another field of the entry, suffixed with the language (``field="up"`` → ``up_zh``).
    default : optional
        Returned for an unknown code instead of raising (a defined fallback; e.g. the code itself).

    Raises
    ------
    LabelError
        An unknown kind or language, or an unknown code without ``default`` (naming the allowed codes).
    """
    _check_lang(lang)
    table = load_labels(path)
    if kind not in table:
        raise LabelError(f"unknown kind of label {kind!r}; allowed: {', '.join(table)}")
    entry = table[kind].get(code)
    if entry is None:
        if default is not _RAISE:
            return default
        raise LabelError(f"unknown {kind} code {code!r}; allowed: {', '.join(map(str, table[kind]))}")
    key = f"{field}_{lang}" if field else lang
    if key not in entry:
        raise LabelError(f"{kind}.{code} has no {key!r}; it has: {', '.join(entry)}")
    return entry[key]


def column(code: str, lang: str = "zh", path=None) -> str:
    """A table's column header (``columns`` kind)."""
    return label("columns", code, lang, path=path)


def columns(codes_: list[str], lang: str = "zh", path=None) -> dict[str, str]:
    """``{code: header}`` for renaming a DataFrame's columns."""
    return {c: column(c, lang, path) for c in codes_}


def level_colour(level: str) -> str:
    """The official colour of a warning level (:data:`forecast.levels.LEVEL_COLOURS`)."""
    if level not in LEVEL_COLOURS:
        raise LabelError(f"unknown level {level!r}; allowed: {', '.join(LEVEL_COLOURS)}")
    return LEVEL_COLOURS[level]


def level_of_label(text) -> str | None:
    """The level whose Chinese or English name a table cell starts with (``"橙色预警 ✎"`` → ``orange``), else
    ``None``."""
    for lv in LEVEL_COLOURS:
        if any(str(text).startswith(label("levels", lv, lang)) for lang in LANGS):
            return lv
    return None


def area_label(area_id, names: dict, lang: str = "zh") -> str:
    """The name of an area, unit or zone from ``names`` (``{lang: {area_id: name}}`` or ``{area_id: name}``).

    An id without a name raises :class:`LabelError` (an id is never shown in place of a name)."""
    _check_lang(lang)
    table = names.get(lang, names) if isinstance(names.get(lang), dict) else names
    if area_id not in table:
        raise LabelError(f"no name for area {area_id!r}; known: {len(table)} areas")
    return table[area_id]


def source_label(source: str, names: dict, lang: str = "zh") -> str:
    """What a unit's proposal follows (``respond``'s ``source``): ``own``, ``parent:<area id>`` or a zone id."""
    if source == "own":
        return label("sources", "own", lang)
    if source.startswith("parent:"):
        return label("sources", "parent", lang).format(name=area_label(source.split(":", 1)[1], names, lang))
    return label("sources", "zone", lang).format(name=area_label(source, names, lang))


def number(value, decimals: int = 0, *, percent: bool = False) -> str:
    """A number as shown in a table: rounded to ``decimals`` (a share × 100 with ``%`` when ``percent``); empty
    values (``None``, NaN) as :data:`EMPTY`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return EMPTY
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return EMPTY
    if percent:
        return f"{x * 100:.{decimals}f}%"
    return f"{x:.{decimals}f}"


def date_zh(day) -> str:
    """``2022-10-03`` → ``2022年10月3日``."""
    import pandas as pd

    d = pd.Timestamp(day)
    return f"{d.year}年{d.month}月{d.day}日"


def period(start, end, lang: str = "zh") -> str:
    """A period in words: ``2022年10月3日至2024年5月31日`` / ``3 Oct 2022 – 31 May 2024``."""
    import pandas as pd

    _check_lang(lang)
    if lang == "zh":
        return f"{date_zh(start)}至{date_zh(end)}"
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"


#: codes that are ordinary words or symbols as well (never forbidden in the Chinese UI)
_NOT_TOKENS = {"id", "n", "pm", "co", "o3", "so2", "no2", "nox", "pm10", "pm25", "vocs", "aqi", "h", "td", "ta",
               "ugm3", "forecast and analysis"}


def forbidden_tokens(path=None, *, area_ids=()) -> set[str]:
    """Codes that must never appear in the Chinese UI: level, tier, action, verdict, outcome, response-kind,
    family and column codes (those of two or more letters that are not also symbols, e.g. ``PM10``), plus the
    ``area_ids`` given. A test checks rendered text against them as whole words (:func:`shows_token`)."""
    out = set()
    for kind in ("levels", "tiers", "actions", "verdicts", "outcomes", "response_kinds", "families", "columns",
                 "met_sources", "records"):
        out |= {str(c) for c in codes(kind, path)}
    out |= {str(a) for a in area_ids}
    return {t for t in out if t not in _NOT_TOKENS and len(t) > 1}


def shows_token(text: str, token: str) -> bool:
    """Whether ``text`` holds ``token`` as a whole word (ASCII letters/digits/_ around it do not count)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(token)}(?![A-Za-z0-9_])", str(text)) is not None


def phrase(code: str, lang: str = "zh", path=None, **fields) -> str:
    """A sentence or fragment of the nomenclature's ``phrases`` in ``lang``, its ``{fields}`` filled.

    Raises
    ------
    LabelError
        An unknown phrase or language, or a field the phrase names that is not given.
    """
    text = label("phrases", code, lang, path=path)
    try:
        return text.format(**fields)
    except (KeyError, IndexError) as exc:
        raise LabelError(f"phrase {code!r} ({lang}) needs the field {exc}; given: {', '.join(fields) or 'none'}") \
            from None


def date_fields(day) -> dict:
    """The fields the date phrases use: ``year``, ``month``, ``day``, ``hour``, ``mon`` (``Jan`` …)."""
    import pandas as pd

    d = pd.Timestamp(day)
    return {"year": d.year, "month": d.month, "day": d.day, "hour": d.hour, "mon": f"{d:%b}"}


def day_text(day, lang: str = "zh") -> str:
    """``12月21日`` / ``21 Dec``."""
    return phrase("day_month", lang, **date_fields(day))


_CLAUSE_LEAF = re.compile(r"AQI\s*(?P<op>[≥>]=?\s*\d+(?:\.\d+)?)\s*持续≥(?P<hours>\d+)h")


def clause(text: str, lang: str = "zh") -> str:
    """A warning clause as :mod:`forecast.levels` writes it (``"AQI>200 持续≥24h 且 …"``, the forecast document's
    ``clause``) in ``lang``; a text of another form is returned unchanged."""
    _check_lang(lang)
    if lang == "zh" or not text:
        return text

    def leaf(m):
        op = m.group("op").replace(" ", "")
        op = f"{op[0]} {op[1:]}" if op[0] in "≥>" else op
        return phrase("clause_leaf", lang, op=op, hours=m.group("hours"))

    out = _CLAUSE_LEAF.sub(leaf, text)
    for code, zh in (("clause_and", " 且 "), ("clause_or", " 或 ")):
        out = out.replace(zh, phrase(code, lang))
    return out
