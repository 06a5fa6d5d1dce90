"""The builder of `adapter = "shopify"` channels (docs/channels/shopify.md): options checked (errors name
`channels[N].options.<option>`), the shop's URL from `shop` (or `base_url`), the credentials from the
environment or files (`access_token_env`/`_file`, or `client_id_*` + `client_secret_*` for the client
credentials grant), one `ChannelHttp` and a token store shared by every process.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from channels.shopify import (
    BATCH_LIMIT, PAGINATION_CAP, ShopifyAdapter, ShopifyOptions, check_api_version, location_gid,
)
from channels.shopify_orders import TAKE_STOCK_AT
from gateway.channel_sync.credentials import credential
from gateway.channel_sync.marketplace_adapters import channel_http, checked_options
from gateway.channel_sync.token_store import FileTokenStore, token_path
from gateway.errors import ConfigError

SHOPIFY_OPTIONS = {"shop": str, "api_version": str, "location_id": str, "cas_retries": int, "reason": str,
                   "token_margin_seconds": float, "order_overlap_seconds": float, "first_pull_hours": float,
                   "orders_page_size": int, "variants_page_size": int, "batch_size": int, "pagination_cap": int,
                   "take_stock_at": str, "access_token_env": str, "access_token_file": str}
FLAGS = ("compare_and_set", "cancel_refund", "cancel_notify_customer")
LIMITS = {"orders_page_size": 250, "variants_page_size": 250, "batch_size": BATCH_LIMIT,
          "pagination_cap": PAGINATION_CAP}


def shopify_adapter(channel, data_dir: Path, transport=None, db=None) -> ShopifyAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "shopify"`; `transport` is an httpx transport."""
    key = channel.key("options")
    raw = dict(channel.options)
    flags = {}
    for name in FLAGS:
        if name in raw:
            value = raw.pop(name)
            if not isinstance(value, bool):
                raise ConfigError(f"{key}.{name}: must be true or false, got {value!r}")
            flags[name] = value
    options = checked_options(raw, SHOPIFY_OPTIONS, key)
    for name, limit in LIMITS.items():
        if options.get(name, 0) > limit:
            raise ConfigError(f"{key}.{name}: at most {limit}, got {options[name]}")
    problem = check_api_version(options.get("api_version", ShopifyOptions.api_version))
    if problem:
        raise ConfigError(f"{key}.api_version: {problem}")
    if options.get("take_stock_at", "authorized") not in TAKE_STOCK_AT:
        raise ConfigError(f"{key}.take_stock_at: {options['take_stock_at']!r} is not one of {', '.join(TAKE_STOCK_AT)}")
    shop = options.get("shop")
    if shop is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*(\.myshopify\.com)?", shop):
        raise ConfigError(f"{key}.shop: {shop!r} is not a shop name (the part before .myshopify.com)")
    if shop is None and "base_url" not in options:
        raise ConfigError(f"{key}.shop: required (the shop name before .myshopify.com; or set base_url)")
    url = f"https://{shop.removesuffix('.myshopify.com')}.myshopify.com" if shop else options["base_url"]
    locations = _locations(channel, options.get("location_id"))
    by_token = "access_token_env" in raw or "access_token_file" in raw
    by_client = any(name.startswith(("client_id_", "client_secret_")) for name in raw)
    if by_token and by_client:
        raise ConfigError(f"{key}: give access_token_env/_file (a custom app's token) or client_id_* and "
                          "client_secret_* (client credentials), not both")
    credentials = {}
    if by_client:
        credentials = {"client_id": credential(raw, "client_id", key),
                       "client_secret": credential(raw, "client_secret", key)}
    else:
        credentials = {"access_token": credential(raw, "access_token", key)}
    http = channel_http(channel, options, key, url, {"production": url}, transport)
    fields = {f.name for f in dataclasses.fields(ShopifyOptions)}
    settings = ShopifyOptions(**{name: value for name, value in {**options, **flags}.items() if name in fields})
    store = FileTokenStore(token_path(data_dir, channel.name), channel.name, db)
    return ShopifyAdapter(channel.name, http, store=store, options=settings, locations=locations, **credentials)


def _locations(channel, location_id: str | None) -> tuple[str, ...]:
    """The channel's `locations` keys (Shopify location ids, a number or a gid), checked: each one a
    location id, no location named twice, and not beside the `location_id` option."""
    if location_id is not None and location_gid(location_id) is None:
        raise ConfigError(f"{channel.key('options')}.location_id: {location_id!r} is not a Shopify location id "
                          "(a number, or gid://shopify/Location/<number>)")
    keys = tuple(str(k) for k in (getattr(channel, "locations", None) or ()))
    if keys and location_id is not None:
        raise ConfigError(f"{channel.key('options')}.location_id: a channel with `locations` names its locations "
                          "there; remove location_id")
    seen: dict[str, str] = {}
    for key in keys:
        found = location_gid(key)
        if found is None:
            raise ConfigError(f"{channel.key('locations')}.{key}: {key!r} is not a Shopify location id (a number, "
                              "or gid://shopify/Location/<number>, as Settings > Locations shows it)")
        if found in seen:
            raise ConfigError(f"{channel.key('locations')}.{key}: the same Shopify location as {seen[found]!r}")
        seen[found] = key
    return keys
