# Aneby öppna data - the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
# this machine's pip config lists local indexes that may not exist: hide only those warnings
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect's embedded default: a temporary local server, home inside the project, no telemetry.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test test-quick bench bench-flow serve lint lock clean setup browser

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --no-deps -e . $(QUIET_PIP)
	$(BIN)/python -m pip check
	touch $(STAMP)

## Run the publish flow once on the shipped raw/ and write published/.
run: $(STAMP)
	$(BIN)/opendata run --raw raw --out published

## Serve the publish deployment on a local Prefect server, nightly (Europe/Stockholm).
serve: $(STAMP)
	$(BIN)/opendata serve --raw raw --out published

## Run the whole test suite (installs Chromium for the portal tests where it can), on
## TEST_WORKERS processes (pytest-xdist), one test file per worker: module fixtures stay shared.
TEST_WORKERS ?= 2
test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## The quick loop while developing (under a minute): the tests that are not e2e, browser or slow.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not browser and not slow"

## Debian's chromium and chromium-driver for the portal tests in a real browser.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null) || echo "Chromium could not be installed: browser tests will skip"; \
	else echo "Chromium is not installed and cannot be installed here: browser tests will skip"; fi

## Benchmarks (not part of test; see benchmarks/README.md). bench: the validator side by side
## (frictionless, ours, a bare pyarrow read), then the whole publish flow; bench-flow: the flow only.
## The flow at 10M rows may take minutes per run: fewer rounds with BENCH_FLOW="--repeat 1".
BENCH_FLOW ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --sizes 1000000 10000000 --repeat 5
	$(MAKE) --no-print-directory bench-flow

bench-flow: $(STAMP)
	$(BIN)/python benchmarks/flow.py --sizes 1000000 10000000 --repeat 3 \
	  --json benchmarks/data/flow.json $(BENCH_FLOW)

lint: $(STAMP)
	$(BIN)/ruff check flows tests

## Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(PYTHON) -m pip install --quiet uv && $(PYTHON) -m uv pip compile pyproject.toml --extra dev \
	  --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .prefect published/releases published/latest reports state benchmarks/data
