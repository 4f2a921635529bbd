"""Warning grading rule sets MEE-2019 (648号) and MEE-2024 (环大气〔2024〕6号), REFERENCE 1.2–1.3."""
import numpy as np
import pytest

from forecast import levels as L


@pytest.mark.parametrize("seq,expected", [
    ([150, 150, 150], "none"),
    ([151, 100, 100], "none"),
    ([201, 100, 100], "yellow"),        # AQI > 200 on any day
    ([200, 100, 100], "none"),          # strict: 200 is not > 200
    ([151, 151, 100], "yellow"),        # AQI > 150 for 48 h
    ([201, 201, 100], "orange"),        # AQI > 200 for 48 h
    ([151, 151, 151], "orange"),        # AQI > 150 for 72 h
    ([201, 201, 201], "orange"),        # 72 h > 200 without a day > 300
    ([201, 301, 201], "red"),           # 72 h > 200 and 24 h > 300
    ([301, 301, 100, 100, 100], "orange"),  # > 300 but only 48 h > 200
])
def test_mee_2024(seq, expected):
    assert L.warning_level(seq, rules="MEE-2024") == expected


@pytest.mark.parametrize("seq,expected", [
    ([201, 100, 100], "none"),          # no blue level in the 2019 system
    ([201, 201, 100], "yellow"),        # > 200 for 48 h
    ([201, 201, 201], "orange"),        # > 200 for 72 h
    ([201, 301, 301, 201], "red"),      # > 200 for 96 h and > 300 for 48 h
    ([201, 301, 201, 201], "orange"),   # only 24 h > 300
    ([500, 100, 100], "red"),           # daily AQI reaching 500
    ([499, 100, 100], "none"),
])
def test_mee_2019(seq, expected):
    assert L.warning_level(seq, rules="MEE-2019") == expected


def test_short_gap_merges_episodes_without_counting_the_gap():
    # REFERENCE 1.1: one day below the threshold (24 h <= 36 h) does not lift, so [201, 100, 201] is one episode,
    # but the gap day is not time above 200: no 48 h run (consecutive, shipped: none), 48 h summed (yellow, 1.2)
    assert L.warning_level([201, 100, 201], rules="MEE-2019") == "none"
    assert L.warning_level([201, 100, 201], rules="MEE-2019", duration="summed") == "yellow"
    # two days below (48 h > 36 h) separates them: two single heavy days, none under either reading
    for reading in L.DURATIONS:
        assert L.warning_level([201, 100, 100, 201], rules="MEE-2019", duration=reading) == "none"


def test_hourly_rolling_input_counts_hours():
    hourly = np.r_[np.full(47, 210.0), np.full(30, 90.0)]
    assert L.warning_level(hourly, rules="MEE-2019", step_hours=1) == "none"  # 47 h < 48 h
    hourly = np.r_[np.full(48, 210.0), np.full(30, 90.0)]
    assert L.warning_level(hourly, rules="MEE-2019", step_hours=1) == "yellow"


def test_grade_reports_run_and_clause():
    g = L.grade([100, 201, 201, 100], rules="MEE-2024")
    assert (g.level, g.start, g.stop) == ("orange", 1, 3)
    assert "AQI>200" in g.clause


def test_nan_days_do_not_count():
    assert L.warning_level([201, np.nan, 100], rules="MEE-2024") == "yellow"
    assert L.warning_level([np.nan, np.nan], rules="MEE-2024") == "none"


def test_unknown_rules_and_level():
    with pytest.raises(L.WarningRuleError, match="allowed: MEE-2019, MEE-2024, IM-pre2020"):
        L.warning_level([100], rules="MEE-2017")
    with pytest.raises(L.WarningRuleError, match="unknown duration reading 'longest'; allowed: summed, consecutive"):
        L.warning_level([100], rules="MEE-2019", duration="longest")
    with pytest.raises(L.WarningRuleError, match="allowed: none, yellow, orange, red"):
        L.reduction_share("blue", "MEE-2024")


def test_defaults_and_shares():
    assert L.rules_in_force("2023-12-01") == "MEE-2019"
    assert L.rules_in_force("2024-04-25") == "MEE-2024"
    assert [L.reduction_share(x, "MEE-2024") for x in L.LEVELS] == [0.0, 0.1, 0.2, 0.3]


