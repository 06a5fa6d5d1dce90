"""Fixtures: a StockGate FTP server with its worker on a free loopback port, per test."""

from __future__ import annotations

import pytest

from ftp_test_harness import config_toml, start_gateway


@pytest.fixture
def start_ftp(write_config, db):
    """Start a gateway with [ftp] keys overridden (`worker=False` leaves files unprocessed)."""
    running = []

    def start(worker: bool = True, **ftp):
        gateway = start_gateway(write_config(config_toml(**ftp)), db, worker=worker)
        running.append(gateway)
        return gateway

    yield start
    for gateway in running:
        gateway.stop()


@pytest.fixture
def gateway(start_ftp):
    """A gateway with the default test configuration."""
    return start_ftp()
