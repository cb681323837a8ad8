# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint docs screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed  ## install, then sync the bundled simulator into ./demo.db
	$(BIN)/datto-etl demo

test: $(BIN)/.installed  ## install, then type-check, lint and run every test (SQLite and PostgreSQL)
	$(BIN)/mypy etl
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed  ## request counts and speed against the rate-limit floor
	$(BIN)/python -m bench

lint: $(BIN)/.installed
	$(BIN)/ruff check .

docs: $(BIN)/.installed  ## regenerate docs/tables.md and docs/resources.md from the code
	$(BIN)/datto-etl db docs -o docs/tables.md
	$(BIN)/datto-etl db docs --resources -o docs/resources.md

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo-report.html .pytest_cache
