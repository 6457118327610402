# sopflow: `make run` and `make test` are all a developer needs (see README.md).
# SOPFLOW_* variables and PORT pass through the environment to sopflow and pytest.

PYTHON ?= python3.11
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
# bpmn-js bundles (web/assets -> web/static/vendor, not committed): `npm ci` again when the
# pinned lock file changes, the bundles again when the entry files or the build script change
ASSETS = web/static/vendor/.built
NODE_STAMP = web/assets/node_modules/.installed
ASSET_SOURCES = web/assets/build.mjs $(wildcard web/assets/src/*)

.PHONY: run test lint setup clean-venv assets screenshots

# plain http on 127.0.0.1 for the demo: session cookies without the Secure flag unless set
run: $(STAMP) $(ASSETS)
	$(BIN)/sopflow db upgrade
	$(BIN)/sopflow seed-demo
	SOPFLOW_COOKIE_SECURE=$${SOPFLOW_COOKIE_SECURE:-0} $(BIN)/sopflow serve

# pytest's own exit status fails the target, including 5 (no tests collected)
test: $(STAMP) $(ASSETS)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

setup: $(STAMP)

# the README's screenshots: the Chromium tests walk the pages and save them on the way
screenshots: $(STAMP) $(ASSETS)
	SOPFLOW_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q tests/browser/test_kudus_browser.py tests/browser/test_pages_browser.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# reinstall only when pyproject.toml changed (or the venv is new)
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

assets: $(ASSETS)

# without npm the app still runs: the diagram viewer and modeler then say they are not installed
# (and the Chromium tests skip with that reason unless SOPFLOW_REQUIRE_INTEGRATION=1)
$(NODE_STAMP): web/assets/package.json web/assets/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix web/assets --no-audit --no-fund --prefer-offline && touch $(NODE_STAMP); \
	else \
	  echo "make: npm not found: no diagram viewer or modeler (apt-get install nodejs npm)" >&2; \
	fi

$(ASSETS): $(NODE_STAMP) $(ASSET_SOURCES)
	@if [ -f $(NODE_STAMP) ]; then \
	  npm run --prefix web/assets build && touch $(ASSETS); \
	fi

clean-venv:
	rm -rf $(VENV)
