"""Warning-level probabilities: cut points, marginals, the copula's dependence, trigger days, fitting."""
import numpy as np
import pandas as pd
import pytest

from forecast import decision, levelprob, levels
from forecast.distributions import split_normal_sf

ISSUE = pd.Timestamp("2025-01-01")


def seq(aqi, *, p150=None, p200=None, p300=None, dust=False, area="a", issue=ISSUE):
    aqi = np.asarray(aqi, float)
    step = lambda th: (aqi > th).astype(float)  # noqa: E731 - a certain forecast
    return pd.DataFrame({"area_id": area, "issue_date": issue, "lead": np.arange(1, len(aqi) + 1),
                         "aqi_q10": aqi, "aqi_q50": aqi, "aqi_q90": aqi,
                         "p_aqi_gt150": step(150) if p150 is None else p150,
                         "p_aqi_gt200": step(200) if p200 is None else p200,
                         "p_aqi_gt300": step(300) if p300 is None else p300, "dust": dust})


def test_cut_points_follow_the_rules():
    cuts, reps = levelprob.cut_points("MEE-2024")
    assert cuts.tolist() == [150.0, 200.0, 300.0]
    assert np.searchsorted(cuts, reps, side="left").tolist() == [0, 1, 2, 3]  # each representative in its state
    cuts19, _ = levelprob.cut_points("MEE-2019")
    assert cuts19.tolist()[:2] == [200.0, 300.0] and cuts19[-1] == pytest.approx(500 - 1e-6)


def test_day_exceedance_classifiers_where_they_exist_split_normal_elsewhere():
    f = pd.DataFrame({"aqi_q10": [150.0], "aqi_q50": [250.0], "aqi_q90": [420.0], "p_aqi_gt150": [0.9],
                      "p_aqi_gt200": [0.6], "p_aqi_gt300": [0.7]})  # 300 above 200: made non-increasing
    cuts, _ = levelprob.cut_points("MEE-2019")  # 200, 300, 500-
    e = levelprob.day_exceedance(f, cuts)[0]
    assert e[0] == 0.6 and e[1] == 0.6
    assert e[2] == pytest.approx(float(split_normal_sf(500 - 1e-6, 150.0, 250.0, 420.0)))


def test_certain_sequence_grades_like_the_rules_with_its_trigger_days():
    days = [260, 270, 320, 180, 100, 90, 80]
    lv = levelprob.level_table(seq(days), rho=0.6, rules="MEE-2024").iloc[0]
    g = levels.grade(days, rules="MEE-2024")
    assert lv["level"] == g.level == "red" and lv["p_level_red"] == 1.0 and lv["p_ge_yellow"] == 1.0
    assert lv["trigger_days"] == [1, 2, 3] and lv["clause"] == g.clause and lv["level_median"] == "red"


def test_dust_days_are_below_every_threshold():
    lv = levelprob.level_table(seq([260, 270, 320, 180, 100, 90, 80], dust=True), rho=0.6, rules="MEE-2024").iloc[0]
    assert lv["level"] == "none" and lv["p_level_none"] == 1.0 and lv["trigger_days"] == [] and lv["clause"] == ""


