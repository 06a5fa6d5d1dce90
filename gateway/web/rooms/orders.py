"""Orders (`/orders`): newest placement first, with units asked for, taken, restored and oversold."""

from __future__ import annotations

from fastapi import Depends, Request

from gateway.db.engine import Database
from gateway.web import queries
from gateway.web.deps import get_db, page_number, require_role, room_router
from gateway.web.rooms.listings import channel_page
from gateway.web.templating import number, render, when

router = room_router(dependencies=[Depends(require_role("viewer"))])


@router.get("/orders")
def orders(request: Request, channel: str = "", page: int = Depends(page_number), db: Database = Depends(get_db)):
    found = channel_page(request, db, channel, page, "Orders", queries.orders)
    if not isinstance(found, tuple):
        return found
    channels, shown, has_more = found
    rows = [[o["channel"], o["order_id"], when(o["placed_at"]), ("badge", o["status"]), number(o["lines"]),
             number(o["units"]), number(o["taken"]), number(o["restored"]), number(o["oversold"])] for o in shown]
    return render(request, "orders/index.html", title="Orders", active="/orders", rows=rows,
                  channel=channel.strip(), channel_options=[(c, c) for c in channels], page=page, has_more=has_more)
