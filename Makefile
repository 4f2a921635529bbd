# lantian: two commands set everything up on a fresh machine with python3, pip and make.
#   make run   prepare the embedded demo data (and model) if missing, then serve the app
#   make test  run the test suite
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
DEMO    ?= demo
SEED    ?= 7

.PHONY: run test bench install demo model clean-demo

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

# The demo world (three winters, ~1 GB) is simulated once; later runs reuse it.
$(DEMO)/README.md: | $(STAMP)
	$(PY) -m lantian simulate --out $(DEMO) --seed $(SEED)

demo: $(DEMO)/README.md

MODEL   ?= models/demo
# the model file format (forecast/model.py): a demo model of an older format is retrained, not served
MODEL_FORMAT := $(shell sed -n 's/^MODEL_FORMAT = //p' forecast/model.py)
MODEL_OK := $(MODEL)/.format-$(MODEL_FORMAT)

# The demo model: station history + meteorology are extracted once (cached in $(DEMO)/.lantian), then trained
# on the first two winters (the third is left for verification).
$(MODEL_OK): | $(DEMO)/README.md
	$(PY) -m lantian train --data $(DEMO) --model $(MODEL) --until 2024-05-31
	@touch $@

model: $(MODEL_OK)

# Prepare the demo world and model if missing, then serve the app on localhost.
run: $(STAMP) $(DEMO)/README.md $(MODEL_OK)
	@echo "lantian app: http://localhost:8501  (demo data: $(DEMO), model: $(MODEL))"
	LANTIAN_DATA=$(DEMO) LANTIAN_MODEL=$(MODEL) $(PY) -m streamlit run app.py --server.port 8501
