"""Item titles from files and listings: a title given where an item has none is kept; a Quantity Update
(the template, whose Title column shows the stored titles) may also change one.

An empty title cell never clears a title. Titles are stored as the text was, at most 500 characters,
control characters turned into spaces (a title is one line of a table).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from sqlalchemy import Connection, bindparam, select, update

from gateway.db import schema

TITLE_MAX_LENGTH = 500
_BULK_FROM = 2000   # titles: above this, read every item's title in one scan instead of looking SKUs up
_CHUNK = 5000


def storable_title(value: object) -> str | None:
    """`value` as the items table keeps a title: one line, trimmed, at most 500 characters; None if empty."""
    if value is None:
        return None
    text = str(value)
    if not (text.isprintable() and len(text) <= TITLE_MAX_LENGTH):   # the common case costs two C calls
        text = "".join(c if c.isprintable() else " " for c in text)[:TITLE_MAX_LENGTH]
    return text.strip() or None


def valid_titles(titles: Mapping[str, str], skus: Sequence[str], row_numbers: Sequence[int],
                 error_rows: Collection[int]) -> Mapping[str, str]:
    """The titles of a parsed file's kept rows less those that failed later (`error_rows`, an unknown SKU
    or a movement over the limit, say): a row with an error changes nothing, its title neither."""
    if not error_rows or not titles:
        return titles
    failed = {sku for sku, row in zip(skus, row_numbers) if row in error_rows}
    return {sku: title for sku, title in titles.items() if sku not in failed}


def _changes(conn: Connection, wanted: dict[str, str], replace: bool) -> list[dict]:
    """(item id, new title) of the known items whose title the file changes."""
    get, changes = wanted.get, []
    for rows in _item_titles(conn, wanted):
        changes += [{"k_id": item, "k_title": new} for sku, item, title in rows
                    if (new := get(sku)) is not None and (not title or (replace and title != new))]
    return changes


def _item_titles(conn: Connection, wanted: dict[str, str]) -> Iterator[list[tuple]]:
    """(sku, id, title) of the items named, in batches: a scan of the whole catalog for many SKUs (plain
    driver tuples, a batch at a time, so a million items are never all in memory), else lookups."""
    if len(wanted) > _BULK_FROM:
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SELECT sku, id, title FROM items")
            while rows := cursor.fetchmany(_CHUNK):
                yield rows
        finally:
            cursor.close()
        return
    i, skus = schema.items.c, list(wanted)
    for start in range(0, len(skus), _CHUNK):
        yield conn.execute(select(i.sku, i.id, i.title).where(i.sku.in_(skus[start:start + _CHUNK]))).all()


def store_titles(conn: Connection, titles: Mapping[str, str], *, replace: bool) -> int:
    """Give known items the titles named (SKU -> title): where they have none, and with `replace` (a
    Quantity Update) where theirs differs; unknown SKUs are left alone. How many titles changed."""
    texts = list(titles.values())
    if texts and "".join(texts).isprintable() and max(map(len, texts)) <= TITLE_MAX_LENGTH \
            and all(map(str.strip, texts)):
        wanted = dict(titles)   # a file's titles as the parsers give them (trimmed, one line): storable
    else:
        wanted = {sku: title for sku, title in ((s, storable_title(t)) for s, t in titles.items()) if title}
    if not wanted:
        return 0
    changes = _changes(conn, wanted, replace)
    if changes:
        i = schema.items.c
        conn.execute(update(schema.items).where(i.id == bindparam("k_id")).values(title=bindparam("k_title")),
                     changes)
    return len(changes)
