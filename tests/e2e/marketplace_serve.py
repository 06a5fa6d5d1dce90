"""End-to-end scaffolding shared by the marketplace tests: the real `stockgate serve` configured with one
channel talking to a contract server, the first FTP upload, waiting for order polls, reading back how a
cancellation was explained, and looking for a credential anywhere serve wrote."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from gateway.db import schema
from gateway.db.engine import make_database
from serve_harness import Serve, config_text

CHANNEL_KEYS = ('restore_policy = "smart"\norder_interval_seconds = 1\npush_interval_seconds = 30\n'
                'listing_interval_seconds = 3600\nretry_base_seconds = 0.2\nretry_max_seconds = 1\n')
FAST_RETRIES = {"backoff_base_seconds": 0.05, "throttle_max_delay_seconds": 0.2, "throttle_budget_seconds": 1}


def marketplace_config(data_dir: Path, database_url: str, name: str, marketplace: str, options: dict) -> str:
    """config_text's FTP account `wh` (no sandboxes) and one channel `name` of adapter `marketplace`, smart,
    pulling orders every second, with `options` (then FAST_RETRIES) as its [channels.options]."""
    base = config_text(data_dir, database_url).split("\n[[channels]]")[0]
    values = "".join(f'{key} = {json.dumps(value)}\n' for key, value in {**options, **FAST_RETRIES}.items())
    return (f'{base}\n[[channels]]\nname = "{name}"\nmarketplace = "{marketplace}"\nadapter = "{marketplace}"\n'
            f'{CHANNEL_KEYS}[channels.options]\n{values}')


@contextmanager
def serve_against(server, tmp_path: Path, database_url: str, monkeypatch, name: str, marketplace: str,
                  env: dict[str, str], options: dict, edit=lambda text: text):
    """An initialised `stockgate serve` (not started) whose channel `name` talks to `server`: `env` sets the
    credential variables (variable -> the market's attribute holding the value, e.g. `client_id`) and names
    each in the options (`client_id_env = "<variable>"`) after `options`; `edit` may change the configuration
    text. Stops serve and the server on the way out."""
    try:
        for variable, attribute in env.items():
            monkeypatch.setenv(variable, getattr(server.market, attribute))
        options = {**options, **{f"{attribute}_env": variable for variable, attribute in env.items()}}
        data_dir, config = tmp_path / "var", tmp_path / "stockgate.toml"
        config.write_text(edit(marketplace_config(data_dir, database_url, name, marketplace, options)))
        gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
        try:
            assert gateway.cli("init").returncode == 0
            yield gateway
        finally:
            gateway.stop()
    finally:
        server.stop()


def first_quantities(gateway: Serve, market, shown_on: str, hats: int = 10) -> None:
    """Start serve, upload HAT `hats` and CAP 5 over FTP and wait until the marketplace shows them."""
    gateway.start()
    gateway.upload(f"SKU,MF\r\nHAT,{hats}\r\nCAP,5\r\n".encode(), "first.csv")
    gateway.wait_until(lambda: market.quantity("HAT") == hats and market.quantity("CAP") == 5, 60,
                       f"the first quantities on {shown_on}")


def update_reaches(gateway: Serve, market, shown_on: str) -> None:
    """Upload HAT 7 and CAP 0 over FTP and wait until the marketplace shows them."""
    gateway.upload(b"SKU,MF\r\nHAT,7\r\nCAP,0\r\n", "update.csv")
    gateway.wait_until(lambda: (market.quantity("HAT"), market.quantity("CAP")) == (7, 0), 60,
                       f"{shown_on} showing HAT 7 and CAP 0")


def wait_for_more_polls(gateway: Serve, market, is_poll, what: str, more: int = 3) -> None:
    """Wait until `more` order polls (requests `is_poll` picks) have been answered 200 after the ones so far."""
    polls = len([r for r in market.requests if is_poll(r)])
    gateway.wait_until(lambda: len([r for r in market.requests if is_poll(r) and r["status"] == 200])
                       >= polls + more, 60, what)


def explained_line(gateway: Serve, channel: str, order_id: str) -> dict:
    """The first line of `orders explain` for an order (the command must succeed)."""
    explained = gateway.cli("orders", "explain", channel, order_id, "--json")
    assert explained.returncode == 0, explained.stderr
    return json.loads(explained.stdout)["lines"][0]


def assert_cancellation(line: dict, reason: str, restores: bool, by: str) -> None:
    """The explained line's cancellation has this reason and canceller and restored its unit or kept it."""
    assert line["cancellation"]["reason"] == reason
    assert sum(a["restored_units"] for a in line["allocations"]) == (1 if restores else 0), line
    assert line["cancellation"]["by"] == by


def assert_serve_stops_naming(gateway: Serve, monkeypatch, key: str, variable: str, hidden: str) -> None:
    """With `variable` unset, `serve` exits 2 with one line naming `options.<key>` and the variable, no
    traceback and without showing `hidden`."""
    monkeypatch.delenv(variable)
    result = gateway.cli("serve")
    assert result.returncode == 2
    assert f"options.{key}: environment variable {variable} is not set" in result.stderr
    assert "Traceback" not in result.stderr and hidden not in result.stderr


def assert_secrets_absent(gateway: Serve, database_url: str, secrets) -> None:
    """None of `secrets` is in serve's log, the data folder's text files (token files aside) or any row."""
    texts = [gateway.log()]
    texts += [p.read_text(errors="replace") for p in gateway.data_dir.rglob("*")
              if p.is_file() and p.parent.name != "tokens" and p.suffix in (".json", ".txt", ".csv", ".log")]
    db = make_database(database_url)
    try:
        with db.read() as conn:
            texts += [str(row) for table in schema.metadata.sorted_tables for row in conn.execute(select(table)).all()]
    finally:
        db.dispose()
    for secret in secrets:
        assert not any(secret in t for t in texts), "a credential was written out"
