"""The rules a SKU and a warehouse code must follow, and the known SKUs a spreadsheet-changed one came from."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

SKU_MAX_LENGTH = 100
WAREHOUSE_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_sku(raw: str) -> str:
    """Trim surrounding white space; raise ValueError naming the problem when the rest is no SKU."""
    sku = raw.strip()
    if not sku:
        raise ValueError("a SKU cannot be empty")
    if len(sku) > SKU_MAX_LENGTH:
        raise ValueError(f"SKU {sku[:20]!r}... is longer than {SKU_MAX_LENGTH} characters")
    if _CONTROL.search(sku):
        raise ValueError(f"SKU {sku!r} contains a control character")
    return sku


def is_warehouse_code(code: str) -> bool:
    """True when `code` is 1-32 letters, digits, `_` or `-`."""
    return WAREHOUSE_CODE.fullmatch(code) is not None


# Spreadsheets change SKUs made of digits: they drop leading zeros (`00123` -> `123`), keep 15 significant
# digits (`1234567890123456789` -> `1234567890123450000`) and write long numbers in scientific notation
# (`1.23457E+18`). These rules find the known SKUs such a form may have come from.
EXACT_DIGITS = 15
_SCIENTIFIC = re.compile(r"[+]?(\d+)(?:[.,](\d+))?[eE]\+(\d+)")


class DigitSkus:
    """Known SKUs made only of ASCII digits, indexed for `spreadsheet_originals`."""

    def __init__(self, skus: Iterable[str]) -> None:
        self.by_stripped: dict[str, list[str]] = {}          # `123` -> [`00123`, `0123`]
        by_length: dict[int, list[tuple[int, str]]] = {}     # digits after leading zeros -> sorted (value, sku)
        for sku in skus:
            stripped = sku.lstrip("0")
            if stripped != sku and stripped:
                self.by_stripped.setdefault(stripped, []).append(sku)
            if len(stripped) >= 12:   # only long numbers are rounded or put in scientific notation
                by_length.setdefault(len(stripped), []).append((int(stripped), sku))
        self.by_length = {length: sorted(values) for length, values in by_length.items()}

    def between(self, length: int, low: int, high: int) -> list[str]:
        """Known SKUs of `length` digits (after leading zeros) whose value is in [low, high)."""
        values = self.by_length.get(length, [])
        start = bisect.bisect_left(values, (low, ""))
        found = []
        for value, sku in values[start:]:
            if value >= high:
                break
            found.append(sku)
        return found


def spreadsheet_form(sku: str) -> tuple[str, int, int, int] | None:
    """How a SKU a spreadsheet may have made reads: (reason, value, digits, significant digits shown), or
    None when it is in no such form. `value` is the number it shows, `digits` its length."""
    sci = _SCIENTIFIC.fullmatch(sku)
    if sci:
        whole, fraction, exponent = sci.group(1), sci.group(2) or "", int(sci.group(3))
        if exponent < len(fraction) or exponent > 100:
            return None
        mantissa = (whole + fraction).lstrip("0")
        if not mantissa:
            return None
        value = int(mantissa) * 10 ** (exponent - len(fraction))
        shown = len(mantissa.rstrip("0")) or 1
        return "scientific notation", value, len(str(value)), shown
    if not (sku.isascii() and sku.isdigit()):
        return None
    stripped = sku.lstrip("0")
    zeros = len(stripped) - len(stripped.rstrip("0"))
    if len(stripped) > EXACT_DIGITS and zeros >= len(stripped) - EXACT_DIGITS:
        return "digits past the 15th lost", int(stripped), len(stripped), len(stripped) - zeros
    if len(stripped) >= 12 and zeros >= 4:
        return "rounded", int(stripped), len(stripped), len(stripped) - zeros
    return None


def spreadsheet_originals(sku: str, known: DigitSkus) -> tuple[str, list[str]]:
    """(reason, known SKUs `sku` was probably made from by a spreadsheet), or ("", []) when none.

    Leading zeros lost: a known SKU equal to `sku` but for zeros in front. Rounded, cut after 15 digits
    or in scientific notation: a known SKU of as many digits that rounds (or is cut) to the figure shown.
    """
    found: list[str] = []
    if sku.isascii() and sku.isdigit() and not sku.startswith("0"):
        found = known.by_stripped.get(sku, [])
        if found:
            return "leading zeros lost", sorted(found)
    form = spreadsheet_form(sku)
    if form is None:
        return "", []
    reason, value, length, shown = form
    unit = 10 ** (length - shown)   # the figure is the original rounded or cut to this unit
    found = [k for k in known.between(length, value - unit // 2, value + unit) if k != sku]
    return (reason, sorted(found)) if found else ("", [])
