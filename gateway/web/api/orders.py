"""`/api/v1/orders`: orders filtered by channel and status and paged (`stockgate orders --json`), one order
explained (`orders explain --json`), and an operator's cancellation in StockGate with the restore choice
(`orders cancel --restore|--no-restore --json`, audited)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from gateway.channel_sync.marketplace_cancel import cancel_options, cancel_there_first
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.settings import Settings
from gateway.orders import cancel_in_stockgate, count_orders, explain_order, list_orders
from gateway.orders.views import MAX_PAGE_SIZE
from gateway.web.api.deps import api_router
from gateway.web.api.inventory_models import Refusal
from gateway.web.api.order_models import CancelBody, CancelResult, OrderExplained, OrderList
from gateway.web.api.stock import refused
from gateway.web.deps import User, get_db, get_settings, require_role
from gateway.web.rooms.actions import actor_of

router = api_router("orders")
REFUSED = {400: {"model": Refusal}, 404: {"model": Refusal}}


@router.get("/orders", response_model=OrderList, responses=REFUSED)
def list_all(channel: str | None = Query(None, max_length=100), status: str | None = Query(None, max_length=40),
             limit: int = Query(50, ge=1, le=MAX_PAGE_SIZE), offset: int = Query(0, ge=0, le=10**9),
             db: Database = Depends(get_db)):
    """Orders newest placement first, of one channel and one status (pending, accepted, cancelled) when
    named, `limit` from `offset`; `total` counts every match."""
    try:
        with db.read() as conn:
            return {"orders": list_orders(conn, channel, status, limit=limit, offset=offset),
                    "total": count_orders(conn, channel, status)}
    except (NotFoundError, UsageError) as exc:
        return refused(exc)


@router.get("/orders/{channel}/{order_id:path}", response_model=OrderExplained, responses=REFUSED)
def one(channel: str, order_id: str, db: Database = Depends(get_db), settings: Settings = Depends(get_settings)):
    """One order: its lines, the units each took per warehouse and gave back, each cancellation's decision
    and why, refused cancellations, `summary` in sentences, and `marketplace_cancel`: whether a cancel
    also cancels it on the marketplace and with which reason codes."""
    try:
        with db.read() as conn:
            order = explain_order(conn, channel, order_id)
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    return {**order, "marketplace_cancel": cancel_options(db, settings, order["channel"])}


@router.post("/orders/{channel}/{order_id:path}/cancel", response_model=CancelResult,
             responses={**REFUSED, 409: {"model": CancelResult}})
def cancel(channel: str, order_id: str, body: CancelBody, db: Database = Depends(get_db),
           settings: Settings = Depends(get_settings),
           user: User = Depends(require_role("operator"))):
    """Cancel the order's open lines (or `lines`) in StockGate now, restoring the units they took or
    keeping stock as it is (operator). A cancellation the rules refuse is 409 with `refused` saying why."""
    try:
        there = cancel_there_first(db, settings, channel, order_id, body.lines, body.choice,
                                   body.marketplace_reason, here_only=body.here_only)
        with db.write() as conn:
            outcome = cancel_in_stockgate(conn, channel, order_id, choice=body.choice, line_ids=body.lines,
                                          reason=body.reason, actor=actor_of(user))
    except (NotFoundError, UsageError) as exc:
        return refused(exc)
    document = {**asdict(outcome), "changed": outcome.changed, "marketplace": there}
    return JSONResponse(CancelResult(**document).model_dump(), status_code=409) if outcome.refused else document
