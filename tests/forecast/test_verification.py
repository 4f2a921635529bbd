"""Verification metrics, cross-checked against scikit-learn and direct formulas."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, confusion_matrix, mean_absolute_error, mean_squared_error

from forecast import verification as V

RNG = np.random.default_rng(5)


def test_contingency_matches_confusion_matrix():
    o = RNG.random(500) < 0.2
    f = RNG.random(500) < 0.25
    c = V.contingency(o, f)
    tn, fp, fn, tp = confusion_matrix(o, f).ravel()
    assert (c["hits"], c["false_alarms"], c["misses"], c["correct_negatives"]) == (tp, fp, fn, tn)
    assert c["ts"] == pytest.approx(tp / (tp + fp + fn))
    assert c["pod"] == pytest.approx(tp / (tp + fn)) and c["far"] == pytest.approx(fp / (tp + fp))
    assert c["frequency_bias"] == pytest.approx((tp + fp) / (tp + fn))


def test_contingency_skips_missing_and_handles_no_events():
    c = V.contingency([1, np.nan, 0, 0], [1, 1, np.nan, 0])
    assert (c["hits"], c["false_alarms"], c["misses"], c["correct_negatives"]) == (1, 0, 0, 1)
    none = V.contingency([0, 0], [0, 0])
    assert np.isnan(none["ts"]) and np.isnan(none["pod"])


def test_brier_and_skill():
    o = (RNG.random(400) < 0.1).astype(float)
    p = np.clip(o * 0.6 + RNG.random(400) * 0.3, 0, 1)
    assert V.brier_score(p, o) == pytest.approx(brier_score_loss(o, p))
    ref = np.full(400, o.mean())
    assert V.brier_skill_score(p, o, ref) == pytest.approx(1 - brier_score_loss(o, p) / brier_score_loss(o, ref))
    assert V.brier_skill_score(ref, o, ref) == pytest.approx(0.0)


def test_continuous_matches_sklearn():
    f, o = RNG.normal(100, 20, 300), RNG.normal(105, 25, 300)
    c = V.continuous(f, o)
    assert c["mae"] == pytest.approx(mean_absolute_error(o, f))
    assert c["rmse"] == pytest.approx(np.sqrt(mean_squared_error(o, f)))
    assert c["bias"] == pytest.approx(np.mean(f - o))


def test_crps_ensemble_matches_double_sum():
    x = RNG.normal(0, 1, (5, 30))
    y = RNG.normal(0, 1, 5)
    direct = [np.abs(x[i] - y[i]).mean() - 0.5 * np.abs(x[i][:, None] - x[i][None, :]).mean() for i in range(5)]
    np.testing.assert_allclose(V.crps_ensemble(x, y), direct)
    # a single member: CRPS = absolute error
    assert V.crps_ensemble(np.array([[3.0]]), np.array([5.0]))[0] == pytest.approx(2.0)


def test_category_accuracy():
    assert V.category_accuracy([40, 120, 260], [45, 160, 280]) == pytest.approx(2 / 3)  # 120 vs 160: 3 vs 4


def test_score_table_contract():
    n = 60
    cases = pd.DataFrame({"model": np.repeat(["lantian", "persistence", "climatology"], n), "lead": 1,
                          "obs_aqi": np.tile(np.linspace(50, 320, n), 3), "obs_pm25": 50.0,
                          "aqi": np.tile(np.linspace(60, 300, n), 3), "pm25": 55.0, "crps_aqi": 10.0})
    for th in V.THRESHOLDS:
        cases[f"p_gt{th}"] = (cases["aqi"] > th).astype(float)
        cases[f"event_gt{th}"] = (cases["aqi"] > th).astype(float)
        cases[f"clim_p{th}"] = 0.1
    res = V.score_table(cases)
    assert len(res["scores"]) == 9 and len(res["continuous"]) == 6
    rec = next(r for r in res["scores"] if r["model"] == "lantian" and r["threshold"] == 200)
    o, f = cases["obs_aqi"][:n] > 200, cases["aqi"][:n] > 200
    assert rec["hits"] == int((o & f).sum()) and rec["false_alarms"] == int((~o & f).sum())
    assert "table" not in res and "AQI > 200" in V.table_text(res)


def contract(lantian_mae, pers_mae, lantian_bias, pers_bias, bss=0.2, hits=3, misses=2, leads=(1, 2)):
    cont, scores = [], []
    for lead in leads:
        for model, mae, bias in (("lantian", lantian_mae, lantian_bias), ("persistence", pers_mae, pers_bias),
                                 ("climatology", 40.0, 5.0)):
            cont.append({"model": model, "lead_day": lead, "variable": "aqi", "mae": mae, "bias": bias})
        for th in V.THRESHOLDS:
            scores.append({"model": "lantian", "lead_day": lead, "threshold": th, "hits": hits, "misses": misses,
                           "false_alarms": 1, "correct_negatives": 50, "ts": 0.5 if hits else None,
                           "pod": 0.6 if hits + misses else None, "far": 0.2, "frequency_bias": 1.0,
                           "brier_skill_score": bss})
    return {"continuous": cont, "scores": scores}


def test_quality_warnings_far_worse_than_persistence():
    # the seasonal-history failure: the model never forecasts a heavy day
    got = V.quality_warnings(contract(75.6, 50.2, -72.0, -3.0), unseen_months=[11, 12, 1, 2],
                             trained_months=[3, 4, 5, 6, 7, 8, 9, 10])
    assert any("MAE is more than 1.2 × persistence's at lead day(s) 1, 2 (day 1: 75.6 vs 50.2)" in w for w in got)
    assert any("under-forecasts" in w and "bias -72.0" in w for w in got)
    assert any("never saw: Nov–Feb (trained on Mar–Oct)" in w for w in got)


@pytest.mark.parametrize("mae, bias, want", [(60.0, -10.0, 0), (61.0, -10.0, 1), (40.0, -26.0, 1), (40.0, 24.0, 0)])
def test_quality_warnings_thresholds(mae, bias, want):
    # persistence MAE 50: MAE above 60 warns; |bias| above 25 (and above persistence's 5) warns
    got = V.quality_warnings(contract(mae, 50.0, bias, 5.0))
    assert len(got) == want


def test_quality_warnings_name_undefined_scores():
    got = V.quality_warnings(contract(30.0, 50.0, 1.0, 1.0, bss=None, hits=0, misses=0))
    assert len(got) == 3 and all("undefined" in w for w in got)
    assert "AQI > 200: lantian's TS (lead day(s) 1, 2), POD (lead day(s) 1, 2), Brier skill score" in got[1]
    assert "no day above 200 observed" in got[1] and "Brier score is 0 or undefined" in got[1]
    assert V.quality_warnings(contract(30.0, 50.0, 1.0, 1.0)) == []


def test_quality_warnings_event_never_forecast():
    res = contract(30.0, 50.0, 1.0, 1.0)
    for r in res["scores"]:
        if r["threshold"] == 200:
            r.update(hits=0, false_alarms=0, misses=7, ts=0.0, pod=0.0, far=None)
    got = V.quality_warnings(res, unseen_months=[12])
    assert got[0] == ("lantian never forecast AQI > 200 at lead day(s) 1, 2 (day 1: 7 such day(s) observed) "
                      "(never trained on Dec): it cannot warn of them")
    assert "FAR (lead day(s) 1, 2) undefined — none forecast" in got[2]


@pytest.mark.parametrize("months, want", [([11, 12, 1, 2], "Nov–Feb"), ([3, 4, 5, 9], "Mar–May, Sep"),
                                          ([12, 1], "Dec, Jan"), ([1], "Jan"), ([1, 3, 5], "Jan, Mar, May")])
def test_month_names(months, want):
    assert V.month_names(months) == want


def _cases():
    """Day 1, four areas × two days: forecast heavy / observed — hit, false alarm (measures in force), false alarm
    (none), miss, and correct negatives; day 2 one false alarm under measures."""
    rows = [  # area, target day, lead, forecast yes, observed AQI
        ("a", "2024-01-02", 1, 1, 230), ("b", "2024-01-02", 1, 1, 180), ("c", "2024-01-02", 1, 1, 150),
        ("d", "2024-01-02", 1, 0, 260), ("a", "2024-01-03", 1, 0, 90), ("b", "2024-01-03", 1, 0, 120),
        ("b", "2024-01-03", 2, 1, 120), ("c", "2024-01-03", 1, 0, float("nan")),
    ]
    c = pd.DataFrame(rows, columns=["area_id", "target_date", "lead", "event_gt200", "obs_aqi"])
    c["target_date"] = pd.to_datetime(c["target_date"])
    lt = c.assign(model="lantian")
    return pd.concat([lt, lt.assign(model="persistence", event_gt200=1)], ignore_index=True)


def test_false_alarms_under_measures_are_counted_apart():
    in_force = pd.DataFrame({"area_id": ["b", "b", "a", "c", "d"], "date": pd.to_datetime(
        ["2024-01-02", "2024-01-03", "2024-01-02", "2024-01-02", "2024-01-02"]),
        "level": ["orange", "yellow", "red", "none", None]})  # a missing level is not a warning in force
    rows = {r["lead_day"]: r for r in V.under_measures(_cases(), in_force)}
    one = rows[1]
    # day 1: false alarms b (orange in force) and c (its row says none: not in force) → 2, 1 of them under measures
    assert one["false_alarms"] == 2 and one["false_alarms_under_measures"] == 1
    # days under measures: a and b on 2 Jan, b on 3 Jan (c's missing observation is not a case)
    assert one["days_under_measures"] == 3 and one["cases"] == 6
    # without measures: c (false alarm), d (miss), a on 3 Jan → no hit: TS 0, POD 0, FAR 1
    assert one["ts_without_measures"] == 0 and one["pod_without_measures"] == 0 and one["far_without_measures"] == 1
    assert rows[2]["false_alarms"] == 1 and rows[2]["false_alarms_under_measures"] == 1
    assert rows[2]["ts_without_measures"] is None  # no case left: undefined, written as null
    # a case without a yes/no forecast is left out, as score_table leaves it out
    cases = _cases()
    cases.loc[(cases["model"] == "lantian") & (cases["area_id"] == "c") & (cases["lead"] == 1), "event_gt200"] = np.nan
    assert {r["lead_day"]: r for r in V.under_measures(cases, in_force)}[1]["false_alarms"] == 1
    text = V.under_measures_text(V.under_measures(_cases(), in_force))
    assert "false alarms on days with a warning in force" in text and len(text.splitlines()) == 4
    assert "  1  " in text.splitlines()[2] and "50%" in text.splitlines()[2]  # day 1: 1 of 2 false alarms


def test_under_measures_without_warnings_and_bad_input():
    rows = V.under_measures(_cases(), pd.DataFrame(columns=["area_id", "date"]))
    assert rows[0]["false_alarms_under_measures"] == 0 and rows[0]["false_alarms"] == 2
    # with nothing in force the days-without scores are the whole table's (1 hit, 2 false alarms, 1 miss)
    assert rows[0]["ts_without_measures"] == 0.25
    with pytest.raises(ValueError, match=r"threshold 250 is not one of \[150, 200, 300\]"):
        V.under_measures(_cases(), pd.DataFrame(columns=["area_id", "date"]), threshold=250)
    with pytest.raises(ValueError, match="need columns area_id, date"):
        V.under_measures(_cases(), pd.DataFrame({"area": ["a"]}))
