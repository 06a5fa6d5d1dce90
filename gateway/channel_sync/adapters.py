"""Build each configured channel's adapter from its settings, with the transport it talks through; and the
one boundary where what the channels package raises for a person to fix becomes the gateway's ConfigError.

`ADAPTERS` maps an `adapter = "..."` name to its builder: a real marketplace API is one new module in
channels/ plus one builder (`marketplace_adapters`). A builder takes the channel's settings, the data folder,
an optional transport (tests pass a plain function, object or httpx transport instead of the network) and
the database (for what every process of a channel shares, such as the token refresh lease), and returns a
`channels.base.ChannelAdapter`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from channels.errors import ChannelConfigError
from channels.feed import DEFAULT_STABLE_SECONDS, FIELDS, FeedAdapter
from channels.sandbox import SandboxAdapter
from channels.sandbox_market import SandboxMarketplace, sandbox_path
from gateway.channel_sync.adapters_amazon import amazon_adapter
from gateway.channel_sync.feed_stores import open_feed_store
from gateway.channel_sync.adapters_ebay import ebay_adapter
from gateway.channel_sync.marketplace_adapters import walmart_adapter
from gateway.channel_sync.adapters_shopify import shopify_adapter
from gateway.errors import ConfigError


@contextlib.contextmanager
def channel_errors() -> Iterator[None]:
    """Around a call into channels/: a channel's state that cannot be used (ChannelConfigError) is raised
    again as ConfigError, with the same message (one line, exit status 2 on the command line)."""
    try:
        yield
    except ChannelConfigError as exc:
        raise ConfigError(str(exc)) from exc


def open_sandbox(channel, data_dir: Path) -> SandboxMarketplace:
    """The simulator behind a sandbox channel (its `timeout_seconds` option sets simulated timeouts)."""
    timeout = float(channel.options.get("timeout_seconds", 0.5))
    return SandboxMarketplace(sandbox_path(data_dir, channel.name), channel.marketplace, timeout_seconds=timeout)


def sandbox_adapter(channel, data_dir: Path, transport=None, db=None) -> SandboxAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "sandbox"`: by default it talks to the
    bundled simulator (`SandboxMarketplace.handle`, state under `<data_dir>/sandbox/`)."""
    if transport is None:
        transport = open_sandbox(channel, data_dir).handle
    return SandboxAdapter(channel.name, transport)


def feed_adapter(channel, data_dir: Path, transport=None, db=None) -> FeedAdapter:
    """The adapter for a `[[channels]]` entry with `adapter = "feed"` (options: see config/example.toml)."""
    options = dict(channel.options)
    key = channel.key("options")          # errors name `channels[1].options.<option>`
    opener = transport or open_feed_store(channel.name, options, data_dir, key=key)
    state_path = Path(data_dir) / "feed-state" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', channel.name)}.json"
    stable = _stable_seconds(options.get("stable_seconds", DEFAULT_STABLE_SECONDS), key)
    return FeedAdapter(channel.name, opener, state_path,
                       feed_name=options.get("feed_name", "inventory.csv"),
                       orders_dir=options.get("orders_dir", "orders"),
                       listings_file=options.get("listings_file", "listings.csv"),
                       columns=feed_columns(options.get("columns", ["sku", "quantity"]), key),
                       orders_pattern=options.get("orders_pattern", "*.csv"),
                       stable_seconds=stable,
                       done_marker=_flag(options.get("done_marker", False), f"{key}.done_marker"))


ADAPTERS: dict[str, Callable[..., Any]] = {
    "sandbox": sandbox_adapter,
    "feed": feed_adapter,
    "walmart": walmart_adapter,
    "amazon": amazon_adapter,
    "shopify": shopify_adapter,
    "ebay": ebay_adapter,
}


def make_adapter(channel, data_dir: Path, transport: Any = None, db: Any = None):
    """Build the adapter configured for `channel` (a `ChannelSettings`); `db` is the gateway's `Database`."""
    builder = ADAPTERS.get(channel.adapter)
    if builder is None:
        raise ConfigError(f"{channel.key('adapter')}: unknown adapter {channel.adapter!r} "
                          f"(known: {', '.join(sorted(ADAPTERS))})")
    return builder(channel, Path(data_dir), transport, db)


def feed_columns(value: Any, key: str) -> list[tuple[str, str]]:
    """(header, field) pairs from the `columns` option: a list of fields or a table header -> field; `key` is
    the channel's options key (`channels[1].options`) that errors name."""
    pairs = [(v, v) for v in value] if isinstance(value, list) else list(value.items()) if isinstance(value, dict) \
        else None
    if not pairs:
        raise ConfigError(f"{key}.columns: must be a list of fields or a table, got {value!r}")
    for header, field in pairs:
        if field not in FIELDS:
            raise ConfigError(f"{key}.columns: {field!r} is not one of {', '.join(FIELDS)}")
    return pairs


def _stable_seconds(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{key}.stable_seconds: must be a number of seconds, 0 or more; got {value!r}")
    return float(value)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false; got {value!r}")
    return value
