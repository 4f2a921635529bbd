"""The static charts (response.charts): what each draws, read back from the matplotlib figure, and the SVG the
consultation page shows (text as text, deterministic, no chart library)."""
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from forecast import areas as areas_mod
from forecast.levels import LEVEL_COLOURS
from response import charts


def _doc():
    def day(lead, q50, adjusted=False):
        d = {"lead_day": lead, "date": f"2024-01-0{1 + lead}", "aqi": {"q10": q50 - 40, "q50": q50, "q90": q50 + 60},
             "p_aqi_gt": {"150": 0.5, "200": 0.3, "300": 0.1}, "dust": False, "drivers": []}
        if adjusted:
            d["adjusted"] = {"model_aqi": {"q50": q50 - 50}}
        return d

    return {"issue_date": "2024-01-01", "areas": [
        {"area_id": "baotou", "level": "orange", "trigger_days": [2, 3], "adjusted": True,
         "days": [day(1, 180), day(2, 260, adjusted=True), day(3, 240)]},
        {"area_id": "hohhot", "level": "none", "trigger_days": [], "days": [day(1, 120), day(2, 130)]}]}


NAMES = {"baotou": "包头市", "hohhot": "呼和浩特市", "ordos": "鄂尔多斯市"}


@pytest.mark.parametrize("lead_day, baotou", [(None, "orange"), (1, "none"), (2, "orange")])
def test_level_map_colours_the_level_covering_the_day(lead_day, baotou):
    levels = charts.day_levels(_doc(), lead_day)
    assert levels == {"baotou": baotou, "hohhot": "none"}
    fig = charts.level_map(levels, areas_mod.boundaries(), NAMES, cities=["baotou", "hohhot", "ordos"],
                           fmt="figure")
    ax = fig.axes[0]
    faces = [to_hex(c).upper() for c in ax.collections[0].get_facecolors()]
    # one ring per area here (the shipped outlines): Baotou, Hohhot, then Ordos without a forecast, in pale grey
    assert faces[:3] == [LEVEL_COLOURS[baotou].upper(), LEVEL_COLOURS["none"].upper(), charts.NO_FORECAST_COLOUR]
    assert {t.get_text() for t in ax.texts} == set(NAMES.values())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["无预警", "黄色预警", "橙色预警", "红色预警", "无预报"]


def test_level_map_never_names_an_area_by_its_id():
    levels = {"baotou": "red", "hohhot": "none"}
    fig = charts.level_map(levels, areas_mod.boundaries(), {"baotou": "包头市"}, fmt="figure")
    assert [t.get_text() for t in fig.axes[0].texts] == ["包头市"]  # Hohhot has no name given: no label
    en = charts.level_map(levels, areas_mod.boundaries(), {"baotou": "Baotou"}, "en", fmt="figure")
    assert [t.get_text() for t in en.axes[0].get_legend().get_texts()][-1] == "Red warning"
    with pytest.raises(ValueError, match="boundary"):
        charts.level_map({"nowhere": "red"}, areas_mod.boundaries(), {})


def test_fan_chart_draws_days_as_steps():
    area = _doc()["areas"][0]
    history = pd.Series([150.0, 170.0], index=pd.to_datetime(["2023-12-31", "2024-01-01"]))
    fig = charts.fan_chart(area, history, fmt="figure")
    ax = fig.axes[0]
    median, model, observed = ax.lines[0], ax.lines[1], ax.lines[2]
    assert median.get_drawstyle() == "steps-post" and list(median.get_ydata()) == [180, 260, 240, 240]
    assert [pd.Timestamp(x) for x in median.get_xdata()] == list(pd.date_range("2024-01-02", "2024-01-05"))
    assert list(model.get_ydata()) == [210]  # the model's median where the consultation adjusted it, mid-day
    assert pd.Timestamp(model.get_xdata()[0]) == pd.Timestamp("2024-01-03 12:00")
    assert list(observed.get_ydata()) == [150, 170, 170] and observed.get_drawstyle() == "steps-post"
    assert list(ax.lines[3].get_ydata()) == [200, 200]  # the heavy-pollution line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["10–90%", "中位数", "模型原值", "实况"]
    fan = ax.collections[0].get_paths()[0].vertices
    assert fan[:, 1].min() == 140 and fan[:, 1].max() == 320  # q10 of day 1, q90 of day 2


def test_driver_bars_stack_raising_and_lowering_families_apart():
    effects = pd.DataFrame({"lead_day": [1, 1, 2, 2], "family": ["ventilation", "transport"] * 2,
                            "name": ["通风扩散", "区域传输"] * 2, "aqi": [25.0, -10.0, 15.0, 5.0]})
    ax = charts.driver_bars(effects, fmt="figure").axes[0]
    vent, transport = ax.containers
    assert [b.get_height() for b in vent] == [25.0, 15.0] and [b.get_y() for b in vent] == [0.0, 0.0]
    # day 1: transport lowers AQI, drawn down from zero; day 2: it raises it, stacked on ventilation
    assert [b.get_height() for b in transport] == [-10.0, 5.0] and [b.get_y() for b in transport] == [0.0, 15.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["D1", "D2"]
    assert ax.get_ylabel() == "对AQI的贡献"
    with pytest.raises(ValueError, match="no drivers"):
        charts.driver_bars(effects.iloc[:0])


def test_reliability_draws_the_chosen_lead_day():
    bins = [{"p": 0.1, "observed": 0.12, "n": 50}, {"p": 0.5, "observed": 0.4, "n": 10}]
    rows = [{"event": "aqi>200", "lead_day": 1, "bins": bins}, {"event": "aqi>200", "lead_day": 3, "bins": bins},
            {"event": "level>=orange", "lead_day": None, "bins": bins}, {"event": "aqi>150", "lead_day": 1,
                                                                          "bins": bins}]
    ax = charts.reliability(rows, fmt="figure").axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["完全可靠", "aqi>200 D1", "level>=orange"]
    assert list(ax.lines[1].get_ydata()) == [0.12, 0.4]


def test_svg_keeps_text_as_text_and_is_deterministic():
    area = _doc()["areas"][0]
    history = pd.Series([150.0], index=pd.to_datetime(["2024-01-01"]))
    one, two = (charts.fan_chart(area, history) for _ in range(2))
    assert one.startswith("<?xml") and "<svg" in one and one == two
    assert ">中位数<" in one  # the legend is a text element, set by the viewer's font, not glyph outlines
    png = charts.fan_chart(area, history, fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="one of png, svg, figure"):
        charts.fan_chart(area, history, fmt="pdf")


def test_day_steps_of_no_day():
    assert charts.day_steps([], []) == ([], [])
    x, y = charts.day_steps(["2024-01-01"], [np.nan])
    assert y == [None, None] and len(x) == 2


def test_level_map_labels_the_leagues_and_cities_only():
    """A banner/county with a forecast of its own is coloured by its level but not labelled (too small at this
    scale); the leagues/cities are."""
    levels = {"baotou": "none", "tumed_right": "orange"}
    names = {**NAMES, "tumed_right": "土默特右旗"}
    fig = charts.level_map(levels, areas_mod.boundaries(), names, cities=["baotou", "hohhot"], fmt="figure")
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["包头市", "呼和浩特市"]
    faces = [to_hex(c).upper() for c in ax.collections[0].get_facecolors()]
    assert LEVEL_COLOURS["orange"].upper() in faces
