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
	@echo ""
	@echo "StockGate demo: FTP on 127.0.0.1:2121, login demo / demo-password (config/demo.toml)"
	@echo "  upload:  curl -T sample_files/quantity_update.csv ftp://demo:demo-password@127.0.0.1:2121/inbox/"
	@echo "  report:  curl ftp://demo:demo-password@127.0.0.1:2121/reports/   (then fetch the .report.json)"
	@echo "  folder:  cp sample_files/erp_stock_export.csv var/demo/drop/west/   (warehouse WEST)"
	@echo "  stock:   $(BIN)/stockgate --config $(CONFIG) stock      Ctrl-C stops the server."
	@echo ""
	exec $(BIN)/stockgate --config $(CONFIG) serve

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/ingest.py --rows 100000

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
