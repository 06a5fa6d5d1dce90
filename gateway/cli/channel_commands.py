"""Commands for channels: drive a sandbox marketplace, run a channel job now, view and settle listings
(editing a channel's settings: `channel_settings_commands`)."""

from __future__ import annotations

import os
import sys

from channels.sandbox_market import SandboxRequestError
from gateway.channel_sync.adapters import channel_errors, open_sandbox
from gateway.channel_sync.jobs import ChannelJobs
from gateway.channel_sync.linking import link_listing, unlink_listing
from gateway.channel_sync.listing_views import LISTING_STATES
from gateway.channel_sync.listings import listings_view, mark_listing
from gateway.channel_sync.overview import channel_overview
from gateway.channel_sync.scheduler import live_scheduler_holder
from gateway.cli.channel_check_commands import register_check
from gateway.cli.channel_settings_commands import register_actions
from gateway.cli.output import print_json, print_table
from gateway.cli.user_commands import cli_actor
from gateway.clock import parse_iso
from gateway.core.restore_policy import match_reason
from gateway.errors import NotFoundError, UsageError
from parsers.issues import QUANTITY_LIMIT


def register(sub) -> None:
    p = sub.add_parser("sandbox", help="drive a sandbox marketplace: listings, orders, cancellations, failures")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    a = s.add_parser("order", help="a buyer places an order (paid at once unless --pending)")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("order_id", metavar="ORDER_ID", help="the marketplace's order id")
    a.add_argument("lines", nargs="+", metavar="SKU:QTY", help="one line per SKU and quantity ordered")
    a.add_argument("--placed-at", metavar="ISO", help="when it was placed (default now)")
    a.add_argument("--pending", action="store_true", help="not paid yet: StockGate takes no stock until accepted")
    a.set_defaults(func=cmd_sandbox_order)
    a = s.add_parser("accept", help="a pending order is paid")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("order_id", metavar="ORDER_ID", help="the marketplace's order id")
    a.set_defaults(func=cmd_sandbox_accept)
    a = s.add_parser("cancel", help="the order (or some lines) is cancelled on the marketplace")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("order_id", metavar="ORDER_ID", help="the marketplace's order id")
    a.add_argument("--reason", metavar="TEXT", help="in the marketplace's own words, e.g. 'Buyer Canceled'")
    a.add_argument("--at", metavar="ISO", help="when it was cancelled (default now)")
    a.add_argument("--line", dest="lines", action="append", metavar="LINE_ID", help="cancel only this line")
    a.set_defaults(func=cmd_sandbox_cancel)
    a = s.add_parser("listing", help="create or replace a listing")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("listing_id", metavar="LISTING_ID", help="the marketplace's listing id")
    a.add_argument("sku", metavar="SKU", help="the seller SKU the listing sells")
    a.add_argument("quantity", metavar="QTY", help="the quantity the marketplace shows now")
    a.add_argument("--size", metavar="S", help="a size or variant, shown in listings")
    a.add_argument("--title", metavar="T", help="the listing's title")
    a.add_argument("--location", dest="locations", action="append", default=[], metavar="ID",
                   help="stocked at this marketplace location (repeat for several; a channel's `locations`)")
    a.set_defaults(func=cmd_sandbox_listing)
    a = s.add_parser("remove-listing", help="the listing disappears from the marketplace")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("listing_id", metavar="LISTING_ID", help="the marketplace's listing id")
    a.set_defaults(func=cmd_sandbox_remove_listing)
    a = s.add_parser("show", help="what the marketplace holds: listings with the quantity shown, orders")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_sandbox_show)
    a = s.add_parser("fail", help="make the next N pushes fail (or time out after being applied)")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("calls", metavar="N", help="how many pushes fail")
    a.add_argument("--timeout", action="store_true", help="apply the push, then never answer")
    a.add_argument("--all-calls", action="store_true", help="listing syncs and order pulls fail too")
    a.set_defaults(func=cmd_sandbox_fail)

    p = sub.add_parser("channels", help="sales channels: list them, run a job now, edit their settings")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    a = s.add_parser("list", help="configured channels with listings, pending pushes and last runs")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_channels_list)
    for action, text in (("sync", "listing sync (incremental, or --full)"), ("pull", "fetch orders and cancellations"),
                         ("push", "push every quantity that differs from the last pushed")):
        a = s.add_parser(action, help=text)
        a.add_argument("name", metavar="NAME", help="the channel's name in the configuration")
        if action == "sync":
            a.add_argument("--full", action="store_true", help="fetch every listing; vanished ones become missing")
        a.add_argument("--force", action="store_true", help="run even while a running `serve` schedules channel jobs")
        a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
        a.set_defaults(func=cmd_channels_job, job={"sync": "listings", "pull": "orders", "push": "push"}[action])
    register_actions(s)
    register_check(s)

    p = sub.add_parser("listings", help="listings with link state and last pushed quantity; `mark` settles one, "
                                        "`link` and `unlink` decide one's item")
    p.add_argument("--channel", metavar="NAME", help="only this channel's listings")
    p.add_argument("--state", choices=LISTING_STATES, help="only listings in this state (linked and unlinked: "
                                                           "active ones)")
    p.add_argument("--search", metavar="TEXT", default="", help="only listings whose SKU or listing id holds TEXT")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_listings)
    s = p.add_subparsers(dest="action", metavar="ACTION")
    a = s.add_parser("mark", help="settle a missing listing as sold or deleted")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("listing_id", metavar="LISTING_ID", help="the marketplace's listing id")
    a.add_argument("status", choices=("sold", "deleted"), help="what became of it")
    a.add_argument("--location", metavar="ID", help="the marketplace location, for a listing stocked at several")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_listings_mark)
    a = s.add_parser("link", help="link a listing to an item (the size and one-per-channel rules apply); "
                                  "its quantity is pushed")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("listing_id", metavar="LISTING_ID", help="the marketplace's listing id")
    a.add_argument("sku", metavar="SKU", help="the SKU of the item it sells")
    a.add_argument("--location", metavar="ID", help="the marketplace location, for a listing stocked at several")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_listings_link)
    a = s.add_parser("unlink", help="unlink a listing from its item: it is pushed nothing more, and the "
                                    "listing sync leaves it unlinked")
    a.add_argument("channel", metavar="CHANNEL", help="the channel's name in the configuration")
    a.add_argument("listing_id", metavar="LISTING_ID", help="the marketplace's listing id")
    a.add_argument("--location", metavar="ID", help="the marketplace location, for a listing stocked at several")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_listings_unlink)


