"""`stockgate channels set|unset|settings`: a channel's restore policy, buffer, cap and schedules edited in
the database over the configuration file (`gateway.channel_sync.overrides`)."""

from __future__ import annotations

from gateway.channel_sync.overrides import (
    EDITABLE_KEYS, ChannelSettingError, editable_channel_settings, set_channel_settings, unset_channel_setting,
)
from gateway.cli.output import print_json, print_table
from gateway.cli.user_commands import cli_actor


def register_actions(s) -> None:
    """Add `set`, `unset` and `settings` to the `channels` command's actions."""
    keys = ", ".join(EDITABLE_KEYS)
    a = s.add_parser("set", help="edit channel settings (stored in the database, over the configuration file)")
    a.add_argument("name", metavar="NAME", help="the channel's name in the configuration")
    a.add_argument("edits", nargs="+", metavar="KEY=VALUE", help=f"one or more of: {keys}")
    a.add_argument("--by", metavar="WHO", help="who makes the edit (default: cli:<your login name>)")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_channels_set)
    a = s.add_parser("unset", help="drop an edit: the configuration file's value applies again")
    a.add_argument("name", metavar="NAME", help="the channel's name in the configuration")
    a.add_argument("key", metavar="KEY", help=f"one of: {keys}")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_channels_unset)
    a = s.add_parser("settings", help="a channel's editable settings: each value and where it comes from")
    a.add_argument("name", metavar="NAME", help="the channel's name in the configuration")
    a.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    a.set_defaults(func=cmd_channels_settings)


def _edits(name: str, texts: list[str]) -> dict[str, str]:
    edits: dict[str, str] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ChannelSettingError(f"channels[{name!r}]: {text!r} is not KEY=VALUE (e.g. buffer=2)")
        if key.strip() in edits:
            raise ChannelSettingError(f"channels[{name!r}].{key.strip()}: given twice")
        edits[key.strip()] = value
    return edits


def _print_settings(document: dict) -> None:
    print_table(["KEY", "VALUE", "SOURCE"], [[s["key"], s["value"], s["source"]] for s in document["settings"]])
    smart = document["smart_reasons"]
    if smart["rows"]:
        back = ", ".join(r["reason"] for r in smart["rows"] if r["restores"])
        kept = ", ".join(r["reason"] for r in smart["rows"] if not r["restores"]) or "none"
        print(f"smart on {smart['marketplace']}: restores on {back}; keeps the stock on {kept}; {smart['note']}")
    else:
        print(f"smart: {smart['note']}")


def cmd_channels_set(app, args) -> int:
    edits = _edits(args.name, args.edits)
    with app.db.write() as conn:
        set_channel_settings(conn, app.settings, args.name, edits, actor=args.by or cli_actor())
    document = editable_channel_settings(app.db, app.settings, args.name)
    if args.json:
        print_json(document)
    else:
        for s in document["settings"]:
            if s["key"] in edits:
                print(f"{args.name}: {s['key']} = {s['value']} ({s['source']})")
    return 0


def cmd_channels_unset(app, args) -> int:
    with app.db.write() as conn:
        removed, _ = unset_channel_setting(conn, app.settings, args.name, args.key, actor=cli_actor())
    document = editable_channel_settings(app.db, app.settings, args.name)
    if args.json:
        print_json({**document, "removed": removed})
        return 0
    value = next(s["value"] for s in document["settings"] if s["key"] == args.key)
    what = "edit removed" if removed else "was not edited"
    print(f"{args.name}: {args.key} {what}; {args.key} = {value} (config file)")
    return 0


def cmd_channels_settings(app, args) -> int:
    document = editable_channel_settings(app.db, app.settings, args.name)
    if args.json:
        print_json(document)
    else:
        _print_settings(document)
    return 0
