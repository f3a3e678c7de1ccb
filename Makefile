# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ORDERS ?= 50000

ONLINE_RETAIL ?= ../shared/data/online_retail_ii/online_retail_ii_2009_2010.parquet

.PHONY: install demo online-retail test system-deps lint bench

$(BIN)/returnlens: pyproject.toml
	$(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(PYTHON) -m uv venv --quiet --allow-existing $(VENV)
	$(PYTHON) -m uv pip install --quiet --python $(BIN)/python -e '.[dev]'
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

bench: install  # the dashboard figures are over the warehouse `make demo` built
	$(BIN)/python bench/pipeline_bench.py
	$(BIN)/python bench/dashboard_bench.py --db duckdb:///$(CURDIR)/data/returnlens.duckdb
	$(BIN)/python bench/first_render_bench.py --db duckdb:///$(CURDIR)/data/returnlens.duckdb
	$(BIN)/python bench/real_data_bench.py
