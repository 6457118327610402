# sopflow: `make run` and `make test` are all a developer needs (see README.md).
# SOPFLOW_* variables and PORT pass through the environment to sopflow and pytest.

PYTHON ?= python3.11
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: run test lint setup clean-venv

# plain http on 127.0.0.1 for the demo: session cookies without the Secure flag unless set
run: $(STAMP)
	$(BIN)/sopflow db upgrade
	$(BIN)/sopflow seed-demo
	SOPFLOW_COOKIE_SECURE=$${SOPFLOW_COOKIE_SECURE:-0} $(BIN)/sopflow serve

# pytest's own exit status fails the target, including 5 (no tests collected)
test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# reinstall only when pyproject.toml changed (or the venv is new)
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
