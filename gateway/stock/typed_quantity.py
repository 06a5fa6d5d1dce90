"""A quantity an operator types (a command line argument, a web form field), read by the rule the file
parsers apply to a quantity cell, so `2.5` or `1,234` is refused in the same words everywhere."""

from __future__ import annotations

from gateway.errors import UsageError
from parsers.cells import parse_quantity
from parsers.issues import make_issue


def read_quantity(text: str, *, signed: bool, what: str, signed_hint: str = "") -> int:
    """`text` as a whole number (`signed`: a delta such as `+4` or `-4`): a UsageError with the message a
    file's report gives for the same value, except a sign where none is allowed, which gets `signed_hint`
    (what to do instead)."""
    value, code = parse_quantity(text, signed=signed)
    if code in ("SIGNED_QUANTITY", "NEGATIVE_QUANTITY") and signed_hint:
        kind = "negative" if code == "NEGATIVE_QUANTITY" else "signed"
        raise UsageError(f"{what} {text!r} is {kind}: {signed_hint}")
    if code is not None:
        raise UsageError(make_issue(code, value=text).message)
    if value is None:
        raise UsageError(f"the {what} is empty: give a whole number")
    return value
