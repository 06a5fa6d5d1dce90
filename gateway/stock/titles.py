"""Item titles from files and listings: a title given where an item has none is kept; a Quantity Update
(the template, whose Title column shows the stored titles) may also change one.

An empty title cell never clears a title. Titles are stored as the text was, at most 500 characters,
control characters turned into spaces (a title is one line of a table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, bindparam, select, update

from gateway.db import schema

TITLE_MAX_LENGTH = 500
_BULK_FROM = 2000   # titles: above this, read every item's title in one scan instead of looking SKUs up
_CHUNK = 5000


def storable_title(value: object) -> str | None:
    """`value` as the items table keeps a title: one line, trimmed, at most 500 characters; None if empty."""
    if value is None:
        return None
    text = "".join(c if c.isprintable() else " " for c in str(value)).strip()[:TITLE_MAX_LENGTH].rstrip()
    return text or None


def valid_titles(titles: Mapping[str, str], valid_skus: Sequence[str]) -> dict[str, str]:
    """The titles of a file's valid rows (a row with an error changes nothing, its title neither)."""
    if not titles:
        return {}
    valid = set(valid_skus)
    return {sku: title for sku, title in titles.items() if sku in valid}


def _current(conn: Connection, skus: list[str]) -> dict[str, tuple[int, str | None]]:
    i = schema.items.c
    query = select(i.sku, i.id, i.title)
    if len(skus) > _BULK_FROM:
        wanted = set(skus)
        return {sku: (item, title) for sku, item, title in conn.execute(query) if sku in wanted}
    found: dict[str, tuple[int, str | None]] = {}
    for start in range(0, len(skus), _CHUNK):
        for sku, item, title in conn.execute(query.where(i.sku.in_(skus[start:start + _CHUNK]))):
            found[sku] = (item, title)
    return found


def store_titles(conn: Connection, titles: Mapping[str, str], *, replace: bool) -> int:
    """Give known items the titles named (SKU -> title): where they have none, and with `replace` (a
    Quantity Update) where theirs differs; unknown SKUs are left alone. How many titles changed."""
    wanted = {sku: title for sku, title in ((s, storable_title(t)) for s, t in titles.items()) if title}
    if not wanted:
        return 0
    changes = [{"k_id": item, "k_title": wanted[sku]}
               for sku, (item, title) in _current(conn, list(wanted)).items()
               if not title or (replace and title != wanted[sku])]
    if changes:
        i = schema.items.c
        conn.execute(update(schema.items).where(i.id == bindparam("k_id")).values(title=bindparam("k_title")),
                     changes)
    return len(changes)
