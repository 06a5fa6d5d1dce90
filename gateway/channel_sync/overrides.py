"""Channel settings an operator edits (`stockgate channels set`, the Integrations page), kept in the database.

An edit (table `channel_settings`) wins over the configuration file's value until it is unset; it is
checked exactly as the file's value is (`gateway.settings`: type, choices, ranges) and refused whole,
nothing stored, when one value is wrong. The columns the pipeline reads (`channels.restore_policy`,
`buffer`, `max_qty`) always hold the effective value: an edit writes them in its own transaction (with
the pushes it makes owed), and `gateway.app.sync_config` lays the edits over the file at every start.
The scheduler reads the schedule keys through `effective_channel`.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from gateway.accounts.audit import record
from gateway.clock import iso, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.upsert import upsert
from gateway.errors import ConfigError, NotFoundError, UsageError
from gateway.settings import ChannelSettings, Settings
from gateway.settings.checks import check_channel
from gateway.settings.loading import channel_value

# key -> what the Integrations page and `channels settings` say about it
EDITABLE_KEYS: Mapping[str, str] = {
    "restore_policy": "what a marketplace cancellation gives back: always, never, or smart (by the reason)",
    "buffer": "units held back from the channel: it is pushed available - buffer",
    "max_qty": "the most the channel is shown (0: no cap)",
    "push_interval_seconds": "how often every listing not showing its target is pushed again",
    "order_interval_seconds": "how often orders and cancellations are pulled",
    "listing_interval_seconds": "how often new listings are fetched (incremental sync)",
}
SCHEDULE_KEYS = ("push_interval_seconds", "order_interval_seconds", "listing_interval_seconds")
PIPELINE_COLUMNS = ("restore_policy", "buffer", "max_qty")   # the channels table's copies of the settings
FILE_SOURCE = "config file"


class ChannelSettingError(UsageError):
    """An edit of a channel setting that cannot be stored: unknown channel or key, or a bad value."""


@dataclass(frozen=True)
class SettingValue:
    """One key's effective value and where it comes from."""

    key: str
    value: Any
    source: str                      # "config file" or "edit by X at T"
    file_value: Any
    updated_by: str | None = None
    updated_at: datetime | None = None

    def as_dict(self) -> dict:
        return {"key": self.key, "value": self.value, "source": self.source, "file_value": self.file_value,
                "updated_by": self.updated_by, "updated_at": iso(self.updated_at)}


@dataclass(frozen=True)
class EffectiveChannel:
    """A channel's settings with every edit applied, and each editable key's source."""

    channel: ChannelSettings
    values: tuple[SettingValue, ...]

    def as_dict(self) -> dict:
        return {"channel": self.channel.name, "marketplace": self.channel.marketplace,
                "settings": [v.as_dict() for v in self.values]}


def configured_channel(settings: Settings, name: str) -> ChannelSettings:
    """The channel called `name` in the configuration; ChannelSettingError naming the known ones otherwise."""
    cfg = settings.channel(name)
    if cfg is None:
        known = ", ".join(c.name for c in settings.channels) or "none"
        raise ChannelSettingError(f"channel {name!r} is not configured (configured: {known})")
    return cfg


def parse_setting(cfg: ChannelSettings, key: str, raw: Any) -> Any:
    """`raw` (text from a command line, or a JSON value from the API) as the value of `key`, checked as
    the configuration file's value would be; ChannelSettingError naming channel, key and value otherwise."""
    where = f"channels[{cfg.name!r}].{key}"
    if key not in EDITABLE_KEYS:
        raise ChannelSettingError(f"{where}: not a setting that can be edited (editable: {', '.join(EDITABLE_KEYS)})")
    value = raw
    if isinstance(raw, str) and key not in ("restore_policy",):
        try:                         # a number is written as in the file: 5, 2.5, 1e3
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
    try:
        value = channel_value(key, value, where)
        check_channel(dataclasses.replace(cfg, **{key: value}), f"channels[{cfg.name!r}]")
    except ConfigError as exc:
        raise ChannelSettingError(str(exc)) from None
    return value


