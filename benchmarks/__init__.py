"""lantian benchmarks (``make bench``): full-size runs, each printed as a ratio against a baseline in the same run."""
