# olist-pipeline developer tasks. `make setup` is all a fresh checkout needs (python3 + pip).
#
#   make setup   .tools/ (pinned uv), .venv/ from uv.lock, DuckDB httpfs installed offline
#   make test    setup, then pytest (fails if no tests ran)
#   make lint    ruff check + ruff format --check
#   make format  ruff format + ruff check --fix

PYTHON ?= python3
UV_VERSION ?= 0.13.9
PYTEST_ARGS ?=

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
LINT_PATHS := $(wildcard ingest tests bench)

# uv: install into the project's .venv, use the machine's Python, never download one.
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup test lint format

setup:
	@if [ "$$($(UV) --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
		echo "setup: installing uv $(UV_VERSION) into $(TOOLS)/"; \
		[ -x $(TOOLS)/bin/pip ] || $(PYTHON) -m venv $(TOOLS); \
		$(TOOLS)/bin/pip install --quiet 'uv==$(UV_VERSION)'; \
	fi
	$(UV) sync --frozen --python $(PYTHON)
	$(VENV)/bin/python -m ingest.duckdb_extensions

# pytest exits 5 when it collected no tests; treat that as a failure, not a pass.
test: setup
	@rc=0; $(VENV)/bin/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests ran (pytest exit code 5)" >&2; exit 1; fi; \
	exit $$rc

lint:
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

format:
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
