"""Path helpers for an open SFTP session (paramiko's SFTPClient, or anything with stat/lstat/mkdir):
shared by the SFTP poller and the feed channel's SFTP target."""

from __future__ import annotations

import posixpath


def remote_exists(sftp, path: str) -> bool:
    """Whether `path` exists on the server (a symlink counts as itself, not its target)."""
    try:
        sftp.lstat(path)
    except FileNotFoundError:
        return False
    return True


def make_remote_dirs(sftp, folder: str) -> None:
    """Create `folder` and its missing parents on the server."""
    current = "/" if folder.startswith("/") else ""
    for part in (p for p in folder.split("/") if p):
        current = posixpath.join(current, part) if current else part
        if not remote_exists(sftp, current):
            sftp.mkdir(current)
