"""Orders (`/orders`, `/orders/{channel}/{order_id}`): orders newest placement first, filtered by channel
and status and paged; an order's page with its lines, where their units came from per warehouse, its
status, each cancellation and `stockgate orders explain` in words; and, for an operator, **Cancel** in
StockGate with the restore choice (`stockgate orders cancel --restore|--no-restore`, audited)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.channel_sync.marketplace_cancel import cancel_options, cancel_there_first
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.settings import Settings
from gateway.orders import cancel_in_stockgate, count_orders, explain_order, list_orders
from gateway.orders.model import ORDER_STATUSES
from gateway.web import queries
from gateway.web.deps import (checked_form, csrf_token, current_user, form_text, get_db, get_settings, page_number,
                              require_role, room_router)
from gateway.web.rooms.actions import actor_of, can_act, refusal_status
from gateway.web.templating import message, number, render, url, when

router = room_router(dependencies=[Depends(require_role("viewer"))])
PER_PAGE = 50
DONE = {"cancel": "Cancelled in StockGate (the marketplace was not asked: cancel it there too if it is open there): "
                  "see what it gave back below.",
        "cancel-there": "Cancelled on the marketplace and in StockGate: see what it gave back below."}
CHOICES = {"restore": "restore: give the taken units back to their warehouses", "keep": "keep: leave stock as it is"}


def order_path(channel: str, order_id: str) -> str:
    return f"/orders/{quote(channel, safe='')}/{quote(order_id, safe='')}"


@router.get("/orders")
def orders(request: Request, channel: str = "", status: str = "", page: int = Depends(page_number),
           db: Database = Depends(get_db)):
    channel, status = channel.strip(), status.strip()
    with db.read() as conn:
        channels = queries.channel_names(conn)
        if channel and channel not in channels:
            return message(request, 404, "Orders", f"no channel {channel!r} (known: {', '.join(channels) or 'none'})")
        if status and status not in ORDER_STATUSES:
            return message(request, 400, "Orders",
                           f"no order status {status!r} (statuses: {', '.join(ORDER_STATUSES)})")
        total = count_orders(conn, channel or None, status or None)
        shown = list_orders(conn, channel or None, status or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    rows = [[o["channel"], ("link", order_path(o["channel"], o["order_id"]), o["order_id"]), when(o["placed_at"]),
             ("badge", o["status"]), number(o["lines"]), number(o["units"]), number(o["taken"]),
             number(o["restored"]), number(o["oversold"])] for o in shown]
    return render(request, "orders/index.html", title="Orders", active="/orders", rows=rows, total=total,
                  channel=channel, status=status, channel_options=[(c, c) for c in channels],
                  status_options=[(s, s) for s in ORDER_STATUSES], page=page,
                  has_more=total > page * PER_PAGE)


def _order_page(request: Request, db: Database, settings: Settings, channel: str, order_id: str, *,
                done: str = "", error: str | None = None, status: int = 200):
    try:
        with db.read() as conn:
            order = explain_order(conn, channel, order_id)
    except (NotFoundError, UsageError) as exc:
        return message(request, refusal_status(exc), "Order", str(exc))
    user = current_user(request)
    open_lines = [line for line in order["lines"] if line["status"] == "open"]
    actor = can_act(user) and bool(open_lines)
    return render(request, "orders/order.html", status_code=status, title=f"Order {order['order_id']}",
                  active="/orders", order=order, open_lines=open_lines, can_cancel=actor,
                  csrf=csrf_token(request) if actor else None, choices=CHOICES, done=done, error=error,
                  there=cancel_options(db, settings, order["channel"]) if actor else None,
                  action=order_path(order["channel"], order["order_id"]) + "/cancel")


@router.get("/orders/{channel}/{order_id:path}")
def order(request: Request, channel: str, order_id: str, done: str = "", db: Database = Depends(get_db),
          settings: Settings = Depends(get_settings)):
    return _order_page(request, db, settings, channel, order_id, done=DONE.get(done, ""))


@router.post("/orders/{channel}/{order_id:path}/cancel", dependencies=[Depends(require_role("operator"))])
def cancel(request: Request, channel: str, order_id: str, form: FormData = Depends(checked_form),
           db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    """Cancel the ticked open lines (none ticked: every open line), restoring or keeping their stock."""
    choice = form_text(form, "choice")
    lines = [v for v in form.getlist("line") if isinstance(v, str) and v.strip()]
    try:
        if choice not in CHOICES:
            raise UsageError("choose whether the cancellation restores the order's stock or keeps it")
        reason = form_text(form, "reason").strip()[:500] or None
        there = cancel_there_first(db, settings, channel, order_id, lines or None, choice,
                                   form_text(form, "marketplace_reason").strip()[:100] or None,
                                   here_only=form_text(form, "here_only") == "1")
        with db.write() as conn:
            outcome = cancel_in_stockgate(conn, channel, order_id, choice=choice, line_ids=lines or None,
                                          reason=reason, actor=actor_of(current_user(request)))
    except (NotFoundError, UsageError) as exc:
        return _order_page(request, db, settings, channel, order_id, error=str(exc), status=refusal_status(exc))
    if outcome.refused:
        return _order_page(request, db, settings, channel, order_id, error=outcome.refused, status=409)
    if not outcome.changed:
        return _order_page(request, db, settings, channel, order_id, status=409,
                           error=f"nothing changed: line(s) {', '.join(outcome.already_cancelled)} already cancelled")
    done = "cancel-there" if there["cancelled"] else "cancel"
    return RedirectResponse(url(order_path(channel, order_id), {"done": done}), status_code=303)
