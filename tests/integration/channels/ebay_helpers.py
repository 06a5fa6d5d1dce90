"""Helpers for eBay adapter tests: an adapter pointed at the contract server, with recorded waits."""

from __future__ import annotations

import time

from adapter_helpers import TEST_POLICY, Waits, contract_http
from channels.ebay import EbayAdapter, EbayOptions
from channels.http import RetryPolicy

__all__ = ["Waits", "ebay_adapter"]


def ebay_adapter(server, *, waits: Waits | None = None, policy: RetryPolicy = TEST_POLICY, now=time.time, store=None,
                 **options) -> EbayAdapter:
    http = contract_http("eb", server, waits=waits, policy=policy, now=now)
    market = server.market
    return EbayAdapter("eb", http, market.client_id, market.client_secret, market.refresh_token, store=store,
                       options=EbayOptions(**options), now=now)
