"""Commands for web users and the audit log: `users add|list|remove|passwd|role` and `audit`.

Every change is written to the audit log with the actor `cli:<the OS user running the command>`.
"""

from __future__ import annotations

import getpass
import sys

from gateway.accounts import audit
from gateway.accounts.users import ROLES, add_user, check_name, list_users, remove_user, set_password, set_role
from gateway.cli.output import print_json, print_table, short_time
from gateway.cli.stock_commands import positive_int
from gateway.clock import iso, parse_iso
from gateway.errors import UsageError

ROLE_CHOICES = tuple(reversed(ROLES))


def register(sub) -> None:
    p = sub.add_parser("users", help="web users and their roles (admin, operator, viewer)")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    a = s.add_parser("add", help="add a user (the password is asked twice, or read with --password-stdin)")
    a.add_argument("name", metavar="NAME", help="the login name: letters, digits, '.', '_', '@' or '-'")
    a.add_argument("--role", required=True, choices=ROLE_CHOICES,
                   help="admin edits settings and users; operator acts on files, stock, listings, orders; "
                        "viewer reads")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    a.set_defaults(func=cmd_users_add)
    a = s.add_parser("list", help="every user with their role (the [web] login of the configuration too)")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_users_list)
    a = s.add_parser("remove", help="remove a user and end their sessions (never the last admin)")
    a.add_argument("name", metavar="NAME", help="the user's login name")
    a.set_defaults(func=cmd_users_remove)
    a = s.add_parser("passwd", help="set a user's password; their sessions end")
    a.add_argument("name", metavar="NAME", help="the user's login name")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    a.set_defaults(func=cmd_users_passwd)
    a = s.add_parser("role", help="change a user's role (the last admin stays one)")
    a.add_argument("name", metavar="NAME", help="the user's login name")
    a.add_argument("role", choices=ROLE_CHOICES, help="the new role")
    a.set_defaults(func=cmd_users_role)

    p = sub.add_parser("audit", help="the audit log: who did what and when, newest first")
    p.add_argument("--actor", metavar="A", help="only this actor's entries (e.g. web:ops, cli:root)")
    p.add_argument("--action", metavar="X", help="only this action (e.g. user.add, user.role)")
    p.add_argument("--since", metavar="ISO", help="only entries at or after this time")
    p.add_argument("--limit", type=positive_int, default=100, help="at most this many entries (default 100)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_audit)


def cli_actor() -> str:
    """The audit actor of this command: `cli:` and the OS user running it."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:   # no user name in the environment nor the password database
        return "cli:unknown"


def _read_password(from_stdin: bool) -> str:
    """The new password: stdin's first line with --password-stdin, else asked twice on the terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("no password given on stdin")
        return password
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password on: pass it on stdin with --password-stdin")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise UsageError("the two passwords differ; nothing was changed")
    return password


def _not_the_config_login(app, name: str) -> None:
    if app.settings.web.username and app.settings.web.username.lower() == name.lower():
        raise UsageError(f"{name!r} is the [web] login of the configuration already; choose another name")


def cmd_users_add(app, args) -> int:
    check_name(args.name)
    _not_the_config_login(app, args.name)
    db = app.db
    user = add_user(db, args.name, _read_password(args.password_stdin), args.role, actor=cli_actor())
    print(f"user {user.name} added ({user.role})")
    return 0


def cmd_users_list(app, args) -> int:
    users = list_users(app.db, app.settings.web)
    if args.json:
        print_json({"users": [u.as_dict() for u in users]})
        return 0
    print_table(["NAME", "ROLE", "SOURCE", "CREATED", "PASSWORD CHANGED"],
                [[u.name, u.role, u.source, short_time(iso(u.created_at)), short_time(iso(u.password_changed_at))]
                 for u in users],
                empty="no users: `stockgate users add NAME --role admin` adds one")
    return 0


def cmd_users_remove(app, args) -> int:
    remove_user(app.db, args.name, actor=cli_actor())
    print(f"user {args.name} removed; their sessions ended")
    return 0


def cmd_users_passwd(app, args) -> int:
    db = app.db
    set_password(db, args.name, _read_password(args.password_stdin), actor=cli_actor())
    print(f"password of {args.name} changed; their sessions ended")
    return 0


def cmd_users_role(app, args) -> int:
    set_role(app.db, args.name, args.role, actor=cli_actor())
    print(f"user {args.name} is {args.role}")
    return 0


def cmd_audit(app, args) -> int:
    since = parse_iso(args.since, "--since") if args.since else None
    found = audit.entries(app.db, actor=args.actor, action=args.action, since=since, limit=args.limit)
    if args.json:
        print_json({"entries": [e.as_dict() for e in found]})
        return 0
    print_table(["AT", "ACTOR", "ACTION", "TARGET", "DETAIL"],
                [[short_time(iso(e.at)), e.actor, e.action, e.target or "",
                  ", ".join(f"{k}={v}" for k, v in e.detail.items())] for e in found],
                empty="no audit entries")
    return 0
