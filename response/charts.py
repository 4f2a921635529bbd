"""Static figures drawn with matplotlib: the consultation page's level map, fan chart, driver bars and reliability
diagram (SVG), and the consultation briefing's level map and meteorological maps (PNG).

Why not plotly here (as in :mod:`response.figures`): the consultation page is the first an officer opens, and a
plotly chart makes the browser fetch and start plotly.js (about 4.7 MB) before the page can draw it — most of
the first visit on a 2-core machine (``bench_pages``, session 12, headless Chromium on the demo, the first screen
drawn: 4.55 s with its plotly charts, 2.28–2.80 s with these). An SVG made here (10–110 kB, the level map the
largest) is shown by the browser at once; its text stays text (``svg.fonttype = "none"``: the browser sets the
Chinese in its own font, crisp at any zoom). The maps a consultation explores (the gridded fields, behind a
switch) and the post-episode report stay plotly.

The functions take library results (a forecast document's area, :func:`forecast.products.driver_effects_aqi`, the
model card's reliability rows, area geometries) and return the image as bytes (``fmt="png"``), as SVG text
(``fmt="svg"``) or as the matplotlib figure (``fmt="figure"``); no I/O. matplotlib is imported when a figure is
drawn, not with the module.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import labels, products
from forecast.areas import MAP_TOLERANCE  # outlines simplified to about 1 km: invisible on a page
from forecast.levels import LEVEL_COLOURS, LEVELS
from forecast.nomenclature import HEAVY_AQI

#: fonts tried for Chinese labels in the figures (the first installed wins; in an SVG the browser's choice)
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "Microsoft YaHei", "WenQuanYi Zen Hei",
             "PingFang SC", "DejaVu Sans")
#: the fallback shipped with lantian where none of :data:`CJK_FONTS` is installed (a server with python3 and pip
#: only): a GB 2312 subset of Noto Sans CJK SC, SIL OFL 1.1 (``data/fonts/OFL.txt``)
BUNDLED_CJK_FONT = Path(__file__).parent / "data" / "fonts" / "LantianSansSC-Regular.otf"
BUNDLED_CJK_FAMILY = "Lantian Sans SC"
#: the level map's fill of a league/city without a forecast
NO_FORECAST_COLOUR = "#F2F2F2"
#: the map panels of a key day: field → (Chinese name, English name, unit, matplotlib colour map)
MAP_PANELS = {"blh": ("边界层高度", "boundary-layer height", "m", "viridis"),
              "wind_speed": ("10米风速", "10-m wind speed", "m/s", "Blues"),
              "inversion": ("逆温强度 T850−T2m", "inversion T850−T2m", "K", "RdBu_r"),
              "relative_humidity": ("相对湿度", "relative humidity", "%", "YlGnBu")}
#: what the figure functions return: PNG bytes, SVG text, or the matplotlib ``Figure`` itself (to add to it, or to
#: read what was drawn)
FORMATS = ("png", "svg", "figure")
#: the fan's colour, the median's, the observations'
FAN_COLOUR, MEDIAN_COLOUR, OBSERVED_COLOUR = "#4682B4", "#4682B4", "#222222"
#: the colours of the driver families' bars, in the order they first appear
DRIVER_COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D", "#BAB0AC")


def figure(width_in: float, height_in: float, dpi: int = 150):
    """A matplotlib ``Figure`` (no pyplot state) with a Chinese sans-serif first in the font list."""
    from matplotlib import font_manager, rcParams
    from matplotlib.figure import Figure

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if BUNDLED_CJK_FAMILY not in installed and BUNDLED_CJK_FONT.exists():
        font_manager.fontManager.addfont(str(BUNDLED_CJK_FONT))  # once per process
        installed.add(BUNDLED_CJK_FAMILY)
    chinese = [f for f in CJK_FONTS if f in installed and f != "DejaVu Sans"] or [BUNDLED_CJK_FAMILY]
    rcParams["font.sans-serif"] = chinese + [f for f in rcParams["font.sans-serif"] if f not in chinese]
    rcParams["axes.unicode_minus"] = False
    return Figure(figsize=(width_in, height_in), dpi=dpi)


def render(fig, fmt: str = "png"):
    """The figure as PNG bytes, as SVG text whose text is text (the viewer's fonts set it) and whose ids do not
    change from one run to the next, or (``"figure"``) the figure itself."""
    from matplotlib import rc_context

    if fmt not in FORMATS:
        raise ValueError(f"image format {fmt!r}: one of {', '.join(FORMATS)}")
    if fmt == "figure":
        return fig
    buf = io.BytesIO()
    if fmt == "png":
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "lantian"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue().decode("utf-8")


def rings(geom, tolerance: float = MAP_TOLERANCE) -> list:
    """The exterior rings of a (multi)polygon, simplified to ``tolerance`` [degrees], as (n, 2) arrays."""
    geom = geom.simplify(tolerance, preserve_topology=True)
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    return [np.asarray(p.exterior.coords) for p in polys if not p.is_empty]


def draw_outlines(ax, geoms, ids, *, colours=None, edge="white", width=0.6) -> None:
    """Areas ``ids`` as one collection (fast): filled with ``colours`` (one per area) or outlines only. The axes'
    limits are the caller's (a collection does not update them)."""
    from matplotlib.collections import LineCollection, PolyCollection

    rings_, faces = [], []
    for i, area_id in enumerate(ids):
        for ring in rings(geoms[area_id]):
            rings_.append(ring)
            faces.append(colours[i] if colours else "none")
    if not rings_:
        return
    if colours:
        ax.add_collection(PolyCollection(rings_, facecolors=faces, edgecolors=edge, linewidths=width), autolim=False)
    else:
        ax.add_collection(LineCollection(rings_, colors=edge, linewidths=width), autolim=False)


def bounds(geoms, ids) -> tuple[float, float, float, float]:
    """The bounding box (west, south, east, north) [degrees] of the areas ``ids``."""
    b = np.array([geoms[a].bounds for a in ids])
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def level_map(levels: dict, geoms: dict, names: dict, lang: str = "zh", *, cities=(), counties=(),
              fmt: str = "png", width_in: float = 7.0, height_in: float = 4.6) -> bytes | str:
    """The region's areas coloured by level (:data:`forecast.levels.LEVEL_COLOURS`; ``levels``: area id → level);
    leagues/cities of ``cities`` without a level in a pale grey (no forecast); banner/county outlines
    (``counties``) in thin lines; and a legend of the levels in ``lang``. The leagues/cities of ``cities`` are
    labelled with their names (without ``cities``, every area drawn): the banners/counties with a forecast of their
    own are too small to label at this scale."""
    from matplotlib.patches import Patch

    ids = [a for a in dict.fromkeys([*cities, *levels]) if a in geoms]
    if not ids:
        raise ValueError("no area of the level map has a boundary")
    fig = figure(width_in, height_in)
    ax = fig.add_subplot(1, 1, 1)
    draw_outlines(ax, geoms, ids, colours=[LEVEL_COLOURS[levels[a]] if a in levels else NO_FORECAST_COLOUR
                                           for a in ids], edge="white", width=0.8)
    draw_outlines(ax, geoms, [c for c in counties if c in geoms], edge="#777777", width=0.2)
    for a in [c for c in cities if c in geoms] or ids:
        pt = geoms[a].representative_point()
        name = _name(a, names, lang)
        if name:  # never an id in place of a name
            ax.text(pt.x, pt.y, name, fontsize=7, ha="center", va="center")
    x0, y0, x1, y1 = bounds(geoms, ids)
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect(1.3)
    ax.set_axis_off()
    handles = [Patch(facecolor=LEVEL_COLOURS[k], edgecolor="#555555", label=labels.label("levels", k, lang))
               for k in LEVELS]
    if any(a not in levels for a in ids):
        handles.append(Patch(facecolor=NO_FORECAST_COLOUR, edgecolor="#555555",
                             label=labels.phrase("fig_no_forecast", lang)))
    ax.legend(handles=handles, loc="lower right", fontsize=7, frameon=False)
    return render(fig, fmt)


def _name(area_id, names: dict, lang: str) -> str | None:
    try:
        return labels.area_label(area_id, names, lang)
    except labels.LabelError:
        return None


def day_levels(doc: dict, lead_day: int | None) -> dict:
    """Area id → the level a forecast document's area has on day ``lead_day`` (None: the area's level), as
    :func:`forecast.products.level_on_day` reads it."""
    return {a["area_id"]: products.level_on_day(a, lead_day) for a in doc["areas"]}


def field_maps(fields: dict, geoms: dict, city_ids, lang: str = "zh", *, fmt: str = "png") -> bytes | str:
    """The panels of :data:`MAP_PANELS` present in ``fields`` (``{var: (lat, lon) array, "lat", "lon"}``), each
    with the leagues'/cities' outlines; wind arrows on the wind-speed panel."""
    vars_ = [v for v in MAP_PANELS if v in fields]
    ncols = 2 if len(vars_) > 1 else 1
    nrows = int(np.ceil(len(vars_) / ncols))
    fig = figure(7.0, 2.9 * nrows)
    lat, lon = fields["lat"], fields["lon"]
    for i, var in enumerate(vars_):
        zh, en, unit, cmap = MAP_PANELS[var]
        ax = fig.add_subplot(nrows, ncols, i + 1)
        values = fields[var]
        kw = {}
        if var == "inversion":
            lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
            kw = {"vmin": -lim, "vmax": lim}
        mesh = ax.pcolormesh(lon, lat, values, cmap=cmap, shading="auto", **kw)
        fig.colorbar(mesh, ax=ax, shrink=0.8, label=unit)
        draw_outlines(ax, geoms, [a for a in city_ids if a in geoms], edge="black", width=0.4)
        if var == "wind_speed" and "wind_u" in fields and "wind_v" in fields:
            s = max(1, int(max(len(lat), len(lon)) / 20))
            la, lo = np.meshgrid(lat[::s], lon[::s], indexing="ij")
            ax.quiver(lo, la, fields["wind_u"][::s, ::s], fields["wind_v"][::s, ::s], scale=150, width=0.003)
        ax.set_xlim(float(np.min(lon)), float(np.max(lon)))
        ax.set_ylim(float(np.min(lat)), float(np.max(lat)))
        ax.set_aspect(1.3)
        ax.set_title(zh if lang == "zh" else en, fontsize=9)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return render(fig, fmt)


def day_steps(dates, values) -> tuple[list, list]:
    """Daily values as day-long steps: x the days' starts plus the end of the last day, y each day's value with
    the last repeated, for a line drawn as steps after each point (plotly ``line_shape="hv"``, matplotlib
    ``drawstyle="steps-post"``) — a day's value spans its day (00–24 h CST), not a point at midnight joined to the
    next by a slope."""
    dates = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    values = [None if v is None or (isinstance(v, float) and not np.isfinite(v)) else v for v in values]
    if not len(dates):
        return [], []
    return list(dates) + [dates[-1] + pd.Timedelta(days=1)], values + values[-1:]


def _float(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _date_axis(ax, lang: str) -> None:
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.DayLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d" if lang == "en" else "%-m月%-d日"))
    _plain_axes(ax)


def _plain_axes(ax) -> None:
    """Small tick labels, light horizontal grid lines behind the data, no top or right spine."""
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", color="#E5E5E5", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def fan_chart(area: dict, history: pd.Series, lang: str = "zh", *, fmt: str = "svg", width_in: float = 7.5,
              height_in: float = 2.9) -> bytes | str:
    """One area's forecast as day-long steps (:func:`day_steps`): the 10–90 % fan, the median, the model's median
    where the consultation adjusted it, the observed daily AQI before the issue date (``history``: daily AQI by
    day) and the heavy-pollution line (AQI :data:`~forecast.nomenclature.HEAVY_AQI`)."""
    days = [d["date"] for d in area["days"]]
    x, q10 = day_steps(days, [d["aqi"]["q10"] for d in area["days"]])
    _, q50 = day_steps(days, [d["aqi"]["q50"] for d in area["days"]])
    _, q90 = day_steps(days, [d["aqi"]["q90"] for d in area["days"]])
    fig = figure(width_in, height_in)
    ax = fig.add_subplot(1, 1, 1)
    ax.fill_between(x, _float(q10), _float(q90), step="post", color=FAN_COLOUR, alpha=0.25, linewidth=0,
                    label="10–90%")
    ax.plot(x, _float(q50), drawstyle="steps-post", color=MEDIAN_COLOUR, linewidth=1.6,
            label=labels.phrase("fig_median", lang))
    adj = [d for d in area["days"] if d.get("adjusted")]
    if adj:
        mid = pd.to_datetime([d["date"] for d in adj]) + pd.Timedelta(hours=12)
        ax.plot(mid, [d["adjusted"]["model_aqi"]["q50"] for d in adj], "x", color="grey", markersize=7,
                label=labels.phrase("fig_model_value", lang))
    if history is not None and len(history):
        hx, hy = day_steps(history.index, list(history.to_numpy(float)))
        ax.plot(hx, _float(hy), drawstyle="steps-post", color=OBSERVED_COLOUR, linewidth=1.2,
                label=labels.phrase("fig_observed", lang))
    ax.axhline(HEAVY_AQI, color="#C00000", linestyle=":", linewidth=1)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("AQI", fontsize=8)
    _date_axis(ax, lang)
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncol=4)
    return render(fig, fmt)


