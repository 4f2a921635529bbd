"""The dynamic counterfactual on a synthetic world whose no-cut truth is known.

Pollution accumulates in stagnation spells and is flushed between them; authorities warn when their forecast
(the no-cut value with a lognormal error) is high, and a warning lowers the day's growth. The estimator must
recover the effect of the warned runs within its interval when it knows the decision forecasts, and an episode
without measures must come out compatible with zero.
"""
import numpy as np
import pandas as pd
import pytest

from response import counterfactual as CF

AREAS = ("a1", "a2", "a3")
CUT = 0.12  # log growth removed on a warned day


def world(seed=3, n_days=420):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-10-01", periods=n_days)
    regional = np.zeros(n_days)
    for t in range(1, n_days):  # shared synoptic stagnation index, AR(1)
        regional[t] = 0.8 * regional[t - 1] + rng.normal(0, 0.6)
    obs, met, decisions, warnings, truth = [], [], [], [], []
    for k, area in enumerate(AREAS):
        stag = regional + rng.normal(0, 0.3, n_days)
        wind = np.clip(3.0 - stag + rng.normal(0, 0.5, n_days), 0.3, None)
        log0 = log1 = np.log1p(60.0)
        warned_prev = False
        for t in range(n_days):
            shock = rng.normal(0, 0.08)  # the day's unobserved part, the same in both worlds
            base = np.log1p(60.0 + 10 * k)
            g = 0.35 * stag[t] - 0.35 * (log1 - base) + shock
            g0 = 0.35 * stag[t] - 0.35 * (log0 - base) + shock
            new0 = log0 + g0
            d = np.expm1(new0) * 1.3 * np.exp(rng.normal(0, 0.12))  # the authorities' AQI forecast
            warned = d > 220 or (warned_prev and d > 180)
            new1 = log1 + g - (CUT if warned else 0.0)
            log0, log1, warned_prev = new0, new1, warned
            day = dates[t]
            pm, pm0 = np.expm1(new1), np.expm1(new0)
            obs.append((area, day, pm * 1.3, pm, False))
            met.append((area, day, stag[t], wind[t]))
            decisions.append((area, day, d))
            truth.append((area, day, pm, pm0))
            if warned:
                warnings.append((area, day, "orange"))
    obs = pd.DataFrame(obs, columns=["area_id", "date", "aqi", "pm25_24h", "dust"]).set_index(["area_id", "date"])
    met = pd.DataFrame(met, columns=["area_id", "date", "stagnation", "wind_speed"]).set_index(["area_id", "date"])
    return (obs, met, pd.DataFrame(decisions, columns=["area_id", "date", "aqi"]),
            pd.DataFrame(warnings, columns=["area_id", "date", "level"]),
            pd.DataFrame(truth, columns=["area_id", "date", "actual", "nocut"]))


def episode_effect(with_decisions: bool, placebo_window=None):
    obs, met, dec, warn, truth = world()
    table = CF.design(obs, met, warnings=warn, decisions=dec if with_decisions else None)
    dates = pd.to_datetime(table["date"])
    if placebo_window is None:
        treated = table["share"].to_numpy() > 0
        start = dates[treated & (dates >= pd.Timestamp("2024-09-01")).to_numpy()].min()
        window = (dates >= start) & (dates <= start + pd.Timedelta(days=40))
    else:
        window = (dates >= placebo_window[0]) & (dates <= placebo_window[1])
    hold = set(zip(table.loc[window, "area_id"], table.loc[window, "date"]))
    model = CF.fit(table, hold, rounds=120)
    mask = window.to_numpy() & (placebo_window is not None or table["share"].to_numpy() > 0)
    eff = CF.effect(model, table, mask, target="pm25", placebo=placebo_window is not None, n_boot=300)
    rows = table[mask]
    t = truth.set_index(["area_id", "date"]).reindex(pd.MultiIndex.from_arrays([rows["area_id"], rows["date"]]))
    return eff, float((t["actual"] - t["nocut"]).mean())


def test_effect_of_warned_runs_within_the_interval_of_the_truth():
    eff, true = episode_effect(with_decisions=True)
    assert eff["n_days"] >= 10 and true < -5  # a real effect to find
    lo, hi = eff["interval"]
    assert lo <= true <= hi, (eff, true)
    assert hi < 0  # and the estimator says it is there


