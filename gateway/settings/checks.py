"""Cross-key and range checks of loaded settings: references between sections, ports, limits, patterns.

Each failure is one ConfigError line naming the file and the key (`<file>: sources[0].cron: ...`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gateway.core.skus import is_warehouse_code
from gateway.errors import ConfigError
from parsers.issues import QUANTITY_LIMIT

if TYPE_CHECKING:
    from gateway.settings.model import ChannelSettings, Settings, WebSettings

LOCATION_MAX_LENGTH = 200               # a marketplace location id (listings.location)
PRIORITY_LIMIT = 2_147_483_647          # warehouse priority: a 32-bit database integer
INTERVAL_LIMIT = 31 * 24 * 3600         # the longest period or timeout in seconds a setting may name
DATABASE_SCHEMES = ("sqlite", "postgresql")
FTP_USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")   # also the name of the account's FTP home


def check_settings(s: Settings, prefix: str, database_key: str) -> None:
    """Every check, in order: references between sections, then ranges and formats."""
    _check_references(s, prefix)
    _check_values(s, prefix, database_key)


def _check_references(s: Settings, prefix: str) -> None:
    # warehouse codes are unique and found without regard to case: `east` names warehouse `EAST`
    codes = {"mf"} | {w.code.casefold() for w in s.warehouses}
    for i, w in enumerate(s.warehouses):
        if not is_warehouse_code(w.code):
            raise ConfigError(f"{prefix}warehouses[{i}].code: {w.code!r} must be 1-32 letters, digits, _ or -")
    _unique_code([w.code for w in s.warehouses], f"{prefix}warehouses")
    _unique([a.username for a in s.accounts], f"{prefix}accounts", "username")
    _unique([x.name for x in s.sources], f"{prefix}sources", "name")
    _unique([c.name for c in s.channels], f"{prefix}channels", "name")
    for i, c in enumerate(s.channels):
        if not c.name.strip() or "/" in c.name or any(ord(ch) < 32 or ord(ch) == 127 for ch in c.name):
            raise ConfigError(f"{prefix}channels[{i}].name: {c.name!r} must be a name without '/' or control "
                              "characters (it is part of the web page's and the API's addresses)")
    for i, a in enumerate(s.accounts):
        if not FTP_USERNAME.match(a.username):
            raise ConfigError(f"{prefix}accounts[{i}].username: {a.username!r} must be 1-64 letters, digits, "
                              "_ . @ or -, not starting with . @ or -")
        for code in a.warehouses:
            if code.casefold() not in codes:
                raise ConfigError(f"{prefix}accounts[{i}].warehouses: {code!r} is not a configured warehouse")
    for i, src in enumerate(s.sources):
        key = f"{prefix}sources[{i}]"
        if src.warehouse.casefold() not in codes:
            raise ConfigError(f"{key}.warehouse: {src.warehouse!r} is not a configured warehouse")
        if src.type == "folder" and not src.path:
            raise ConfigError(f"{key}.path: required for a folder source")
        if src.type == "sftp":
            for name in ("host", "username", "known_hosts"):
                if not getattr(src, name):
                    raise ConfigError(f"{key}.{name}: required for an sftp source")
            if not (src.key_file or src.password_env):
                raise ConfigError(f"{key}.key_file: an sftp source needs key_file or password_env")
        if src.after == "move" and not src.move_to and src.type == "sftp":
            raise ConfigError(f"{key}.move_to: required when after = \"move\"")
    for i, c in enumerate(s.channels):
        _check_locations(c.locations, codes, f"{prefix}channels[{i}].locations")
    _check_web(s.web, prefix)


def _check_locations(locations: dict, codes: set[str], key: str) -> None:
    """`locations = { "<location id>" = ["WH1", "WH2"] }`: every location id 1-200 characters (not only
    spaces), each naming a non-empty list of configured warehouses, each warehouse in at most one location."""
    seen: dict[str, str] = {}
    for location, warehouses in locations.items():
        if not location.strip() or len(location) > LOCATION_MAX_LENGTH or "\x00" in location:
            raise ConfigError(f"{key}: location id {location[:40]!r} must be 1-{LOCATION_MAX_LENGTH} characters, "
                              "not only spaces")
        where = f"{key}.{location}"
        if not isinstance(warehouses, list) or not warehouses or not all(isinstance(w, str) for w in warehouses):
            raise ConfigError(f"{where}: expected a non-empty list of warehouse codes, got {warehouses!r}")
        for code in warehouses:
            if code.casefold() not in codes:
                raise ConfigError(f"{where}: {code!r} is not a configured warehouse")
            if code.casefold() in seen:
                raise ConfigError(f"{where}: warehouse {code!r} already feeds location {seen[code.casefold()]!r}: "
                                  "a warehouse feeds at most one location of a channel")
            seen[code.casefold()] = location


def _check_values(s: Settings, prefix: str, database_key: str) -> None:
    """Ranges and formats that would otherwise fail later (a port that wraps, a pattern that never compiles)."""
    _check_database_url(s.database_url, database_key)
    _check_port(s.ftp.port, f"{prefix}ftp.port", allow_any=True)
    _check_port(s.web.port, f"{prefix}web.port", allow_any=True)
    _check_passive_ports(s.ftp.passive_ports, f"{prefix}ftp.passive_ports")
    for name in ("max_upload_mb", "max_failed_logins", "max_connections_per_ip", "max_connections"):
        _check_positive(getattr(s.ftp, name), f"{prefix}ftp.{name}")
    for name in ("idle_timeout_seconds", "login_timeout_seconds"):
        _check_interval(getattr(s.ftp, name), f"{prefix}ftp.{name}")
    _check_at_least(s.ftp.lockout_minutes, 0, f"{prefix}ftp.lockout_minutes")
    _check_interval(s.web.read_timeout_seconds, f"{prefix}web.read_timeout_seconds")
    try:
        re.compile(s.files.as_of_pattern)
    except re.error as exc:
        raise ConfigError(f"{prefix}files.as_of_pattern: {s.files.as_of_pattern!r} is not a valid regular "
                          f"expression ({exc})") from None
    _check_at_least(s.files.future_as_of_skew_seconds, 0, f"{prefix}files.future_as_of_skew_seconds")
    for name in ("max_file_mb", "max_uncompressed_mb", "max_compression_ratio", "max_columns", "max_sheet_mb"):
        _check_positive(getattr(s.files, name), f"{prefix}files.{name}")
    for i, w in enumerate(s.warehouses):
        if not 0 <= w.priority <= PRIORITY_LIMIT:
            raise ConfigError(f"{prefix}warehouses[{i}].priority: {w.priority} must be 0 to {PRIORITY_LIMIT:,}")
    for i, a in enumerate(s.accounts):
        key = f"{prefix}accounts[{i}]"
        if not a.password_hash.startswith("$argon2"):
            raise ConfigError(f"{key}.password_hash: not an argon2 hash (make one with `stockgate hash-password`)")
        _check_snapshot_guard(a.max_zero_fraction, a.min_rows, key)
    for i, src in enumerate(s.sources):
        key = f"{prefix}sources[{i}]"
        _check_port(src.port, f"{key}.port", allow_any=False)
        _check_snapshot_guard(src.max_zero_fraction, src.min_rows, key)
        _check_interval(src.interval_seconds, f"{key}.interval_seconds")
        _check_at_least(src.stable_seconds, 0, f"{key}.stable_seconds")
        if src.cron:
            _check_cron(src.cron, f"{key}.cron")
    for i, c in enumerate(s.channels):
        check_channel(c, f"{prefix}channels[{i}]")


def check_channel(c: ChannelSettings, key: str) -> None:
    """The range checks of one channel's values, each failure naming `{key}.{name}` and the value; the
    loader runs them on the file's channels, `gateway.channel_sync.overrides` on an operator's edit."""
    for name in ("buffer", "max_qty"):
        _check_at_least(getattr(c, name), 0, f"{key}.{name}")
        if getattr(c, name) > QUANTITY_LIMIT:
            raise ConfigError(f"{key}.{name}: {getattr(c, name)} is above the limit of {QUANTITY_LIMIT:,}")
    for name in ("push_interval_seconds", "order_interval_seconds", "listing_interval_seconds",
                 "retry_base_seconds", "retry_max_seconds"):
        _check_interval(getattr(c, name), f"{key}.{name}")


def _check_interval(value: float, key: str) -> None:
    """A period in seconds: above 0 and at most INTERVAL_LIMIT (31 days; `inf` or 1e308 would overflow the
    scheduler's clock arithmetic instead of meaning "never")."""
    _check_positive(value, key)
    if not value <= INTERVAL_LIMIT:
        raise ConfigError(f"{key}: {value} is above the limit of {INTERVAL_LIMIT:,} seconds (31 days)")


def _check_positive(value: float, key: str) -> None:
    if not value > 0:
        raise ConfigError(f"{key}: {value} must be more than 0")


def _check_at_least(value: float, low: float, key: str) -> None:
    if not value >= low:
        raise ConfigError(f"{key}: {value} must be {low} or more")


def _check_snapshot_guard(max_zero_fraction: float, min_rows: int, key: str) -> None:
    if not 0 <= max_zero_fraction <= 1:
        raise ConfigError(f"{key}.max_zero_fraction: {max_zero_fraction} must be between 0 and 1")
    _check_at_least(min_rows, 0, f"{key}.min_rows")


def _check_port(port: int, key: str, *, allow_any: bool) -> None:
    """1-65535; with `allow_any`, 0 too (listen on any free port)."""
    low = 0 if allow_any else 1
    if not low <= port <= 65535:
        any_free = " (0: any free port)" if allow_any else ""
        raise ConfigError(f"{key}: {port} is not a port number: use {low} to 65535{any_free}")


def _check_passive_ports(text: str, key: str) -> None:
    """\"A-B\" with 1024 <= A <= B <= 65535, or "" for any free port."""
    if not text.strip():
        return
    match = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", text)
    if not match:
        raise ConfigError(f"{key}: {text!r} must look like \"30000-30049\" (or \"\" for any free port)")
    low, high = int(match[1]), int(match[2])
    if not 1024 <= low <= high <= 65535:
        raise ConfigError(f"{key}: {text!r} must be a range FIRST-LAST with 1024 <= FIRST <= LAST <= 65535")


def _check_cron(expression: str, key: str) -> None:
    """The expression as the source scheduler reads it (APScheduler's crontab syntax)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{key}: {expression!r} is not a 5-field cron expression ({exc})") from None


def _check_database_url(url: str, key: str) -> None:
    """A sqlite or postgresql URL (the two engines StockGate runs on)."""
    scheme = url.split(":", 1)[0] if "://" in url else ""
    if not scheme:
        raise ConfigError(f"{key}: {url!r} is not a database URL (e.g. \"sqlite:///var/stockgate.db\" or "
                          f"\"postgresql+psycopg://user@host/db\")")
    if scheme.split("+", 1)[0] not in DATABASE_SCHEMES:
        raise ConfigError(f"{key}: {scheme!r} is not supported (use sqlite or postgresql)")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1); False for anything reachable from
    other machines, including "" and 0.0.0.0 (every interface)."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _check_web(web: WebSettings, prefix: str) -> None:
    """The web page asks for a login off loopback: refuse a configuration that would expose it without one."""
    if bool(web.username) != bool(web.password_hash):
        raise ConfigError(f"{prefix}web: set both username and password_hash (from `stockgate hash-password`), "
                          "or neither")
    if web.password_hash and not web.password_hash.startswith("$argon2"):
        raise ConfigError(f"{prefix}web.password_hash: not an argon2 hash (make one with `stockgate hash-password`)")
    if web.enabled and not web.username and not is_loopback_host(web.host):
        raise ConfigError(f"{prefix}web.host: {web.host!r} is not a loopback address, so web.username and "
                          "web.password_hash are required (or set web.host = \"127.0.0.1\")")


def _unique_code(codes: list[str], where: str) -> None:
    """Warehouse codes differing only by case are one code defined twice."""
    seen: dict[str, str] = {}
    for i, code in enumerate(codes):
        first = seen.get(code.casefold())
        seen.setdefault(code.casefold(), code)
        if first is not None:
            same = "is defined twice" if first == code else f"is {first!r} again (codes are unique without regard to case)"
            raise ConfigError(f"{where}[{i}].code: {code!r} {same}")


def _unique(values: list[str], where: str, key: str) -> None:
    seen = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ConfigError(f"{where}[{i}].{key}: {v!r} is defined twice")
        seen.add(v)
