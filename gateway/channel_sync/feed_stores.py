"""Where a feed channel's files live: a local folder, an SFTP server or an FTP server, behind the feed
adapter's one interface (`channels.feed.FeedSession`), handed to the adapter as its transport.

`open_feed_store(options)` returns an opener; each opened session lists (names, or entries with size
and mtime), reads, writes atomically (a temporary name unique to the write, then rename) and moves files
under the channel's base path, and raises only RetryableChannelError (network, outage) or
PermanentChannelError (refused host key, bad login), or ConfigError for a missing password variable.
SFTP host keys are checked against `known_hosts` with paramiko's RejectPolicy: never added.
"""

from __future__ import annotations

import contextlib
import ftplib
import io
import os
import posixpath
import socket
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from channels.errors import PermanentChannelError, RetryableChannelError
from channels.feed import FeedOpener, FeedSession
from channels.stability import RemoteEntry
from gateway.errors import ConfigError
from gateway.transports.sources.sftp_paths import make_remote_dirs, remote_exists


def _tmp_name(path: str) -> str:
    """A temporary name beside `path`, unique to this write (process id and a random part), so two writers
    never share one."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")


class FolderSession:
    """A feed in a local folder."""

    def __init__(self, base: Path):
        self.base = Path(base)

    def _path(self, rel: str) -> Path:
        return self.base / rel

    def list_files(self, folder: str) -> list[str]:
        path = self._path(folder)
        return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    def list_entries(self, folder: str) -> list[RemoteEntry]:
        path, entries = self._path(folder), []
        for name in self.list_files(folder):
            with contextlib.suppress(FileNotFoundError):     # moved away meanwhile
                info = (path / name).stat()
                entries.append(RemoteEntry(name, info.st_size, info.st_mtime))
        return entries

    def read(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def exists(self, path: str) -> bool:
        return self._path(path).exists()

    def write_atomic(self, path: str, data: bytes) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path(_tmp_name(path))
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    def move(self, source: str, target: str) -> None:
        self._path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(source), self._path(target))


class _ServerSession:
    """What the SFTP and FTP sessions share: paths under the base folder, names from the entries."""

    base: str

    def _path(self, rel: str) -> str:
        return posixpath.join(self.base, rel)

    def list_files(self, folder: str) -> list[str]:
        return [e.name for e in self.list_entries(folder)]

    def list_entries(self, folder: str) -> list[RemoteEntry]:
        raise NotImplementedError


class SftpSession(_ServerSession):
    """A feed on an SFTP server (paramiko's SFTPClient)."""

    def __init__(self, sftp, base: str):
        self.sftp, self.base = sftp, base

    def list_entries(self, folder: str) -> list[RemoteEntry]:
        try:
            entries = self.sftp.listdir_attr(self._path(folder))
        except FileNotFoundError:
            return []
        return sorted((RemoteEntry(e.filename, e.st_size or 0, float(e.st_mtime or 0)) for e in entries
                       if stat.S_ISREG(e.st_mode or 0)), key=lambda e: e.name)

    def read(self, path: str) -> bytes:
        buffer = io.BytesIO()
        self.sftp.getfo(self._path(path), buffer)
        return buffer.getvalue()

    def exists(self, path: str) -> bool:
        return remote_exists(self.sftp, self._path(path))

    def write_atomic(self, path: str, data: bytes) -> None:
        target, tmp = self._path(path), self._path(_tmp_name(path))
        make_remote_dirs(self.sftp, posixpath.dirname(target))
        self.sftp.putfo(io.BytesIO(data), tmp, file_size=len(data), confirm=True)
        self.sftp.posix_rename(tmp, target)     # replaces the old feed in one step

    def move(self, source: str, target: str) -> None:
        make_remote_dirs(self.sftp, posixpath.dirname(self._path(target)))
        self.sftp.posix_rename(self._path(source), self._path(target))


class FtpSession(_ServerSession):
    """A feed on an FTP server (ftplib)."""

    def __init__(self, ftp: ftplib.FTP, base: str):
        self.ftp, self.base = ftp, base

    def list_entries(self, folder: str) -> list[RemoteEntry]:
        try:
            entries = list(self.ftp.mlsd(self._path(folder), facts=["type", "size", "modify"]))
        except ftplib.error_perm:
            return []
        return sorted((RemoteEntry(name, int(facts.get("size") or 0), _mlsd_time(facts.get("modify")))
                       for name, facts in entries if facts.get("type") == "file"), key=lambda e: e.name)

    def read(self, path: str) -> bytes:
        buffer = io.BytesIO()
        self.ftp.retrbinary(f"RETR {self._path(path)}", buffer.write)
        return buffer.getvalue()

    def exists(self, path: str) -> bool:
        try:
            self.ftp.size(self._path(path))
            return True
        except ftplib.error_perm:
            return False

    def _mkdirs(self, folder: str) -> None:
        parts = [p for p in folder.split("/") if p]
        current = "/" if folder.startswith("/") else ""
        for part in parts:
            current = posixpath.join(current, part)
            with contextlib.suppress(ftplib.error_perm):
                self.ftp.mkd(current)

    def _rename(self, source: str, target: str) -> None:
        try:
            self.ftp.rename(source, target)
        except ftplib.error_perm:   # servers that refuse to rename over a file: remove it, then rename
            with contextlib.suppress(ftplib.error_perm):
                self.ftp.delete(target)
            self.ftp.rename(source, target)

    def write_atomic(self, path: str, data: bytes) -> None:
        target, tmp = self._path(path), self._path(_tmp_name(path))
        self._mkdirs(posixpath.dirname(target))
        self.ftp.storbinary(f"STOR {tmp}", io.BytesIO(data))
        self._rename(tmp, target)

    def move(self, source: str, target: str) -> None:
        self._mkdirs(posixpath.dirname(self._path(target)))
        self._rename(self._path(source), self._path(target))


def _mlsd_time(value: str | None) -> float:
    """An MLSD `modify` fact (YYYYMMDDHHMMSS[.sss], UTC) as POSIX seconds; 0 when absent or unreadable."""
    from datetime import UTC, datetime

    try:
        return datetime.strptime((value or "")[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0


def _secret(options: dict[str, Any], key: str) -> str | None:
    name = options.get("password_env")
    if not name:
        return None
    if name not in os.environ:
        raise ConfigError(f"{key}.password_env: environment variable {name} is not set")
    return os.environ[name]


@contextlib.contextmanager
def _translated(channel: str, target: str) -> Iterator[None]:
    import paramiko

    try:
        yield
    except (PermanentChannelError, RetryableChannelError, ConfigError):
        raise
    except (paramiko.BadHostKeyException, paramiko.AuthenticationException, ftplib.error_perm) as exc:
        raise PermanentChannelError(f"channel {channel}: {target} refused: {exc}") from exc
    except paramiko.SSHException as exc:
        if "known_hosts" in str(exc):
            raise PermanentChannelError(f"channel {channel}: {target} host key is not in known_hosts: {exc}") from exc
        raise RetryableChannelError(f"channel {channel}: {target} failed: {exc}") from exc
    except (OSError, EOFError, socket.timeout, *ftplib.all_errors) as exc:
        raise RetryableChannelError(f"channel {channel}: {target} failed: {exc}") from exc


def open_feed_store(channel: str, options: dict[str, Any], data_dir: Path, *, key: str = "") -> FeedOpener:
    """The opener for a feed channel's `target` ("folder", "sftp" or "ftp") from its options; `key` is the
    options' key in the configuration (`channels[1].options`) that a ConfigError names."""
    key = key or f"channels[{channel!r}].options"
    target = options.get("target", "folder")
    timeout = float(options.get("timeout_seconds", 30))
    if target == "folder":
        base = Path(options.get("path") or Path(data_dir) / "feeds" / channel)

        @contextlib.contextmanager
        def open_folder() -> Iterator[FeedSession]:
            with _translated(channel, f"folder {base}"):
                base.mkdir(parents=True, exist_ok=True)
                yield FolderSession(base)
        return open_folder
    if target not in ("sftp", "ftp"):
        raise ConfigError(f"{key}.target: {target!r} is not one of folder, sftp, ftp")
    for name in ("host", "username"):
        if not options.get(name):
            raise ConfigError(f"{key}.{name}: required for target = {target!r}")
    host, base = options["host"], options.get("path") or "/"
    password = _secret(options, key)        # a variable that is not set is an error now, not at the first push
    if target == "sftp":
        if not options.get("known_hosts"):
            raise ConfigError(f"{key}.known_hosts: required for target = \"sftp\"")
        port = int(options.get("port", 22))

        @contextlib.contextmanager
        def open_sftp() -> Iterator[FeedSession]:
            import paramiko

            with _translated(channel, f"sftp {host}:{port}"):
                client = paramiko.SSHClient()
                client.load_host_keys(str(options["known_hosts"]))
                client.set_missing_host_key_policy(paramiko.RejectPolicy())
                try:
                    client.connect(host, port=port, username=options["username"], password=password,
                                   key_filename=options.get("key_file") or None, timeout=timeout,
                                   banner_timeout=timeout, auth_timeout=timeout, look_for_keys=False,
                                   allow_agent=False)
                    sftp = client.open_sftp()
                    sftp.get_channel().settimeout(timeout)
                    yield SftpSession(sftp, base)
                finally:
                    client.close()
        return open_sftp
    # target == "ftp"
    port = int(options.get("port", 21))

    @contextlib.contextmanager
    def open_ftp() -> Iterator[FeedSession]:
        with _translated(channel, f"ftp {host}:{port}"):
            ftp = ftplib.FTP(timeout=timeout)
            try:
                ftp.connect(host, port)
                ftp.login(options["username"], password or "")
                yield FtpSession(ftp, base)
            finally:
                with contextlib.suppress(*ftplib.all_errors):
                    ftp.quit()
                ftp.close()
    return open_ftp
