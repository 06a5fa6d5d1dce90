"""Helpers for Shopify adapter tests: an adapter pointed at the contract server, with waits that move the
server's clock instead of sleeping (the cost bucket refills as if the time had passed)."""

from __future__ import annotations

import time

from channels.http import ChannelHttp, RetryPolicy
from channels.shopify import ShopifyAdapter, ShopifyOptions


class Waits(list):
    """Records each wait the adapter asked for and moves the market's clock on by it."""

    def __init__(self, market=None):
        super().__init__()
        self.market = market

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.market is not None:
            self.market.offset += seconds


def shopify_adapter(server, *, waits: Waits | None = None, policy: RetryPolicy = RetryPolicy(
        base_seconds=0.01, max_delay_seconds=30, budget_seconds=120), now=None, store=None, client: bool = False,
        locations=(), **options) -> ShopifyAdapter:
    market = server.market
    now = now or market.now
    http = ChannelHttp("shop", server.url, policy=policy, sleep=waits if waits is not None else Waits(market),
                       now=now)
    credentials = {"client_id": market.client_id, "client_secret": market.client_secret} if client \
        else {"access_token": market.static_token}
    return ShopifyAdapter("shop", http, store=store, options=ShopifyOptions(**options), now=now,
                          locations=locations, **credentials)
