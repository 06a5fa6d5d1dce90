"""Helpers for eBay adapter tests: an adapter pointed at the contract server, with recorded waits."""

from __future__ import annotations

import time

from channels.ebay import EbayAdapter, EbayOptions
from channels.http import ChannelHttp, RetryPolicy

from walmart_helpers import Waits  # noqa: F401  (the same recorder of waits)


def ebay_adapter(server, *, waits=None, policy: RetryPolicy = RetryPolicy(base_seconds=0.01, max_delay_seconds=5,
                 budget_seconds=10), now=time.time, store=None, **options) -> EbayAdapter:
    http = ChannelHttp("eb", server.url, policy=policy, sleep=waits if waits is not None else time.sleep, now=now)
    market = server.market
    return EbayAdapter("eb", http, market.client_id, market.client_secret, market.refresh_token, store=store,
                       options=EbayOptions(**options), now=now)
