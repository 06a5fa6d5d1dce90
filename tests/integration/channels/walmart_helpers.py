"""Helpers for Walmart adapter tests: an adapter pointed at the contract server, with recorded waits."""

from __future__ import annotations

import time

from channels.http import ChannelHttp, RetryPolicy
from channels.walmart import WalmartAdapter, WalmartOptions


class Waits(list):
    """Records each wait the HTTP client asked for instead of sleeping it (the server does not care)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def walmart_adapter(server, *, waits: Waits | None = None, policy: RetryPolicy = RetryPolicy(base_seconds=0.01,
                    max_delay_seconds=5, budget_seconds=10), now=time.time, store=None, **options) -> WalmartAdapter:
    http = ChannelHttp("wm", server.url, policy=policy, sleep=waits if waits is not None else time.sleep, now=now)
    return WalmartAdapter("wm", http, server.market.client_id, server.market.client_secret, store=store,
                          options=WalmartOptions(**options), now=now)
