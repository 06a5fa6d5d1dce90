"""End to end through the real `stockgate serve` with an `amazon` channel talking to the SP-API contract
server: FTP uploads reach Amazon, an order takes stock once across a 429 storm and an expired access token,
each Amazon reason code restores or keeps stock as seed 003 says, and no credential shows anywhere."""

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
from amazon_server import AmazonServer  # noqa: E402

pytestmark = pytest.mark.slow


def _amazon_config(data_dir: Path, database_url: str, server: AmazonServer) -> str:
    base = config_text(data_dir, database_url).split("\n[[channels]]")[0]       # FTP account wh, no sandboxes
    return base + (
        '\n[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "amazon"\nrestore_policy = "smart"\n'
        'order_interval_seconds = 1\npush_interval_seconds = 30\nlisting_interval_seconds = 3600\n'
        'retry_base_seconds = 0.2\nretry_max_seconds = 1\n'
        f'[channels.options]\nbase_url = "{server.url}"\ntoken_url = "{server.token_url}"\n'
        f'seller_id = "{server.market.seller_id}"\nclient_id_env = "AMZ_E2E_CLIENT_ID"\n'
        'client_secret_env = "AMZ_E2E_CLIENT_SECRET"\nrefresh_token_env = "AMZ_E2E_REFRESH_TOKEN"\n'
        'backoff_base_seconds = 0.05\nthrottle_max_delay_seconds = 0.2\nthrottle_budget_seconds = 1\n')


@pytest.fixture
def amazon_serve(tmp_path, database_url, monkeypatch):
    server = AmazonServer().start()
    market = server.market
    market.event_age_seconds = 300                       # SP-API's updates reach searchOrders late
    market.plans["searchOrders"] = (20.0, 20)            # a raised usage plan, stated in x-amzn-RateLimit-Limit
    monkeypatch.setenv("AMZ_E2E_CLIENT_ID", market.client_id)
    monkeypatch.setenv("AMZ_E2E_CLIENT_SECRET", market.client_secret)
    monkeypatch.setenv("AMZ_E2E_REFRESH_TOKEN", market.refresh_token)
    data_dir = tmp_path / "var"
    config = tmp_path / "stockgate.toml"
    config.write_text(_amazon_config(data_dir, database_url, server))
    gateway = Serve(config, data_dir, 0, tmp_path / "serve.log")
    assert gateway.cli("init").returncode == 0
    for sku in ("HAT", "CAP"):
        market.add_listing(sku, "HAT", 0)
    yield gateway, market, database_url
    gateway.stop()
    server.stop()


def _start(gateway, market, stock: bytes = b"SKU,MF\r\nHAT,10\r\nCAP,5\r\n") -> None:
    gateway.start()
    gateway.upload(stock, "first.csv")
    gateway.wait_until(lambda: market.quantity("HAT") == 10 and market.quantity("CAP") == 5, 60,
                       "the first quantities on Amazon")


def _secrets_absent(gateway, market, database_url) -> None:
    secrets = [market.client_secret, market.client_id, market.refresh_token, *market.tokens]
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


def test_an_ftp_upload_reaches_amazon_as_the_right_quantity_for_every_listing(amazon_serve):
    gateway, market, database_url = amazon_serve
    _start(gateway, market)
    gateway.upload(b"SKU,MF\r\nHAT,7\r\nCAP,0\r\n", "update.csv")
    gateway.wait_until(lambda: (market.quantity("HAT"), market.quantity("CAP")) == (7, 0), 60,
                       "Amazon showing HAT 7 and CAP 0")
    assert market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_an_order_takes_stock_once_across_a_429_storm_and_an_expired_token(amazon_serve):
    gateway, market, database_url = amazon_serve
    _start(gateway, market)
    market.expire_tokens()
    market.fail("429", "/orders/", times=6)
    market.fail("429", "/listings/", times=6)
    market.place_order("111-0000001-0000001", [("HAT", 3)])
    gateway.wait_until(lambda: market.quantity("HAT") == 7, 60, "the order lowering HAT on Amazon")
    polls = len([r for r in market.requests if r["path"] == "/orders/2026-01-01/orders"])
    gateway.wait_until(lambda: len([r for r in market.requests if r["path"] == "/orders/2026-01-01/orders"
                                    and r["status"] == 200]) >= polls + 3, 60,
                       "three more order polls, each showing the order again")
    shown = gateway.cli("stock", "--json")
    assert shown.returncode == 0, shown.stderr
    assert market.quantity("HAT") == 7 and '"HAT"' in shown.stdout
    assert market.tokens_issued >= 2 and market.violations == []
    _secrets_absent(gateway, market, database_url)


def test_a_cancellation_with_each_amazon_reason_code_restores_or_keeps_stock_as_seed_003_says(amazon_serve):
    gateway, market, database_url = amazon_serve
    _start(gateway, market)
    rows = REASON_TABLES["amazon"]
    for n, row in enumerate(rows):
        market.place_order(f"O-{n}", [("HAT", 1)])
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - len(rows), 60, "every order taking one HAT")
    for n, row in enumerate(rows):
        market.cancel_item(f"O-{n}", 1, cancelled_by="BUYER" if row.api_codes[0] == "BuyerCanceled" else "MERCHANT",
                           reason=row.api_codes[0])
    kept = sum(not row.restores for row in rows)
    gateway.wait_until(lambda: market.quantity("HAT") == 10 - kept, 60, "the restores on Amazon")
    for n, row in enumerate(rows):
        explained = gateway.cli("orders", "explain", "amz", f"O-{n}", "--json")
        assert explained.returncode == 0, explained.stderr
        line = json.loads(explained.stdout)["lines"][0]
        assert line["cancellation"]["reason"] == row.api_codes[0]
        assert sum(a["restored_units"] for a in line["allocations"]) == (1 if row.restores else 0), line
        assert line["cancellation"]["by"] == ("buyer" if row.api_codes[0] == "BuyerCanceled" else "seller")
    assert market.violations == []


def test_serve_with_the_refresh_token_variable_not_set_stops_with_one_line_naming_the_key(amazon_serve, monkeypatch):
    gateway, market, database_url = amazon_serve
    monkeypatch.delenv("AMZ_E2E_REFRESH_TOKEN")
    result = gateway.cli("serve")
    assert result.returncode == 2
    assert "options.refresh_token_env: environment variable AMZ_E2E_REFRESH_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr and market.refresh_token not in result.stderr
