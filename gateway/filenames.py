"""Names StockGate derives from a sender's file name (reports, quarantine, `processed/` copies) fit the file
system's limit on one name: shortened by UTF-8 bytes at a character boundary, keeping the extension and the
part that makes the name unique (a file id, a time and random tag).

A name of 80 CJK characters is 244 bytes, legal on its own; `<name>.<file_id>.report.json` beside it is
not (Linux allows 255 bytes per name), so every derived name is fitted here.
"""

from __future__ import annotations

import os
from pathlib import Path

NAME_MAX = 255          # bytes in one name on ext4, XFS, Btrfs, ZFS, tmpfs (and what an SFTP server is assumed to take)
EXTENSION_MAX = 16      # bytes: a longer "extension" (`a.<200 bytes>`) is shortened as part of the name


def name_bytes(text: str) -> int:
    """How many bytes `text` takes as a file name (UTF-8; an undecodable byte kept as a surrogate counts 3)."""
    return len(text.encode("utf-8", "surrogatepass"))


def shorten(text: str, max_bytes: int) -> str:
    """The longest start of `text` that takes at most `max_bytes` bytes, never cutting a character in half."""
    if name_bytes(text) <= max_bytes:
        return text
    used = 0
    for index, char in enumerate(text):
        used += name_bytes(char)
        if used > max_bytes:
            return text[:index]
    return text


def split_extension(name: str) -> tuple[str, str]:
    """(`stock`, `.csv`) from `stock.csv`; the extension is '' for `.hidden`, `README` or an over-long suffix."""
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix and name_bytes(suffix) < EXTENSION_MAX and " " not in suffix:
        return stem, dot + suffix
    return name, ""


def name_limit(folder: Path | str | None) -> int:
    """The longest name in bytes the file system of `folder` (or its nearest existing parent) takes, at
    most NAME_MAX; NAME_MAX when it cannot be asked (no folder, a remote one)."""
    if folder is None:
        return NAME_MAX
    path = Path(folder)
    for candidate in (path, *path.parents):
        try:
            return min(NAME_MAX, int(os.pathconf(candidate, "PC_NAME_MAX")))
        except (OSError, ValueError):
            continue
    return NAME_MAX


def fit_name(name: str, *, before: str = "", after: str = "", limit: int = NAME_MAX) -> str:
    """`before + name + after` in at most `limit` bytes: only `name` is shortened, its extension kept.

    `before` and `after` (a file id, a time tag, `.report.json`) are always kept whole.
    """
    room = limit - name_bytes(before) - name_bytes(after)
    if name_bytes(name) <= room:
        return before + name + after
    stem, extension = split_extension(name)
    if name_bytes(extension) * 2 > room:   # no room to keep it: shorten the whole name instead
        stem, extension = name, ""
    stem = shorten(stem, room - name_bytes(extension))
    if not stem:
        raise ValueError(f"no room for a name between {before!r} and {after!r} in {limit} bytes")
    return before + stem + extension + after
