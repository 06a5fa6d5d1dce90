"""Finding columns by header: aliases matched without regard to case, spaces and punctuation."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from parsers.issues import Issue, make_issue
from parsers.model import ParseOptions

AS_OF_ALIASES = ("as_of", "As Of")


def normalise_header(text: str) -> str:
    """The comparable form of a header: `QtyOnHand`, `qty on hand` and `Qty-On-Hand` are equal."""
    return "".join(filter(str.isalnum, text.casefold()))


def quoted_list(names: Iterable[str], limit: int = 12) -> str:
    """`'A', 'B', 'C'` for a message, shortened after `limit` names."""
    names = list(names)
    shown = ", ".join(f"'{name}'" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "") if names else "empty"


def aliases_for(role: str, options: ParseOptions) -> tuple[str, ...]:
    """The header names that identify a role, honouring an explicit mapping in options.columns."""
    explicit = (options.columns or {}).get(role)
    if explicit:
        return (explicit,)
    return {"sku": options.sku_aliases, "quantity": options.quantity_aliases, "as_of": AS_OF_ALIASES}[role]


def find_column(header: list[str], role: str, options: ParseOptions, *,
                required: bool = True) -> tuple[int | None, Issue | None]:
    """Index of the column playing `role` ("sku", "quantity", "as_of"), or the issue why there is none."""
    aliases = aliases_for(role, options)
    wanted = {normalise_header(alias) for alias in aliases}
    matches = [index for index, name in enumerate(header) if name and normalise_header(name) in wanted]
    label = {"sku": "SKU", "quantity": "quantity", "as_of": "as_of"}[role]
    if len(matches) > 1:
        return None, make_issue("AMBIGUOUS_COLUMN", role=label,
                                columns=quoted_list(header[i] for i in matches))
    if matches:
        return matches[0], None
    if not required:
        return None, None
    configured = " (configured)" if (options.columns or {}).get(role) else ""
    return None, make_issue("MISSING_COLUMN", role=label, looked_for=quoted_list(aliases) + configured,
                            header=quoted_list(header))


def title_column(header: list[str], options: ParseOptions) -> int | None:
    """Index of the column holding item titles: the first of `options.title_aliases` the header has (an
    informational column never rejects a file, so two of them are no ambiguity); None without one."""
    positions = {normalise_header(name): index for index, name in reversed(list(enumerate(header))) if name}
    for alias in options.title_aliases:
        if normalise_header(alias) in positions:
            return positions[normalise_header(alias)]
    return None


def header_recogniser(options: ParseOptions) -> Callable[[list[str]], bool]:
    """A predicate telling the delimiter sniffer whether a split header has a SKU column."""
    wanted = {normalise_header(alias) for alias in aliases_for("sku", options)}

    def knows(header: list[str]) -> bool:
        return any(normalise_header(name) in wanted for name in header)

    return knows


def spreadsheet_column(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
