# xiaodai — the two commands that set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint types contracts pytest bench demo clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# `make run`: migrate the embedded database, seed the demo (idempotent), serve http://127.0.0.1:8000
run: install
	$(BIN)/xiaodai db upgrade
	$(BIN)/xiaodai demo seed
	$(BIN)/xiaodai serve --host 127.0.0.1 --port 8000

demo: install
	$(BIN)/xiaodai demo quote

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

# one worker per CPU (pytest-xdist): every test gets its own database copy, the templates are per worker;
# work stealing: an idle worker takes tests queued on a busy one, so a few long tests do not leave a CPU idle
pytest: install
	$(BIN)/pytest -n auto --dist worksteal

test: lint types contracts pytest

bench: install
	$(BIN)/python benchmarks/bench_apr.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
