"""Fixtures for web tests: an initialised StockGate (warehouses MF, EAST, WEST) and its web page running on
a free port, driven by a small cookie-keeping `http.client` browser."""

from __future__ import annotations

import pytest
from web_client import Browser

from gateway.app import App
from gateway.web import WebServer


WAREHOUSES_TOML = ('[[warehouses]]\ncode = "EAST"\npriority = 1\n\n'
                   '[[warehouses]]\ncode = "WEST"\npriority = 2\nsellable = false\n')


@pytest.fixture
def site(stockgate, write_config):
    """Start web servers on this test's database: site(extra_toml="") -> (app, server, browser).

    `extra_toml` goes after the warehouses (e.g. a [web] or [files] table); every server is stopped at the
    end of the test.
    """
    started: list[tuple[App, WebServer]] = []

    def start(extra_toml: str = "", *, on_received=None) -> tuple[App, WebServer, Browser]:
        web = "" if "[web]" in extra_toml else "[web]\nport = 0\n"
        config = write_config(WAREHOUSES_TOML + web + extra_toml)
        result = stockgate("init", config=config)
        assert result.code == 0, result
        app = App.from_config(str(config))
        server = WebServer(app.db, app.settings, on_received=on_received)
        server.start()
        started.append((app, server))
        return app, server, Browser(server.port)

    yield start
    for app, server in started:
        server.stop(5)
        app.close()