def driver_bars(effects: pd.DataFrame, lang: str = "zh", *, fmt: str = "svg", width_in: float = 7.5,
                height_in: float = 2.8) -> bytes | str:
    """The drivers of an area's forecast as signed stacked bars per lead day in AQI points
    (:func:`forecast.products.driver_effects_aqi`: ``lead_day``, ``family``, ``name``, ``aqi``): raising families
    stack upwards from zero, lowering ones downwards, one colour per family."""
    if effects.empty:
        raise ValueError("no drivers to draw")
    leads = sorted(effects["lead_day"].unique())
    pos, neg = np.zeros(len(leads)), np.zeros(len(leads))
    fig = figure(width_in, height_in)
    ax = fig.add_subplot(1, 1, 1)
    for i, (_, g) in enumerate(effects.groupby("family", sort=False)):
        v = g.set_index("lead_day")["aqi"].reindex(leads).fillna(0.0).to_numpy(float)
        bottom = np.where(v >= 0, pos, neg)
        ax.bar(range(len(leads)), v, bottom=bottom, width=0.65, color=DRIVER_COLOURS[i % len(DRIVER_COLOURS)],
               label=g["name"].iloc[0])
        pos, neg = pos + np.clip(v, 0, None), neg + np.clip(v, None, 0)
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(range(len(leads)), [f"D{k}" for k in leads])
    ax.set_ylabel(labels.phrase("fig_driver_aqi", lang), fontsize=8)
    _plain_axes(ax)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4)
    return render(fig, fmt)


