"""The nomenclature a user reads (forecast.labels): every code named in Chinese and English, one home."""
import math

import pytest

from forecast import labels
from forecast.features import FAMILIES, FAMILY_NAMES_ZH
from forecast.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH, LEVELS


@pytest.mark.parametrize("kind", labels.kinds())
@pytest.mark.parametrize("lang", labels.LANGS)
def test_every_code_has_a_label_in_both_languages(kind, lang):
    for code in labels.codes(kind):
        text = labels.label(kind, code, lang)
        assert isinstance(text, str) and (text or kind == "units")


def test_levels_and_families_come_from_their_homes():
    assert {lv: labels.label("levels", lv) for lv in LEVELS} == LEVEL_NAMES_ZH
    assert labels.label("levels", "orange", "en") == "Orange warning"
    assert {f: labels.label("families", f) for f in FAMILY_NAMES_ZH} == FAMILY_NAMES_ZH
    assert labels.label("pollutants", "pm25") == "PM2.5" and labels.label("pollutants", "pm") == "颗粒物"
    assert labels.level_colour("red") == LEVEL_COLOURS["red"]


def test_every_driver_family_reads_both_ways():
    for family in [f for f, _ in FAMILIES] + ["other"]:
        for lang in labels.LANGS:
            assert labels.label("families", family, lang, field="up")
            assert labels.label("families", family, lang, field="down")


def test_the_response_codes_are_all_named():
    from response import audit, causes, lifecycle, reduction

    assert set(causes.KINDS) <= set(labels.codes("response_kinds"))
    assert set(lifecycle.EVENT_OF_ACTION) | {"none"} | set(audit.ACTIONS) <= set(labels.codes("actions"))
    assert set(reduction.VERDICTS) <= set(labels.codes("verdicts"))
    assert set(audit.TIERS) == set(labels.codes("tiers"))


def test_an_unknown_code_names_the_allowed_ones():
    with pytest.raises(labels.LabelError, match=r"unknown levels code 'purple'; allowed: none, yellow, orange, red"):
        labels.label("levels", "purple")
    assert labels.label("levels", "purple", default="—") == "—"  # the defined fallback


@pytest.mark.parametrize("call, match", [
    (lambda: labels.label("colours", "red"), r"unknown kind of label 'colours'; allowed: levels, "),
    (lambda: labels.label("levels", "red", "fr"), r"unknown language 'fr'; allowed: zh, en"),
    (lambda: labels.label("levels", "red", field="up"), r"levels.red has no 'up_zh'"),
    (lambda: labels.level_colour("purple"), r"unknown level 'purple'; allowed: none, yellow, orange, red"),
    (lambda: labels.area_label("nowhere", {"baotou": "包头市"}), r"no name for area 'nowhere'"),
])
def test_errors_name_what_is_allowed(call, match):
    with pytest.raises(labels.LabelError, match=match):
        call()


def test_a_file_without_an_english_label_is_refused(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("tiers:\n  city: {zh: 盟市}\n", encoding="utf-8")
    with pytest.raises(labels.LabelError, match=r"tiers.city has no en label"):
        labels.load_labels(path)
    path.write_text("tiers:\n  city: {zh: 盟市, en: League}\n", encoding="utf-8")
    assert labels.label("tiers", "city", "en", path=path) == "League"


def test_columns_and_sources():
    assert labels.columns(["society_td", "share"]) == {"society_td": "全社会排放量（吨/日）", "share": "已核实减排比例"}
    names = {"zh": {"hohhot": "呼和浩特市", "z1": "呼包巴区域"}, "en": {"hohhot": "Hohhot", "z1": "HBB zone"}}
    assert labels.source_label("own", names) == "本地预报"
    assert labels.source_label("parent:hohhot", names) == "执行呼和浩特市预警"
    assert labels.source_label("parent:hohhot", names, "en") == "follows Hohhot"
    assert labels.source_label("z1", names) == "执行呼包巴区域预警"


@pytest.mark.parametrize("value, kw, shown", [(0.21234, {"percent": True}, "21%"), (0.21234, {"decimals": 1,
                         "percent": True}, "21.2%"), (12.345, {"decimals": 1}, "12.3"), (187.6, {}, "188"),
                         (None, {}, "—"), (math.nan, {}, "—"), ("abc", {}, "abc")])
def test_numbers_are_rounded_to_what_they_mean(value, kw, shown):
    assert labels.number(value, **kw) == shown


def test_periods_in_words():
    assert labels.period("2022-10-03", "2024-05-31") == "2022年10月3日至2024年5月31日"
    assert labels.period("2022-10-03", "2024-05-31", "en") == "3 Oct 2022 – 31 May 2024"


def test_level_of_a_cell():
    assert labels.level_of_label("橙色预警 ✎") == "orange" and labels.level_of_label("Red warning") == "red"
    assert labels.level_of_label("无预警") == "none" and labels.level_of_label("包头市") is None


def test_forbidden_tokens_are_the_codes_not_the_symbols():
    tokens = labels.forbidden_tokens(area_ids=["baotou"])
    assert {"orange", "none", "issue", "society_td", "county", "met_with_unverified", "baotou"} <= tokens
    assert not {"pm25", "PM2.5", "so2", "n", "aqi"} & tokens
    assert labels.shows_token("级别 orange", "orange") and not labels.shows_token("orange_x", "orange")
    assert labels.shows_token("society_td：3", "society_td") and not labels.shows_token("橙色预警", "orange")


def test_phrases_fill_their_fields_and_name_a_missing_one():
    assert labels.phrase("follow_parent", "en", parent="Baotou", level="Orange warning", local="no forecast of its own") \
        == "follows Baotou's Orange warning (no forecast of its own)"
    assert labels.phrase("on_days", "zh", clause="AQI>200 持续≥48h", days="1、2") == "AQI>200 持续≥48h（第1、2天）"
    with pytest.raises(labels.LabelError, match="needs the field 'parent'"):
        labels.phrase("follow_parent", "en", level="x", local="y")


@pytest.mark.parametrize("zh, en", [
    ("AQI>200 持续≥24h", "AQI > 200 for ≥ 24 h"),
    ("AQI≥300 持续≥72h 且 AQI>200 持续≥96h", "AQI ≥ 300 for ≥ 72 h and AQI > 200 for ≥ 96 h"),
    ("AQI>150 持续≥48h 或 AQI>200 持续≥24h", "AQI > 150 for ≥ 48 h or AQI > 200 for ≥ 24 h"),
    ("", ""),
])
def test_a_clause_in_english(zh, en):
    assert labels.clause(zh, "en") == en and labels.clause(zh, "zh") == zh
