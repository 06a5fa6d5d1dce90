"""SFTP sources (paramiko): connect with strict host keys, list the remote folder, download, and delete,
move or keep a file once it is safely received.

Host keys come only from the source's `known_hosts` file (`sftp_host_keys`), loaded into a fresh client
whose policy refuses what is not there: an unknown, changed or `@revoked` key refuses the connection
before anything is listed, and the file is never written. paramiko >= 3.4 negotiates strict key exchange
(Terrapin) when the server offers it.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import socket
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import paramiko

from gateway.errors import ConfigError, PermanentError, RetryableError
from gateway.settings import SourceSettings
from gateway.intake import copy_to_new_file
from gateway.transports.pickup import name_beside
from gateway.transports.sftp_host_keys import HostKeyRefusedError, RefuseUnknownOrRevoked, read_known_hosts
from gateway.transports.sftp_paths import make_remote_dirs, remote_exists
from gateway.transports.stability import RemoteEntry

CONNECT_TIMEOUT_SECONDS = 30
CHANNEL_TIMEOUT_SECONDS = 60

__all__ = ["HostKeyRefusedError", "SftpStore", "connect"]


def _credentials(source: SourceSettings) -> dict:
    if source.key_file:
        if not Path(source.key_file).is_file():
            raise ConfigError(f"source {source.name}: key_file {source.key_file} does not exist")
        return {"key_filename": source.key_file}
    password = os.environ.get(source.password_env)
    if password is None:
        raise ConfigError(f"source {source.name}: environment variable {source.password_env} is not set")
    return {"password": password}


@contextlib.contextmanager
def connect(source: SourceSettings) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session with `source`'s server, host key checked against its known_hosts file only."""
    known_hosts = Path(source.known_hosts)
    if not known_hosts.is_file():
        raise ConfigError(f"source {source.name}: known_hosts file {known_hosts} does not exist")
    known = read_known_hosts(known_hosts, source.name)
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


class SftpStore:
    """A source's remote folder, over an open SFTP session (see `FileStore` in `pickup`)."""

    transport = "sftp"

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
        return [RemoteEntry(a.filename, a.st_size or 0, float(a.st_mtime or 0)) for a in attrs
                if a.st_mode is not None and stat.S_ISREG(a.st_mode)]

    def fetch(self, entry: RemoteEntry, target: Path) -> tuple[int, str]:
        """Download to `target`; the caller compares the byte count with the size the listing gave."""
        path = self.path_of(entry.name)
        size = self.sftp.stat(path).st_size or 0
        if size != entry.size:
            return size, ""              # changed since the listing: not this version
        with self.sftp.open(path, "rb") as remote:
            remote.prefetch(size)
            return copy_to_new_file(remote, target)

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

