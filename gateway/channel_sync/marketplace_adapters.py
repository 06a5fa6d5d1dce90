"""Builders for the adapters that speak a marketplace's own API (`adapter = "walmart"`, later the others).

Each builder reads the channel's `options` (checked here, errors naming `channels[N].options.<option>`),
its credentials from the environment or files those options name (`credentials`), and gives the adapter
its one `ChannelHttp` client and a token store shared by every process (`token_store`). The options every
such adapter shares: `base_url`, `timeout_seconds`, `max_connections`, `throttle_budget_seconds`,
`throttle_max_delay_seconds`, `backoff_base_seconds` (see docs/channels/walmart.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx

from channels.http import ChannelHttp, RetryPolicy
from channels.walmart import PRODUCTION_URL, SANDBOX_URL, WalmartAdapter, WalmartOptions
from channels.walmart_orders import TAKE_STOCK_AT
from gateway.channel_sync.credentials import credential
from gateway.channel_sync.token_store import FileTokenStore, token_path
from gateway.errors import ConfigError

HTTP_OPTIONS = {"base_url": str, "environment": str, "timeout_seconds": float, "max_connections": int,
                "throttle_budget_seconds": float, "throttle_max_delay_seconds": float, "backoff_base_seconds": float}
CREDENTIAL_OPTIONS = ("client_id_env", "client_id_file", "client_secret_env", "client_secret_file")
WALMART_OPTIONS = {"ship_node": str, "svc_name": str, "channel_type": str, "token_margin_seconds": float,
                   "order_overlap_seconds": float, "first_pull_hours": float, "orders_page_limit": int,
                   "items_page_limit": int, "take_stock_at": str}
WALMART_URLS = {"production": PRODUCTION_URL, "sandbox": SANDBOX_URL}
PAGE_LIMITS = {"orders_page_limit": 200, "items_page_limit": 200}


def checked_options(options: dict[str, Any], known: dict[str, type], key: str) -> dict[str, Any]:
    """The options with the right types, every unknown one refused (a credential named by its value, too)."""
    out = {}
    for name, value in options.items():
        if name in CREDENTIAL_OPTIONS:
            continue
        tp = known.get(name) or HTTP_OPTIONS.get(name)
        if tp is None:
            if name in ("client_id", "client_secret", "token", "access_token", "password"):
                raise ConfigError(f"{key}.{name}: a credential is never written in the configuration file; name "
                                  f"an environment variable ({name}_env) or a file ({name}_file) that holds it")
            raise ConfigError(f"{key}.{name}: unknown option (known: "
                              f"{', '.join(sorted({*known, *HTTP_OPTIONS, *CREDENTIAL_OPTIONS}))})")
        number = tp in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (isinstance(value, tp) or (tp is float and number)) or (number and value <= 0):
            kind = {str: "a string", int: "a whole number above 0", float: "a number above 0"}[tp]
            raise ConfigError(f"{key}.{name}: must be {kind}, got {value!r}")
        out[name] = tp(value)
    return out


def channel_http(channel, options: dict[str, Any], key: str, default_url: str, urls: dict[str, str],
                 transport: httpx.BaseTransport | None) -> ChannelHttp:
    """The channel's one HTTP client: `base_url`, or the URL of `environment` (production by default)."""
    environment = options.get("environment", "production")
    if environment not in urls:
        raise ConfigError(f"{key}.environment: {environment!r} is not one of {', '.join(urls)}")
    base_url = options.get("base_url") or urls.get(environment, default_url)
    if not base_url.startswith(("https://", "http://")):
        raise ConfigError(f"{key}.base_url: {base_url!r} is not an http(s) URL")
    policy = RetryPolicy(base_seconds=options.get("backoff_base_seconds", 0.5),
                         max_delay_seconds=options.get("throttle_max_delay_seconds", 30.0),
                         budget_seconds=options.get("throttle_budget_seconds", 60.0))
    return ChannelHttp(channel.name, base_url, policy=policy, timeout=options.get("timeout_seconds", 30.0),
                       max_connections=options.get("max_connections", 4), transport=transport)


def walmart_adapter(channel, data_dir: Path, transport=None, db=None) -> WalmartAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "walmart"`; `transport` is an httpx transport."""
    key = channel.key("options")
    options = checked_options(dict(channel.options), WALMART_OPTIONS, key)
    for name, limit in PAGE_LIMITS.items():
        if options.get(name, 0) > limit:
            raise ConfigError(f"{key}.{name}: at most {limit}, got {options[name]}")
    if options.get("take_stock_at", "Created") not in TAKE_STOCK_AT:
        raise ConfigError(f"{key}.take_stock_at: {options['take_stock_at']!r} is not one of {', '.join(TAKE_STOCK_AT)}")
    client_id = credential(channel.options, "client_id", key)
    client_secret = credential(channel.options, "client_secret", key)
    http = channel_http(channel, options, key, PRODUCTION_URL, WALMART_URLS, transport)
    fields = {f.name for f in dataclasses.fields(WalmartOptions)}
    walmart = WalmartOptions(**{name: value for name, value in options.items() if name in fields})
    nodes = tuple(getattr(channel, "locations", None) or ())   # `locations` is keyed by ship node id
    if nodes and walmart.ship_node:
        raise ConfigError(f"{key}.ship_node: a channel with `locations` names its ship nodes there; remove "
                          "ship_node")
    store = FileTokenStore(token_path(data_dir, channel.name), channel.name, db)
    return WalmartAdapter(channel.name, http, client_id, client_secret, store=store, options=walmart,
                          ship_nodes=nodes)
