# The set-up commands of the README: `make demo`, `make test` (the full suite, as CI runs it) and
# `make test-fast` (the edit loop: no browser, PostgreSQL, Prefect server, real data or slow tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORDERS ?= 50000

ONLINE_RETAIL ?= ../shared/data/online_retail_ii/online_retail_ii_2009_2010.parquet

.PHONY: install demo online-retail test test-fast system-deps lint bench

# bytecode at install: where PYTHONDONTWRITEBYTECODE is set (as on CI) every process would
# otherwise compile Great Expectations and Prefect again (~5 s each)
$(BIN)/returnlens: pyproject.toml
	$(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(PYTHON) -m uv venv --quiet --allow-existing $(VENV)
	$(PYTHON) -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@

install: $(BIN)/returnlens

demo: install
	$(BIN)/returnlens demo --orders $(ORDERS)

online-retail: install
	$(BIN)/returnlens pipeline --source $(ONLINE_RETAIL) --source-kind online-retail-ii \
		--db duckdb:///$(CURDIR)/data/online_retail.duckdb
	$(BIN)/returnlens kpis --db duckdb:///$(CURDIR)/data/online_retail.duckdb
	$(BIN)/returnlens serve --db duckdb:///$(CURDIR)/data/online_retail.duckdb

system-deps:
	bash .ci/system-deps.sh

lint: install
	$(BIN)/ruff check .

test: install system-deps lint
	$(BIN)/pytest

FAST := not e2e and not postgres and not prefect and not realdata and not slow

test-fast: install lint
	$(BIN)/pytest -m "$(FAST)"

bench: install  # the dashboard figures are over the warehouse `make demo` built
	$(BIN)/python bench/pipeline_bench.py
	$(BIN)/python bench/dashboard_bench.py --db duckdb:///$(CURDIR)/data/returnlens.duckdb
	$(BIN)/python bench/first_render_bench.py --db duckdb:///$(CURDIR)/data/returnlens.duckdb
	$(BIN)/python bench/real_data_bench.py