def _sandbox(app, channel: str):
    cfg = app.settings.channel(channel)
    sandboxes = [c.name for c in app.settings.channels if c.adapter == "sandbox"]
    if cfg is None or cfg.adapter != "sandbox":
        raise NotFoundError(f"{channel!r} is not a configured sandbox channel (sandbox channels: "
                            f"{', '.join(sandboxes) or 'none'})")
    return open_sandbox(cfg, app.settings.data_dir)


def _count(text: str, what: str, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a whole number") from None
    if value < minimum:
        raise UsageError(f"{what} {text!r} must be {minimum} or more")
    if value > QUANTITY_LIMIT:
        raise UsageError(f"{what} {text!r} is above the limit of {QUANTITY_LIMIT:,}")
    return value


def _sandbox_call(action):
    """One call on a sandbox marketplace: what it refuses is a usage error, a damaged state file a
    configuration error."""
    with channel_errors():
        try:
            return action()
        except SandboxRequestError as exc:
            raise UsageError(str(exc)) from exc


def cmd_sandbox_order(app, args) -> int:
    lines = []
    for text in args.lines:
        sku, sep, qty = text.rpartition(":")
        if not sep or not sku.strip():
            raise UsageError(f"order line {text!r} is not SKU:QTY (e.g. A1:2)")
        lines.append((sku.strip(), _count(qty, f"quantity of line {text!r}:", 1)))
    placed = parse_iso(args.placed_at, "--placed-at") if args.placed_at else None
    order = _sandbox_call(lambda: _sandbox(app, args.channel).place_order(args.order_id, lines, placed_at=placed,
                                                                          pending=args.pending))
    print(f"order {order['order_id']} placed on {args.channel} ({order['status']}): "
          + ", ".join(f"line {l['line_id']} {l['sku']} x{l['quantity']}" for l in order["lines"]))
    return 0


def cmd_sandbox_accept(app, args) -> int:
    _sandbox_call(lambda: _sandbox(app, args.channel).accept_order(args.order_id))
    print(f"order {args.order_id} on {args.channel} is accepted (paid)")
    return 0


def cmd_sandbox_cancel(app, args) -> int:
    market = _sandbox(app, args.channel)
    if args.reason and match_reason(market.marketplace, args.reason) is None:
        sys.stderr.write(f"stockgate: warning: {args.reason!r} is not one of {market.marketplace}'s cancellation "
                         "reasons (see docs/cancellations.md); recorded as given\n")
    at = parse_iso(args.at, "--at") if args.at else None
    _sandbox_call(lambda: market.cancel_order(args.order_id, reason=args.reason, at=at, line_ids=args.lines))
    what = f"lines {', '.join(args.lines)} of order" if args.lines else "order"
    print(f"{what} {args.order_id} cancelled on {args.channel}" + (f" ({args.reason})" if args.reason else ""))
    return 0


def cmd_sandbox_listing(app, args) -> int:
    quantity = _count(args.quantity, "quantity", 0)
    _sandbox_call(lambda: _sandbox(app, args.channel).add_listing(args.listing_id, args.sku.strip(), quantity,
                                                                  size=args.size, title=args.title,
                                                                  locations=tuple(args.locations)))
    at = f" at {', '.join(args.locations)}" if args.locations else ""
    print(f"listing {args.listing_id} ({args.sku}) on {args.channel} shows {quantity}{at}")
    return 0


def cmd_sandbox_remove_listing(app, args) -> int:
    _sandbox_call(lambda: _sandbox(app, args.channel).remove_listing(args.listing_id))
    print(f"listing {args.listing_id} removed from {args.channel}")
    return 0


def cmd_sandbox_show(app, args) -> int:
    with channel_errors():
        state = _sandbox(app, args.channel).show()
    if args.json:
        print_json(state)
        return 0
    print(f"sandbox {args.channel} ({state['marketplace']}); failing calls left: {state['failing_calls']}")
    located = any(l.get("locations") for l in state["listings"])
    print_table(["LISTING", "SKU", "SIZE", "QUANTITY", "PUSHES", *(["LOCATIONS"] if located else [])],
                [[l["listing_id"], l["sku"], l["size"], l["quantity"], l["pushes"],
                  *([" ".join(f"{loc}:{at['quantity']}" for loc, at in (l.get("locations") or {}).items()) or "-"]
                    if located else [])] for l in state["listings"]],
                empty="no listings")
    print_table(["ORDER", "PLACED", "STATUS", "LINES", "CANCELLED"],
                [[o["order_id"], o["placed_at"], o["status"],
                  " ".join(f"{l['line_id']}:{l['sku']}x{l['quantity']}" for l in o["lines"]),
                  "; ".join(c["reason"] or "(no reason)" for c in o["cancellations"])] for o in state["orders"]],
                empty="no orders")
    return 0


def cmd_sandbox_fail(app, args) -> int:
    calls = _count(args.calls, "number of calls", 0)
    with channel_errors():
        _sandbox(app, args.channel).fail_next(calls, timeout=args.timeout, all_calls=args.all_calls)
    kind = "calls" if args.all_calls else "pushes"
    print(f"the next {calls} {kind} to {args.channel} will " + ("time out" if args.timeout else "fail"))
    return 0


def cmd_channels_list(app, args) -> int:
    with app.db.read() as conn:
        channels = channel_overview(conn, app.settings)
    if args.json:
        print_json({"channels": channels})
        return 0
    def _run(run):
        return "-" if run is None else f"{run['finished_at'] or run['started_at']} {'ok' if run['ok'] else 'FAILED'}"
    print_table(["NAME", "MARKETPLACE", "ADAPTER", "ACTIVE", "MISSING", "UNLINKED", "PENDING", "LAST PUSH"],
                [[ch["name"], ch["marketplace"], ch["adapter"], ch["listings"]["active"], ch["listings"]["missing"],
                  ch["unlinked"], ch["pending_pushes"], _run(ch["last_runs"]["push"])] for ch in channels],
                empty="no channels configured")
    return 0


def cmd_channels_job(app, args) -> int:
    jobs = ChannelJobs(app.db, app.settings)
    jobs.adapter(args.name)
    holder = None if args.force else live_scheduler_holder(app.db)
    if holder is not None:
        raise UsageError(f"a running serve ({holder}) schedules the channel jobs of this database; it runs "
                         f"{args.job} for {args.name} on its own interval (add --force to run it now anyway)")
    result = jobs.run_now(args.job, args.name, holder=f"cli:{os.getpid()}", full=getattr(args, "full", False),
                          actor=cli_actor())
    if not result.ok:
        sys.stderr.write(f"stockgate: error: {result.error}\n")   # the command's one error line
        return 1
    document = result.outcome
    if args.json:
        print_json(document)
    else:
        print(f"{args.name}: " + ", ".join(f"{k} {v}" for k, v in document.items() if k != "channel"))
    return 0 if result.complete else 1


def cmd_listings(app, args) -> int:
    with app.db.read() as conn:
        rows = listings_view(conn, args.channel, state=args.state, search=args.search)
    if args.json:
        print_json({"listings": rows})
        return 0
    located = any(r["location"] for r in rows)      # a LOCATION column only when a channel has `locations`
    print_table(["CHANNEL", "LISTING", *(["LOCATION"] if located else []), "SKU", "ITEM", "LINK", "STATUS", "PUSHED",
                 "PENDING", "ERROR"],
                [[r["channel"], r["listing_id"], *([r["location"] or "-"] if located else []), r["sku"],
                  r["item"] or "-", r["link_reason"] or r["link"], r["status"], r["last_pushed_quantity"],
                  r["pending_quantity"], r["last_push_error"]]
                 for r in rows], empty="no listings")
    return 0


def cmd_listings_mark(app, args) -> int:
    with app.db.write() as conn:
        row = mark_listing(conn, args.channel, args.listing_id, args.status, actor=cli_actor(),
                           location=args.location)
    if args.json:
        print_json(row)
    else:
        print(f"listing {args.listing_id} on {args.channel} marked {args.status}")
    return 0


def cmd_listings_link(app, args) -> int:
    with app.db.write() as conn:
        row = link_listing(conn, args.channel, args.listing_id, args.sku, actor=cli_actor(), location=args.location)
    if args.json:
        print_json(row)
    else:
        print(f"listing {args.listing_id} on {args.channel} linked to {row['item']}; "
              f"{row['pending_quantity'] if row['pending_quantity'] is not None else 'its quantity'} "
              "waits to be pushed")
    return 0


def cmd_listings_unlink(app, args) -> int:
    with app.db.write() as conn:
        row = unlink_listing(conn, args.channel, args.listing_id, actor=cli_actor(), location=args.location)
    if args.json:
        print_json(row)
    else:
        print(f"listing {args.listing_id} on {args.channel} unlinked")
    return 0
