"""Commands for SFTP and folder sources (and what FTP accounts sent): `sources [--json]` and `sources poll NAME
[--json]`."""

from __future__ import annotations

import sys

from gateway.cli.output import print_json, print_table, short_time
from gateway.transports.ftp.account_status import ftp_account_status
from gateway.transports.sources.runner import current_error, find_source, poll_source, source_status


def register(sub) -> None:
    p = sub.add_parser("sources", help="SFTP and folder sources: last poll, last success, last error; FTP accounts' "
                                       "last upload")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_sources)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    poll = actions.add_parser("poll", help="poll one source now and print what was fetched")
    poll.add_argument("name", metavar="NAME", help="the source's name in the configuration ([[sources]] name)")
    poll.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    poll.set_defaults(func=cmd_sources_poll)


def cmd_sources(app, args) -> int:
    """Show every configured source with its last poll, success and error, and each FTP account's last upload."""
    rows = source_status(app.db, app.settings)
    accounts = ftp_account_status(app.db, app.settings)
    if args.json:
        print_json({"sources": rows, "ftp_accounts": accounts})
        return 0
    print_table(["NAME", "TYPE", "WAREHOUSE", "LAST POLL", "LAST SUCCESS", "FAILURES", "NEXT POLL", "LAST ERROR"],
                [[r["name"], r["type"], r["warehouse"], short_time(r["last_poll_at"]),
                  short_time(r["last_success_at"]), r["failures"], short_time(r["next_poll_at"]), current_error(r)]
                 for r in rows],
                empty="no sources configured ([[sources]] in the configuration)")
    if accounts:
        print()
        print_table(["FTP ACCOUNT", "WAREHOUSES", "MODE", "FILES", "LAST UPLOAD", "LAST STATUS", "LAST REFUSED"],
                    [[a["username"], " ".join(a["warehouses"]), a["mode"], a["files"],
                      short_time(a["last_upload"] and a["last_upload"]["received_at"]),
                      a["last_upload"]["status"] if a["last_upload"] else "-",
                      f"{a['last_refused']['name']}: {a['last_refused']['message'] or ''}" if a["last_refused"] else ""]
                     for a in accounts])
    return 0


def cmd_sources_poll(app, args) -> int:
    """Poll one source now; exit 0 when every ready file was fetched, 1 when some failed."""
    find_source(app.settings, args.name)
    result = poll_source(app.db, app.settings, args.name)
    if args.json:
        print_json({"source": args.name, **result.as_dict()})
    else:
        for f in result.fetched:
            print(f"fetched {f['name']} ({f['size']} bytes) as file {f['file_id']}, {f['after']}")
        for name in result.waiting:
            print(f"waiting {name} (still changing, or no .done/.ok marker yet)")
        if not result.fetched and not result.waiting and not result.errors:
            print("nothing to fetch")
    for error in result.errors:
        sys.stderr.write(f"stockgate: error: source {args.name}: {error}\n")
    return 1 if result.errors else 0
