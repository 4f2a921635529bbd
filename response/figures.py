"""The plotly figures lantian draws: the consultation's driver maps (the gridded fields, explored with zoom and
hover), and the post-episode report's timelines, warning outcomes and emission-cut effect. The consultation's first
screen — level map, fan chart, driver bars, reliability — is static SVG (:mod:`response.charts`, why there).

Each function takes library results (a forecast document, a report, a field from
:func:`forecast.products.map_field`) and returns a ``plotly.graph_objects.Figure``; the pages and the HTML report
only place them. ``names`` (area id → Chinese name) and ``geoms`` (area id → shapely geometry) are the caller's
region's (``Region.names()``, ``Region.boundaries``); the report figures take the names a report carries
(``report["episode"]["names"]``); without them, the shipped area table and boundaries (:mod:`forecast.areas`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from forecast import areas as areas_mod
from forecast import labels
from forecast.levels import LEVEL_COLOURS
from forecast.nomenclature import HEAVY_AQI

from .charts import day_steps
from .report import area_names

#: the consultation's driver maps: field → (Chinese name, English name, unit, colour scale)
MAP_VARS = {"blh": ("边界层高度", "boundary-layer height", "m", "Viridis"),
            "wind_speed": ("10米风速", "10-m wind speed", "m/s", "Blues"),
            "inversion": ("逆温强度 T850−T2m", "inversion T850−T2m", "K", "RdBu_r"),
            "relative_humidity": ("相对湿度", "relative humidity", "%", "YlGnBu")}
#: wind arrows: every n-th grid point, and degrees per m/s of the arrow length
ARROW_STRIDE = 2
ARROW_DEG_PER_MS = 0.08


def _outline(fig: go.Figure, geoms, ids, colours=None, texts=None) -> None:
    for i, area_id in enumerate(ids):
        geom = geoms[area_id]
        for p in [geom] if geom.geom_type == "Polygon" else list(geom.geoms):
            x, y = p.exterior.xy
            if colours is None:
                fig.add_trace(go.Scatter(x=list(x), y=list(y), mode="lines", line=dict(color="black", width=0.7),
                                         showlegend=False, hoverinfo="skip"))
            else:
                fig.add_trace(go.Scatter(x=list(x), y=list(y), fill="toself", mode="lines",
                                         line=dict(color="white", width=0.6), fillcolor=colours[i],
                                         showlegend=False, hoverinfo="text", text=texts[i]))


# ---- the consultation ----------------------------------------------------------------------------------------

def driver_map(lat, lon, values, var: str, u=None, v=None, *, geoms=None, areas=None) -> go.Figure:
    """One meteorological field (``var`` of :data:`MAP_VARS`) on its grid [degrees], the cities' outlines, and
    wind arrows (every :data:`ARROW_STRIDE`-th point) on the wind-speed map when ``u``, ``v`` [m/s] are given."""
    zh, en, unit, scale = MAP_VARS[var]
    fig = go.Figure(go.Heatmap(x=lon, y=lat, z=values, colorscale=scale, colorbar=dict(title=unit),
                               zmid=0 if var == "inversion" else None, hovertemplate="%{x:.1f}°E %{y:.1f}°N: %{z:.1f}"))
    areas = areas_mod.load_areas() if areas is None else areas
    geoms = areas_mod.boundaries() if geoms is None else geoms
    cities = areas.loc[areas["tier"] == "city", "area_id"]
    _outline(fig, geoms, [a for a in cities if a in geoms])
    if var == "wind_speed" and u is not None:
        s = ARROW_STRIDE
        la, lo = np.meshgrid(lat[::s], lon[::s], indexing="ij")
        xs, ys = [], []
        for y0, x0, du, dv in zip(la.ravel(), lo.ravel(), u[::s, ::s].ravel(), v[::s, ::s].ravel()):
            xs += [x0, x0 + du * ARROW_DEG_PER_MS, None]
            ys += [y0, y0 + dv * ARROW_DEG_PER_MS, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="black", width=1), showlegend=False,
                                 hoverinfo="skip"))
    fig.update_layout(height=430, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(range=[lon.min(), lon.max()]),
                      yaxis=dict(range=[lat.min(), lat.max()], scaleanchor="x", scaleratio=1.3))
    return fig


# ---- the post-episode report ---------------------------------------------------------------------------------

def episode_timeline(report: dict, area: str, *, names=None, lang: str = "zh") -> go.Figure:
    """One area of an episode: observed daily AQI as day-long steps (:func:`day_steps`) beside the rolling-24-h
    AQI, the day-1 forecast fan and median (steps too), warning bands over the days in force."""
    names = area_names(report, names)
    tl = pd.DataFrame(report["timeline"])
    g = tl[tl["area_id"] == area]
    fig = go.Figure()
    dates = pd.to_datetime(g["date"])
    if "fc_lead1" in g:
        fc = g["fc_lead1"].apply(lambda v: v if isinstance(v, dict) else {"q10": None, "q50": None, "q90": None})
        for q, kw in (("q90", dict(line=dict(width=0), showlegend=False)),
                      ("q10", dict(fill="tonexty", line=dict(width=0), name=labels.phrase("fig_fc_range", lang),
                                   fillcolor="rgba(70,130,180,0.25)")),
                      ("q50", dict(name=labels.phrase("fig_fc_median", lang), line=dict(color="steelblue", dash="dash")))):
            x, y = day_steps(dates, [f[q] for f in fc])
            fig.add_trace(go.Scatter(x=x, y=y, line_shape="hv", **kw))
    x, y = day_steps(dates, list(g["aqi"]))
    fig.add_trace(go.Scatter(x=x, y=y, name=labels.phrase("fig_obs_daily", lang), mode="lines", line_shape="hv",
                             line=dict(color="black", width=2)))
    roll = report["rolling_24h"].get(area)
    if roll:
        fig.add_trace(go.Scatter(x=[pd.Timestamp(t).tz_localize(None) for t, _ in roll], y=[v for _, v in roll],
                                 name=labels.phrase("fig_rolling", lang), line=dict(color="grey", width=1)))
    # the warning bands as one list of shapes (what add_vrect makes, without its per-call copy of the layout: a
    # 20-area review drew its bands in seconds)
    fig.update_layout(shapes=[dict(type="rect", xref="x", yref="y domain", x0=d, x1=d + pd.Timedelta(days=1), y0=0,
                                   y1=1, fillcolor=LEVEL_COLOURS[lv], opacity=0.25, line=dict(width=0))
                              for d, lv in zip(dates, g["warning"]) if lv != "none"])
    fig.add_hline(y=HEAVY_AQI, line=dict(color="red", dash="dot"))
    fig.update_layout(title=labels.phrase("fig_timeline", lang, name=names.get(area, area)), height=320,
                      margin=dict(t=40, b=20))
    return fig


def warning_outcomes(report: dict, lang: str = "zh") -> go.Figure:
    """Number of areas per warning outcome (hit, miss, false alarm, correct negative; and, when an advisory
    episode — dust, O3 — had no health advisory, "no advisory", never counted as a missed warning)."""
    wq = report["warning_quality"]
    codes = ["hit", "miss", "false_alarm", "correct_negative"] + \
        (["advisory_missed"] if any(v["outcome"] == "advisory_missed" for v in wq.values()) else [])
    outcomes = {k: labels.label("outcomes", k, lang) for k in codes}  # the nomenclature's names (forecast.labels)
    skill = make_subplots(rows=1, cols=1)
    skill.add_trace(go.Bar(x=list(outcomes.values()),
                           y=[sum(v["outcome"] == k for v in wq.values()) for k in outcomes]))
    skill.update_layout(title=labels.phrase("fig_outcomes", lang), height=300)
    return skill


def effect_bars(report: dict, *, names=None, lang: str = "zh") -> go.Figure | None:
    """The PM2.5 effect of the measures with its 90 % interval: episode-wide first, then per area (``None``
    without an estimate)."""
    names = area_names(report, names)
    def failed(e):  # a rise is a failed estimate (response.counterfactual.plausibility), not a bar to show
        return any(f.get("code") == "implausible_sign" for f in e.get("flags", []))

    eff = {k: e for k, e in (report["effect"].get("pm25_by_area") or {}).items() if not failed(e)}
    whole = report["effect"].get("pm25") or report["effect"].get("placebo_pm25")
    if whole and whole.get("estimate") is not None and not failed(whole):
        eff = {labels.phrase("fig_all", lang): whole, **eff}
    if not eff:
        return None
    ef = go.Figure()
    keys = list(eff)
    est = [eff[k]["estimate"] for k in keys]
    lo = [eff[k]["estimate"] - eff[k]["interval"][0] for k in keys]
    hi = [eff[k]["interval"][1] - eff[k]["estimate"] for k in keys]
    ef.add_trace(go.Bar(x=[names.get(k, k) for k in keys], y=est,
                        error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo),
                        name=labels.phrase("fig_effect_trace", lang)))
    ef.update_layout(title=labels.phrase("fig_effect", lang), height=320)
    return ef


def report_figures(report: dict, *, names=None, lang: str = "zh") -> list:
    """The report's plotly figures: per-area timelines (observed, forecast fan, warnings), warning outcomes, effect
    (titles and legends in ``lang``; ``names`` in the same language)."""
    names = area_names(report, names)
    areas = list(dict.fromkeys(rec["area_id"] for rec in report["timeline"]))
    figs = [episode_timeline(report, area, names=names, lang=lang) for area in areas]
    figs.append(warning_outcomes(report, lang))
    effect = effect_bars(report, names=names, lang=lang)
    if effect is not None:
        figs.append(effect)
    return figs
