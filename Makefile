# Admit — the two commands: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint format venv clean messages fuzz

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

## Set up (venv, install, migrate, demo data) and serve on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/admit demo $(if $(PORT),--port $(PORT))

## Run the whole suite (SQLite unless ADMIT_DATABASE_URL says otherwise)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Schemathesis with fresh random requests on every run (make test sends a fixed set).
fuzz: $(STAMP)
	ADMIT_FUZZ=explore ADMIT_FUZZ_SCALE=$${ADMIT_FUZZ_SCALE:-4} $(BIN)/python -m pytest -p no:randomly tests/test_api_schemathesis.py tests/test_partners_octo_schemathesis.py

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	PYTHONPATH=. $(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

## Refresh translation catalogs (then translate new entries in locale/zh_Hans) and compile them
messages: $(STAMP)
	cd src/admit && ADMIT_DEBUG=1 ../../$(BIN)/admit makemessages -l zh_Hans -l en --no-location --no-obsolete -i "demo/*"
	cd src/admit && ADMIT_DEBUG=1 ../../$(BIN)/admit compilemessages
