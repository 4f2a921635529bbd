"""The forecaster on the three-winter demo world: train on winters 1–2, forecast, verify on winter 3.

Uses ``demo/`` (or ``$LANTIAN_DEMO``) when it exists, else simulates the default demo world into a temporary
directory first. Prints training and forecast times, peak memory, the verification table and the skill targets of
the forecaster issue (day-1 TS for AQI > 200 ≥ 1.3 × persistence and ≥ 0.45; BSS > 0 at lead days 1–3), each as
met or not met.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from forecast import forecasting

from ._util import header, max_rss_mib

TRAIN_UNTIL = "2024-05-31"
VERIFY = ("2024-10-15", "2025-03-20")


def run():
    header("forecaster: train on winters 2022/23 + 2023/24, verify on winter 2024/25 (demo world)")
    data = Path(os.environ.get("LANTIAN_DEMO", "demo"))
    tmp = None
    if not (data / "README.md").exists():
        from simulate import simulate

        tmp = Path(tempfile.mkdtemp(prefix="lantian-bench-model-"))
        data = tmp / "demo"
        t = time.perf_counter()
        simulate(data, seed=7, progress=False)
        print(f"simulated the demo world in {time.perf_counter() - t:.0f} s")
    try:
        t = time.perf_counter()
        inputs = forecasting.load_inputs(data)
        print(f"inputs (station history + meteorology, cached after the first run): {time.perf_counter() - t:.1f} s")
        model_dir = Path(tempfile.mkdtemp(prefix="lantian-model-"))
        t = time.perf_counter()
        model = forecasting.train(data, model_dir, until=TRAIN_UNTIL, inputs=inputs)
        print(f"training: {time.perf_counter() - t:.1f} s for {model.card['rows']} rows × {len(model.features)} "
              f"features, {len(model.boosters)} boosters")
        t = time.perf_counter()
        table = forecasting.run_forecast(data, model_dir, "2024-12-15", inputs=inputs)
        print(f"one forecast (21 areas × 7 lead days, level probabilities, drivers): {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        res = forecasting.run_verify(data, model_dir, *VERIFY, inputs=inputs)
        print(f"verification hindcast {VERIFY[0]} … {VERIFY[1]} ({res['cases']} cases): {time.perf_counter() - t:.1f} s")
        print(res["table"])
        s = pd.DataFrame(res["scores"])
        s = s[s["threshold"] == 200].set_index(["model", "lead_day"])
        ts1, pts1 = s.loc[("lantian", 1), "ts"], s.loc[("persistence", 1), "ts"]
        checks = [(f"day-1 TS(AQI>200) {ts1:.2f} >= 1.3 x persistence {pts1:.2f}", ts1 >= 1.3 * pts1),
                  (f"day-1 TS(AQI>200) {ts1:.2f} >= 0.45", ts1 >= 0.45)]
        for lead in (1, 2, 3):
            bss = s.loc[("lantian", lead), "brier_skill_score"]
            checks.append((f"BSS(AQI>200) lead {lead} = {bss:.2f} > 0", bss > 0))
        for text, ok in checks:
            print(f"  {'met    ' if ok else 'NOT MET'}  {text}")
        print(f"peak RSS {max_rss_mib():.0f} MiB; forecast rows {len(table)}")
        shutil.rmtree(model_dir, ignore_errors=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
