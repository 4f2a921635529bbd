"""The report as people read it: the Chinese summary, the season's totals, the review page's tables, the files."""
import json

import pytest

from response import report as R

from ._report import small_report


def test_summary_zh_of_a_hit_and_a_miss_with_a_detected_effect():
    assert R.summary_zh(small_report()) == (
        "2024-01-01至2024-01-03，包头市、呼和浩特市出现污染过程，共3个地区日达到重度及以上污染（AQI>200）。"
        "预警方面：命中1个地区，漏报1个，空报0个。"
        "预警平均提前8小时发布（要求≥24小时）。"
        "模型最早提前2天预报出首个重污染日。"
        "经气象条件归一化的反事实模型估算，应急减排措施使预警期间PM2.5日均浓度降低20.0 µg/m³（约10%），"
        "90%置信区间为-30.0至-10.0 µg/m³（共2个地区日）。")


def test_summary_zh_flags_an_insignificant_effect_short_history_and_gaps():
    effect = {"pm25": {"estimate": -3.0, "interval": [-9.0, 5.0], "level": 0.9, "n_days": 4},
              "caveat_history": "…"}
    text = R.summary_zh(small_report(effect=effect, gaps={"hohhot": ["2024-01-03"]}))
    assert "浓度降低3.0 µg/m³，90%置信区间为-9.0至5.0 µg/m³（共4个地区日）。" in text
    assert "该区间包含0，减排效果在统计上尚不显著。" in text
    assert "不足两个采暖季" in text and "数据缺失" in text


ANCHORS = [{"id": "dai2026", "reduction": [0.2, 0.4], "zh": "北方57城PM2.5降低约20%—40%", "en": "57 cities: 20–40 %",
            "citation": "Dai et al. 2026"}]


def test_a_rise_is_reported_as_a_failed_estimate_never_as_a_finding(tmp_path):
    flag = {"code": "implausible_sign", "values": {"estimate": 92.1, "significant": True}}
    effect = {"pm25": {"estimable": True, "estimate": 92.1, "interval": [16.2, 139.4], "level": 0.9, "n_days": 41,
                       "relative": 0.4, "flags": [flag]}, "anchors": ANCHORS}
    report = small_report(effect=effect)
    text = R.summary_zh(report)
    assert "升高92.1 µg/m³：减排措施不会使浓度升高，本次估算失败，不能作为减排效果的结论" in text
    assert "措施使预警期间PM2.5日均浓度" not in text and "置信区间" not in text
    assert "已发表研究参考：北方57城PM2.5降低约20%—40%。" in text
    shown = R.effect_flags(report, "en")
    assert shown["not_estimable"] == [] and "the estimate failed and is not a finding" in shown["flags"][0]
    assert R.estimate_failed(report)
    en = R.summary(report, names={}, lang="en")  # the English summary says the same, in English only
    assert "gave no credible effect of the cuts (41 area-days): the estimate says PM2.5 rose by 92.1" in en
    assert "Published anchors: 57 cities: 20–40 %." in en
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en)
    report["summary_zh"] = text
    assert "本次估算失败" in R.html(report).split("<h2>减排效果评估说明</h2>")[1]
    # without the flag (a report of an older version) a rise is still not presented as a finding
    del effect["pm25"]["flags"]
    assert "本次估算失败" in R.summary_zh(small_report(effect=effect)) and R.estimate_failed(report)


def test_a_not_estimable_effect_gives_the_reason_and_no_number():
    reason = {"code": "festival_unseen", "values": {"night": "eve", "seen": 1, "need": 2, "days": 12}}
    ne = {"estimable": False, "estimate": None, "interval": [None, None], "reasons": [reason], "n_days": 12}
    report = small_report(effect={"pm25": ne, "aqi": dict(ne), "area_days": 12, "anchors": ANCHORS})
    text = R.summary_zh(report)
    assert ("减排效果无法可靠估算，不给出估算值：预警期间含除夕（烟花燃放），而历史数据中该节日仅有1个采暖季（至少需要2个），"
            "无法区分烟花与减排的影响（12个地区日）。") in text
    assert "µg/m³（" not in text and "置信区间" not in text
    shown = R.effect_flags(report, "en")
    assert shown["not_estimable"][0].startswith("the warned days include New Year's Eve")
    assert shown["anchors"] == ["57 cities: 20–40 %"]
    en = R.summary(report, names={}, lang="en")
    assert "Effect not estimable: no estimate is given: the warned days include New Year's Eve" in en
    assert "µg/m³" not in en and not any("\u4e00" <= ch <= "\u9fff" for ch in en)


def test_summary_zh_without_measures():
    text = R.summary_zh(small_report(effect={"placebo_pm25": {"estimate": 0.5, "interval": [-1, 2]}}))
    assert text.endswith("本次过程未启动应急减排措施。")


def test_summary_zh_names_at_most_six_areas():
    rep = small_report()
    rep["episode"]["areas"] = [f"a{i}" for i in range(7)]
    assert "a0、a1、a2、a3、a4、a5等出现污染过程" in R.summary_zh(rep, names={})


def test_season_summary():
    a, b = small_report(), small_report(effect={"note": "no days with measures"})
    b["warning_quality"] = {"x": {"outcome": "false_alarm", "heavy_days": 0, "lead_time_h": None},
                            "y": {"outcome": "correct_negative", "heavy_days": 0},
                            "z": {"outcome": "hit", "heavy_days": 1, "lead_time_h": 20.0}}
    assert R.season_summary([a, b]) == {"episodes": 2, "hits": 2, "misses": 1, "false_alarms": 1,
                                        "correct_negatives": 1, "mean_lead_time_h": 14.0, "mean_pm25_effect": -20.0,
                                        "effect_not_estimable": 0, "effect_failed": 0}
    assert R.season_summary([b])["mean_pm25_effect"] is None
    # a failed (risen) estimate is counted, not averaged; a not-estimable one is counted
    c = small_report(effect={"pm25": {"estimate": 30.0, "interval": [5.0, 50.0], "level": 0.9, "n_days": 3}})
    d = small_report(effect={"pm25": {"estimable": False, "estimate": None, "interval": [None, None]}})
    s = R.season_summary([a, c, d])
    assert (s["mean_pm25_effect"], s["effect_failed"], s["effect_not_estimable"]) == (-20.0, 1, 1)


