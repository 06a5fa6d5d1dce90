"""Helpers for Walmart adapter tests: an adapter pointed at the contract server, with recorded waits."""

from __future__ import annotations

import time

from adapter_helpers import TEST_POLICY, Waits, contract_http
from channels.http import RetryPolicy
from channels.walmart import WalmartAdapter, WalmartOptions

__all__ = ["Waits", "walmart_adapter"]


def walmart_adapter(server, *, waits: Waits | None = None, policy: RetryPolicy = TEST_POLICY, now=time.time,
                    store=None, **options) -> WalmartAdapter:
    http = contract_http("wm", server, waits=waits, policy=policy, now=now)
    return WalmartAdapter("wm", http, server.market.client_id, server.market.client_secret, store=store,
                          options=WalmartOptions(**options), now=now)
