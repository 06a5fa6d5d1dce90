"""Adapter name -> factory: a real marketplace API later is one new module plus one line here.

A factory takes the channel's settings, the data folder and an optional transport (tests pass a plain
function or object instead of the network) and returns a `channels.base.ChannelAdapter`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

ADAPTERS: dict[str, str] = {
    "sandbox": "channels.sandbox:make_sandbox_adapter",
    "feed": "channels.feed:make_feed_adapter",
}


def make_adapter(channel, data_dir: Path, transport: Any = None):
    """Build the adapter configured for `channel` (a `ChannelSettings`)."""
    target = ADAPTERS.get(channel.adapter)
    if target is None:
        raise ConfigError(f"channel {channel.name!r}: unknown adapter {channel.adapter!r} "
                          f"(known: {', '.join(sorted(ADAPTERS))})")
    module_name, factory_name = target.split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(channel, Path(data_dir), transport)
