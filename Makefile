# Set-up and everyday commands. `make demo` and `make test` each install what they need on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := chromium libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libxrender1

.PHONY: help setup demo test lint typecheck pytest viewer-test bench clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.stamp: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

.stamp-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
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

viewer-test: viewer/node_modules/.stamp ## Viewer unit tests (vitest)
	npm test --prefix viewer

test: setup lint typecheck viewer-test pytest ## Everything CI runs

bench: setup ## Benchmarks (see bench/README.md)
	$(BIN)/python -m bench.build

clean: ## Remove build output and installs
	rm -rf $(VENV) viewer/node_modules viewer/dist tests/validators/node_modules out .stamp-apt
