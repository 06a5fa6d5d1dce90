"""The rules a SKU and a warehouse code must follow."""

from __future__ import annotations

import re

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
