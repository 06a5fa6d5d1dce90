"""Cell rules shared by both file kinds: what a valid SKU, quantity and as_of look like.

The row loop inlines the fast path (plain digits); these functions decide everything else.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from parsers.issues import QUANTITY_LIMIT

MAX_SKU_LENGTH = 100
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE]\+\d+")
# Characters that are invisible or control: Cc control, Cf format (zero-width, BOM), Cs/Co/Cn, Zl/Zp.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def parse_quantity(text: str, *, signed: bool) -> tuple[int | None, str | None]:
    """Read a quantity cell: (value, None) when valid, (None, ISSUE_CODE) when not, (None, None) if empty.

    An integer with optional surrounding spaces and an optional all-zero fraction (`12.0`) is valid.
    `signed` (delta files) allows `+5` and `-3`; otherwise a sign is an error.
    """
    body = text.strip()
    if not body:
        return None, None
    sign = ""
    if body[0] in "+-":
        sign, body = body[0], body[1:]
    whole, dot, fraction = body.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and not (fraction and fraction.strip("0") == "")):
        return None, "NOT_AN_INTEGER"
    if len(whole.lstrip("0")) > len(str(QUANTITY_LIMIT)):
        return None, "QUANTITY_TOO_LARGE"
    value = int(whole)
    if value > QUANTITY_LIMIT:
        return None, "QUANTITY_TOO_LARGE"
    if sign == "-" and value:
        if not signed:
            return None, "NEGATIVE_QUANTITY"
        value = -value
    elif sign == "+" and not signed:
        return None, "SIGNED_QUANTITY"
    return value, None


def sku_problem(sku: str) -> str | None:
    """Why a trimmed SKU is invalid, or None when it is fine (1-100 visible characters)."""
    if not sku:
        return "the row has values but no SKU"
    if len(sku) > MAX_SKU_LENGTH:
        return f"it is {len(sku)} characters long, more than {MAX_SKU_LENGTH}"
    if sku.isprintable():
        return None
    for char in sku:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"it contains the control or invisible character U+{ord(char):04X}"
    return None


def sku_text_looks_mangled(sku: str) -> str | None:
    """The reason a SKU written as text looks converted by a spreadsheet, or None."""
    if "+" in sku and _SCIENTIFIC.fullmatch(sku):
        return "scientific notation"
    return None


LOST_DIGITS = "its digits past the 15th are lost, so it can be neither matched nor created"


def lost_digits(sku: str) -> bool:
    """Whether a SKU read from a number cell has more significant digits than a spreadsheet keeps (15)."""
    digits = sku.lstrip("-")
    return digits.isascii() and digits.isdigit() and len(digits.lstrip("0")) > 15


def as_utf8(text: str) -> str:
    """Text that was decoded as Windows-1252 read again as the UTF-8 it was (`cafÃ©` -> `café`)."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text


def printable(text: str) -> str:
    """The text with control characters shown as escapes, for use inside a message."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in text)


def parse_as_of(text: str) -> datetime | None:
    """An ISO-8601 date or date-time as an aware datetime (no offset means UTC); None if invalid."""
    candidate = text.strip()
    if not candidate:
        return None
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
