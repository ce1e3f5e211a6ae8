# Set-up and everyday commands. `make demo` and `make test` each install what they need on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := chromium libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libxrender1 redis-server postgresql osmium-tool
# What the benchmarks need besides the test set-up: the load generator and the static server to compare with.
BENCH_APT := wrk nginx-light

.PHONY: help setup demo test test-postgres lint typecheck pytest viewer-test fuzz bench bench-quick bench-scale bench-setup clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.stamp: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench,scale]'
	touch $@

# Installs the Debian packages named in $(1) that are missing (apt-get update only when something is).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

.stamp-apt: Makefile
	$(call apt_install,$(APT_PACKAGES))
	touch $@

.stamp-apt-bench:
	$(call apt_install,$(BENCH_APT))
	touch $@

viewer/node_modules/.stamp: viewer/package.json viewer/package-lock.json
	npm ci --prefix viewer --no-audit --no-fund
	touch $@

viewer/dist/index.html: viewer/node_modules/.stamp $(shell find viewer/src viewer/index.html viewer/vite.config.js -type f 2>/dev/null)
	npm run build --prefix viewer

tests/validators/node_modules/.stamp: tests/validators/package.json tests/validators/package-lock.json
	npm ci --prefix tests/validators --no-audit --no-fund
	touch $@

setup: $(VENV)/.stamp .stamp-apt viewer/dist/index.html tests/validators/node_modules/.stamp ## Install everything (Python, npm, Debian packages)

demo: setup ## Build the demo scene (Hamburg-Eimsbüttel and its variants) and serve it at http://127.0.0.1:8000
	$(BIN)/twin demo

lint: $(VENV)/.stamp ## ruff (lint + format check)
	$(BIN)/ruff check twin server tests bench
	$(BIN)/ruff format --check twin server tests bench

typecheck: $(VENV)/.stamp ## mypy on twin/ and server/
	$(BIN)/mypy

pytest: setup ## The Python test suite (includes browser tests in headless Chromium)
	$(BIN)/pytest -q

test-postgres: setup ## The server tests on PostgreSQL in full (CI runs the database-heavy slice of them)
	TWIN_TEST_POSTGRES=all $(BIN)/pytest -q tests/server -k postgres

viewer-test: viewer/node_modules/.stamp ## Viewer unit tests (vitest)
	npm test --prefix viewer

test: setup bench-setup lint typecheck viewer-test pytest ## Everything CI runs

# Hostile-input fuzzing (issue 14) at length: every reader and the API's bodies, FUZZ_EXAMPLES random
# examples per reader and mutation kind (pytest runs the same tests CI-sized). Inputs of findings are kept
# in $(FUZZ_FINDINGS), ready to become regression tests under tests/fixtures/fuzz/.
FUZZ_EXAMPLES ?= 1500
FUZZ_FINDINGS ?= /tmp/twin-fuzz-findings
fuzz: $(VENV)/.stamp ## Fuzz every reader and endpoint at length (tens of minutes; FUZZ_EXAMPLES=...)
	TWIN_FUZZ_PROFILE=long TWIN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TWIN_FUZZ_FINDINGS=$(abspath $(FUZZ_FINDINGS)) \
	  $(BIN)/pytest -q -o timeout=0 -p no:cacheprovider tests/fuzz

bench-setup: setup .stamp-apt-bench ## Install what every benchmark needs (Python bench extra, wrk, nginx)

# The full run: every benchmark at the sizes bench/README.md reports; results in bench/results/.
# viewer_budget exits 1 when a view is over budget: that is a finding, so the run goes on (the leading -).
bench: bench-setup ## All benchmarks at full size (about 15 minutes): builder incl. 1M, py3dtiles, serving, viewer budget
	$(BIN)/python -m bench.build --sizes 100000,1000000
	-$(BIN)/python bench/viewer_budget.py --out bench/results/viewer_budget.json
	RESULTS=bench/results/serve.txt ACCEL=1 bench/serve/run.sh bench/work/demo-out 2 10s
	$(BIN)/python -m bench.visits --clients 50 --seconds 60 --out bench/results/visits.json
	$(BIN)/python -m bench.sensors --stations 800 --days 365 --work bench/work --out bench/results/sensors.json
	$(BIN)/python -m bench.scale --size 1000000

# Distributed build (issue 13): the 1M generated set by the process pool and by 1, 2 and 4 Dask workers.
bench-scale: bench-setup ## Distributed-build scaling, 1M buildings, pool and 1/2/4 Dask workers (about 15 minutes)
	$(BIN)/python -m bench.scale --size 1000000

# The day-to-day sizes, under 5 minutes; results in bench/results/quick/ (the full run's files stay).
# BENCH_QUICK_SIZES etc. shrink it further (CI's smoke test runs it with tiny sizes to prove the set-up path).
BENCH_QUICK_SIZES ?= 10000
BENCH_QUICK_PEER ?= 2000
BENCH_QUICK_SERVE ?= 3s
BENCH_QUICK_OUT ?= bench/results/quick
bench-quick: bench-setup ## Benchmarks at day-to-day sizes (under 5 minutes)
	mkdir -p $(BENCH_QUICK_OUT)
	$(BIN)/python -m bench.build --sizes $(BENCH_QUICK_SIZES) --peer $(BENCH_QUICK_PEER) --wide 0 --results $(BENCH_QUICK_OUT)/build.json
	RESULTS=$(BENCH_QUICK_OUT)/serve.txt LONG=$(BENCH_QUICK_SERVE) bench/serve/run.sh bench/work/demo-out 2 $(BENCH_QUICK_SERVE)
	$(BIN)/python -m bench.visits --clients 20 --seconds $(BENCH_QUICK_SERVE) --out $(BENCH_QUICK_OUT)/visits.json
	$(BIN)/python -m bench.sensors --stations 50 --days 90 --queries 50 --out $(BENCH_QUICK_OUT)/sensors.json

clean: ## Remove build output and installs
	rm -rf $(VENV) viewer/node_modules viewer/dist tests/validators/node_modules out .stamp-apt .stamp-apt-bench
