# lantian: two commands set everything up on a fresh machine with python3, pip and make.
#   make run   prepare the embedded demo data (and model) if missing, then serve the app
#   make test  run the test suite
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
DEMO    ?= demo
SEED    ?= 7

.PHONY: run test bench install demo clean-demo

# (Re)install when the venv is missing or pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks

# The demo world (two winters, ~1.5 GB) is simulated once; later runs reuse it.
$(DEMO)/README.md: | $(STAMP)
	$(PY) -m response.cli simulate --out $(DEMO) --seed $(SEED)

demo: $(DEMO)/README.md

# Until the app exists, `make run` shows the demo world's station history and area daily AQI.
run: $(STAMP) $(DEMO)/README.md
	$(PY) -m response.cli stations --data $(DEMO)
	$(PY) -m response.cli daily --data $(DEMO) --quiet --out $(DEMO)/area_daily_aqi.csv
	@echo "demo data: $(DEMO)/  (layout in README.md; area daily AQI in $(DEMO)/area_daily_aqi.csv)"
