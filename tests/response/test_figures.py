"""The plotly figures: the report's (timelines, warning outcomes, effect) and the consultation's driver map (the
consultation's static charts: test_charts)."""
import numpy as np
import pandas as pd
import pytest

from forecast.levels import LEVEL_COLOURS
from response import figures

from ._report import small_report


def test_report_figures():
    rep = small_report()
    figs = figures.report_figures(rep)
    titles = [f.layout.title.text for f in figs]
    assert titles == ["包头市：实况、预报与预警", "呼和浩特市：实况、预报与预警", "预警效果（地区数）",
                      "应急减排效果（实况 − 反事实，µg/m³，90%区间）"]
    baotou = figs[0]
    names = [t.name for t in baotou.data]
    assert "实况日均AQI" in names and "预报中位数（提前1天）" in names and "滑动24小时AQI" in names
    assert len(baotou.layout.shapes) == 3  # two orange warning days + the AQI 200 line
    assert {s.fillcolor for s in baotou.layout.shapes if s.type == "rect"} == {LEVEL_COLOURS["orange"]}
    assert list(figs[2].data[0].y) == [1, 1, 0, 0]  # hit, miss, false alarm, correct negative
    bars = figs[3].data[0]
    assert list(bars.x) == ["全部", "包头市"] and bars.y[0] == pytest.approx(-20.0)
    assert bars.error_y.array[0] == pytest.approx(10.0) and bars.error_y.arrayminus[0] == pytest.approx(10.0)


def test_report_figures_without_an_effect():
    figs = figures.report_figures(small_report(effect={"note": "no days with measures in force in this episode"}))
    assert len(figs) == 3 and figures.effect_bars(small_report(effect={"note": ""})) is None


def test_placebo_effect_is_drawn():
    rep = small_report(effect={"placebo_pm25": {"estimate": 0.5, "interval": [-1.0, 2.0]}})
    bars = figures.report_figures(rep)[-1].data[0]
    assert list(bars.x) == ["全部"] and bars.error_y.array[0] == pytest.approx(1.5)


@pytest.mark.parametrize("var, arrows", [("wind_speed", True), ("blh", False)])
def test_driver_map(var, arrows):
    lat, lon = np.arange(40.0, 42.1, 0.5), np.arange(109.0, 112.1, 0.5)
    values = np.ones((len(lat), len(lon)))
    u, v = np.full_like(values, 5.0), np.zeros_like(values)
    fig = figures.driver_map(lat, lon, values, var, u, v)
    assert fig.data[0].type == "heatmap" and fig.data[0].colorbar.title.text == figures.MAP_VARS[var][2]
    last = fig.data[-1]
    if arrows:  # every second point: 3 × 4 arrows of 5 m/s → 0.4° eastwards, each three points (x0, x1, gap)
        assert len(last.x) == 3 * 4 * 3 and last.x[1] - last.x[0] == pytest.approx(0.4)
    else:
        assert last.line.width == 0.7  # a city outline, no arrows
    assert list(fig.layout.xaxis.range) == [109.0, 112.0]


def test_report_figures_name_the_areas_the_report_carries():
    """A report of another region carries its areas' names (``episode.names``); the figures use them."""
    rep = small_report()
    rep["episode"]["names"] = {"baotou": "石家庄市", "hohhot": "保定市"}
    figs = figures.report_figures(rep)
    assert [f.layout.title.text for f in figs[:2]] == ["石家庄市：实况、预报与预警", "保定市：实况、预报与预警"]
    assert list(figs[3].data[0].x) == ["全部", "石家庄市"]
    names = pd.Series({"baotou": "甲", "hohhot": "乙"})
    assert figures.report_figures(rep, names=names)[0].layout.title.text == "甲：实况、预报与预警"  # given wins


def test_daily_values_are_day_long_steps():
    """Baotou's observed daily AQI 180, 260, 240 on 1–3 Jan: drawn as steps from each day's 00:00 to the next
    (x: the three days' starts and the end of 3 Jan; y: the values, the last repeated; shape hv)."""
    fig = figures.episode_timeline(small_report(), "baotou")
    obs = next(t for t in fig.data if t.name == "实况日均AQI")
    assert obs.line.shape == "hv" and obs.mode == "lines"
    assert [pd.Timestamp(x) for x in obs.x] == list(pd.date_range("2024-01-01", "2024-01-04"))
    assert list(obs.y) == [180.0, 260.0, 240.0, 240.0]
    median = next(t for t in fig.data if t.name == "预报中位数（提前1天）")
    assert median.line.shape == "hv" and list(median.y) == [210.0, 210.0, None, None]
    # the rolling 24-h AQI stays hourly points, the warning bands cover whole days (2 and 3 Jan)
    roll = next(t for t in fig.data if t.name == "滑动24小时AQI")
    assert roll.line.shape is None and len(roll.x) == 2
    bands = [(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in fig.layout.shapes if s.type == "rect"]
    assert bands == [(pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")),
                     (pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-04"))]


def test_an_advisory_episode_without_advisory_is_its_own_bar():
    rep = small_report()
    rep["warning_quality"]["hohhot"] = {"outcome": "advisory_missed", "kind": "advisory", "heavy_days": 1}
    bars = figures.warning_outcomes(rep).data[0]
    assert list(bars.x) == ["命中", "漏报", "空报", "正确未报", "未发布健康提示"] and list(bars.y) == [1, 0, 0, 0, 1]
