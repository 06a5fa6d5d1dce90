"""An SFTP source's trusted host keys, read from its OpenSSH known_hosts file the way `ssh` reads one.

Plain lines are trusted for their host names (hashed `|1|...` names too). A key on a `@revoked` line is
refused for every host, whatever other line lists it (a revoked line names a key, not a host, that
must never be accepted again). `@cert-authority` lines are skipped: paramiko checks no host certificates,
so a host trusted only through a certificate authority is refused as unknown. A line that cannot be read
is a configuration error naming its line number, never an internal error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey

from gateway.errors import ConfigError, PermanentError

REVOKED = "@revoked"
CERT_AUTHORITY = "@cert-authority"


class HostKeyRefusedError(PermanentError):
    """The SFTP server's host key is not one known_hosts trusts (unknown, changed or revoked)."""


def key_id(key: paramiko.PKey) -> tuple[str, bytes]:
    """What makes two public keys the same key."""
    return key.get_name(), key.asbytes()


@dataclass
class KnownHosts:
    """The keys trusted per host, and the keys revoked for all hosts, from one known_hosts file."""

    path: Path
    trusted: list[HostKeyEntry] = field(default_factory=list)
    revoked: dict[tuple[str, bytes], int] = field(default_factory=dict)      # key -> its line number

    def install(self, client: paramiko.SSHClient) -> None:
        """Load the trusted keys (never a revoked one) into `client`; the first line for a host and key
        type wins, as in `ssh`."""
        keys = client.get_host_keys()
        for entry in self.trusted:
            if key_id(entry.key) in self.revoked:
                continue
            for host in entry.hostnames:
                known = keys.lookup(host)
                if known is None or entry.key.get_name() not in known:
                    keys.add(host, entry.key.get_name(), entry.key)

    def revoked_line(self, key: paramiko.PKey) -> int | None:
        """The line of the `@revoked` entry naming `key`, or None."""
        return self.revoked.get(key_id(key))

    def refuse_if_revoked(self, where: str, key: paramiko.PKey) -> None:
        """HostKeyRefusedError naming the revocation when `key` is revoked."""
        line = self.revoked_line(key)
        if line is not None:
            raise HostKeyRefusedError(f"{where}: host key REVOKED ({key.get_name()} {key.fingerprint}): line {line} "
                                      f"of {self.path} marks it @revoked: refused")


def read_known_hosts(path: Path, key: str) -> KnownHosts:
    """Parse `path`; ConfigError naming the setting `key` (`sources[0].known_hosts`), the file and the line
    for one that is not a host key line."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    known = KnownHosts(Path(path))
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        marker = None
        if line.startswith("@"):
            marker, _, line = line.partition(" ")
            line = line.strip()
            if marker not in (REVOKED, CERT_AUTHORITY):
                raise ConfigError(f"{key}: {path} line {lineno}: unknown marker {marker!r} "
                                  f"(OpenSSH knows {REVOKED} and {CERT_AUTHORITY})")
        try:
            entry = HostKeyEntry.from_line(" ".join(line.split()), lineno)
        except (InvalidHostKey, paramiko.SSHException) as exc:
            raise ConfigError(f"{key}: {path} line {lineno}: not a host key line "
                              f"(host names, key type, base64 key)") from exc
        if entry is None or marker == CERT_AUTHORITY:
            continue            # too few fields, or a key type paramiko does not know: as ssh, skipped
        if marker == REVOKED:
            known.revoked.setdefault(key_id(entry.key), lineno)
        else:
            known.trusted.append(entry)
    return known


class RefuseUnknownOrRevoked(paramiko.RejectPolicy):
    """paramiko's RejectPolicy (a host key not in known_hosts is refused, never added), saying so clearly,
    and naming the revocation when the key was revoked."""

    def __init__(self, known: KnownHosts, where: str):
        self.known, self.where = known, where

    def missing_host_key(self, client, hostname, key):
        self.known.refuse_if_revoked(self.where, key)
        raise HostKeyRefusedError(f"{self.where}: host key UNKNOWN ({key.get_name()} {key.fingerprint}, not in "
                                  f"{self.known.path}): refused")
