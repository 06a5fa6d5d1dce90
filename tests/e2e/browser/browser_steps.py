"""Steps the browser tests share: a `stockgate ... --json` command's document, and waiting for what the
running serve does in its own time (a pull, a push)."""

from __future__ import annotations

import json
import time


def cli_json(gateway, *args) -> dict:
    """The JSON a `stockgate` command prints against the gateway's configuration (it must succeed)."""
    result = gateway.cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_for(what: str, check, seconds: float = 30):
    """`check()`'s first value that is neither None nor False, asked every 0.2 s for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while (value := check()) is None or value is False:
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.2)
    return value