def test_without_the_decision_forecasts_the_estimate_is_biased_towards_zero():
    with_dec, true = episode_effect(with_decisions=True)
    without, _ = episode_effect(with_decisions=False)
    assert abs(without["estimate"] - true) > abs(with_dec["estimate"] - true)


def test_no_measures_estimate_compatible_with_zero():
    """Quiet 15-day windows (no warning in or just before them): a 90 % interval should contain 0 in most."""
    _, _, _, warn, _ = world()
    warned = set(pd.to_datetime(warn["date"]))
    starts = [d for d in pd.date_range("2024-05-01", "2024-10-15", freq="10D")
              if not any(d + pd.Timedelta(days=k) in warned for k in range(-2, 15))][:4]
    assert len(starts) == 4
    covered = []
    for s in starts:
        eff, true = episode_effect(with_decisions=True, placebo_window=(s, s + pd.Timedelta(days=14)))
        assert eff["n_days"] == 45 and abs(true) < 3.0  # only the last carry-over of earlier warnings
        lo, hi = eff["interval"]
        covered.append(lo <= 0 <= hi)
        assert abs(eff["estimate"]) < 5.0
    assert sum(covered) >= 3, covered


def test_too_little_data():
    obs, met, dec, warn, _ = world(n_days=40)
    table = CF.design(obs.iloc[:30], met, warnings=warn)
    with pytest.raises(CF.CounterfactualError, match="need at least 100"):
        CF.fit(table, set())


def test_heating_seasons():
    days = pd.Series(pd.date_range("2023-10-01", "2025-02-28"))
    assert CF.heating_seasons(days) == 2
    assert CF.heating_seasons(days[days < "2024-11-15"]) == 1  # Oct–Nov 2024: 45 days, too few
    assert CF.heating_seasons(pd.Series(pd.date_range("2024-04-01", "2024-09-30"))) == 0


# ---- identifiability and plausibility (issue #22) -----------------------------------------------------------------

POLICY = CF.load_effect_policy()
ANCHORS = CF.load_effect_anchors()


def _window(table, start, end):
    dates = pd.to_datetime(table["date"])
    window = ((dates >= start) & (dates <= end)).to_numpy()
    return window, set(zip(table.loc[window, "area_id"], table.loc[window, "date"]))


def test_a_festival_night_the_history_has_never_seen_is_not_estimable():
    obs, met, dec, warn, _ = world()  # 2023-10-01 … 2024-11-23: one Spring Festival eve (2024-02-09)
    table = CF.design(obs, met, warnings=warn, decisions=dec)
    window, hold = _window(table, pd.Timestamp("2024-02-05"), pd.Timestamp("2024-02-12"))
    table.loc[window, "share"] = 0.2  # measures in force through the festival
    out = CF.identifiability(table, window, hold, POLICY)
    assert not out["estimable"]
    reason = [r for r in out["reasons"] if r["code"] == "festival_unseen"]
    # the eve (20 h to past midnight), the day its night ends on and the day after that (the smoke clearing), in
    # each of the three areas; the history outside the window has no eve
    assert reason == [{"code": "festival_unseen", "values": {"night": "eve", "seen": 0, "need": 3, "days": 9}}]
    assert "除夕" in CF.flag_text(reason[0]) and "New Year's Eve" in CF.flag_text(reason[0], "en")
    # a deployment that accepts an unseen night sets the threshold to 0
    lax = {**POLICY, "identifiability": {**POLICY["identifiability"], "festival": {"min_seasons_seen": 0}}}
    assert not [r for r in CF.identifiability(table, window, hold, lax)["reasons"] if r["code"] == "festival_unseen"]


def test_outside_the_festival_the_synthetic_episode_is_estimable():
    obs, met, dec, warn, _ = world()
    table = CF.design(obs, met, warnings=warn, decisions=dec)
    window, hold = _window(table, pd.Timestamp("2024-09-01"), pd.Timestamp("2024-10-10"))
    treated = window & (table["share"].to_numpy() > 0)
    assert treated.sum() >= 10
    out = CF.identifiability(table, treated, hold, POLICY)
    assert out["estimable"] and out["reasons"] == [] and out["checks"]["festivals"] == {}
    assert out["checks"]["comparable_days"]["days"] >= POLICY["identifiability"]["comparable_days"]["min_days"]


