"""The settings objects: one small frozen dataclass per section of the TOML configuration.

`gateway.settings.loading` fills them from a file and checks every key; nothing here reads a file.
An entry of a list section keeps where it was read (`config_key`, e.g. `stockgate.toml: channels[1]`),
so an error found later, at a connection or a feed's first use, still names the key (`key("buffer")`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.core.reason_tables import MARKETPLACES  # noqa: F401  (re-exported: every marketplace a channel may name)


def _config_key(entry: Any, section: str, name: str) -> str:
    """Where `entry` was read (`<file>: sources[0]`), or `sources['<name>']` for an entry made in code."""
    return f"{entry.config_key or f'{section}[{getattr(entry, name)!r}]'}"


@dataclass(frozen=True)
class FtpSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 2121
    passive_ports: str = "30000-30049"
    masquerade_address: str = ""
    tls_certfile: str = ""
    tls_keyfile: str = ""
    require_tls: bool = False
    max_upload_mb: int = 100
    max_failed_logins: int = 5
    lockout_minutes: float = 15
    max_connections_per_ip: int = 10
    max_connections: int = 256
    idle_timeout_seconds: int = 300
    login_timeout_seconds: float = 10      # a session not logged in by then is closed


@dataclass(frozen=True)
class WebSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    username: str = ""
    password_hash: str = ""
    read_timeout_seconds: float = 30   # a request's line and headers, or a pause in a post's body


@dataclass(frozen=True)
class WarehouseSettings:
    code: str
    name: str = ""
    kind: str = "merchant"
    priority: int = 100
    sellable: bool = True


@dataclass(frozen=True)
class AccountSettings:
    username: str
    password_hash: str
    warehouses: tuple[str, ...]
    mode: str = "partial"
    create_unknown_skus: bool = False
    columns: dict[str, str] = field(default_factory=dict)
    max_zero_fraction: float = 0.5
    min_rows: int = 1
    sheet: str = ""                # XLSX: the sheet to read (default: the first visible one)
    config_key: str = field(default="", compare=False, repr=False)   # set by the loader, not a TOML key

    def key(self, name: str) -> str:
        """The full key of one of this entry's settings, for an error message: `accounts[0].{name}`."""
        return f"{_config_key(self, 'accounts', 'username')}.{name}"


@dataclass(frozen=True)
class SourceSettings:
    name: str
    type: str
    warehouse: str
    mode: str = "partial"
    path: str = ""                 # folder sources: the watched folder
    host: str = ""
    port: int = 22
    username: str = ""
    key_file: str = ""
    password_env: str = ""
    known_hosts: str = ""
    remote_dir: str = "/"
    pattern: str = "*.csv"
    stable_seconds: float = 10
    done_marker: bool = False      # wait for NAME.done / NAME.ok before fetching NAME
    after: str = "move"
    move_to: str = ""
    interval_seconds: float = 300
    cron: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    create_unknown_skus: bool = False
    max_zero_fraction: float = 0.5
    min_rows: int = 1
    sheet: str = ""                # XLSX: the sheet to read (default: the first visible one)
    config_key: str = field(default="", compare=False, repr=False)   # set by the loader, not a TOML key

    def key(self, name: str) -> str:
        """The full key of one of this entry's settings, for an error message: `sources[0].{name}`."""
        return f"{_config_key(self, 'sources', 'name')}.{name}"


@dataclass(frozen=True)
class ChannelSettings:
    name: str
    marketplace: str = "other"
    adapter: str = "sandbox"
    restore_policy: str = "smart"
    restore_qty_on_cancel: bool | None = None   # deprecated: read as restore_policy = "always"
    buffer: int = 0
    max_qty: int = 0
    enabled: bool = True
    push_interval_seconds: float = 60
    order_interval_seconds: float = 60
    listing_interval_seconds: float = 3600
    retry_base_seconds: float = 1.0      # failed pushes: first retry after 0.5-1 x this, doubling ...
    retry_max_seconds: float = 300.0     # ... up to this
    options: dict[str, Any] = field(default_factory=dict)   # adapter-specific settings
    # marketplace location id -> the warehouses that feed it ({} : the available sum goes to the channel's
    # one default location); checked by `checks._check_locations`, read through `location_warehouses`
    locations: dict[str, Any] = field(default_factory=dict)
    config_key: str = field(default="", compare=False, repr=False)   # set by the loader, not a TOML key

    def location_warehouses(self) -> dict[str, tuple[str, ...]]:
        """`locations` as location id -> warehouse codes (as written in the file)."""
        return {str(loc): tuple(codes) for loc, codes in self.locations.items()}

    def key(self, name: str) -> str:
        """The full key of one of this entry's settings, for an error message: `channels[0].{name}`."""
        return f"{_config_key(self, 'channels', 'name')}.{name}"


@dataclass(frozen=True)
class FileSettings:
    informational_columns: tuple[str, ...] = ("Title", "Name", "Description", "Size", "UPC", "ASIN")
    as_of_pattern: str = r"(?P<ts>\d{8}T?\d{4,6}Z?)"
    future_as_of_skew_seconds: float = 600   # an as_of later than receipt by more: FUTURE_AS_OF
    max_file_mb: int = 100
    max_uncompressed_mb: int = 1024
    max_compression_ratio: float = 200.0
    max_columns: int = 1000
    max_sheet_mb: int = 320


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""
    config_path: Path | None = None
    ftp: FtpSettings = FtpSettings()
    web: WebSettings = WebSettings()
    files: FileSettings = FileSettings()
    warehouses: tuple[WarehouseSettings, ...] = ()
    accounts: tuple[AccountSettings, ...] = ()
    sources: tuple[SourceSettings, ...] = ()
    channels: tuple[ChannelSettings, ...] = ()

    def account(self, username: str) -> AccountSettings | None:
        """The FTP account with this user name, if configured."""
        return next((a for a in self.accounts if a.username == username), None)

    def key(self, name: str) -> str:
        """A key of the configuration named for an error message: `<file>: ftp.port`, or `ftp.port`."""
        return f"{self.config_path}: {name}" if self.config_path else name

    def channel(self, name: str) -> ChannelSettings | None:
        """The channel with this name, if configured."""
        return next((c for c in self.channels if c.name == name), None)
