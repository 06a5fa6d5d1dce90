# StockGate: the two commands a newcomer runs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config/demo.toml

.PHONY: run test install install-test init bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

init: install
	$(BIN)/stockgate --config $(CONFIG) init

run: init
	@echo "StockGate is initialised (config $(CONFIG)); the server (stockgate serve) is not built yet."
	$(BIN)/stockgate --config $(CONFIG) warehouses list
	$(BIN)/stockgate --config $(CONFIG) stock

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/ingest.py --rows 100000

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