def test_measures_on_every_polluted_day_leave_nothing_to_compare_with():
    """Authorities that warn whenever the forecast exceeds AQI 100: no untreated day is as polluted as a warned
    one, and every heavy day of the history had measures."""
    obs, met, dec, warn, _ = world()
    d = dec.assign(date=pd.to_datetime(dec["date"]))
    strict = d.loc[d["aqi"] > 100, ["area_id", "date"]].assign(level="orange")
    table = CF.design(obs, met, warnings=strict, decisions=dec)
    window, hold = _window(table, pd.Timestamp("2024-09-01"), pd.Timestamp("2024-10-10"))
    treated = window & (table["share"].to_numpy() > 0)
    out = CF.identifiability(table, treated, hold, POLICY)
    codes = {r["code"]: r["values"] for r in out["reasons"]}
    assert not out["estimable"]
    assert codes["few_comparable_days"]["days"] < POLICY["identifiability"]["comparable_days"]["min_days"]
    assert codes["stagnant_days_treated"]["share"] == "100%"


def test_a_rise_is_an_implausible_sign_not_a_finding():
    rise = {"estimate": 92.1, "interval": [16.2, 139.4], "relative": 0.4}
    assert CF.plausibility(rise, POLICY, ANCHORS) == [
        {"code": "implausible_sign", "values": {"estimate": 92.1, "significant": True}}]
    small = {"estimate": 3.0, "interval": [-5.0, 9.0], "relative": 0.02}
    assert CF.plausibility(small, POLICY)[0]["values"]["significant"] is False
    assert "估算失败" in CF.flag_text(CF.plausibility(rise, POLICY)[0])


@pytest.mark.parametrize("relative, flagged", [(-0.25, False), (-0.06, False), (-0.02, True), (-0.75, True)])
def test_a_reduction_far_outside_the_published_anchors_is_flagged(relative, flagged):
    est = {"estimate": 100 * relative, "interval": [-80.0, -1.0], "relative": relative}
    flags = CF.plausibility(est, POLICY, ANCHORS)
    assert [f["code"] for f in flags] == (["outside_anchors"] if flagged else [])
    assert CF.plausibility({"estimate": None}, POLICY, ANCHORS) == []


def test_anchors_carry_their_citations():
    ids = {a["id"]: a for a in ANCHORS["anchors"]}
    assert ids["dai2026"]["reduction"] == [0.20, 0.40] and "10.1093/pnasnexus/pgag054" in ids["dai2026"]["citation"]
    assert ids["zhang2019"]["reduction"] == [0.276, 0.276]


@pytest.mark.parametrize("text, match", [
    ("identifiability: {}\nplausibility: {max_effect: 0}\n", "festival.min_seasons_seen must be a number"),
    ("plausibility: {max_effect: 0}\n", "lacks identifiability"),
    ("- a\n", "must be a mapping"),
])
def test_bad_effect_policy_names_the_file_and_the_problem(tmp_path, text, match):
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(CF.CounterfactualError, match=match) as err:
        CF.load_effect_policy(path)
    assert str(path) in str(err.value)


