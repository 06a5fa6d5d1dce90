"""The spool: durable copies of received files, each named by its file id and synced to disk before the
file is recorded; and the copy helpers the transports and the archive use.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from gateway.clock import now

_BLOCK = 1024 * 1024


def new_file_id(at: datetime | None = None) -> str:
    """A file id that sorts by time of receipt: 20261126T083012-3fa9c1d0 (the spool keeps it unique)."""
    return f"{(at or now()):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def spool_dir(data_dir: Path) -> Path:
    """The spool folder of a data folder."""
    return Path(data_dir) / "spool"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_to_new_file(source: BinaryIO, target: Path) -> tuple[int, str]:
    """Copy an open file to the new file `target` (never an existing one), synced to disk; return
    (bytes copied, sha256 hex)."""
    digest, count = hashlib.sha256(), 0
    with open(target, "xb") as out:
        while block := source.read(_BLOCK):
            digest.update(block)
            count += len(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return count, digest.hexdigest()


def spool_file(staged: Path, folder: Path, received_at: datetime) -> tuple[str, Path, str, int]:
    """Copy `staged` into the spool under a new file id; the id's path is created exclusively, so a
    colliding id is retried and never overwrites another file's spool copy."""
    tmp = folder / f".{secrets.token_hex(8)}.tmp"
    try:
        with open(staged, "rb") as src:
            size, sha256 = copy_to_new_file(src, tmp)
        for _ in range(10):
            file_id = new_file_id(received_at)
            target = folder / file_id
            try:
                os.link(tmp, target)        # fails if the name exists: no overwrite, unlike rename
            except FileExistsError:
                continue
            _fsync_dir(folder)
            return file_id, target, sha256, size
        raise RuntimeError("could not find a free file id in the spool")
    finally:
        tmp.unlink(missing_ok=True)

