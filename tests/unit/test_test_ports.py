"""`make test` passes while `make run` is running: no test or bench script binds a fixed port, and none
picks a "free" port by binding port 0, closing the socket and handing the number on (another program can
take it in between); servers listen on port 0 themselves and the port is read back from them."""

import os
import re
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# bind port 0, close the socket (end of the `with`), return the number: the port is free only for a moment
PICK_AND_CLOSE = re.compile(r"with socket\.socket\(\) as (\w+):\s*\n\s*\1\.bind\(\([^)]*, 0\)\)\s*\n"
                            r"\s*return \1\.getsockname\(\)\[1\]")
# sshd cannot listen on port 0 and report the port: its helper retries with another port when sshd fails
ALLOWED = {"tests/integration/sources/sftp_test_server.py"}


def _sources() -> dict[str, str]:
    files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in files}


def test_no_test_or_bench_script_picks_a_port_and_closes_it_before_the_server_binds():
    offenders = sorted(name for name, text in _sources().items()
                       if PICK_AND_CLOSE.search(text) and name not in ALLOWED)
    assert offenders == []


def test_no_test_configures_a_demo_port(demo_ports_taken):
    ports = "|".join(map(str, demo_ports_taken))
    setting = re.compile(rf"port\s*=\s*\{{?({ports})\b|127\.0\.0\.1:({ports})\b|localhost:({ports})\b")
    offenders = sorted(name for name, text in _sources().items() if setting.search(text))
    assert offenders == []


@pytest.mark.skipif(os.environ.get("STOCKGATE_TEST_HOLD_DEMO_PORTS") != "1",
                    reason="the demo's ports are held only with STOCKGATE_TEST_HOLD_DEMO_PORTS=1 (.ci/run sets it)")
def test_the_demo_ports_are_held_while_the_tests_run(demo_ports_taken):
    for port in demo_ports_taken:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            raise AssertionError(f"port {port} is free during the tests: a test could bind it unnoticed")
