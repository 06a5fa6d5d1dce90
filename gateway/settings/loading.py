"""Load the TOML configuration once into frozen, validated settings objects.

Every key is checked: an unknown key, a wrong type or a missing required key stops start-up with one
line naming the file and the key. Every local path is made absolute at load, against the current
directory of that moment (`paths`). Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
import warnings
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.settings.checks import check_settings
from gateway.settings.model import (
    MARKETPLACES, AccountSettings, ChannelSettings, FileSettings, FtpSettings, Settings, SourceSettings,
    WarehouseSettings, WebSettings,
)
from gateway.settings.paths import with_absolute_paths

NOT_TOML_KEYS = ("config_path", "config_key")   # filled by the loader: where the settings were read
_CHOICES = {
    ("warehouses", "kind"): ("merchant", "3pl", "fba"),
    ("accounts", "mode"): ("partial", "full", "delta"),
    ("sources", "mode"): ("partial", "full", "delta"),
    ("sources", "type"): ("sftp", "folder"),
    ("sources", "after"): ("delete", "move", "keep"),
    ("channels", "marketplace"): MARKETPLACES,
    ("channels", "adapter"): ("sandbox", "feed", "walmart", "amazon", "shopify", "ebay"),
    ("channels", "restore_policy"): ("always", "never", "smart"),
}


def _type_name(tp: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", Path: "a path"}
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "a list of " + _type_name(typing.get_args(tp)[0]).removeprefix("a ").removeprefix("an ") + "s"
    if origin is dict:
        return "a table"
    return str(tp)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp`; return it in the settings' own types."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _coerce(value, args[0], where)
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp in (str, Path):
        ok = isinstance(value, str)
        value = Path(value) if ok and tp is Path else value
    elif origin is tuple:
        ok = isinstance(value, list)
        if ok:
            value = tuple(_coerce(v, typing.get_args(tp)[0], f"{where}[{i}]") for i, v in enumerate(value))
    elif origin is dict:
        ok = isinstance(value, dict)
        if ok and typing.get_args(tp)[1] is str:
            for k, v in value.items():
                _coerce(v, str, f"{where}.{k}")
    else:
        ok = True
    if not ok:
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def _checked_value(value: Any, tp: Any, section: str, name: str, key: str) -> Any:
    """One key's value in the settings' own type, refused when its type or choice is wrong."""
    value = _coerce(value, tp, key)
    choices = _CHOICES.get((section, name))
    if choices and value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)}")
    return value


def channel_value(name: str, value: Any, key: str) -> Any:
    """A [[channels]] key's value checked as the loader checks it in the file (its type, its choices);
    ConfigError naming `key` and the value otherwise. Ranges are `checks.check_channel`'s."""
    return _checked_value(value, typing.get_type_hints(ChannelSettings)[name], "channels", name, key)


def channel_choices(name: str) -> tuple[str, ...]:
    """The values a [[channels]] key may take, or () when it is not a choice."""
    return _CHOICES.get(("channels", name), ())


