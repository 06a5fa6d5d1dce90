"""The process's log formatter writes each record's line with its control characters escaped, for every
logger, and leaves the traceback after it readable."""

from __future__ import annotations

import logging

from gateway.log_format import LOG_FORMAT, OneLineFormatter, escape_controls


def _record(message: str, *args, exc_info=None, name: str = "pyftpdlib") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, args, exc_info)


def test_control_characters_in_a_message_and_its_arguments_are_escaped():
    line = OneLineFormatter(LOG_FORMAT).format(_record("STOR %s from %s", "a\r\nb\tc\x00\x7f\x9b\u2028\u202e.csv",
                                                       "10.0.0.1\x1b[31m"))

    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert line.endswith(r"STOR a\r\nb\tc\x00\x7f\x9b\u2028\u202e.csv from 10.0.0.1\x1b[31m")


def test_printable_text_is_left_as_it_is():
    assert escape_controls("café 東京 stock_2026.csv ~!@#$%^&*()\\") == "café 東京 stock_2026.csv ~!@#$%^&*()\\"


def test_a_traceback_after_the_line_keeps_its_lines():
    try:
        raise ValueError("bad value")
    except ValueError:
        import sys
        record = _record("failed on %s", "x\ny", exc_info=sys.exc_info(), name="stockgate.worker")

    text = OneLineFormatter(LOG_FORMAT).format(record)

    first, *rest = text.split("\n")
    assert first.endswith(r"failed on x\ny")
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "ValueError: bad value"