def test_review_tables():
    rep = small_report()
    wq = R.warning_quality_table(rep)
    assert list(wq.index) == ["baotou", "hohhot"] and wq.loc["hohhot", "outcome"] == "miss"
    assert R.forecast_quality_table(rep).loc["baotou", "observed_peak_aqi"] == 260.0
    assert R.consultation_table(rep).empty
    rep["consultation"] = [{"model": "lantian", "lead_day": 1, "n": 3, "mae": 12.3456, "bias": -1.004}]
    assert R.consultation_table(rep).loc[0, "mae"] == 12.35


def test_episode_labels():
    import pandas as pd

    eps = pd.DataFrame({"start": [pd.Timestamp("2024-01-01")], "end": [pd.Timestamp("2024-01-04")],
                        "areas": [["baotou"]], "heavy_area_days": [3], "peak_aqi": [287.6]})
    assert R.episode_labels(eps) == ["2024-01-01 – 2024-01-04（3 地区日，峰值 288）"]


def test_write_report_files(tmp_path):
    rep = small_report()
    rep["consultation"] = [{"model": "lantian", "lead_day": 1, "n": 3, "mae": 12.3, "bias": -1.0, "hits": 1,
                            "misses": 0, "false_alarms": 0, "ts": 1.0},
                           {"model": "consultation", "lead_day": 1, "n": 3, "mae": 8.1, "bias": 2.0, "hits": 1,
                            "misses": 0, "false_alarms": 0, "ts": 1.0}]
    paths = R.write_report(rep, tmp_path)
    assert paths["html"].endswith("episode_2024-01-01_2024-01-03.html")
    html = open(paths["html"], encoding="utf-8").read()
    assert "重污染过程评估" in html and "<script src=\"http" not in html  # offline
    assert html.count("Plotly.newPlot") == 4  # two timelines, outcomes, effect
    assert "会商订正与模型对比" in html and "会商订正" in html and "12.3" in html
    assert json.loads(open(paths["json"], encoding="utf-8").read())["episode"] == rep["episode"]
    assert (tmp_path / "episode_2024-01-01_2024-01-03_summary_zh.txt").read_text(encoding="utf-8") == "摘要\n"


@pytest.mark.parametrize("rows", [[], None])
def test_no_consultation_section_without_adjustments(rows):
    rep = small_report()
    rep["consultation"] = rows
    assert "会商订正与模型对比" not in R.html(rep)


def test_summary_and_html_name_the_areas_the_report_carries(tmp_path):
    rep = small_report()
    rep["episode"]["names"] = {"baotou": "石家庄市", "hohhot": "保定市"}
    assert R.summary_zh(rep).startswith("2024-01-01至2024-01-03，石家庄市、保定市出现污染过程")
    rep["summary_zh"] = R.summary_zh(rep)
    page = open(R.write_report(rep, tmp_path)["html"], encoding="utf-8").read()
    escaped = json.dumps("石家庄市：实况、预报与预警")[1:-1]  # plotly writes its figures' text as JSON escapes
    assert escaped in page and json.dumps("包头市")[1:-1] not in page and "包头市" not in page


def test_summary_in_english_says_the_same():
    names = {"baotou": "Baotou", "hohhot": "Hohhot"}
    assert R.summary(small_report(), names, "en") == (
        "From 2024-01-01 to 2024-01-03 Baotou, Hohhot saw a pollution episode: 3 area-days of heavy pollution or "
        "worse (AQI > 200). Warnings: 1 areas hit, 1 missed, 0 false alarms. Warnings were issued 8 h ahead on "
        "average (required: ≥ 24 h). The model forecast the first heavy day up to 2 days ahead. The "
        "weather-normalised counterfactual model estimates that the emergency cuts lowered the daily mean PM2.5 "
        "during the warnings by 20.0 µg/m³ (about 10%), 90% interval -30.0 to -10.0 µg/m³ (2 area-days).")
    assert R.summary(small_report(), lang="zh") == R.summary_zh(small_report())


def test_episode_labels_in_both_languages():
    import pandas as pd

    eps = pd.DataFrame({"start": [pd.Timestamp("2024-01-01")], "end": [pd.Timestamp("2024-01-03")],
                        "heavy_area_days": [5], "peak_aqi": [251.4]})
    assert R.episode_labels(eps) == ["2024-01-01 – 2024-01-03（5 地区日，峰值 251）"]
    assert R.episode_labels(eps, "en") == ["2024-01-01 – 2024-01-03 (5 area-days, peak 251)"]


def test_summary_leaves_carried_over_warnings_out_of_the_mean_lead_time_and_says_so():
    report = small_report()
    report["warning_quality"]["hohhot"] = {"outcome": "hit", "heavy_days": 1, "lead_time_h": 1000.0,
                                           "carried_over": True}
    zh = R.summary_zh(report)
    assert "预警平均提前8小时发布" in zh and "其中1个地区的预警在本次过程前已生效" in zh
    en = R.summary(report, names={}, lang="en")
    assert "8 h ahead on average" in en and "Of these, 1 area(s) had a warning in force from an earlier episode" in en
    assert R.season_summary([report])["mean_lead_time_h"] == 8.0
