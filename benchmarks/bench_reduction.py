"""Emission-reduction lists at scale: 10,000 enterprises × 12 leagues/cities × 3 levels.

Baseline, measured in the same run: one plain pandas merge of the registry with the measures table (the lookup
every list engine must do), for the same 3 levels.
"""
from __future__ import annotations

import time

import pandas as pd

from simulate.registry import make_registry
from response import reduction as R

from ._util import header, max_rss_mib


def run():
    header("emission-reduction lists: 10,000 enterprises x 12 leagues/cities x 3 levels")
    registry, inventory = make_registry(7, scale=21.0)
    registry, bad = R.validate_registry(registry)
    inv = inventory.set_index(["area_id", "sector"]).sort_index()
    cities = sorted(registry["area_id"].unique())
    print(f"{len(registry)} enterprises ({len(bad)} bad rows), {len(cities)} leagues/cities")
    table = R.measures_table()
    t = time.perf_counter()
    for level in R.LEVELS:
        registry.assign(level=level).merge(table, on=["industry", "grade", "level"], how="left")
    base = time.perf_counter() - t
    t = time.perf_counter()
    n_act = 0
    for level in R.LEVELS:
        levels = {c: level for c in cities}
        act = R.activate(registry, levels)
        R.share_check(act, registry, inv, levels, rules="MEE-2024")
        n_act += len(act)
    dt = time.perf_counter() - t
    print(f"{'baseline: plain merge with the measures table':<52} {base:7.3f} s")
    print(f"{'lantian: activate + share check (3 levels)':<52} {dt:7.3f} s  ({n_act} list rows; "
          f"{dt / base:.1f}x the bare merge; target well under 1 s)")
    print(f"peak RSS {max_rss_mib():.0f} MiB")


if __name__ == "__main__":
    run()
