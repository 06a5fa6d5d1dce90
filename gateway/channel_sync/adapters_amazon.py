"""The builder of `adapter = "amazon"` channels (SP-API): options checked, LWA credentials from the environment
or files, one `ChannelHttp` and a token store shared by every process (docs/channels/amazon.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from channels.amazon import MIN_LAG_SECONDS, PATCH_OPS, REGIONS, AmazonAdapter, AmazonOptions, region_urls
from gateway.channel_sync.credentials import credential
from gateway.channel_sync.marketplace_adapters import channel_http, checked_options
from gateway.channel_sync.token_store import FileTokenStore, token_path
from gateway.errors import ConfigError

AMAZON_OPTIONS = {"seller_id": str, "marketplace_id": str, "fulfillment_channel_code": str, "patch_op": str,
                  "token_url": str, "token_margin_seconds": float, "order_overlap_seconds": float,
                  "orders_lag_seconds": float, "first_pull_hours": float, "orders_page_limit": int,
                  "listings_page_limit": int, "region": str, "feed_min_listings": int, "feed_poll_seconds": float,
                  "feed_wait_seconds": float,
                  "refresh_token_env": str, "refresh_token_file": str}
PAGE_LIMITS = {"orders_page_limit": 100, "listings_page_limit": 20}


def amazon_adapter(channel, data_dir: Path, transport=None, db=None) -> AmazonAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "amazon"`; `transport` is an httpx transport."""
    key = channel.key("options")
    refresh_token = credential(channel.options, "refresh_token", key)     # before the options: names the key
    options = checked_options(dict(channel.options), AMAZON_OPTIONS, key)
    if not options.get("seller_id"):
        raise ConfigError(f"{key}.seller_id: required (the merchant token of the seller: Seller Central > "
                          "Settings > Account Info > Merchant Token)")
    for name, limit in PAGE_LIMITS.items():
        if options.get(name, 0) > limit:
            raise ConfigError(f"{key}.{name}: at most {limit}, got {options[name]}")
    if options.get("patch_op", "merge") not in PATCH_OPS:
        raise ConfigError(f"{key}.patch_op: {options['patch_op']!r} is not one of {', '.join(PATCH_OPS)}")
    if options.get("orders_lag_seconds", MIN_LAG_SECONDS) < MIN_LAG_SECONDS:
        raise ConfigError(f"{key}.orders_lag_seconds: at least {MIN_LAG_SECONDS:g} (SP-API refuses a "
                          f"lastUpdatedBefore less than two minutes in the past), got {options['orders_lag_seconds']}")
    region = options.pop("region", "na")
    if region not in REGIONS:
        raise ConfigError(f"{key}.region: {region!r} is not one of {', '.join(REGIONS)}")
    client_id = credential(channel.options, "client_id", key)
    client_secret = credential(channel.options, "client_secret", key)
    urls = region_urls(region)
    http = channel_http(channel, options, key, urls["production"], urls, transport)
    fields = {f.name for f in dataclasses.fields(AmazonOptions)}
    amazon = AmazonOptions(**{name: value for name, value in options.items() if name in fields})
    store = FileTokenStore(token_path(data_dir, channel.name), channel.name, db)
    return AmazonAdapter(channel.name, http, client_id, client_secret, refresh_token, store=store, options=amazon)
