"""Commands for the foundation: init, stock, ledger, set, adjust, warehouses, hash-password."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from sqlalchemy import func, select

from gateway.cli.output import print_json, print_json_streamed, print_table, print_table_streamed
from gateway.core.skus import is_warehouse_code
from gateway.db import schema
from gateway.errors import UsageError
from gateway.passwords import hash_password
from gateway.settings import PRIORITY_LIMIT
from gateway.stock import adjust_stock, find_warehouse, iter_stock_view, ledger_view, set_stock, warehouses
from gateway.stock.typed_quantity import read_quantity


def positive_int(text: str) -> int:
    """argparse type: a whole number of 1 or more (a `--limit`)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1_000_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 to 1,000,000,000")
    return value


def priority(text: str) -> int:
    """argparse type: a warehouse priority, 0 to PRIORITY_LIMIT (lowest is used first)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= PRIORITY_LIMIT:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 to {PRIORITY_LIMIT:,}")
    return value


def register(sub) -> None:
    p = sub.add_parser("init", help="create the data folder and database, migrate, create MF (safe to rerun)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("stock", help="stock levels per warehouse and available quantity")
    p.add_argument("skus", nargs="*", metavar="SKU",
                   help="only these SKUs (exit 1 naming any that StockGate does not know)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_stock)

    p = sub.add_parser("ledger", help="ledger entries, oldest first")
    p.add_argument("sku", nargs="?", metavar="SKU", help="only this SKU's entries")
    p.add_argument("--limit", type=positive_int, help="at most this many entries (oldest first)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_ledger)

    p = sub.add_parser("set", help="manual edit of one stock level (ledger cause `manual`)")
    p.add_argument("sku", metavar="SKU", help="the SKU to set")
    p.add_argument("warehouse", metavar="WAREHOUSE", help="the warehouse code, e.g. MF (any case)")
    p.add_argument("quantity", metavar="QTY", help="the new level, a whole number without a sign (to add or "
                                                   "take away, use `adjust`)")
    p.add_argument("--note", metavar="TEXT", help="why (one line, kept with the ledger entry)")
    p.set_defaults(func=cmd_set)

    p = sub.add_parser("adjust", help="manual movement of one stock level by a signed delta (ledger cause `manual`)")
    p.add_argument("sku", metavar="SKU", help="the SKU to adjust (created when unknown)")
    p.add_argument("warehouse", metavar="WAREHOUSE", help="the warehouse code, e.g. MF (any case)")
    p.add_argument("delta", metavar="DELTA", help="units to add (+4 or 4) or take away (-4); refused when the "
                                                  "level would go below 0")
    p.add_argument("--note", metavar="TEXT", help="why (one line, kept with the ledger entry)")
    p.set_defaults(func=cmd_adjust)

    p = sub.add_parser("warehouses", help="inventory sources")
    wsub = p.add_subparsers(dest="action", metavar="ACTION")
    wsub.required = True
    lp = wsub.add_parser("list", help="list warehouses")
    lp.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    lp.set_defaults(func=cmd_warehouses_list)
    ap = wsub.add_parser("add", help="add a warehouse")
    ap.add_argument("code", metavar="CODE", help="1-32 letters, digits, _ or -")
    ap.add_argument("--name", default="", help="a display name (default: the code)")
    ap.add_argument("--kind", choices=("merchant", "3pl", "fba"), default="merchant",
                    help="who holds the stock (default merchant)")
    ap.add_argument("--priority", type=priority, default=100, help="order allocation, lowest first")
    ap.add_argument("--not-sellable", dest="sellable", action="store_false",
                    help="its stock is counted but never offered on channels")
    ap.set_defaults(func=cmd_warehouses_add)

    p = sub.add_parser("hash-password", help="read a password on stdin, print its hash for the config")
    p.set_defaults(func=cmd_hash_password)


def cmd_init(app, args) -> int:
    app.initialise()
    print(f"StockGate initialised: data in {app.settings.data_dir}, database {app.settings.database_url}")
    return 0


def cmd_stock(app, args) -> int:
    """Exit 1 when a SKU asked for is unknown: named on stderr, and under --json in `"missing"` (present
    only then, so the document of known SKUs stays `{"items": [...]}`). Printed as the items are read
    (a million SKUs are never all in memory)."""
    wanted = list(dict.fromkeys(sku.strip() for sku in args.skus))
    found: set[str] = set()

    def items():
        for item in iter_stock_view(conn, wanted):
            if wanted:
                found.add(item["sku"])
            yield item

    def missing() -> list[str]:
        return [sku for sku in wanted if sku not in found]

    with app.db.read() as conn:
        if args.json:
            print_json_streamed("items", items(), lambda: {"missing": missing()} if missing() else {})
        else:
            print_table_streamed(["SKU", "WAREHOUSES", "AVAILABLE"],
                                 lambda: ([i["sku"], " ".join(f"{k}={v}" for k, v in i["warehouses"].items()),
                                           i["available"]] for i in items()),
                                 empty="no items" if not wanted else "none of these SKUs is known")
    if missing():
        sys.stderr.write(f"stockgate: unknown SKU{'s' if len(missing()) > 1 else ''}: "
                         f"{', '.join(map(repr, missing()))}\n")
        return 1
    return 0


def cmd_ledger(app, args) -> int:
    with app.db.read() as conn:
        entries = ledger_view(conn, args.sku, args.limit)
    if args.json:
        print_json({"entries": entries})
    else:
        print_table(["AT", "SKU", "WAREHOUSE", "DELTA", "ON_HAND", "CAUSE", "REFERENCE", "NOTE"],
                    [[e["at"], e["sku"], e["warehouse"], f"{e['delta']:+d}", e["on_hand_after"], e["cause"],
                      _reference(e), e["note"] or ""] for e in entries], empty="no ledger entries")
    return 0


def _reference(entry: dict) -> str:
    if entry["file_id"]:
        return f"file {entry['file_id']} row {entry['row']}"
    return entry["reference"] or ""


def cmd_set(app, args) -> int:
    from gateway.cli.user_commands import cli_actor   # late import: user_commands builds on this module

    sku, text = args.sku.strip(), args.quantity.strip()
    hint = f"`set` sets a level; to add or take away units run `stockgate adjust {sku} {args.warehouse} {text}`"
    quantity = read_quantity(text, signed=False, what="quantity", signed_hint=hint)
    with app.db.write() as conn:
        code = find_warehouse(conn, args.warehouse).code
        entry = set_stock(conn, sku, code, quantity, reference="stockgate set", note=args.note,
                          actor=cli_actor())
    if entry is None:
        print(f"{sku} in {code} is already {quantity}: nothing changed")
    else:
        print(f"{sku} in {code}: {entry.before} -> {entry.after} ({entry.delta:+d})")
    return 0


def cmd_adjust(app, args) -> int:
    from gateway.cli.user_commands import cli_actor   # late import: user_commands builds on this module

    sku = args.sku.strip()
    delta = read_quantity(args.delta.strip(), signed=True, what="delta")
    with app.db.write() as conn:
        code = find_warehouse(conn, args.warehouse).code
        entry = adjust_stock(conn, sku, code, delta, reference="stockgate adjust", note=args.note,
                             actor=cli_actor())
    if entry is None:
        print(f"{sku} in {code}: a delta of 0 changes nothing")
    else:
        print(f"{sku} in {code}: {entry.before} -> {entry.after} ({entry.delta:+d})")
    return 0


def cmd_warehouses_list(app, args) -> int:
    with app.db.read() as conn:
        rows = list(warehouses(conn).values())
    if args.json:
        print_json({"warehouses": [{"code": w.code, "name": w.name, "kind": w.kind, "priority": w.priority,
                                    "sellable": w.sellable} for w in rows]})
    else:
        print_table(["CODE", "NAME", "KIND", "PRIORITY", "SELLABLE"],
                    [[w.code, w.name, w.kind, w.priority, "yes" if w.sellable else "no"] for w in rows])
    return 0


def cmd_warehouses_add(app, args) -> int:
    if not is_warehouse_code(args.code):
        raise UsageError(f"warehouse code {args.code!r} must be 1-32 letters, digits, _ or -")
    w = schema.warehouses.c
    with app.db.write() as conn:
        # codes are unique without regard to case: `east` beside `EAST` would be two names for one place
        existing = conn.execute(select(w.code).where(func.lower(w.code) == args.code.lower())).scalar()
        if existing == args.code:
            raise UsageError(f"warehouse {args.code!r} already exists")
        if existing is not None:
            raise UsageError(f"warehouse {args.code!r} already exists as {existing!r}: warehouse codes are "
                             "unique without regard to case")
        conn.execute(schema.warehouses.insert().values(
            code=args.code, name=args.name or args.code, kind=args.kind, priority=args.priority,
            sellable=args.sellable, created_at=datetime.now(UTC)))
    print(f"warehouse {args.code} added")
    return 0


def cmd_hash_password(app, args) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("no password given on stdin")
    print(hash_password(password))
    return 0
