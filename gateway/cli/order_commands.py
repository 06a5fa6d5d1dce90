"""Commands for orders: `orders` (list, cancel, explain) and `restore-decision` (what a cancellation would do)."""

from __future__ import annotations

import sys
from dataclasses import asdict

from gateway.channel_sync.marketplace_cancel import cancel_options, cancel_there_first
from gateway.cli.output import print_json, print_table
from gateway.cli.user_commands import cli_actor
from gateway.clock import parse_iso
from gateway.core.restore_policy import ChoiceRequiredError, cancelled_before_placement, restore_decision
from gateway.errors import UsageError
from gateway.orders import cancel_in_stockgate, count_orders, explain_order, list_orders
from gateway.orders.model import ORDER_STATUSES
from gateway.orders.views import MAX_PAGE_SIZE
from gateway.settings import MARKETPLACES


def register(sub) -> None:
    p = sub.add_parser("orders", help="orders; `orders cancel` cancels in StockGate; `orders explain` says why")
    p.add_argument("--channel", metavar="NAME", help="only this channel's orders")
    p.add_argument("--status", choices=ORDER_STATUSES, help="only orders with this status")
    p.add_argument("--limit", type=int, metavar="N", help=f"at most N orders (1 to {MAX_PAGE_SIZE})")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N (paging with --limit)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_orders)
    osub = p.add_subparsers(dest="action", metavar="ACTION")

    cp = osub.add_parser("cancel", help="cancel an order (or lines) in StockGate: restore its stock or keep it")
    cp.add_argument("channel_name", metavar="CHANNEL", help="the channel the order came from")
    cp.add_argument("order_id", metavar="ORDER_ID", help="the marketplace's order id")
    choice = cp.add_mutually_exclusive_group(required=True)
    choice.add_argument("--restore", dest="choice", action="store_const", const="restore",
                        help="give the allocated units back to the warehouses they came from")
    choice.add_argument("--no-restore", dest="choice", action="store_const", const="keep",
                        help="leave stock as it is")
    cp.add_argument("--line", dest="lines", action="extend", nargs="+", metavar="LINE_ID",
                    help="cancel only these lines (default: every open line)")
    cp.add_argument("--reason", metavar="TEXT", help="why, kept with the cancellation")
    cp.add_argument("--marketplace-reason", metavar="CODE",
                    help="the reason code sent when the marketplace's API cancels there too (default: by the choice)")
    cp.add_argument("--here-only", action="store_true",
                    help="cancel in StockGate only, even where the marketplace's API could cancel there too")
    cp.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    cp.set_defaults(func=cmd_orders_cancel)

    ep = osub.add_parser("explain", help="an order's allocations and why its cancellation did or did not restore")
    ep.add_argument("channel_name", metavar="CHANNEL", help="the channel the order came from")
    ep.add_argument("order_id", metavar="ORDER_ID", help="the marketplace's order id")
    ep.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    ep.set_defaults(func=cmd_orders_explain)

    rp = sub.add_parser("restore-decision", help="what a cancellation would do, without an order")
    rp.add_argument("--marketplace", required=True, choices=MARKETPLACES, help="whose reason table to use")
    rp.add_argument("--policy", required=True, choices=("always", "never", "smart"),
                    help="the channel's restore_policy")
    rp.add_argument("--reason", metavar="TEXT", help="the cancellation reason in the marketplace's words or code")
    rp.add_argument("--placed-at", required=True, metavar="ISO", help="when the order was placed (ISO 8601)")
    rp.add_argument("--cancelled-at", required=True, metavar="ISO", help="when it was cancelled (ISO 8601)")
    rp.add_argument("--where", required=True, choices=("marketplace", "stockgate"),
                    help="cancelled on the marketplace, or in StockGate by `orders cancel`")
    rp.add_argument("--choice", choices=("restore", "keep"),
                    help="a StockGate cancellation's --restore or --no-restore")
    rp.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    rp.set_defaults(func=cmd_restore_decision)