def test_bad_anchor_range(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text("flag_below: 0.05\nflag_above: 0.6\nanchors:\n- {id: x, reduction: [0.4, 0.2], zh: a, en: b, "
                    "citation: c}\n")
    with pytest.raises(CF.CounterfactualError, match="anchor 'x': reduction must be"):
        CF.load_effect_anchors(path)


def test_local_calibration_takes_the_errors_of_days_as_polluted():
    """Untreated days' recursion errors: +0.10 (the counterfactual under-predicts) where the decision forecast was
    ≥ 200, 0 below; a warned day decided on 250 gets the +0.10 bias, one on 120 none."""
    lv = np.repeat(np.arange(100.0, 400.0, 2.0), 2)
    err = pd.DataFrame({"step": 1, "decided_aqi": lv, "log_err": np.where(lv >= 200, 0.10, 0.0) +
                        np.tile([-0.02, 0.02], len(lv) // 2),
                        "date": pd.date_range("2023-10-01", periods=len(lv))})
    out, n = CF._local_calibration(err, np.array([250.0, 120.0]), np.array([1, 3]))
    assert out["bias"] == pytest.approx([0.10, 0.0], abs=1e-9) and n >= 40
    assert out["scale"][0] == 1.0 and out["se"][0] == pytest.approx(0.02 / np.sqrt(_n_dates(err, 250.0)), rel=0.2)


def _n_dates(err, d, width=0.15):
    near = err[(err["decided_aqi"] >= d / (1 + width)) & (err["decided_aqi"] <= d * (1 + width))]
    return near["date"].nunique()


def test_calibrated_effect_still_holds_the_truth_on_the_synthetic_world():
    obs, met, dec, warn, truth = world()
    table = CF.design(obs, met, warnings=warn, decisions=dec)
    dates = pd.to_datetime(table["date"])
    treated = table["share"].to_numpy() > 0
    start = dates[treated & (dates >= pd.Timestamp("2024-09-01")).to_numpy()].min()
    window = (dates >= start) & (dates <= start + pd.Timedelta(days=40))
    model = CF.fit(table, set(zip(table.loc[window, "area_id"], table.loc[window, "date"])), rounds=120)
    mask = window.to_numpy() & treated
    eff = CF.effect(model, table, mask, target="pm25", n_boot=300, calibrate="local")
    rows = table[mask]
    t = truth.set_index(["area_id", "date"]).reindex(pd.MultiIndex.from_arrays([rows["area_id"], rows["date"]]))
    true = float((t["actual"] - t["nocut"]).mean())
    assert eff["interval"][0] <= true <= eff["interval"][1] and eff["interval"][1] < 0, (eff["interval"], true)
    assert eff["calibration"]["error_rows"] >= 40


def test_calibration_argument_and_a_bad_method(tmp_path):
    assert CF.calibration_argument(POLICY) == "local"  # the shipped choice (README: measured on nine winters)
    assert CF.calibration_argument({**POLICY, "estimation": {"calibration": "local"}}) == "local"
    comparable = {**POLICY, "estimation": {"calibration": "comparable"}}
    assert CF.calibration_argument(comparable) == POLICY["identifiability"]["comparable_days"]["forecast_fraction"]
    assert CF.calibration_argument({**POLICY, "estimation": {"calibration": "none"}}) is None
    path = tmp_path / "policy.yaml"
    path.write_text(CF.EFFECT_POLICY.read_text(encoding="utf-8").replace("calibration: local", "calibration: magic"),
                    encoding="utf-8")
    with pytest.raises(CF.CounterfactualError, match="estimation.calibration 'magic' is not one of comparable, local"):
        CF.load_effect_policy(path)


def test_local_calibration_of_a_long_run_takes_the_errors_of_its_third_day():
    """Long untreated runs as polluted as a long warned spell are few and drift: step 10 of a warned run is
    corrected by the comparable errors of step 3 (+0.1 here), not by those of step 10 (+0.9)."""
    lv = np.tile(np.arange(100.0, 400.0, 2.0), 2)
    dates = np.tile(pd.date_range("2023-10-01", periods=len(lv) // 2), 2)
    err = pd.DataFrame({"step": np.repeat([3, 10], len(lv) // 2), "decided_aqi": lv, "date": dates,
                        "log_err": np.repeat([0.1, 0.9], len(lv) // 2)})
    out, _ = CF._local_calibration(err, np.array([250.0, 250.0]), np.array([10, 3]))
    assert out["bias"] == pytest.approx([0.1, 0.1])
    assert out["mean_all"] == pytest.approx([0.9, 0.1])  # the replayed errors are centred on their own step



def test_dust_days_do_not_count_in_the_calibration():
    """Untreated dust days with a high decision forecast are under-predicted many times more than stagnation
    days (+1.0 here against +0.1): left in, they would triple the correction of a warned day decided on 300;
    their errors are dropped, the others kept."""
    lv = np.repeat(np.arange(100.0, 400.0, 2.0), 2)
    dates = pd.date_range("2023-10-01", periods=len(lv))
    dust = (lv >= 250) & (np.arange(len(lv)) % 2 == 0)
    err = pd.DataFrame({"area_id": "a1", "date": dates, "step": 1, "decided_aqi": lv,
                        "log_err": np.where(dust, 1.0, np.where(lv >= 200, 0.1, 0.0))})
    table = pd.DataFrame({"area_id": "a1", "date": dates, "dust": dust})
    kept = CF._calibration_errors(err, table)
    assert len(kept) == len(err) - dust.sum() and (kept["log_err"] < 1).all()
    out, _ = CF._local_calibration(kept, np.array([300.0]), np.array([1]))
    assert out["bias"][0] == pytest.approx(0.1)
    with_dust, _ = CF._local_calibration(err, np.array([300.0]), np.array([1]))
    assert with_dust["bias"][0] > 0.4
    assert CF._calibration_errors(err, table.drop(columns="dust")) is err  # no dust flag: nothing to drop