def test_sampled_marginals_match_the_exceedances():
    p = np.array([[0.8, 0.5, 0.1], [0.3, 0.2, 0.05]])
    exceed = np.broadcast_to(p, (1, 2, 3)).copy()
    _, codes = levelprob.sample_levels(exceed, np.zeros((1, 2), bool), rho=0.7, rules="MEE-2024", n_samples=20000,
                                       rng=np.random.default_rng(1))
    states = np.stack([codes[0] % 4, codes[0] // 4 % 4], axis=1)
    for d in range(2):
        for k in range(3):
            assert (states[:, d] > k).mean() == pytest.approx(p[d, k], abs=0.015)


def test_the_copula_ties_the_days():
    # MEE-2019 orange needs 72 h > 200 (REFERENCE 1.2); runs a day apart merge (36-h gap) but the gap day is not
    # time above 200 (REFERENCE 1.1), so with 3 days at p = 0.5 only "XXX" grades orange: 1/8 for independent days;
    # tied days make it likelier (AR(1) rho = 0.9: the trivariate orthant probability, about 0.38)
    exceed = np.tile([0.5, 0.0, 0.0], (1, 3, 1))
    rng = np.random.default_rng(2)
    free, _ = levelprob.sample_levels(exceed, np.zeros((1, 3), bool), rho=0.0, rules="MEE-2019", n_samples=20000,
                                      rng=rng)
    tied, _ = levelprob.sample_levels(exceed, np.zeros((1, 3), bool), rho=0.9, rules="MEE-2019", n_samples=20000,
                                      rng=rng)
    assert (free >= 2).mean() == pytest.approx(0.125, abs=0.01)
    assert (tied >= 2).mean() > 0.33


def test_level_probabilities_sum_to_one_and_decision_follows_the_exceedances():
    f = seq([190.0] * 7, p150=0.6, p200=0.35, p300=0.05)
    lv = levelprob.level_table(f, rho=0.8, rules="MEE-2024").iloc[0]
    assert sum(lv[f"p_level_{k}"] for k in levels.LEVELS) == pytest.approx(1.0)
    assert lv["p_ge_yellow"] >= lv["p_ge_orange"] >= lv["p_ge_red"]
    p_ge = np.array([[lv["p_ge_yellow"], lv["p_ge_orange"], lv["p_ge_red"]]])
    for t in (0.05, 0.2, 0.5, 0.9):
        th = decision.Thresholds(t, t, t)
        again = levelprob.level_table(f, rho=0.8, rules="MEE-2024", thresholds=th).iloc[0]
        assert again["level"] == decision.decide(p_ge, th)[0]


def test_decided_level_above_the_median_gets_its_own_clause_and_trigger_days():
    # the median stays at 140 (no warning), but day 2 above 200 (MEE-2024 yellow: 24 h > 200) is likely
    f = seq([140.0] * 7, p150=[0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1], p200=[0.05, 0.7, 0.05, 0.05, 0.05, 0.05, 0.05], p300=[0.0] * 7)
    lv = levelprob.level_table(f, rho=0.5, rules="MEE-2024", thresholds=decision.Thresholds(0.5, 0.99, 0.99)).iloc[0]
    assert lv["level_median"] == "none" and lv["level"] == "yellow"
    assert lv["clause"] == levels.level_clause("yellow", rules="MEE-2024") and lv["trigger_days"] == [2]


def test_recalibration_is_monotone_across_levels():
    cal = levelprob.LevelCalibration({"yellow": ((0.0, 1.0), (0.0, 0.5)), "orange": ((0.0, 1.0), (0.0, 0.9))})
    out = cal.apply(np.array([[0.8, 0.6, 0.2]]))
    assert out[0].tolist() == pytest.approx([0.4, 0.4, 0.2])  # orange cannot exceed yellow
    assert levelprob.LevelCalibration.from_json(cal.to_json()).maps == cal.maps


def _simulated_record(rho_true: float, p: float, n_seq: int, rules="MEE-2019", seed=0):
    """Sequences with a constant P(AQI > 200) = p each day whose observed level is one draw of the copula."""
    rng = np.random.default_rng(seed)
    issues = pd.date_range("2024-01-01", periods=n_seq)
    oof = pd.concat([seq([180.0] * 7, p150=p, p200=p, p300=0.0, issue=d) for d in issues], ignore_index=True)
    oof["rules"] = rules
    cuts, _ = levelprob.cut_points(rules)
    exceed = levelprob.day_exceedance(oof, cuts).reshape(n_seq, 7, len(cuts))
    ranks, _ = levelprob.sample_levels(exceed, np.zeros((n_seq, 7), bool), rho=rho_true, rules=rules, n_samples=1,
                                       rng=rng)
    observed = pd.Series(ranks[:, 0], index=pd.MultiIndex.from_arrays([["a"] * n_seq, issues],
                                                                       names=["area_id", "issue_date"]))
    return oof, observed


def test_fit_finds_the_dependence_of_the_record():
    oof, observed = _simulated_record(0.9, 0.3, 1500)
    rho, cal, record = levelprob.fit(oof, observed, n_samples=400)
    assert rho in (0.8, 0.9, 0.95)
    oof0, observed0 = _simulated_record(0.0, 0.3, 1500, seed=1)
    assert levelprob.fit(oof0, observed0, n_samples=400)[0] in (0.0, 0.3)
    assert set(record.columns) >= {"area_id", "issue_date", "rules", "p_ge_yellow", "p_ge_yellow_raw", "obs_level"}


def test_fit_recalibrates_overconfident_probabilities():
    # the record says P(> 200) = 0.5 a day, the truth is 0.2: the raw P(≥ yellow) is far too high
    oof, _ = _simulated_record(0.7, 0.5, 1500)
    _, observed = _simulated_record(0.7, 0.2, 1500, seed=3)
    _, cal, record = levelprob.fit(oof, observed, n_samples=400)
    hit = (record["obs_level"] != "none").mean()
    assert record["p_ge_yellow_raw"].mean() > hit + 0.2
    assert record["p_ge_yellow"].mean() == pytest.approx(hit, abs=0.03) and "yellow" in cal.maps


def test_observed_ranks_leave_out_unobserved_sequences_and_dust():
    f = seq([260, 270, 320, 180, 100, 90, 80]).assign(rules="MEE-2024", y_aqi=[260, 270, 320, 180, 100, 90, 80],
                                                         y_dust=False)
    g = f.assign(area_id="b", y_dust=True)
    h = f.assign(area_id="c", y_aqi=[260, np.nan, 320, 180, 100, 90, 80])
    r = levelprob.observed_ranks(pd.concat([f, g, h]))
    assert r.to_dict() == {("a", ISSUE): 3, ("b", ISSUE): 0}
