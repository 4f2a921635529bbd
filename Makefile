# lantian: two commands set everything up on a fresh machine with python3, pip and make.
#   make run   serve the app at once and prepare the demo (world, model, verification, archived forecasts, demo
#              warning history) in the background, progress shown in the app
#   make test  run the test suite
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
DEMO    ?= demo
SEED    ?= 7
PORT    ?= 8501

.PHONY: run test bench install demo model prepare ship-model clean-demo

# (Re)install when the venv is missing or pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Both cores; an idle worker takes tests from the other's queue (worksteal: 9 min 09 s vs 14 min 25 s with one
# test file per worker on this suite); session fixtures such as the small worlds are built once per worker.
# JOBS=1 runs it in one process.
JOBS    ?= 2
test: $(STAMP)
	$(PY) -m pytest -q $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist worksteal)

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

# The demo's complete story, each step done once and cached on disk (lantian/demo.py): the world, the model (the
# one shipped in models/demo-seed7 when it was trained on exactly this world, else trained), its verification on
# the held-out winter, that winter's archived forecasts and the demo warning history in the audit store.
prepare: $(STAMP)
	$(PY) -m lantian demo prepare --data $(DEMO) --model $(MODEL)

# After retraining the demo model on the demo world: ship it (models/demo-seed7, with the world's fingerprint).
ship-model: $(MODEL_OK)
	$(PY) -m lantian demo ship --data $(DEMO) --model $(MODEL)

# Serve the app at once; the demo is prepared in the background (log: $(DEMO)/.lantian/prepare.log, progress in
# the app's sidebar; pages wait for the parts they need). A preparation already running is left alone.
run: $(STAMP)
	@echo "lantian app: http://localhost:$(PORT)  (demo data: $(DEMO), model: $(MODEL); preparing in the background, log $(DEMO)/.lantian/prepare.log)"
	@mkdir -p $(DEMO)/.lantian
	@$(PY) -m lantian demo prepare --data $(DEMO) --model $(MODEL) > $(DEMO)/.lantian/prepare.log 2>&1 &
	LANTIAN_DATA=$(DEMO) LANTIAN_MODEL=$(MODEL) $(PY) app.py --server.port $(PORT) --server.headless true
