"""The builder of `adapter = "ebay"` channels: options checked (errors naming `channels[N].options.<option>`),
the client id, client secret and refresh token read from the environment or files the options name, one
`ChannelHttp` client and the token store every process shares (docs/channels/ebay.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from channels.ebay import MAX_BATCH, PRODUCTION_URL, SANDBOX_URL, EbayAdapter, EbayOptions
from gateway.channel_sync.credentials import credential
from gateway.channel_sync.marketplace_adapters import channel_http, checked_options
from gateway.channel_sync.token_store import FileTokenStore, token_path
from gateway.errors import ConfigError

EBAY_OPTIONS = {"marketplace_id": str, "merchant_location_key": str, "scopes": str, "token_margin_seconds": float,
                "order_overlap_seconds": float, "first_pull_hours": float, "orders_page_limit": int,
                "items_page_limit": int, "batch_size": int, "refresh_token_env": str, "refresh_token_file": str}
EBAY_URLS = {"production": PRODUCTION_URL, "sandbox": SANDBOX_URL}
LIMITS = {"orders_page_limit": 200, "items_page_limit": 200, "batch_size": MAX_BATCH}


def ebay_adapter(channel, data_dir: Path, transport=None, db=None) -> EbayAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "ebay"`; `transport` is an httpx transport."""
    key = channel.key("options")
    if "refresh_token" in channel.options:      # refused with the credential's own message, never shown
        credential(channel.options, "refresh_token", key)
    options = checked_options(dict(channel.options), EBAY_OPTIONS, key)
    for name, limit in LIMITS.items():
        if options.get(name, 0) > limit:
            raise ConfigError(f"{key}.{name}: at most {limit}, got {options[name]}")
    client_id = credential(channel.options, "client_id", key)
    client_secret = credential(channel.options, "client_secret", key)
    refresh_token = credential(channel.options, "refresh_token", key)
    http = channel_http(channel, options, key, PRODUCTION_URL, EBAY_URLS, transport)
    fields = {f.name for f in dataclasses.fields(EbayOptions)}
    ebay = EbayOptions(**{name: value for name, value in options.items() if name in fields})
    store = FileTokenStore(token_path(data_dir, channel.name), channel.name, db)
    return EbayAdapter(channel.name, http, client_id, client_secret, refresh_token, store=store, options=ebay)
