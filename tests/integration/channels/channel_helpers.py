"""Helpers for channel tests: [[channels]] TOML tables, waiting for a scheduler (a module of its own so
test files can import it)."""

from __future__ import annotations

import time


def wait_until(predicate, timeout: float, what: str):
    """The first truthy value of `predicate()`, polled every 50 ms; AssertionError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def channel_toml(name: str, marketplace: str = "amazon", adapter: str = "sandbox", **keys) -> str:
    """A [[channels]] table; `options` may be a dict of adapter options."""
    options = keys.pop("options", None)
    lines = [f'name = "{name}"', f'marketplace = "{marketplace}"', f'adapter = "{adapter}"']
    lines += [f"{k} = {_toml(v)}" for k, v in keys.items()]
    if options:
        lines.append("options = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in options.items()) + " }")
    return "\n[[channels]]\n" + "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
