# Two entry points (see README "Quick start"): `make demo` and `make test`.
# `make test-fast` runs the unit tests only: not the slow ones, not the browser ones.
# Both create a local virtual environment in .venv and install the package into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-fast lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/zoning demo --out maps/demo

lint: $(STAMP)
	$(BIN)/ruff check zoning tests layers benchmarks
	$(BIN)/ruff format --check zoning tests layers benchmarks
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser"

clean:
	rm -rf $(VENV) maps/demo .pytest_cache .ruff_cache
