"""Listings (`/listings`): every listing per channel with its link state and reason, status and pushes."""

from __future__ import annotations

from fastapi import Depends, Request

from gateway.db.engine import Database
from gateway.web import queries
from gateway.web.deps import get_db, page_number, require_role, room_router
from gateway.web.templating import message, number, render, when

router = room_router(dependencies=[Depends(require_role("viewer"))])


def channel_page(request: Request, db: Database, channel: str, page: int, title: str, read):
    """(channels, the rows of one page, whether more follow) or an error page for an unknown channel."""
    channel, per_page = channel.strip(), queries.PER_PAGE
    with db.read() as conn:
        channels = queries.channel_names(conn)
        if channel and channel not in channels:
            return message(request, 404, title, f"no channel {channel!r} (known: {', '.join(channels) or 'none'})")
        rows = read(conn, channel or None)
    return channels, rows[(page - 1) * per_page: page * per_page], len(rows) > page * per_page


@router.get("/listings")
def listings(request: Request, channel: str = "", page: int = Depends(page_number), db: Database = Depends(get_db)):
    found = channel_page(request, db, channel, page, "Listings", queries.listings)
    if not isinstance(found, tuple):
        return found
    channels, shown, has_more = found
    rows = [[x["channel"], x["listing_id"], x["sku"], x["size"], x["item"],
             x["link"] + (f" ({x['link_reason']})" if x["link_reason"] else ""), ("badge", x["status"]),
             number(x["channel_quantity"]), number(x["last_pushed_quantity"]), when(x["last_pushed_at"]),
             number(x["pending_quantity"]), x["last_push_error"]] for x in shown]
    return render(request, "listings/index.html", title="Listings", active="/listings", rows=rows,
                  channel=channel.strip(), channel_options=[(c, c) for c in channels], page=page, has_more=has_more)
