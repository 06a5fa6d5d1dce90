"""Fixtures for pipeline tests: a StockGate with warehouses MF, EAST and WEST, and a test file writer."""

from __future__ import annotations

import pytest
from pipeline_helpers import WAREHOUSES_TOML, FileMaker


@pytest.fixture
def sg(stockgate, write_config):
    """`stockgate` on an initialised database with warehouses MF, EAST and WEST."""
    stockgate("init", config=write_config(WAREHOUSES_TOML))
    return stockgate


@pytest.fixture
def files(tmp_path):
    """Write test files: files.csv(name, text, encoding=...), files.xlsx(name, rows), files.raw(name, bytes)."""
    return FileMaker(tmp_path / "in")


