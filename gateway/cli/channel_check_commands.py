"""`stockgate channels check NAME`: try a marketplace channel's credentials and permissions against its API."""

from __future__ import annotations

import json

from gateway.channel_sync.adapters import channel_errors
from gateway.channel_sync.jobs import ChannelJobs
from gateway.cli.output import print_table


def register_check(actions) -> None:
    """Add `check` to the `channels` actions."""
    a = actions.add_parser("check", help="verify a marketplace channel's credentials and permissions")
    a.add_argument("name", metavar="NAME", help="the channel's name in the configuration")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_channels_check)


def cmd_channels_check(app, args) -> int:
    """Exit 0 when every step worked, 1 when one did not (each says what to fix)."""
    adapter = ChannelJobs(app.db, app.settings).adapter(args.name)
    if not hasattr(adapter, "check"):
        message = f"channel {args.name} ({app.settings.channel(args.name).adapter}) has no marketplace API to check"
        print(json.dumps({"channel": args.name, "checks": [], "message": message}) if args.json else message)
        return 0
    with channel_errors():
        results = adapter.check()
    if args.json:
        print(json.dumps({"channel": args.name, "checks": [r.__dict__ for r in results]}))
    else:
        print_table(["STEP", "RESULT", "DETAIL"], [[r.step, "ok" if r.ok else "MISSING", r.detail] for r in results],
                    empty="nothing checked")
    return 0 if all(r.ok for r in results) else 1
