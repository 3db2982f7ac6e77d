# olist-pipeline developer tasks. `make setup` is all a fresh checkout needs (python3 + pip).
#
#   make run     setup, then `olist run`: ingest, export, build the warehouse, print a summary
#                (SOURCE=dir, else data/seeds/ if it has CSVs, else a demo set in data/demo/)
#   make setup   .tools/ (pinned uv), .venv/ from uv.lock, DuckDB httpfs installed offline;
#                with OLIST_GATEWAY=spark, checks for a Java 17+ runtime
#   make test    setup, then every pytest suite, a worker per core (fails if no tests ran)
#   make test-quick
#                lint, the SQLMesh unit tests and the pytest tests not marked slow
#   make lint    ruff check + ruff format --check; sqlmesh format --check + the SQLMesh linter;
#                actionlint on .github/workflows
#   make format  ruff format + ruff check --fix; sqlmesh format
#   make docs    the static site (report, data quality, model docs, lineage) in data/site/
#   make plan-diff BASE=main
#                what the working tree's SQLMesh changes do to the data, against BASE (Markdown)

PYTHON ?= python3
UV_VERSION ?= 0.13.9
PYTEST_ARGS ?=
# `make run SOURCE=dir` loads that folder; without it `olist run` uses data/seeds/ when it holds
# the real CSVs, else a demo data set generated once into data/demo/ at scale DEMO_SF.
SOURCE ?=
DEMO_SF ?=

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
LINT_PATHS := $(wildcard olist ingest tests bench macros)
SQLMESH := $(VENV)/bin/sqlmesh

# uv: install into the project's .venv, use the machine's Python, never download one, and trust
# the system's certificate store as pip does (uv's own bundle lacks a company proxy's CA, so
# without this `make setup` fails behind a TLS-intercepting proxy where `pip install` works).
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_SYSTEM_CERTS := 1
# SQLMesh forks a process per core to load the project; with its cache warm this project loads
# faster in one (1.5 s instead of 2.1 s on 2 cores; olist/warehouse/build.py sets it for `olist`).
export MAX_FORK_WORKERS := 1

.PHONY: run setup test test-quick lint format bench bench-generate

setup:
	@if [ "$$($(UV) --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
		echo "setup: installing uv $(UV_VERSION) into $(TOOLS)/"; \
		[ -x $(TOOLS)/bin/pip ] || $(PYTHON) -m venv $(TOOLS); \
		$(TOOLS)/bin/pip install --quiet 'uv==$(UV_VERSION)'; \
	fi
	# --compile-bytecode: .pyc files are written once here, so every `olist` start skips
	# recompiling dlt and friends (2.3 s instead of 5.5 s for a small ingest where
	# PYTHONDONTWRITEBYTECODE is set); later syncs take a quarter of a second.
	$(UV) sync --frozen --python $(PYTHON) --compile-bytecode
	$(VENV)/bin/python -m olist.duckdb_extensions
	@# The spark gateway starts a JVM: when it is selected, say now if Java 17+ is missing.
	@if [ "$$OLIST_GATEWAY" = spark ]; then $(VENV)/bin/python -m olist.java_runtime; fi

run: setup
	$(if $(DEMO_SF),OLIST_DEMO_SF=$(DEMO_SF)) $(VENV)/bin/olist run $(if $(SOURCE),--source $(SOURCE))

# A pytest worker per core (pytest-xdist), each test file on one worker so that its module
# fixtures are built once; the session's sample lake and warehouse are built once between them.
PYTEST_WORKERS := -n auto --dist loadfile

# pytest exits 5 when it collected no tests; treat that as a failure, not a pass.
define run_pytest
	@rc=0; $(VENV)/bin/pytest $(PYTEST_WORKERS) $(1) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: no tests ran (pytest exit code 5)" >&2; exit 1; fi; \
	exit $$rc
endef

test: setup
	$(call run_pytest)

# The edit loop's answer in about a minute: lint (which runs the SQLMesh linter), the SQLMesh
# unit tests, and the pytest tests not marked `slow` (none of them builds a whole warehouse).
test-quick: setup lint
	$(SQLMESH) test
	$(call run_pytest,-m "not slow")

# The SQLMesh checks cover every model and audit: formatting as `sqlmesh format` writes it, and
# the linter rules in config.yaml (neither opens the warehouse).
lint:
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(SQLMESH) format --check
	$(SQLMESH) lint
	# The GitHub workflows: syntax, expressions, action inputs, untrusted input in scripts.
	$(VENV)/bin/actionlint

format:
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
	$(SQLMESH) format

# Ingest and export timed against their floors at 1x and 10x the real Olist size (needs PostgreSQL
# on 127.0.0.1:5432); the table is also written to bench/results/<timestamp>.md.
bench: setup
	$(VENV)/bin/python bench/bench_bronze.py --scale 1 --scale 10

# olist generate at scale 0.1, 1 and 10: wall time, time per million rows, peak RSS.
bench-generate: setup
	$(VENV)/bin/python bench/bench_generate.py

# The warehouse's full build against the same SQL in plain DuckDB, and a daily `sqlmesh run`
# against a full build, at 1x and 10x the real Olist size (generated data, set up once into
# data/bench-warehouse/); the table is also written to bench/results/warehouse-<timestamp>.md.
.PHONY: bench-warehouse
bench-warehouse: setup
	$(VENV)/bin/python bench/bench_warehouse.py --scale 1 --scale 10

# The plan diff of the working tree (uncommitted changes included) against BASE, a git ref: prod
# built from BASE on a small generated data set (or SOURCE) in data/plan-diff/, the change planned
# into pr_<branch> (or PR_ENV) next to it. The Markdown report goes to stdout and
# data/plan-diff/report.md; exit code 1 when the change fails to build, a unit test or an audit.
BASE ?= main
PR_ENV ?=
.PHONY: plan-diff
plan-diff: setup
	$(VENV)/bin/olist plan-diff --base $(BASE) $(if $(SOURCE),--source $(SOURCE)) $(if $(PR_ENV),--env $(PR_ENV))

# The static site from the warehouse `make run` built: report, data quality, model docs and
# column lineage, in data/site/ (open data/site/index.html; no server, no network).
.PHONY: docs
docs: setup
	$(VENV)/bin/olist docs

# The README's picture of the report (docs/report.png): data/site/index.html in headless Chromium.
.PHONY: docs-screenshot
docs-screenshot: docs
	$(VENV)/bin/python -m olist.site.browser data/site/index.html docs/report.png
