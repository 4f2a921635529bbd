"""Run the benchmarks: ``python -m benchmarks [name ...]``."""
import importlib
import sys

BENCHES = ["bench_stations", "bench_aqi_cache", "bench_pages", "bench_grib", "bench_ingest", "bench_model", "bench_skill",
           "bench_reduction", "bench_counterfactual"]


def main(argv):
    names = argv or BENCHES
    for name in names:
        importlib.import_module(f"benchmarks.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
