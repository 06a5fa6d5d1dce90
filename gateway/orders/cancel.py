"""Record a cancellation of an order or some of its lines, and give stock back when the rules say so.

The rules are `gateway.core.restore_policy.restore_decision` (14-day window, operator's choice, channel
policy and reason tables). A restore gives back exactly the units still allocated, to the warehouses they
came from, through `apply_stock_changes` (ledger cause `cancel`); a line is cancelled, and restored, once.
A cancellation dated before the order's placement is refused: the order is kept as it was, and the
refusal is kept (`refused_cancellations`) for `orders explain`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from channels.model import CancellationData
from gateway.accounts.audit import record
from gateway.clock import as_utc, now
from gateway.core.ledger import ChangeKind, StockChange
from gateway.core.restore_policy import (
    ChoiceRequiredError, RestoreDecision, cancelled_before_placement, describe_cancelled_before_placement,
    restore_decision,
)
from gateway.db import schema
from gateway.errors import NotFoundError, UsageError
from gateway.orders.model import CancelOutcome, MovedUnits, check_cancellation, check_id
from gateway.orders.rows import (
    NOTHING_TAKEN, ChannelRow, cancel_lines, channel_row, close_order_when_every_line_is_cancelled, find_order,
    line_reference, order_lines,
)
from gateway.stock import apply_stock_changes, warehouses


def record_cancellation(conn: Connection, channel: str, cancellation: CancellationData) -> CancelOutcome:
    """Cancel the order's open lines (all, or those in `line_ids`) in the caller's write transaction.

    Idempotent: a line already cancelled is reported in `already_cancelled` and never restored again.
    Lines of an order that was never accepted took no stock (rule `not_accepted`). The decision, the
    place and the reason are stored on each line cancelled; when no line is left open the order is
    cancelled. NotFoundError for an unknown channel, order or line; UsageError when a cancellation made
    in StockGate lacks the operator's choice.
    """
    ch = channel_row(conn, channel)
    order_id = check_id(cancellation.order_id, f"channel {channel!r}: order id")
    check_cancellation(channel, cancellation)
    order = find_order(conn, ch, order_id, lock=True)
    targets = _target_lines(ch, order_id, order_lines(conn, order.id), cancellation.line_ids)
    still_open = [line for line in targets if line.status == "open"]
    already = tuple(line.line_id for line in targets if line.status != "open")
    if not still_open:
        return CancelOutcome(ch.name, order_id, (), already, None, None, None, None, (), order.status)

    at = as_utc(cancellation.cancelled_at)
    reason = (cancellation.reason or "").strip() or None
    if cancelled_before_placement(as_utc(order.placed_at), at):
        refused = _refuse(conn, ch, order, cancellation, at, reason)
        return CancelOutcome(ch.name, order_id, (), already, None, None, None, None, (), order.status, refused)
    if order.status == "accepted":
        decision = _decide(ch, order_id, as_utc(order.placed_at), at, reason, cancellation)
    else:
        decision = NOTHING_TAKEN
    restored = _give_back(conn, ch, order_id, still_open) if decision.restore else ()
    cancel_lines(conn, [line.id for line in still_open], decision, at=at, where=cancellation.where, reason=reason,
                 by=cancellation.cancelled_by)
    status = close_order_when_every_line_is_cancelled(conn, order.id, at)
    return CancelOutcome(ch.name, order_id, tuple(line.line_id for line in still_open), already,
                         decision.restore, decision.rule, decision.reason_verdict, decision.explanation,
                         restored, status)


def cancel_in_stockgate(conn: Connection, channel: str, order_id: str, *, choice: str | None,
                        line_ids: Sequence[str] | None = None, reason: str | None = None,
                        actor: str | None = None) -> CancelOutcome:
    """An operator cancels an order (or the lines `line_ids`) now, choosing to restore its stock or keep it
    (`stockgate orders cancel`, the order page): `record_cancellation` with where="stockgate"; a change
    made by `actor` is written to the audit log (`order.cancel`) in the same transaction."""
    cancellation = CancellationData(order_id=order_id, cancelled_at=now(), where="stockgate", reason=reason,
                                    line_ids=tuple(line_ids) if line_ids else None, choice=choice)
    outcome = record_cancellation(conn, channel, cancellation)
    if actor is not None and outcome.changed:
        record(conn, actor=actor, action="order.cancel", target=f"{outcome.channel}/{outcome.order_id}",
               detail={"choice": choice, "lines": list(outcome.cancelled_lines), "reason": reason,
                       "restore": outcome.restore, "rule": outcome.rule,
                       "restored": [f"{m.sku} +{m.units} to {m.warehouse}" for m in outcome.restored]})
    return outcome


def _refuse(conn: Connection, ch: ChannelRow, order: Row, cancellation: CancellationData, at: datetime,
            reason: str | None) -> str:
    """Keep the order as it is and remember the refused cancellation (once, however often it is delivered);
    the sentence that says why."""
    why = describe_cancelled_before_placement(as_utc(order.placed_at), at)
    r = schema.refused_cancellations.c
    lines = json.dumps(list(cancellation.line_ids)) if cancellation.line_ids is not None else None
    seen = conn.execute(select(r.id).where(r.order_pk == order.id, r.cancelled_at == at,
                                           r.cancel_where == cancellation.where)).scalars().first()
    if seen is None:
        conn.execute(schema.refused_cancellations.insert().values(
            order_pk=order.id, cancelled_at=at, cancel_where=cancellation.where, reason=reason, line_ids=lines,
            message=why, recorded_at=now()))
    return f"order {ch.name}/{order.order_id}: cancellation refused, the order is kept: {why}"


def _target_lines(ch: ChannelRow, order_id: str, lines: Sequence[Row], line_ids: Sequence[str] | None) -> list[Row]:
    if line_ids is None:
        return list(lines)
    by_id = {line.line_id: line for line in lines}
    wanted = list(dict.fromkeys(line_id.strip() for line_id in line_ids))
    unknown = [line_id for line_id in wanted if line_id not in by_id]
    if unknown:
        raise NotFoundError(f"order {ch.name}/{order_id} has no line {', '.join(map(repr, unknown))} "
                            f"(its lines: {', '.join(by_id) or 'none'})")
    return [by_id[line_id] for line_id in wanted]


def _decide(ch: ChannelRow, order_id: str, placed_at: datetime, cancelled_at: datetime, reason: str | None,
            cancellation: CancellationData) -> RestoreDecision:
    try:
        return restore_decision(marketplace=ch.marketplace, policy=ch.restore_policy, reason=reason,
                                placed_at=placed_at, cancelled_at=cancelled_at, where=cancellation.where,
                                choice=cancellation.choice)
    except ChoiceRequiredError:
        raise UsageError(f"order {ch.name}/{order_id} is cancelled in StockGate: the operator must choose to "
                         "restore its stock or keep it (--restore or --no-restore)") from None
    except ValueError as exc:
        raise UsageError(f"order {ch.name}/{order_id}: {exc}") from None


def _give_back(conn: Connection, ch: ChannelRow, order_id: str, lines: Sequence[Row]) -> tuple[MovedUnits, ...]:
    """Return every unit still allocated to `lines` to its warehouse (ledger cause `cancel`)."""
    a = schema.allocations.c
    by_pk = {line.id: line for line in lines}
    rows = conn.execute(select(a.id, a.order_line_id, a.warehouse_id, a.units, a.restored_units)
                        .where(a.order_line_id.in_(list(by_pk)), a.restored_units < a.units).order_by(a.id)).all()
    if not rows:
        return ()
    codes = {w.id: code for code, w in warehouses(conn).items()}
    changes, restored = [], []
    for row in rows:
        line, units = by_pk[row.order_line_id], row.units - row.restored_units
        changes.append(StockChange((line.item_id, row.warehouse_id), ChangeKind.ADD, units,
                                   reference=line_reference(ch.name, order_id, line.line_id)))
        restored.append(MovedUnits(line.line_id, line.sku, codes[row.warehouse_id], units))
    conn.execute(update(schema.allocations).where(a.id.in_([row.id for row in rows]))
                 .values(restored_units=a.units))
    apply_stock_changes(conn, changes, cause="cancel", at=now())
    return tuple(restored)
