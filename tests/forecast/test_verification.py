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
