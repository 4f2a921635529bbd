"""The emission-cut estimator against the simulator's truth, on the three-winter demo world.

Every episode of winter 2024/25 (observed AQI > 200 runs, :func:`response.episodes.detect_episodes`) is evaluated
as an officer would (``evaluate_episode``: the counterfactual is trained on every day outside the episode window),
with the warnings the simulated authorities issued and the forecasts they decided on; the estimate and its 90 %
interval are compared with the true effect on the same area-days (``truth/``). Quiet windows without any measure
give placebo estimates, which should contain 0. Prints the table, the coverage, and the time per episode.

Uses ``demo/`` (or ``$LANTIAN_DEMO``) when it exists, else simulates the default demo world first.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from forecast import forecasting
from simulate import truth as T
from response import episodes as EP
from response import evaluation as E

from ._util import header

WINTER = ("2024-10-01", "2025-03-31")
PLACEBO_DAYS = 4


def run():
    header("emission-cut effect vs the simulator's truth, winter 2024/25 (demo world)")
    data = Path(os.environ.get("LANTIAN_DEMO", "demo"))
    tmp = None
    if not (data / "README.md").exists():
        from simulate import simulate

        tmp = Path(tempfile.mkdtemp(prefix="lantian-bench-cf-"))
        data = tmp / "demo"
        simulate(data, seed=7, progress=False)
    try:
        inputs = forecasting.load_inputs(data)
        truth = T.read_area_daily(data)
        wfile = data / "truth" / "warnings.csv"
        warnings = pd.read_csv(wfile, parse_dates=["date"])
        eps = EP.detect_episodes(inputs.obs.daily)
        eps = eps[(eps["start"] >= WINTER[0]) & (eps["start"] <= WINTER[1])]
        print(f"{'episode':<24}{'area-days':>10}  {'estimate [90 % interval]':<28}{'truth':>8}  inside  time")
        inside = []
        for ep in eps.itertuples():
            t = time.perf_counter()
            rep = E.evaluate_episode(data, ep.start, ep.end, warnings=wfile, inputs=inputs)
            eff = rep["effect"].get("pm25")
            label = f"{ep.start.date()}…{ep.end.date()}"
            if not eff or eff.get("estimate") is None:
                why = rep["effect"].get("note") or (f"dust days excluded ({eff['dust_days_excluded']})" if eff else "")
                print(f"{label:<24}{0:>10}  {why}")
                continue
            true = T.true_effect(truth, eff["rows"])
            lo, hi = eff["interval"]
            inside.append(lo <= true <= hi)
            print(f"{label:<24}{eff['n_days']:>10}  {eff['estimate']:7.1f} [{lo:7.1f}, {hi:7.1f}]{'':<9}{true:8.1f}  "
                  f"{'yes' if inside[-1] else 'NO ':<6}  {time.perf_counter() - t:4.0f} s")
        print(f"coverage of the 90 % intervals: {sum(inside)} of {len(inside)} episodes")
        zero = []
        # quiet windows: region-wide if there are any, else per area (the areas with the fewest warnings first)
        windows = [(None, a, b) for a, b in EP.quiet_windows(warnings, *WINTER, days=PLACEBO_DAYS)]
        for area in warnings["area_id"].value_counts(ascending=True).index:
            if len(windows) >= 4:
                break
            # spread over the winter: each area's search starts three weeks after the previous one's
            start = pd.Timestamp(WINTER[0]) + pd.Timedelta(days=31 + 21 * len(windows))
            windows += [([area], a, b) for a, b in EP.quiet_windows(warnings, start, WINTER[1], days=PLACEBO_DAYS,
                                                                   n=1, areas=[area])]
        for areas, a, b in windows[:4]:
            rep = E.evaluate_episode(data, a, b, areas=areas, warnings=wfile, inputs=inputs)
            p = rep["effect"].get("placebo_pm25") or {}
            if p.get("estimate") is None:
                continue
            lo, hi = p["interval"]
            zero.append(lo <= 0 <= hi)
            print(f"placebo {a.date()}…{b.date()} {'all areas' if areas is None else areas[0]}: {p['estimate']:6.1f} "
                  f"[{lo:6.1f}, {hi:6.1f}] µg/m³ over {p['n_days']} area-days (truth "
                  f"{T.true_effect(truth, p['rows']):.1f}); 0 inside: {'yes' if zero[-1] else 'NO'}")
        print(f"placebo windows with 0 inside the interval: {sum(zero)} of {len(zero)}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run()
