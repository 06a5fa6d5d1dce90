"""Make every local path in loaded settings absolute, once, against the current directory at load time.

Nothing later may depend on the current directory: pyftpdlib and other libraries may change it for a
moment, and threads read paths at any moment. Made absolute here: `data_dir`, the SQLite file of
`database_url`, FTPS certificate and key, each source's folder, key file and known_hosts, and a feed
channel's local folder, key file and known_hosts. Remote paths (an SFTP `remote_dir`, `move_to`, a feed's
remote `path`) are left as they are.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from gateway.settings.model import ChannelSettings, Settings, SourceSettings


def absolute(path: str | Path, base: Path) -> str:
    """`path` made absolute against `base` (normalised, symbolic links kept); "" stays ""."""
    text = os.fspath(path)
    if not text:
        return text
    return os.path.normpath(os.path.join(base, os.path.expanduser(text)))


def absolute_database_url(url: str, base: Path) -> str:
    """A SQLite URL whose file is relative becomes one with an absolute file; any other URL is returned
    as it is (PostgreSQL, `:memory:`, SQLite `file:` URIs)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    database = parsed.database or ""
    if (not parsed.drivername.startswith("sqlite") or database in ("", ":memory:") or database.startswith("file:")
            or os.path.isabs(database)):
        return url
    return parsed.set(database=absolute(database, base)).render_as_string(hide_password=False)


def _source(source: SourceSettings, base: Path) -> SourceSettings:
    return dataclasses.replace(source, path=absolute(source.path, base), key_file=absolute(source.key_file, base),
                               known_hosts=absolute(source.known_hosts, base))


def _channel(channel: ChannelSettings, base: Path) -> ChannelSettings:
    if channel.adapter != "feed":
        return channel
    options = dict(channel.options)
    local = ["key_file", "known_hosts"]
    if options.get("target", "folder") == "folder":
        local.append("path")                    # the feed folder itself; for sftp/ftp targets `path` is remote
    for key in local:
        if isinstance(options.get(key), str):
            options[key] = absolute(options[key], base)
    return dataclasses.replace(channel, options=options)


def with_absolute_paths(settings: Settings, base: Path | None = None) -> Settings:
    """`settings` with every local path absolute against `base` (default: the current directory now)."""
    base = Path(os.getcwd()) if base is None else base
    ftp = dataclasses.replace(settings.ftp, tls_certfile=absolute(settings.ftp.tls_certfile, base),
                              tls_keyfile=absolute(settings.ftp.tls_keyfile, base))
    return dataclasses.replace(
        settings, data_dir=Path(absolute(settings.data_dir, base)),
        database_url=absolute_database_url(settings.database_url, base), ftp=ftp,
        sources=tuple(_source(s, base) for s in settings.sources),
        channels=tuple(_channel(c, base) for c in settings.channels))
