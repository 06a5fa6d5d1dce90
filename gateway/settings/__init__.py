"""The configuration: settings objects (`model`), read once from TOML (`loading`), checked (`checks`),
with every local path made absolute (`paths`). Import what you need from here: `gateway.settings`.
"""

from gateway.settings.checks import DATABASE_SCHEMES, PRIORITY_LIMIT, check_settings, is_loopback_host
from gateway.settings.loading import ConfigDeprecationWarning, load_settings, parse_settings
from gateway.settings.model import (
    MARKETPLACES, AccountSettings, ChannelSettings, FileSettings, FtpSettings, Settings, SourceSettings,
    WarehouseSettings, WebSettings,
)

__all__ = [
    "DATABASE_SCHEMES", "MARKETPLACES", "PRIORITY_LIMIT", "AccountSettings", "ChannelSettings",
    "ConfigDeprecationWarning", "FileSettings", "FtpSettings", "Settings", "SourceSettings", "WarehouseSettings",
    "WebSettings", "check_settings", "is_loopback_host", "load_settings", "parse_settings",
]