# (rules, daily AQI sequence, expected level) — REFERENCE 1.2 (MEE-2019) and 1.3 (MEE-2024); "> 200" is strict
CASES = [
    ("MEE-2019", [201, 150], "none"),            # 1 day > 200: blue was dropped
    ("MEE-2019", [201, 201], "yellow"),          # 48 h > 200
    ("MEE-2019", [200, 250], "none"),            # 200 is not > 200
    ("MEE-2019", [210, 220, 230], "orange"),     # 72 h > 200
    ("MEE-2019", [310, 320, 230, 240], "red"),   # 96 h > 200 and 48 h > 300
    ("MEE-2019", [310, 220, 230, 240], "orange"),  # only 24 h > 300
    ("MEE-2019", [500, 100], "red"),             # AQI reaching 500
    ("MEE-2019", [499, 100], "none"),
    ("MEE-2024", [201, 100], "yellow"),          # any day > 200
    ("MEE-2024", [151, 151], "yellow"),          # 48 h > 150
    ("MEE-2024", [151, 100], "none"),
    ("MEE-2024", [201, 201], "orange"),          # 48 h > 200
    ("MEE-2024", [151, 151, 151], "orange"),     # 72 h > 150
    ("MEE-2024", [210, 220, 301], "red"),        # 72 h > 200 and 24 h > 300
    ("MEE-2024", [210, 220, 300], "orange"),     # 300 is not > 300
    ("MEE-2024", [500, 100], "yellow"),          # no "reaching 500" clause in 2024
    ("MEE-2019", [201, 201, 100, 201], "yellow"),  # one-day gap (< 36 h): one episode, its longest run 48 h > 200
    ("MEE-2019", [201, 100, 100, 201], "none"),    # two-day gap: two one-day episodes
]


@pytest.mark.parametrize("rules, seq, want", CASES)
def test_clauses(rules, seq, want):
    assert L.warning_level(seq, rules=rules) == want


def test_hourly_rolling_input_crosses_days():
    hourly = np.r_[np.full(10, 120), np.full(48, 210), np.full(20, 120)]  # 48 h > 200 from 10:00 to 10:00
    assert L.warning_level(hourly, rules="MEE-2019", step_hours=1) == "yellow"
    assert L.warning_level(hourly[:-30], rules="MEE-2019", step_hours=1) == "none"  # only 38 h > 200 left


# ------------------------------------------------------------------ the rule set in force on any date
def test_rules_in_force_from_the_region_history_is_no_fallback():
    info = L.rules_in_force_info("2024-04-25")
    assert (info.rules, info.source, info.fallback) == ("MEE-2024", "in_force", False)
    assert info.note == ("MEE-2024: in force from 2024-04-25 (the shipped Inner Mongolia rules, in_force); "
                         "内政办发〔2024〕17号; its use of the 2024 grading is UNVERIFIED (REFERENCE 4.5)")


def test_2014_is_graded_with_inner_mongolias_older_plan_as_a_fallback():
    # REFERENCE 1.2: IM's plan before the 2020 plan had four colours (the 2020 plan dropped blue); REFERENCE gives
    # no yellow/orange/red for it, so the 648 ladder stands in and the choice is reported as a fallback
    info = L.rules_in_force_info("2014-01-01")
    assert (info.rules, info.source, info.fallback) == ("IM-pre2020", "in_force", True)
    assert info.note.startswith("IM-pre2020: in force before 2020-06-15 (its start is not configured) (the shipped "
                                "Inner Mongolia rules, in_force); Inner Mongolia's four-colour plan")
    assert "the switch to the 2020 plan on 2020-06-15 is UNVERIFIED" in info.note
    with pytest.warns(L.RulesFallbackWarning, match="648号 ladder stands in"):
        assert L.rules_in_force("2014-01-01") == "IM-pre2020"
    # a blue-only episode (one day above 200) grades none, flagged blue (REFERENCE 1.2)
    g = L.grade([250, 100], rules="IM-pre2020")
    assert (g.level, g.advisory, g.blue) == ("none", "blue", True)


def test_the_stated_default_still_serves_a_region_without_a_history_before_2019(tmp_path):
    info = L.rules_in_force_info("2014-01-01", L.NATIONAL_ONLY)
    assert (info.rules, info.source, info.fallback) == ("MEE-2019", "default", True)
    assert info.note.startswith("MEE-2019: the stated default for dates before 2019-07-01 — a fallback: a region "
                                "without warning_rules.yaml states no in_force history, and no national rule set is "
                                "configured then; before the 2019 system the plans graded four colours")
    assert info.note.endswith("UNVERIFIED for that period")
    assert L.load_rules()["default"]["status"] == "UNVERIFIED"


