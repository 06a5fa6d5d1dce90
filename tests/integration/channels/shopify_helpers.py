"""Helpers for Shopify adapter and channel tests: an adapter pointed at the contract server, with waits that
move the server's clock instead of sleeping (the cost bucket refills as if the time had passed), and the
options naming the credential variables."""

from __future__ import annotations

import adapter_helpers
from adapter_helpers import contract_http
from channels.http import RetryPolicy
from channels.shopify import ShopifyAdapter, ShopifyOptions
from marketplace_channel import credential_options

SHOPIFY_POLICY = RetryPolicy(base_seconds=0.01, max_delay_seconds=30, budget_seconds=120)
CLIENT_ENV = {"SHOP_TEST_CLIENT_ID": "client_id", "SHOP_TEST_CLIENT_SECRET": "client_secret"}
TOKEN_ENV = {"SHOP_TEST_TOKEN": "access_token"}
# the channel's retries: quick, with room for the waits a throttled answer asks for
RETRIES = {"backoff_base_seconds": 0.01, "throttle_max_delay_seconds": 0.5, "throttle_budget_seconds": 2}


def shopify_options(server, monkeypatch, env: dict[str, str], **options) -> dict:
    """A `shopify` channel's options for the contract server: `env`'s credential variables set and named,
    RETRIES, then `options`."""
    return {"base_url": server.url, **credential_options(monkeypatch, server.market, env), **RETRIES, **options}


class Waits(adapter_helpers.Waits):
    """Records each wait the adapter asked for and moves the market's clock on by it."""

    def __init__(self, market=None):
        super().__init__()
        self.market = market

    def __call__(self, seconds: float) -> None:
        super().__call__(seconds)
        if self.market is not None:
            self.market.offset += seconds


def shopify_adapter(server, *, waits: Waits | None = None, policy: RetryPolicy = SHOPIFY_POLICY, now=None,
                    store=None, client: bool = False, locations=(), **options) -> ShopifyAdapter:
    market = server.market
    now = now or market.now
    http = contract_http("shop", server, waits=waits if waits is not None else Waits(market), policy=policy, now=now)
    credentials = {"client_id": market.client_id, "client_secret": market.client_secret} if client \
        else {"access_token": market.static_token}
    return ShopifyAdapter("shop", http, store=store, options=ShopifyOptions(**options), now=now,
                          locations=locations, **credentials)
