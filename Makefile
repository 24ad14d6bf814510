# ParPulse: `make demo` runs it, `make test` proves it.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint bench venv services clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

services:
	scripts/ensure-services.sh --postgres

demo: venv
	scripts/ensure-services.sh
	scripts/demo.sh

test: venv services
	$(BIN)/pytest -q -p no:cacheprovider

lint: venv
	$(BIN)/ruff check services tests bench
	$(BIN)/mypy services

bench: venv services
	$(BIN)/python bench/bench_publisher.py
	$(BIN)/python bench/bench_calendar.py
	$(BIN)/python bench/bench_amqp_io.py
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