def test_in_force_dates_give_no_warning(recwarn):
    assert L.rules_in_force("2020-06-15") == "MEE-2019"
    assert not [w for w in recwarn if issubclass(w.category, L.RulesFallbackWarning)]


REGION_RULES = """
Hebei-2018:
  source: a local plan (test)
  status: UNVERIFIED
  merge_gap_hours: 36
  levels:
    red: {all: [{above: 200, hours: 96}, {above: 300, hours: 48}]}
    orange: {all: [{above: 200, hours: 72}]}
    yellow: {any: [{above: 200, hours: 24}]}
reduction_shares:
  Hebei-2018: {yellow: 0.05, orange: 0.15, red: 0.25}
in_force:
  - {from: "2018-10-01", rules: Hebei-2018}
  - {from: "2020-01-01", rules: MEE-2019}
"""


def test_region_file_adds_a_rule_set_and_its_history(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(REGION_RULES)
    assert L.rule_sets(path) == ["MEE-2019", "MEE-2024", "IM-pre2020", "Hebei-2018"]
    assert L.warning_level([201, 100], rules="Hebei-2018", path=path) == "yellow"  # its own one-day yellow
    assert L.reduction_share("orange", "Hebei-2018", path) == 0.15
    assert L.reduction_share("orange", "MEE-2024", path) == 0.2  # shipped shares kept
    info = L.rules_in_force_info("2019-03-01", path)
    assert (info.rules, info.source, info.fallback) == ("Hebei-2018", "in_force", False)
    assert L.rules_in_force("2025-01-01", path) == "MEE-2019"  # its history, not Inner Mongolia's 2024-04-25
    # before its history: the national rules of the time … or the stated default before 2019-07-01
    early = L.rules_in_force_info("2018-01-01", path)
    assert (early.rules, early.source, early.fallback) == ("MEE-2019", "default", True)
    assert f"the region's history ({path}) starts 2018-10-01" in early.note
    assert L.rule_sets() == ["MEE-2019", "MEE-2024", "IM-pre2020"]  # the shipped file alone is unchanged


def test_region_file_without_history_falls_back_to_the_national_rules(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(REGION_RULES.split("in_force:")[0])
    info = L.rules_in_force_info("2024-03-12", path)
    assert (info.rules, info.source, info.fallback) == ("MEE-2024", "national", True)
    assert info.note == (f"MEE-2024: the national grading in force from 2024-03-12 (环大气〔2024〕6号 (in force by this "
                         f"date; issue date UNVERIFIED)) — a fallback: {path} states no in_force history")
    assert L.rules_in_force_info("2024-03-11", path).rules == "MEE-2019"


@pytest.mark.parametrize("text,match", [
    ("in_force:\n  - {from: '2020-01-01', rules: MEE-2017}\n", r"in_force names unknown rule set 'MEE-2017'; "
                                                              r"allowed: MEE-2019, MEE-2024, IM-pre2020"),
    ("in_force:\n  - {from: '2020-01-01', rules: MEE-2019}\n  - {from: null, rules: MEE-2024}\n",
     "only the first in_force entry may have 'from: null'"),
    ("X:\n  duration: longest\n  levels: {red: {above: 300, hours: 24}, orange: {above: 200, hours: 24}, "
     "yellow: {above: 150, hours: 24}}\n", r"rule set 'X': unknown duration reading 'longest'; allowed: summed, "
                                           r"consecutive"),
    ("X:\n  advisory_levels: {yellow: {above: 100, hours: 24}}\n  levels: {red: {above: 300, hours: 24}, "
     "orange: {above: 200, hours: 24}, yellow: {above: 150, hours: 24}}\n", r"advisory_levels must map advisory "
                                                                             r"names \(not one of none, yellow"),
    ("in_force:\n  - {from: someday, rules: MEE-2019}\n", "'from' is not a date"),
    ("in_force:\n  - {rules: MEE-2019}\n", "needs 'from'"),
    ("X:\n  levels: {red: {above: 300, hours: 24}}\n", r"rule set 'X' lacks level\(s\) \['yellow', 'orange'\]"),
    ("default: {rules: nothing}\n", "default must name a rule set"),
    ("- just a list\n", "not a warning rules file"),
])
def test_malformed_region_rules_file(tmp_path, text, match):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(text)
    with pytest.raises(L.WarningRuleError, match=match) as info:
        L.rules_in_force_info("2024-01-01", path)
    assert str(path) in str(info.value)


def test_reduction_share_missing_for_a_rule_set(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text(REGION_RULES.replace("reduction_shares:\n  Hebei-2018: {yellow: 0.05, orange: 0.15, red: 0.25}\n",
                                         ""))
    with pytest.raises(L.WarningRuleError, match="no reduction share for rule set 'Hebei-2018' at red"):
        L.reduction_share("red", "Hebei-2018", path)


# ------------------------------------------------------------------ merged episodes: hours above, not the gap
# REFERENCE 1.1: runs separated by <= 36 h (merge_gap_hours) are one episode — the warning stays in force across the
# gap — but the level comes from the hours actually above each threshold: summed over the episode ("summed", the
# shipped reading) or one uninterrupted run ("consecutive"). Thresholds and durations: 1.2 (MEE-2019), 1.3 (MEE-2024).

def _hours(*parts):
    """An hourly rolling-24-h AQI series from (hours, value) parts."""
    return np.concatenate([np.full(n, float(v)) for n, v in parts])


GAPS = [  # (rules, AQI, step_hours, summed, consecutive, why)
    # MEE-2019 yellow: > 200 for 48 h (1.2)
    ("MEE-2019", [210, 190, 220], 24, "yellow", "none", "48 h > 200 summed; no 48 h run (issue #19: never orange)"),
    ("MEE-2019", [210, 190, 190, 220], 24, "none", "none", "48 h gap > 36 h: two 24 h episodes"),
    ("MEE-2019", _hours((30, 210), (36, 150), (18, 210)), 1, "yellow", "none", "30 h + 18 h across a 36 h gap"),
    ("MEE-2019", _hours((30, 210), (37, 150), (18, 210)), 1, "none", "none", "a 37 h gap lifts: two episodes"),
    # MEE-2019 orange: > 200 for 72 h (1.2)
    ("MEE-2019", [210, 220, 150, 230], 24, "orange", "yellow", "72 h > 200 summed; the longest run is 48 h"),
    # MEE-2019 red: > 200 for 96 h and > 300 for 48 h inside it (1.2)
    ("MEE-2019", [310, 320, 250, 150, 240], 24, "red", "orange", "96 h > 200 and 48 h > 300 summed; runs 72 h"),
    ("MEE-2019", [350, 250, 350, 250], 24, "red", "orange", "48 h > 300 summed inside the 96 h; no 48 h run > 300"),
    ("MEE-2019", [310, 310, 100, 100, 210, 220, 230, 240], 24, "orange", "orange",
     "the 48 h > 300 lie in an earlier episode, not inside the 96 h one"),
    ("MEE-2019", [150, 250, 400, 250, 250, 150, 400], 24, "orange", "orange",
     "120 h > 200, but the two days > 300 are 72 h apart: two 24 h episodes above 300"),
    # MEE-2019 red: AQI reaching 500 for 24 h (1.2)
    ("MEE-2019", [480, 100, 500], 24, "red", "red", "one day >= 500"),
    ("MEE-2019", _hours((12, 500), (10, 100), (12, 500)), 1, "red", "none", "24 h >= 500 summed; runs of 12 h"),
    # MEE-2024 yellow: > 200 for 24 h, or > 150 for 48 h (1.3)
    ("MEE-2024", _hours((12, 210), (20, 120), (12, 210)), 1, "yellow", "none", "24 h > 200 summed; runs of 12 h"),
    ("MEE-2024", [160, 100, 170], 24, "yellow", "none", "48 h > 150 summed (issue #19: at most yellow)"),
    ("MEE-2024", [151, 150, 151], 24, "yellow", "none", "150 is not > 150: 48 h summed (issue #19: not orange)"),
    ("MEE-2024", [160, 100, 100, 170], 24, "none", "none", "48 h gap > 36 h: two 24 h episodes"),
    # MEE-2024 orange: > 200 for 48 h, or > 150 for 72 h (1.3)
    ("MEE-2024", [210, 100, 220], 24, "orange", "yellow", "48 h > 200 summed; consecutive: 24 h > 200 is yellow"),
    ("MEE-2024", [160, 170, 100, 180], 24, "orange", "yellow", "72 h > 150 summed; the longest run is 48 h"),
    # MEE-2024 red: > 200 for 72 h and > 300 for 24 h inside it (1.3)
    ("MEE-2024", [310, 220, 100, 230], 24, "red", "orange", "72 h > 200 summed with 24 h > 300; runs of 48 h"),
    ("MEE-2024", _hours((20, 310), (30, 140), (10, 320), (50, 220)), 1, "red", "orange",
     "80 h > 200 and 30 h > 300 summed; the longest run > 200 is 60 h"),
    ("MEE-2024", [220, 230, 240, 100, 100, 310], 24, "orange", "orange",
     "the day > 300 is in a later episode, not inside the 72 h one"),
    ("MEE-2024", [250, 100, 175, 175, 250, 310, 100], 24, "orange", "orange",
     "days > 200 72 h apart: episodes above 200 of 24 h and 48 h, never 72 h (orange by 96 h > 150 summed)"),
]


@pytest.mark.parametrize("rules, aqi, step, summed, consecutive, why", GAPS,
                         ids=[f"{r}-{i}" for i, (r, *_rest) in enumerate(GAPS)])
def test_each_clause_on_sequences_with_gaps_under_both_readings(rules, aqi, step, summed, consecutive, why):
    assert L.warning_level(aqi, rules=rules, step_hours=step, duration="summed") == summed, why
    assert L.warning_level(aqi, rules=rules, step_hours=step, duration="consecutive") == consecutive, why
    assert L.warning_level(aqi, rules=rules, step_hours=step) == consecutive  # the shipped reading


def test_consecutive_is_the_shipped_reading_and_the_grading_says_so():
    # "持续 48 h" (REFERENCE 1.2/1.3) read as one uninterrupted run: issue #19's answers — MEE-2019 [210, 190, 220]
    # is not orange (AQI > 200 never lasts beyond 24 h at a time), [350, 250, 350, 250] is not red (AQI > 300 never
    # lasts 48 h); the reading in force is stated on the grading
    for rules in ("MEE-2019", "MEE-2024", "IM-pre2020"):
        assert L.duration_reading(rules) == "consecutive"
    assert L.grade([210, 190, 220], rules="MEE-2019").level == "none"
    assert L.grade([350, 250, 350, 250], rules="MEE-2019").level == "orange"
    assert L.grade([210, 190, 220], rules="MEE-2019").duration == "consecutive"
    assert L.grade([210, 190, 220], rules="MEE-2019", duration="summed").duration == "summed"


@pytest.mark.parametrize("aqi", [[210, 190, 220], [350, 250, 350, 250], [210, 100, 100, 230, 240, 100], [240] * 5,
                                 [310, 100, 320, 330, 100, 500], [150, 160, 100, 170, 210]])
@pytest.mark.parametrize("rules", ["MEE-2019", "MEE-2024"])
def test_summed_never_grades_below_consecutive(rules, aqi):
    # a run of N hours is also N hours summed, so the summed reading is the stricter (REFERENCE 1.1)
    rank = {r: L.LEVEL_RANK[L.warning_level(aqi, rules=rules, duration=r)] for r in L.DURATIONS}
    assert rank["summed"] >= rank["consecutive"]


def test_a_rule_set_chooses_its_reading_in_the_file(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text("Strict-2019:\n  merge_gap_hours: 36\n  duration: consecutive\n  levels:\n"
                    "    red: {all: [{above: 200, hours: 96}, {above: 300, hours: 48}]}\n"
                    "    orange: {above: 200, hours: 72}\n    yellow: {above: 200, hours: 48}\n"
                    "Plain-2019:\n  merge_gap_hours: 36\n  levels:\n"
                    "    red: {all: [{above: 200, hours: 96}, {above: 300, hours: 48}]}\n"
                    "    orange: {above: 200, hours: 72}\n    yellow: {above: 200, hours: 48}\n")
    path.write_text(path.read_text().replace("Strict-2019:\n  merge_gap_hours: 36\n  duration: consecutive",
                                             "Strict-2019:\n  merge_gap_hours: 36\n  duration: summed"))
    g = L.grade([350, 250, 350, 250], rules="Strict-2019", path=path)
    assert (g.level, g.duration) == ("red", "summed")  # 48 h above 300 summed inside the 96 h above 200 (1.2 red)
    g = L.grade([350, 250, 350, 250], rules="Plain-2019", path=path)
    assert (g.level, g.duration) == ("orange", "consecutive")  # the stated default: no 48 h run above 300


def test_the_triggering_span_is_the_episode_gaps_included():
    # the issuing/lifting window of a merged episode covers its gap (REFERENCE 1.1: no lift and re-issue)
    g = L.grade([100, 210, 190, 220, 100], rules="MEE-2019", duration="summed")
    assert (g.level, g.start, g.stop) == ("yellow", 1, 4)
    assert L.level_run([100, 210, 190, 220, 100], "yellow", rules="MEE-2019", duration="summed") == (1, 4)
    assert L.level_run([100, 210, 190, 220, 100], "orange", rules="MEE-2019", duration="summed") is None
    # consecutive (shipped): the 48 h run 210, 220 grades yellow; the window is still the whole episode
    g = L.grade([100, 210, 220, 190, 230, 100], rules="MEE-2019")
    assert (g.level, g.start, g.stop) == ("yellow", 1, 5)
    # an `all` clause: the span of its first clause (> 200), the later clause counted inside it
    g = L.grade([350, 250, 350, 250, 100], rules="MEE-2019", duration="summed")
    assert (g.level, g.start, g.stop) == ("red", 0, 4)


# ------------------------------------------------------------------ which rule set, by date (REFERENCE 0, 1.2, 4.5)
@pytest.mark.parametrize("date, rules, fallback", [
    ("2019-06-30", "IM-pre2020", True),   # IM's older four-colour plan (1.2: the 2020 plan dropped blue)
    ("2019-07-01", "IM-pre2020", True),   # 648号 (2019-07) asked for revised plans; IM's came in 2020-06 (0)
    ("2020-05-31", "IM-pre2020", True),
    ("2020-06-14", "IM-pre2020", True),
    ("2020-06-15", "MEE-2019", False),    # IM 2020 plan 内政办发〔2020〕13号, 648 grading (0, 1.2); day UNVERIFIED
    ("2024-04-24", "MEE-2019", False),
    ("2024-04-25", "MEE-2024", False),    # IM 2024 plan, effective on issue 2024-04-25 (0, 4.5)
])
def test_inner_mongolia_rule_set_by_date(date, rules, fallback):
    info = L.rules_in_force_info(date)
    assert (info.rules, info.source, info.fallback) == (rules, "in_force", fallback)
    if date < "2024-04-25":
        assert "2020-06-15" in info.note and "UNVERIFIED" in info.note  # the unverified switch day is stated


def test_the_switch_day_of_the_2020_plan_is_configurable(tmp_path):
    path = tmp_path / "warning_rules.yaml"
    path.write_text("in_force:\n  - {from: null, rules: IM-pre2020, fallback: true}\n"
                    "  - {from: '2020-06-05', rules: MEE-2019}\n  - {from: '2024-04-25', rules: MEE-2024}\n")
    assert L.rules_in_force_info("2020-06-04", path).rules == "IM-pre2020"
    assert L.rules_in_force_info("2020-06-05", path).rules == "MEE-2019"


@pytest.mark.parametrize("aqi, level, advisory", [
    ([250, 100, 100], "none", "blue"),       # AQI > 200 for 1 day: blue (1.2), no level
    (_hours((24, 210), (48, 100)), "none", "blue"),  # hourly: 24 h > 200
    (_hours((23, 210), (48, 100)), "none", ""),      # 23 h is not a day
    ([200, 100, 100], "none", ""),           # 200 is not > 200
    ([250, 250, 100], "yellow", ""),         # "higher levels not met": yellow, no blue flag
])
def test_blue_is_an_advisory_of_the_pre_2020_plan_never_a_level(aqi, level, advisory):
    step = 24 if len(aqi) < 10 else 1
    with pytest.warns(L.RulesFallbackWarning, match="blue"):
        rules = L.rules_in_force("2019-12-01")
    g = L.grade(aqi, rules=rules, step_hours=step)
    assert (g.level, g.advisory, g.blue) == (level, advisory, advisory == "blue")
    assert L.LEVELS == ("none", "yellow", "orange", "red")
    # after the 2020 plan there is no blue (1.2: dropped)
    assert L.grade(aqi, rules=L.rules_in_force_info("2020-06-15").rules, step_hours=step).advisory == ""


def test_the_pre_2020_ladder_stands_in_with_the_648_grading():
    # REFERENCE gives no yellow/orange/red for the older IM plan: the 648 ladder (1.2) stands in, with its shares
    for aqi in ([210, 190, 220], [201, 201, 201], [350, 250, 350, 250], [500, 100]):
        assert L.warning_level(aqi, rules="IM-pre2020") == L.warning_level(aqi, rules="MEE-2019")
    assert [L.reduction_share(x, "IM-pre2020") for x in L.LEVELS] == [0.0, 0.1, 0.2, 0.3]
    assert "UNVERIFIED" in L.load_rules()["IM-pre2020"]["status"]
