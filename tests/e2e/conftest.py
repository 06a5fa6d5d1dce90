"""Fixtures for end-to-end tests through the real `stockgate serve`."""

from __future__ import annotations

import pytest

from serve_harness import Serve, config_text


@pytest.fixture
def serve_gateway(tmp_path, database_url):
    """An initialised configuration (FTP account `wh`, sandbox channels `amz` and `shop`); call `.start()`."""
    data_dir = tmp_path / "var"
    config = tmp_path / "stockgate.toml"
    config.write_text(config_text(data_dir, database_url))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    init = gateway.cli("init")
    assert init.returncode == 0, init.stderr
    yield gateway
    gateway.stop()
