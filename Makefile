# xiaodai — the two commands that set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint types contracts pytest bench demo clean

# uv installs the same packages from the same index as pip, but downloads them in parallel: a fresh install
# took 412 s of wall (67 s of CPU) with pip on the 2-core machine against 70 s with uv (docs/BENCHMARKS.md,
# "Test suite time"). UV_COMPILE_BYTECODE: every package's .pyc is written at install, since the machines
# set PYTHONDONTWRITEBYTECODE and each test worker and CLI subprocess would otherwise compile its imports
# (~3 s of CPU a process). pip stays the fallback where uv cannot be installed.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if $(BIN)/python -m pip install -q uv; then \
	  UV_COMPILE_BYTECODE=1 $(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'; \
	else \
	  $(BIN)/python -m pip install -q --upgrade pip && $(BIN)/python -m pip install -q -e '.[dev]'; \
	fi
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
# work stealing: an idle worker takes tests queued on a busy one, and the known long tests start first, one
# block per worker (tests/support/long_first.py), so a few long tests do not leave a CPU idle at the end.
# PYTHONDONTWRITEBYTECODE is emptied for the run: the first process to import a module of src/ writes its
# .pyc and the ~100 CLI and server subprocesses the tests start read it instead of compiling src/ again.
pytest: install
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist worksteal

test: lint types contracts pytest

bench: install
	$(BIN)/python benchmarks/bench_apr.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
