"""Helpers shared by the marketplace adapter tests against a contract server: the HTTP client pointed at
it with waits recorded instead of slept, the calls the server received, and every page of orders."""

from __future__ import annotations

import time

from channels.http import ChannelHttp, RetryPolicy

TEST_POLICY = RetryPolicy(base_seconds=0.01, max_delay_seconds=5, budget_seconds=10)


class Waits(list):
    """Records each wait the HTTP client asked for instead of sleeping it (the server does not care)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def contract_http(name: str, server, *, waits=None, policy: RetryPolicy = TEST_POLICY, now=time.time) -> ChannelHttp:
    """Channel `name`'s HTTP client for the contract server; it sleeps its waits unless `waits` records them."""
    return ChannelHttp(name, server.url, policy=policy, sleep=waits if waits is not None else time.sleep, now=now)


def calls(market, method: str, path: str) -> list[dict]:
    """The requests the server received with this method and path."""
    return [r for r in market.requests if r["method"] == method and r["path"] == path]


def all_orders(adapter, pages: int = 5) -> list:
    """The orders of up to `pages` pages, each fetched with the cursor the one before gave."""
    seen, cursor = [], None
    for _ in range(pages):
        page = adapter.fetch_orders(cursor)
        seen += page.orders
        cursor = page.cursor
        if not page.more:
            break
    return seen