def _edits(conn: Connection, channel: str | None = None) -> dict[str, dict[str, Any]]:
    """channel -> key -> its stored edit row (only keys still editable)."""
    cs = schema.channel_settings.c
    query = select(cs.channel, cs.key, cs.value, cs.updated_by, cs.updated_at)
    if channel is not None:
        query = query.where(cs.channel == channel)
    edits: dict[str, dict[str, Any]] = {}
    for row in conn.execute(query):
        if row.key in EDITABLE_KEYS:
            edits.setdefault(row.channel, {})[row.key] = row
    return edits


def channel_edits(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every channel's stored edits, as `effective_channel` takes them."""
    return _edits(conn)


def effective_channel(cfg: ChannelSettings, edits: Mapping[str, Any] | None) -> EffectiveChannel:
    """The file's channel with these stored edits (key -> row with value, updated_by, updated_at) applied.
    A stored value the file's checks would now refuse (edited under an older StockGate) is ignored."""
    values, changes = [], {}
    for key in EDITABLE_KEYS:
        row = (edits or {}).get(key)
        file_value = getattr(cfg, key)
        value = json.loads(row.value) if row is not None else file_value
        if row is not None:
            try:
                value = parse_setting(cfg, key, value)
            except ChannelSettingError:
                row, value = None, file_value
        if row is None:
            values.append(SettingValue(key, file_value, FILE_SOURCE, file_value))
            continue
        changes[key] = value
        when = iso(row.updated_at.replace(microsecond=0))
        values.append(SettingValue(key, value, f"edit by {row.updated_by} at {when}", file_value,
                                   row.updated_by, row.updated_at))
    return EffectiveChannel(dataclasses.replace(cfg, **changes), tuple(values))


def effective_channel_settings(db: Database | Connection, settings: Settings, name: str) -> EffectiveChannel:
    """The channel's effective settings: each editable key's value and source ("config file" or "edit by
    X at T"). `db` is a Database or an open connection."""
    cfg = configured_channel(settings, name)
    if isinstance(db, Connection):
        return effective_channel(cfg, _edits(db, name).get(name))
    with db.read() as conn:
        return effective_channel(cfg, _edits(conn, name).get(name))


def _apply(conn: Connection, before: EffectiveChannel, after: EffectiveChannel) -> None:
    """Write the effective values into the channels row the pipeline reads; a changed buffer or cap makes
    every listing not showing its new target owe a push, in this transaction."""
    from gateway.channel_sync.pusher import reconcile_channel

    c = schema.channels.c
    wanted = {k: getattr(after.channel, k) for k in PIPELINE_COLUMNS}
    row = conn.execute(select(c.id).where(c.name == after.channel.name)).first()
    if row is None:
        raise NotFoundError(f"channel {after.channel.name!r} is not in the database yet: run `stockgate init`")
    conn.execute(update(schema.channels).where(c.id == row.id).values(**wanted))
    if any(getattr(before.channel, k) != getattr(after.channel, k) for k in ("buffer", "max_qty")):
        reconcile_channel(conn, row.id)


def set_channel_settings(conn: Connection, settings: Settings, name: str, edits: Mapping[str, Any], *,
                         actor: str, at: datetime | None = None) -> EffectiveChannel:
    """Store these edits of channel `name` (key -> text or value) by `actor`, all or none: every value is
    checked before anything is written. Returns the channel's effective settings afterwards."""
    cfg = configured_channel(settings, name)
    if not edits:
        raise ChannelSettingError(f"channels[{name!r}]: no KEY=VALUE given")
    try:
        parsed = {key: parse_setting(cfg, key, raw) for key, raw in edits.items()}
    except ChannelSettingError as exc:
        raise ChannelSettingError(f"{exc} (nothing was changed)") from None
    actor = actor.strip() or "unknown"
    before = effective_channel(cfg, _edits(conn, name).get(name))
    at = at or now()
    upsert(conn, schema.channel_settings,
           [{"channel": name, "key": key, "value": json.dumps(value), "updated_by": actor[:200], "updated_at": at}
            for key, value in parsed.items()], ["channel", "key"], ["value", "updated_by", "updated_at"])
    after = effective_channel(cfg, _edits(conn, name).get(name))
    _apply(conn, before, after)
    record(conn, actor=actor, action="channel.set", target=name,
           detail={key: {"from": _value(before, key), "to": _value(after, key)} for key in parsed})
    return after


def unset_channel_setting(conn: Connection, settings: Settings, name: str, key: str, *,
                          actor: str) -> tuple[bool, EffectiveChannel]:
    """Drop the edit of `key`, so the configuration file's value applies again. Returns (whether there
    was an edit, the effective settings afterwards)."""
    cfg = configured_channel(settings, name)
    if key not in EDITABLE_KEYS:
        raise ChannelSettingError(f"channels[{name!r}].{key}: not a setting that can be edited "
                                  f"(editable: {', '.join(EDITABLE_KEYS)})")
    before = effective_channel(cfg, _edits(conn, name).get(name))
    cs = schema.channel_settings.c
    removed = conn.execute(delete(schema.channel_settings).where(cs.channel == name, cs.key == key)).rowcount
    after = effective_channel(cfg, _edits(conn, name).get(name))
    _apply(conn, before, after)
    if removed:
        record(conn, actor=actor, action="channel.unset", target=name,
               detail={key: {"from": _value(before, key), "to": _value(after, key)}})
    return bool(removed), after


def patch_channel_settings(conn: Connection, settings: Settings, name: str, changes: Mapping[str, Any], *,
                           actor: str) -> EffectiveChannel:
    """Set and unset keys of channel `name` in one go (a value of None drops that key's edit, as
    `channels unset`), all or none: a bad value refuses the lot before anything is written; audited."""
    cfg = configured_channel(settings, name)
    if not changes:
        raise ChannelSettingError(f"channels[{name!r}]: nothing to change")
    for key in changes:
        if key not in EDITABLE_KEYS:
            raise ChannelSettingError(f"channels[{name!r}].{key}: not a setting that can be edited "
                                      f"(editable: {', '.join(EDITABLE_KEYS)}) (nothing was changed)")
    edits = {key: value for key, value in changes.items() if value is not None}
    if edits:
        set_channel_settings(conn, settings, name, edits, actor=actor)
    for key in (key for key, value in changes.items() if value is None):
        unset_channel_setting(conn, settings, name, key, actor=actor)
    return effective_channel(cfg, _edits(conn, name).get(name))


def _value(channel: EffectiveChannel, key: str) -> Any:
    return next(v.value for v in channel.values if v.key == key)


def _key_type(key: str) -> dict:
    from gateway.settings.loading import channel_choices
    from parsers.issues import QUANTITY_LIMIT

    if channel_choices(key):
        return {"type": "choice", "choices": list(channel_choices(key))}
    if key in SCHEDULE_KEYS:
        return {"type": "number", "unit": "seconds", "more_than": 0}
    return {"type": "integer", "minimum": 0, "maximum": QUANTITY_LIMIT}


def smart_reason_table(marketplace: str) -> dict:
    """What `smart` does on this marketplace: its reason table (each reason, verdict, whether stock comes
    back, the API codes), or why there is none; for the Integrations page and the API."""
    from gateway.core.reason_tables import REASON_TABLES

    rows = REASON_TABLES.get(str(marketplace).strip().lower())
    if rows is None:
        return {"marketplace": marketplace, "rows": [],
                "note": f"{marketplace} has no reason table: under smart every cancellation restores its stock"}
    return {"marketplace": marketplace,
            "rows": [{"reason": r.reason, "verdict": r.verdict, "restores": r.restores, "api_codes": list(r.api_codes)}
                     for r in rows],
            "note": "a reason not in the table, or none, is treated as Ambiguous: stock is restored"}


def editable_channel_settings(db: Database | Connection, settings: Settings, name: str) -> dict:
    """Everything a settings form needs for channel `name`: each editable key with its description, type
    and allowed values, effective value and source; and the marketplace's reason table for `smart`."""
    effective = effective_channel_settings(db, settings, name)
    keys = [{**value.as_dict(), "description": EDITABLE_KEYS[value.key], **_key_type(value.key)}
            for value in effective.values]
    return {"channel": name, "marketplace": effective.channel.marketplace, "settings": keys,
            "smart_reasons": smart_reason_table(effective.channel.marketplace)}
