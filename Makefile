# shareplatform: set-up, run and test on a fresh Debian 12 machine.
#   make run    - install what is needed, migrate, seed demo data, serve on 127.0.0.1:5000
#   make test   - install what is needed (incl. PostgreSQL + Chromium from Debian), run pytest
# Everything is stamped, so a second `make run`/`make test` skips the installs.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=

GOVUK_SRC := node_modules/govuk-frontend/dist/govuk
GOVUK_DST := shareplatform/static/govuk

# Quieter, prompt-free installs (CI has no stdin).
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1
export npm_config_fund := false
export npm_config_audit := false
export npm_config_update_notifier := false

.PHONY: help venv lock audit container assets system-deps run test lint bench bench-quick clean distclean

help:
	@echo "make run          set up and serve the app on http://127.0.0.1:5000"
	@echo "make test         set up (incl. Debian packages), lint, and run the tests; PYTEST_ARGS=..."
	@echo "make lint         ruff check, ruff format --check, mypy"
	@echo "make audit        known vulnerabilities in the locked dependencies (pip-audit, npm audit)"
	@echo "make lock         re-resolve requirements*.lock (hashed) from pyproject.toml"
	@echo "make container    build the image (deploy/Containerfile) and run it read-only (podman)"
	@echo "make bench        benchmarks (bench-quick: a short run)"
	@echo "make venv | assets | system-deps | clean | distclean"

# ---- Python ------------------------------------------------------------------------------------
venv: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every Python dependency (tools included) comes from requirements.lock, each file checked
# against its recorded hashes; then the project itself, with nothing more resolved.
# Re-install only when the lock or pyproject.toml changed since the last install.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Re-resolve the locks from pyproject.toml, with hashes for every published file of each pin:
# requirements.lock (everything, tools and build dependencies included) for the virtualenv, and
# requirements-runtime.lock (what the app imports) for the container image (deploy/Containerfile).
LOCK_FLAGS := --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links
lock: venv
	$(BIN)/pip-compile $(LOCK_FLAGS) --all-build-deps --extra dev --allow-unsafe \
	    -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements-runtime.lock pyproject.toml

# The application image, built and run read-only with podman (scripts/container.sh).
container: assets
	scripts/container.sh check

# Known vulnerabilities in the locked Python and npm dependencies (scripts/audit-allowlist.txt).
audit: venv
	$(BIN)/python scripts/audit_deps.py

# ---- Front-end assets --------------------------------------------------------------------------
assets: $(GOVUK_DST)/.copied

# npm ci when there is a lock file (exact, reproducible); npm install creates one otherwise.
# --include=dev: axe-core is a dev dependency, still wanted if NODE_ENV=production is set.
node_modules/.installed: package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci --include=dev --no-progress --loglevel=error; \
	else npm install --include=dev --no-progress --loglevel=error; fi
	touch $@

# The app serves GOV.UK Frontend's dist/govuk from its static folder (git-ignored copy).
$(GOVUK_DST)/.copied: node_modules/.installed
	rm -rf $(GOVUK_DST)
	mkdir -p $(dir $(GOVUK_DST))
	cp -R $(GOVUK_SRC) $(GOVUK_DST)
	touch $@

# ---- Debian packages (PostgreSQL, Chromium, SoftHSM2, OpenSC) ----------------------------------
system-deps:
	scripts/ensure-system-deps.sh

# ---- Run ---------------------------------------------------------------------------------------
run: venv assets
	$(FLASK) db upgrade
	$(FLASK) policy import --if-empty
	$(FLASK) demo seed --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

# ---- Checks ------------------------------------------------------------------------------------
# Lint first (a minute at most), then the suite. The REQUIRE_* variables make the fixtures fail
# (not skip) if PostgreSQL or Chromium is missing.
test: venv assets system-deps lint audit
	SHAREPLATFORM_REQUIRE_POSTGRES=1 SHAREPLATFORM_REQUIRE_BROWSER=1 \
	    $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--json bench.json --only read,write"
bench: venv
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-quick: venv
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

# ---- Clean-up ----------------------------------------------------------------------------------
# clean keeps .venv (slow to rebuild) and instance/ (local data, keys); distclean drops .venv too.
clean:
	rm -rf node_modules $(GOVUK_DST) test-results .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