def _build(cls: type, table: Any, where: str, section: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {table!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in NOT_TOML_KEYS}
    for key in table:
        if key not in fields:
            raise ConfigError(f"{where}.{key}: unknown key (known: {', '.join(sorted(fields))})")
    values = {}
    for name, f in fields.items():
        key = f"{where}.{name}"
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{key}: required key is missing")
            continue
        values[name] = _checked_value(table[name], hints[name], section, name, key)
    if "config_key" in {f.name for f in dataclasses.fields(cls)}:
        values["config_key"] = where
    return cls(**values)


def _build_list(cls: type, items: Any, section: str, prefix: str) -> tuple:
    if not isinstance(items, list):
        raise ConfigError(f"{prefix}{section}: expected an array of tables ([[{section}]]), got {items!r}")
    return tuple(_build(cls, item, f"{prefix}{section}[{i}]", section) for i, item in enumerate(items))


class ConfigDeprecationWarning(DeprecationWarning):
    """A deprecated configuration key was read; the CLI prints these as one `stockgate: warning:` line."""


def _legacy_channel_policy(table: dict, where: str) -> dict:
    """Read the deprecated `restore_qty_on_cancel` as a restore policy, with a ConfigDeprecationWarning.

    Beside an explicit `restore_policy` it must say the same thing (then it only warns); a conflict
    between the two is a ConfigError naming both keys, since either reading could give stock away wrongly.
    """
    from gateway.core.restore_policy import policy_from_legacy

    channels = table.get("channels")
    for i, channel in enumerate(channels if isinstance(channels, list) else []):
        legacy = channel.get("restore_qty_on_cancel") if isinstance(channel, dict) else None
        if not isinstance(legacy, bool):
            continue                           # absent, or a wrong type that _coerce names
        policy, message = policy_from_legacy(legacy)
        key = f"{where}channels[{i}]"
        setting = "true" if legacy else "false"
        explicit = channel.get("restore_policy")
        if explicit is None:
            channel["restore_policy"] = str(policy)
        elif explicit not in _CHOICES[("channels", "restore_policy")]:
            continue                           # the choice check names the bad value
        elif explicit != str(policy):
            raise ConfigError(f"{key}.restore_qty_on_cancel: {setting} (the deprecated switch, read as "
                              f"restore_policy = \"{policy}\") conflicts with {key}.restore_policy = "
                              f"\"{explicit}\": remove restore_qty_on_cancel and keep the restore_policy you mean")
        else:
            message = (f"restore_qty_on_cancel = {setting} is deprecated and agrees with restore_policy = "
                       f"\"{explicit}\"; remove restore_qty_on_cancel")
        warnings.warn(f"{key} ({channel.get('name')!r}): {message}", ConfigDeprecationWarning, stacklevel=3)
    return table


def parse_settings(table: dict, config_path: Path | None = None,
                   environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Validate a parsed TOML table (plus environment overrides) into Settings."""
    environ = os.environ if environ is None else environ
    prefix = f"{config_path}: " if config_path else ""
    table = _legacy_channel_policy(dict(table), prefix)
    sections = {"ftp": FtpSettings, "web": WebSettings, "files": FileSettings}
    lists = {"warehouses": WarehouseSettings, "accounts": AccountSettings, "sources": SourceSettings,
             "channels": ChannelSettings}
    known = {"data_dir", "database_url"} | set(sections) | set(lists)
    for key in table:
        if key not in known:
            raise ConfigError(f"{prefix}{key}: unknown key (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {"config_path": config_path}
    for name in ("data_dir", "database_url"):
        if name in table:
            values[name] = _coerce(table[name], Path if name == "data_dir" else str, f"{prefix}{name}")
    for name, cls in sections.items():
        if name in table:
            values[name] = _build(cls, table[name], f"{prefix}{name}", name)
    for name, cls in lists.items():
        if name in table:
            values[name] = _build_list(cls, table[name], name, prefix)
    if environ.get("STOCKGATE_DATA_DIR"):
        values["data_dir"] = Path(environ["STOCKGATE_DATA_DIR"])
    if environ.get("STOCKGATE_DATABASE_URL"):
        values["database_url"] = environ["STOCKGATE_DATABASE_URL"]
    settings = Settings(**values)
    if not settings.database_url:
        settings = dataclasses.replace(settings, database_url=f"sqlite:///{settings.data_dir / 'stockgate.db'}")
    from_environ = bool(environ.get("STOCKGATE_DATABASE_URL"))
    check_settings(settings, prefix, "STOCKGATE_DATABASE_URL" if from_environ else f"{prefix}database_url")
    return with_absolute_paths(settings)


def load_settings(path: str | Path | None = None, environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Find and load the configuration: `path`, else $STOCKGATE_CONFIG, else ./stockgate.toml, else defaults."""
    environ = os.environ if environ is None else environ
    explicit = path or environ.get("STOCKGATE_CONFIG")
    candidate = Path(explicit) if explicit else Path("stockgate.toml")
    if not candidate.exists():
        if explicit:
            raise ConfigError(f"{candidate}: configuration file not found")
        return parse_settings({}, None, environ)
    try:
        with candidate.open("rb") as fh:
            table = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{candidate}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{candidate}: cannot read: {exc.strerror}") from exc
    return parse_settings(table, candidate, environ)
