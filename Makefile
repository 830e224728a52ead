# The two commands a new machine needs: `make demo` and `make test`.
# Both create .venv and install the pinned dependencies (constraints.txt) themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint check clean lock

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Focal needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/focal demo

## lint: ruff, mypy (strict) and the import contracts
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## test: the lint, then every test (PostgreSQL ones run when FOCAL_TEST_DATABASE_URL is set),
## spread over the CPUs (at most 4 processes; TEST_WORKERS=0 runs them in this one)
TEST_WORKERS ?= auto
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses=4 --dist worksteal

## test-fast: pure unit tests only
test-fast: $(STAMP)
	$(BIN)/pytest tests/unit -q

## lock: re-pin constraints.txt from a fresh resolve of pyproject.toml
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet -e '.[dev]'
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^focal' > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
