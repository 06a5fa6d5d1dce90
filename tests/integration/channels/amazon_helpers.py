"""Helpers for amazon adapter tests: the contract server fixture and an adapter pointed at it."""

from __future__ import annotations

import time

import pytest

from adapter_helpers import TEST_POLICY, Waits, contract_http
from channels.amazon import AmazonAdapter, AmazonOptions
from channels.http import RetryPolicy

__all__ = ["Waits", "amazon_adapter", "amazon_server"]


@pytest.fixture
def amazon_server():
    """The SP-API contract server on 127.0.0.1, port 0 (`.market` is its state, `.url` its address)."""
    from amazon_server import AmazonServer

    server = AmazonServer().start()
    yield server
    server.stop()


def amazon_adapter(server, *, waits: Waits | None = None, policy: RetryPolicy = TEST_POLICY, now=time.time,
                   store=None, plans=None, refresh_token: str | None = None, **options) -> AmazonAdapter:
    market = server.market
    http = contract_http("amz", server, waits=waits, policy=policy, now=now)
    options = {"seller_id": market.seller_id, "token_url": server.token_url, **options}
    return AmazonAdapter("amz", http, market.client_id, market.client_secret, refresh_token or market.refresh_token,
                         store=store, options=AmazonOptions(**options), now=now, plans=plans)
