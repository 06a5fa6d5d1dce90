"""SFTP sources (paramiko): connect with strict host keys, list the remote folder, download, and delete,
move or keep a file once it is safely received.

Host keys come only from the source's `known_hosts` file (`sftp_host_keys`), loaded into a fresh client
whose policy refuses what is not there: an unknown, changed or `@revoked` key refuses the connection
before anything is listed, and the file is never written. paramiko >= 3.4 negotiates strict key exchange
(Terrapin) when the server offers it. Before a file is deleted or moved, it is looked at again (`current`,
`digest`): a version the poll did not fetch is left for the next poll.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import socket
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import paramiko

from channels.stability import RemoteEntry
from gateway.errors import ConfigError, PermanentError, RetryableError
from gateway.intake import copy_to_new_file
from gateway.settings import SourceSettings
from gateway.transports.sources.pickup import name_beside
from gateway.transports.sources.sftp_host_keys import HostKeyRefusedError, RefuseUnknownOrRevoked, read_known_hosts
from gateway.transports.sources.sftp_paths import make_remote_dirs, remote_exists

CONNECT_TIMEOUT_SECONDS = 30
CHANNEL_TIMEOUT_SECONDS = 60
_BLOCK = 1024 * 1024

__all__ = ["HostKeyRefusedError", "SftpStore", "connect"]


def _credentials(source: SourceSettings) -> dict:
    if source.key_file:
        if not Path(source.key_file).is_file():
            raise ConfigError(f"{source.key('key_file')}: {source.key_file} does not exist")
        return {"key_filename": source.key_file}
    password = os.environ.get(source.password_env)
    if password is None:
        raise ConfigError(f"{source.key('password_env')}: environment variable {source.password_env} is not set")
    return {"password": password}


@contextlib.contextmanager
def connect(source: SourceSettings) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session with `source`'s server, host key checked against its known_hosts file only."""
    known_hosts = Path(source.known_hosts)
    if not known_hosts.is_file():
        raise ConfigError(f"{source.key('known_hosts')}: {known_hosts} does not exist")
    known = read_known_hosts(known_hosts, source.key("known_hosts"))
    credentials = _credentials(source)
    where = f"{source.username}@{source.host}:{source.port}"
    client = paramiko.SSHClient()
    known.install(client)
    client.set_missing_host_key_policy(RefuseUnknownOrRevoked(known, where))
    try:
        client.connect(source.host, port=source.port, username=source.username, timeout=CONNECT_TIMEOUT_SECONDS,
                       banner_timeout=CONNECT_TIMEOUT_SECONDS, auth_timeout=CONNECT_TIMEOUT_SECONDS,
                       allow_agent=False, look_for_keys=False, **credentials)
        sftp = client.open_sftp()
    except HostKeyRefusedError:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        known.refuse_if_revoked(where, exc.key)
        raise HostKeyRefusedError(f"{where}: host key CHANGED ({exc.key.get_name()} "
                                  f"{exc.key.fingerprint}), not the one in {known_hosts}: refused") from exc
    except paramiko.AuthenticationException as exc:
        client.close()
        raise PermanentError(f"{where}: authentication failed ({exc})") from exc
    except paramiko.SSHException as exc:
        client.close()
        raise RetryableError(f"{where}: SSH error: {exc}") from exc
    except (OSError, socket.timeout, EOFError) as exc:
        client.close()
        raise RetryableError(f"{where}: cannot connect: {exc}") from exc
    try:
        sftp.get_channel().settimeout(CHANNEL_TIMEOUT_SECONDS)
        yield sftp
    finally:
        client.close()


def _entry(name: str, attrs: paramiko.SFTPAttributes) -> RemoteEntry:
    return RemoteEntry(name, attrs.st_size or 0, float(attrs.st_mtime or 0))


class SftpStore:
    """A source's remote folder, over an open SFTP session (see `FileStore` in `pickup`)."""

    transport = "sftp"
    version_shows_rewrites = False      # SFTP shows size and whole-second mtime only: content is hashed

    def __init__(self, source: SourceSettings, sftp: paramiko.SFTPClient):
        self.source, self.sftp = source, sftp
        self.folder = source.remote_dir or "/"

    def path_of(self, name: str) -> str:
        return posixpath.join(self.folder, name)

    def list(self) -> list[RemoteEntry]:
        try:
            attrs = self.sftp.listdir_attr(self.folder)
        except OSError as exc:
            raise RetryableError(f"source {self.source.name}: cannot list {self.folder}: {exc}") from exc
        return [_entry(a.filename, a) for a in attrs if a.st_mode is not None and stat.S_ISREG(a.st_mode)]

    def current(self, name: str) -> RemoteEntry | None:
        """The file `name` as the server shows it now (None: gone, or no longer a regular file)."""
        try:
            attrs = self.sftp.lstat(self.path_of(name))
        except FileNotFoundError:
            return None
        return _entry(name, attrs) if attrs.st_mode is not None and stat.S_ISREG(attrs.st_mode) else None

    def fetch(self, entry: RemoteEntry, target: Path) -> tuple[int, str]:
        """Download to `target`; the caller compares the byte count with the size the listing gave
        (-1: the size or mtime moved before or during the download, so not the version listed)."""
        path = self.path_of(entry.name)
        if not self._as_listed(path, entry):
            return -1, ""                # changed since the listing: not this version
        with self.sftp.open(path, "rb") as remote:
            remote.prefetch(entry.size)
            copied = copy_to_new_file(remote, target)
        return copied if self._as_listed(path, entry) else (-1, "")

    def digest(self, entry: RemoteEntry) -> str:
        """The sha256 of the file's content now (downloaded, never written to disk)."""
        digest = hashlib.sha256()
        with self.sftp.open(self.path_of(entry.name), "rb") as remote:
            remote.prefetch(entry.size)
            while block := remote.read(_BLOCK):
                digest.update(block)
        return digest.hexdigest()

    def _as_listed(self, path: str, entry: RemoteEntry) -> bool:
        attrs = self.sftp.stat(path)
        return (attrs.st_size or 0, float(attrs.st_mtime or 0)) == (entry.size, entry.mtime)

    def acknowledge(self, entry: RemoteEntry, file_id: str, markers: Sequence[str]) -> str:
        """Delete, move (posix_rename into move_to) or keep the file; then remove its markers."""
        path = self.path_of(entry.name)
        after = self.source.after
        try:
            if after == "delete":
                self.sftp.remove(path)
                done = "deleted"
            elif after == "move":
                folder = posixpath.join(self.folder, self.source.move_to)   # move_to may be absolute
                make_remote_dirs(self.sftp, folder)
                target = posixpath.join(folder, entry.name)
                if remote_exists(self.sftp, target):   # posix_rename would overwrite last night's file of the same name
                    target = posixpath.join(folder, name_beside(entry.name, file_id))
                self.sftp.posix_rename(path, target)
                done = f"moved to {target}"
            else:
                done = "kept"
            for marker in markers:
                self.sftp.remove(self.path_of(marker))
        except OSError as exc:
            raise PermanentError(f"received as file {file_id}, but `after = {after}` failed on {path}: {exc} "
                                 "(retried at the next poll; the file is not fetched again)") from exc
        return done

