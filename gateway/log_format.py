"""How the process's log lines are written: one line per record, whatever a message carries.

A file name, SKU or FTP command with a newline or an escape sequence in it must not forge a log line or
repaint the terminal, so control characters in the line (C0, DEL, C1, the Unicode line and paragraph
separators, and the bidirectional overrides) are written as escapes (`\\n`, `\\x1b`, `\\u2028`). Done once,
in the formatter, for every logger of the process; a traceback after the line keeps its own lines.
"""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F),
             *range(0x2066, 0x206A)]
_ESCAPES = str.maketrans({chr(c): _NAMED.get(chr(c)) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
                          for c in _CONTROLS})


def escape_controls(text: str) -> str:
    """`text` with every control character written as a visible escape: one line, nothing hidden."""
    return text.translate(_ESCAPES)


class OneLineFormatter(logging.Formatter):
    """A Formatter whose record line (time, level, logger, message) never holds a control character;
    the traceback or stack that may follow is left as Python wrote it."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_controls(super().formatMessage(record))


def configure_logging(level: str | int) -> None:
    """Log to stderr at `level` through `OneLineFormatter` (nothing happens if logging is already set up)."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
