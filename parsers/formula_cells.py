"""Text cells a spreadsheet would run as a formula: the one rule for which text is dangerous, how StockGate
writes it (marked with `'`, in a quoted cell) and how the readers read that form back.

A cell starts at the start of the text and, for a spreadsheet that splits the line on another delimiter
than the file's (a `,` file opened with `;`) or on its lines, right after a `,` `;` `|` tab or line break.
A text is dangerous when, at one of those starts, come `=`, `+`, `-` or `@` (after any `'` and spaces), or
when it starts with a tab, a carriage return or NUL. StockGate writes a dangerous text with a `'` at its
start and at every inner start where one of `= + - @` follows: `=SUM(1)` as `'=SUM(1)`, `5;=1+1` as
`'5;'=1+1`, so no part of it is ever run. Reading a text cell, that form loses exactly those marks; any other
text is read as it is (`'abc` stays `'abc`). A text whose own `'` comes before a dangerous part is itself
dangerous (`'=x` is written `''=x` and read back as `'=x`), so the round trip is exact for every text.
"""

from __future__ import annotations

import re

MARK = "'"
_DELIMITERS = ",;|\t\r\n"
_AT_START = re.compile(r"\A'*(?:[ \u00a0]*[=+\-@]|[\t\r\0])")
_INNER = re.compile(r"[,;|\t\r\n]'*[ \u00a0]*[=+\-@]")
_INNER_START = re.compile(r"(?<=[,;|\t\r\n])(?='*[ \u00a0]*[=+\-@])")
_INNER_MARK = re.compile(r"(?<=[,;|\t\r\n])'(?='*[ \u00a0]*[=+\-@])")


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet could run `text`, or a part of it split off at a delimiter, as a formula."""
    return _AT_START.match(text) is not None or _INNER.search(text) is not None


def neutralised(text: str) -> str:
    """`text` as StockGate writes it into a spreadsheet cell: marked with `'` when dangerous (the writer also
    quotes the cell), else unchanged."""
    if not is_dangerous(text):
        return text
    return MARK + _INNER_START.sub(MARK, text)


def read_back(text: str) -> str:
    """A text cell as read: StockGate's neutralised form of a dangerous text loses its marks; any other
    text is returned as it is."""
    if not text.startswith(MARK):
        return text
    unmarked = _INNER_MARK.sub("", text[1:])
    return unmarked if is_dangerous(unmarked) else text
