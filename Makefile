# The single command surface for people and CI. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast contract lint format typecheck bench bench-pages bench-scale bench-rush bench-faults browser messages clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

run: install ## serve on http://127.0.0.1:8000 (SQLite, demo data, dev mailbox)
	$(BIN)/kontingent serve --demo

test: install lint typecheck browser ## lint, typecheck and run every test (PostgreSQL and Redis included)
	$(BIN)/pytest

bench-faults: install ## faults under booking load, invariants checked after each (bench/README.md); ARGS="--scenario pg-kill"
	$(PY) bench/faults/run.py $(ARGS)

AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js

browser: ## Debian's Chromium and axe-core (npm) for the portal's browser tests
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium)
	@test -f $(AXE) || npm install -q --no-audit --no-fund --prefix $(VENV)/axe axe-core@4

test-fast: install ## unit tests only
	$(BIN)/pytest tests/unit -q

contract: install ## schemathesis over the whole API against its OpenAPI document (part of test)
	$(BIN)/pytest tests/e2e/test_openapi_contract.py -q

lint: install ## ruff lint and format check
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench tools
	$(BIN)/ruff format src tests bench tools

typecheck: install ## mypy on src/
	$(BIN)/mypy

bench: install ## booking and offer throughput on PostgreSQL vs the raw ceiling (bench/README.md)
	$(PY) bench/booking.py

bench-scale: install ## cold offers, feed and refresh CPU at 1x, 4x, 16x slots on SQLite (bench/README.md); ARGS="--centres 3"
	$(PY) bench/inventory_scale.py $(ARGS)

bench-pages: install ## portal pages per second: start page and offers page (bench/README.md)
	$(PY) bench/pages.py

bench-rush: install ## the 08:00 rush with and without the waiting room (bench/README.md); ARGS="--users 12000"
	$(PY) bench/rush/run.py $(ARGS)

messages: install ## find the text keys in code and templates, update the .po files (README: Texts)
	$(PY) tools/messages.py

clean: ## remove the virtualenv, local data and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
