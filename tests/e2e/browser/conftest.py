"""Fixtures for browser tests: Debian's `chromium` driven by Playwright (the `playwright` package with the
system browser as its executable: no browser download) against the real `stockgate serve` with its web
page on a free port.

The tests skip, saying why, where the package or the browser cannot be had (`.ci/run` installs chromium
from Debian's packages when it is missing).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # serve_harness beside the e2e tests

from serve_harness import Serve, config_text  # noqa: E402

WEB_LISTENING = re.compile(r"web page on (http://127\.0\.0\.1:\d+)")
BROWSER_NAMES = ("chromium", "chromium-browser")


def chromium_executable() -> str | None:
    """The system chromium: STOCKGATE_TEST_CHROMIUM if set, else the first on PATH."""
    named = os.environ.get("STOCKGATE_TEST_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the session (a fresh context per test)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (make install-test installs it)")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no chromium on PATH: apt-get install chromium (as .ci/run does)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        except Error as exc:
            pytest.skip(f"chromium at {executable} does not start under Playwright: {exc}")
        yield browser
        browser.close()


class WebGateway(Serve):
    """`stockgate serve` with its web page: `url` is the page's address once started."""

    url: str = ""

    def start(self) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        super().start()
        self.url = self.wait_until(lambda: (m := WEB_LISTENING.search(self.log()[offset:])) and m[1], 60,
                                   "the web page to listen")


@pytest.fixture
def web_gateway(tmp_path, database_url):
    """An initialised StockGate (FTP account `wh`, sandbox channels `amz` and `shop`) whose serve also runs
    the web page on a free loopback port; call `.start(extra_toml="")`."""
    data_dir = tmp_path / "var"
    config = tmp_path / "stockgate.toml"
    started: list[WebGateway] = []

    def start(extra_toml: str = "") -> WebGateway:
        text = config_text(data_dir, database_url).replace("[web]\nenabled = false\n", "[web]\nport = 0\n")
        config.write_text(text + extra_toml)
        gateway = WebGateway(config, data_dir, 0, tmp_path / "serve.log")
        init = gateway.cli("init")
        assert init.returncode == 0, init.stderr
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def page(chromium):
    """A fresh browser tab (its own cookies) that fails a test on a script error in the page."""
    context = chromium.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert errors == [], f"script errors in the page: {errors}"
