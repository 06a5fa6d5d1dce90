"""End to end through the real `stockgate serve` with a `walmart` channel talking to the Walmart contract
server: FTP uploads reach Walmart, an order takes stock once across a 429 storm and a token expiry, each
Walmart reason code restores or keeps stock as seed 003 says, and no credential shows anywhere."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.reason_tables import REASON_TABLES
from gateway.db import schema
from gateway.db.engine import make_database
from serve_harness import Serve, config_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from walmart_server import WalmartServer  # noqa: E402

pytestmark = pytest.mark.slow


def _walmart_config(data_dir: Path, database_url: str, url: str) -> str:
    base = config_text(data_dir, database_url).split("\n[[channels]]")[0]       # FTP account wh, no sandboxes
    return base + (
        '\n[[channels]]\nname = "wm"\nmarketplace = "walmart"\nadapter = "walmart"\nrestore_policy = "smart"\n'
        'order_interval_seconds = 1\npush_interval_seconds = 30\nlisting_interval_seconds = 3600\n'
        'retry_base_seconds = 0.2\nretry_max_seconds = 1\n'
        f'[channels.options]\nbase_url = "{url}"\nclient_id_env = "WM_E2E_CLIENT_ID"\n'
        'client_secret_env = "WM_E2E_CLIENT_SECRET"\nbackoff_base_seconds = 0.05\n'
        'throttle_max_delay_seconds = 0.2\nthrottle_budget_seconds = 1\n')


@pytest.fixture
def walmart_serve(tmp_path, database_url, monkeypatch):
    server = WalmartServer().start()
    market = server.market
    monkeypatch.setenv("WM_E2E_CLIENT_ID", market.client_id)
    monkeypatch.setenv("WM_E2E_CLIENT_SECRET", market.client_secret)
    data_dir = tmp_path / "var"
    config = tmp_path / "stockgate.toml"
    config.write_text(_walmart_config(data_dir, database_url, server.url))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    assert gateway.cli("init").returncode == 0
    for sku in ("HAT", "CAP"):
        market.add_item(sku)
    yield gateway, market, database_url
    gateway.stop()
    server.stop()


def _start(gateway, market, stock: bytes = b"SKU,MF\r\nHAT,10\r\nCAP,5\r\n") -> None:
    gateway.start()
    gateway.upload(stock, "first.csv")
    gateway.wait_until(lambda: market.quantity("HAT") == 10 and market.quantity("CAP") == 5, 60,
                       "the first quantities on Walmart")


def _secrets_absent(gateway, market, database_url) -> None:
    secrets = [market.client_secret, market.client_id, *market.tokens]
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


def test_an_ftp_upload_reaches_walmart_as_the_right_quantity_for_every_listing(walmart_serve):
    gateway, market, database_url = walmart_serve
    _start(gateway, market)
    gateway.upload(b"SKU,MF\r\nHAT,7\r\nCAP,0\r\n", "update.csv")
    gateway.wait_until(lambda: (market.quantity("HAT"), market.quantity("CAP")) == (7, 0), 60,
                       "Walmart showing HAT 7 and CAP 0")
    assert market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_429_storm_and_a_token_expiry(walmart_serve):
    gateway, market, database_url = walmart_serve
    _start(gateway, market)
    market.expire_tokens()
    market.fail("429", "/v3/orders", times=6, x_current_token_count="0", x_next_replenish_time="0")
    market.fail("429", "/v3/inventory", times=6)
    market.place_order("PO-1", [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on Walmart")
    polls = len([r for r in market.requests if r["path"] == "/v3/orders"])
    gateway.wait_until(lambda: len([r for r in market.requests if r["path"] == "/v3/orders" and r["status"] == 200])
                       >= polls + 3, 60, "three more order polls, each showing PO-1 again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout and "7" in shown.stdout
    assert market.tokens_issued >= 2
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_walmart_reason_code_restores_or_keeps_stock_as_seed_003_says(walmart_serve):
    gateway, market, database_url = walmart_serve
    _start(gateway, market)
    rows = REASON_TABLES["walmart"]
    for n, row in enumerate(rows):
        market.place_order(f"PO-{n}", [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - len(rows), 60, "every order taking one HAT")
    for n, row in enumerate(rows):
        market.cancel_line(f"PO-{n}", "1", row.api_codes[0])
    kept = sum(not row.restores for row in rows)
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - kept, 60, "the restores on Walmart")
    for n, row in enumerate(rows):
        explained = gateway.cli("orders", "explain", "wm", f"PO-{n}", "--json")
        assert explained.returncode == 0, explained.stderr
        line = json.loads(explained.stdout)["lines"][0]
        assert line["cancellation"]["reason"] == row.api_codes[0]
        assert sum(a["restored_units"] for a in line["allocations"]) == (1 if row.restores else 0), line
        assert line["cancellation"]["by"] == ("buyer" if row.api_codes[0].startswith("CUSTOMER") else "seller")


def test_serve_with_a_walmart_secret_variable_not_set_stops_with_one_line_naming_the_key(walmart_serve, monkeypatch):
    gateway, market, database_url = walmart_serve
    monkeypatch.delenv("WM_E2E_CLIENT_SECRET")
    result = gateway.cli("serve")
    assert result.returncode == 2
    assert "options.client_secret_env: environment variable WM_E2E_CLIENT_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr and market.client_id not in result.stderr


def test_an_ftp_upload_reaches_two_walmart_ship_nodes_fed_by_different_warehouses(tmp_path, database_url,
                                                                                   monkeypatch):
    server = WalmartServer().start()
    market = server.market
    market.ship_nodes = {"NODE-MF", "NODE-EAST"}
    monkeypatch.setenv("WM_E2E_CLIENT_ID", market.client_id)
    monkeypatch.setenv("WM_E2E_CLIENT_SECRET", market.client_secret)
    data_dir, config = tmp_path / "var", tmp_path / "stockgate.toml"
    text = _walmart_config(data_dir, database_url, server.url)
    config.write_text(text.replace("[channels.options]", 'locations = { "NODE-MF" = ["MF"], "NODE-EAST" = ["EAST"] }\n'
                                                         "[channels.options]"))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    try:
        assert gateway.cli("init").returncode == 0
        market.add_item("HAT")
        gateway.start()
        gateway.upload(b"SKU,MF,EAST\r\nHAT,10,3\r\n", "first.csv")
        gateway.wait_until(lambda: (market.quantity("HAT", "NODE-MF"), market.quantity("HAT", "NODE-EAST")) == (10, 3),
                           60, "HAT at both ship nodes")
        gateway.upload(b"SKU,MF,EAST\r\nHAT,10,1\r\n", "update.csv")
        gateway.wait_until(lambda: market.quantity("HAT", "NODE-EAST") == 1, 60, "the EAST node's new quantity")
        assert market.quantity("HAT", "NODE-MF") == 10 and market.quantity("HAT") is None
        assert market.violations == []
    finally:
        gateway.stop()
        server.stop()
