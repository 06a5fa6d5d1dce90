"""Typed spreadsheet cell values to the text a user typed, with a note when a SKU would look mangled."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

MAX_EXACT_DIGITS = 15  # spreadsheets keep 15 significant digits; longer numbers lost their tail


def column_index(letters: bytes | str) -> int:
    """0-based index of a column reference such as `A` (0) or `AB` (27)."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _number_text(value: float | int) -> tuple[str, str | None]:
    if isinstance(value, float) and not value.is_integer():
        if value != value or value in (float("inf"), float("-inf")):
            return str(value), "not a number"
        text = repr(value)
        note = "scientific notation" if "e" in text else "a number with a fraction"
        return text, note
    whole = int(value)
    digits = str(abs(whole))
    text = str(whole)
    if len(digits) > MAX_EXACT_DIGITS:
        if isinstance(value, float):  # show the 15 digits a spreadsheet shows, not binary noise
            text = str(int(Decimal(f"{value:.{MAX_EXACT_DIGITS}g}")))
        return text, f"a number of {len(digits)} digits, more than a spreadsheet keeps exactly"
    if len(digits) >= 12 and len(digits) - len(digits.rstrip("0")) >= 4:
        return text, "a round number a spreadsheet may have made from scientific notation"
    return text, None


def cell_text(value: object) -> tuple[str, str | None]:
    """The text of a typed cell value and, for numbers and dates, why it would be odd as a SKU."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat(), "a date"
        return value.isoformat(), "a date"
    if isinstance(value, date):
        return value.isoformat(), "a date"
    if isinstance(value, time):
        return value.isoformat(), "a time of day"
    if isinstance(value, timedelta):
        return str(value), "a duration"
    return str(value), None