def cmd_orders(app, args) -> int:
    with app.db.read() as conn:
        orders = list_orders(conn, args.channel, args.status, limit=args.limit, offset=args.offset)
        total = count_orders(conn, args.channel, args.status)
    if args.json:
        print_json({"orders": orders, "total": total})
    else:
        print_table(["CHANNEL", "ORDER", "PLACED", "STATUS", "LINES", "UNITS", "TAKEN", "RESTORED", "OVERSOLD"],
                    [[o["channel"], o["order_id"], o["placed_at"], o["status"], o["lines"], o["units"], o["taken"],
                      o["restored"], o["oversold"]] for o in orders], empty="no orders")
        if orders and len(orders) < total:
            print(f"orders {args.offset + 1}-{args.offset + len(orders)} of {total}")
    return 0


def cmd_orders_cancel(app, args) -> int:
    on_marketplace = cancel_there_first(app.db, app.settings, args.channel_name, args.order_id, args.lines,
                                        args.choice, args.marketplace_reason, here_only=args.here_only)
    with app.db.write() as conn:
        outcome = cancel_in_stockgate(conn, args.channel_name, args.order_id, choice=args.choice,
                                      line_ids=args.lines, reason=args.reason, actor=cli_actor())
    if outcome.refused:   # an order placed later than now (a clock or a sandbox --placed-at in the future)
        if args.json:
            print_json({**asdict(outcome), "changed": False})
        sys.stderr.write(f"stockgate: error: {outcome.refused}\n")
        return 1
    if args.json:
        print_json({**asdict(outcome), "changed": outcome.changed, "marketplace": on_marketplace})
        return 0
    print(on_marketplace["message"])
    name = f"{outcome.channel}/{outcome.order_id}"
    if not outcome.changed:
        print(f"order {name}: nothing changed, line(s) {', '.join(outcome.already_cancelled)} already cancelled")
        return 0
    print(f"order {name}: cancelled line(s) {', '.join(outcome.cancelled_lines)}; order is {outcome.order_status}")
    print(outcome.explanation)
    if outcome.restored:
        print("given back: " + ", ".join(f"{m.sku} +{m.units} to {m.warehouse}" for m in outcome.restored))
    elif outcome.restore:
        print("given back: nothing (no units were taken)")
    if outcome.already_cancelled:
        print(f"already cancelled before, left as they were: {', '.join(outcome.already_cancelled)}")
    return 0


def cmd_orders_explain(app, args) -> int:
    with app.db.read() as conn:
        explained = explain_order(conn, args.channel_name, args.order_id)
    there = cancel_options(app.db, app.settings, explained["channel"])
    if args.json:
        print_json({**explained, "marketplace_cancel": there})
        return 0
    print("\n".join(explained["summary"]))
    if any(line["status"] == "open" for line in explained["lines"]):
        print(f"Cancelling it here also cancels it on {explained['marketplace']} (--marketplace-reason: "
              f"{', '.join(there['reasons'])})." if there["possible"] else
              f"Cancelling it here does not cancel it on {explained['marketplace']}: {there['why']}.")
    return 0


def cmd_restore_decision(app, args) -> int:
    placed_at = parse_iso(args.placed_at, "--placed-at")
    cancelled_at = parse_iso(args.cancelled_at, "--cancelled-at")
    if cancelled_before_placement(placed_at, cancelled_at):   # the rule order pulls refuse by too
        raise UsageError(f"--cancelled-at {args.cancelled_at} is earlier than --placed-at {args.placed_at}")
    if args.choice and args.where == "marketplace":
        raise UsageError("--choice only applies to cancellations made in StockGate (--where stockgate); "
                         "a marketplace cancellation is decided by the policy")
    try:
        decision = restore_decision(marketplace=args.marketplace, policy=args.policy, reason=args.reason,
                                    placed_at=placed_at, cancelled_at=cancelled_at, where=args.where,
                                    choice=args.choice)
    except ChoiceRequiredError:
        raise UsageError("--where stockgate needs the operator's --choice restore or --choice keep") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json({"restore": decision.restore, "rule": decision.rule, "reason_verdict": decision.reason_verdict,
                    "explanation": decision.explanation})
    else:
        print(f"{'restore' if decision.restore else 'do not restore'} (rule {decision.rule}, "
              f"reason {decision.reason_verdict}): {decision.explanation}")
    return 0