def reliability(rows: list[dict], events=("aqi>200", "level>=yellow", "level>=orange"), lead_day: int | None = 1,
                lang: str = "zh", *, fmt: str = "svg", width_in: float = 4.2, height_in: float = 3.6) -> bytes | str:
    """Reliability diagram: observed frequency against forecast probability per bin, the diagonal perfect.

    ``rows`` are :func:`forecast.verification.reliability_scores` records (with ``bins``); the day-``lead_day``
    rows of the per-day events and the sequence rows of the levels are drawn, marker size by cases."""
    fig = figure(width_in, height_in)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], ":", color="#888888", label=labels.phrase("fig_perfect", lang))
    for r in rows:
        if r["event"] not in events or (r["lead_day"] is not None and r["lead_day"] != lead_day):
            continue
        b = pd.DataFrame(r["bins"])
        if b.empty:
            continue
        name = r["event"] + ("" if r["lead_day"] is None else f" D{r['lead_day']}")
        ax.plot(b["p"], b["observed"], "-", linewidth=1, label=name)
        ax.scatter(b["p"], b["observed"], s=np.clip(b["n"].to_numpy(float), 9, 150), alpha=0.7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(labels.phrase("fig_probability", lang), fontsize=8)
    ax.set_ylabel(labels.phrase("fig_frequency", lang), fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return render(fig, fmt)
