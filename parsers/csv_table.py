"""CSV bytes (in memory or in a file) to a Table, read a block at a time: memory stays flat in file size.

One pass over the bytes decides the encoding (BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252 with a
warning) and learns what the reader needs to know in advance (the header line, line ends, quotes, the last
character); the rows are then read from a fresh stream of the same bytes, never held whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import IO

from parsers.issues import Issue, make_issue

Opener = Callable[[], IO[bytes]]   # a fresh binary stream of the file's bytes, from the start, each call
BLOCK = 1 << 20
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def opener_of(source: bytes | Opener) -> Opener:
    """An Opener for bytes held in memory, or the caller's own Opener (a file it opens: the parsers never
    touch the disk themselves)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return lambda: io.BytesIO(source)
    return source


def size_of(open_bytes: Opener) -> int:
    """How many bytes the stream holds."""
    with open_bytes() as stream:
        return stream.seek(0, io.SEEK_END)


@dataclass
class _Scan:
    """What one pass over the bytes taught."""

    encoding: str = "utf-8"
    issues: list[Issue] = field(default_factory=list)
    head: str = ""             # the decoded text up to the first non-blank line's end (at least 4,096 chars)
    line_feeds: int = 0
    returns: int = 0
    quotes: bool = False
    last: str = ""             # the last decoded character
    utf8_lines: list[int] = field(default_factory=list)   # cp1252: lines holding valid UTF-8 (see tables)


def _table_error(reason: str):
    from parsers.tables import TableReadError

    return TableReadError(make_issue("UNREADABLE_FILE", reason=reason))


def scan(open_bytes: Opener) -> _Scan:
    """Decide the encoding and learn line ends, quotes and the head; TableReadError when undecodable."""
    with open_bytes() as stream:
        start = stream.read(4)
    if start.startswith(b"\xef\xbb\xbf"):
        return _decode_all(open_bytes, "utf-8-sig", _Scan("utf-8-sig"))
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_all(open_bytes, "utf-16", _Scan("utf-16"))
    try:
        return _decode_all(open_bytes, "utf-8", _Scan("utf-8"), nul_check=True)
    except _BadByte as bad:
        if bad.encoding != "utf-8":
            raise
        offset, line = bad.offset, bad.line
    result = _decode_all(open_bytes, "cp1252", _Scan("cp1252"), nul_check=True)
    result.issues.append(make_issue("ENCODING_FALLBACK", line=line, offset=offset))
    result.utf8_lines = utf8_lines(open_bytes)
    return result


class _BadByte(Exception):
    def __init__(self, encoding: str, offset: int, line: int) -> None:
        super().__init__(encoding, offset, line)
        self.encoding, self.offset, self.line = encoding, offset, line


def _decode_all(open_bytes: Opener, encoding: str, result: _Scan, *, nul_check: bool = False) -> _Scan:
    """Decode every block (keeping nothing but the head and counts); _BadByte / TableReadError on a bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed, feeds_before = 0, 0   # bytes handed to the decoder so far, and their line feeds
    head_done = False
    with open_bytes() as stream:
        while True:
            block = stream.read(BLOCK)
            if nul_check and b"\x00" in block:
                raise _table_error("it contains NUL bytes, so it is binary or UTF-16 without a byte-order mark; "
                                   "save it as UTF-8 CSV or .xlsx")
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                pending = decoder.getstate()[0] if encoding == "utf-8" else b""
                offset = consumed - len(pending) + exc.start
                data = pending + block
                line = feeds_before + data.count(b"\n", 0, exc.start) + 1
                if encoding == "utf-8":
                    raise _BadByte(encoding, offset, line) from None
                label = {"cp1252": "UTF-8 or Windows-1252"}.get(encoding, encoding.upper())
                raise _table_error(f"it is not valid {label} text (bad byte at offset {offset})") from None
            consumed += len(block)
            feeds_before += block.count(b"\n")
            if text:
                result.line_feeds += text.count("\n")
                result.returns += text.count("\r")
                result.quotes = result.quotes or '"' in text
                result.last = text[-1]
                if not head_done:
                    result.head += text
                    head_done = len(result.head) >= 4096 and _header_line(result.head, final=False)[0] != ""
            if not block:
                return result


def _header_line(text: str, *, final: bool) -> tuple[str, int]:
    """The first non-blank physical line of `text` and its 1-based number ("" when none is complete yet)."""
    for number, line in enumerate(_LINE.finditer(text), 1):
        if line.group(1).strip():
            if line.group(2) or final:
                return line.group(1), number
            return "", 0
        if not line.group(2):
            break
    return "", 0


def utf8_lines(open_bytes: Opener) -> list[int]:
    """The 1-based numbers of the lines holding non-ASCII bytes that are all valid UTF-8 (line ends as
    `bytes.splitlines` ends them: LF, CRLF or CR), read a block at a time."""
    found, number, carry = [], 0, b""
    with open_bytes() as stream:
        while True:
            block = stream.read(BLOCK)
            data = carry + block
            lines = data.splitlines(keepends=True)
            carry = b""
            if block and lines and (not lines[-1].endswith((b"\n", b"\r")) or lines[-1].endswith(b"\r")):
                carry = lines.pop()   # maybe cut (or a CR whose LF is in the next block)
            for line in lines:
                number += 1
                if not line.isascii():
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError:
                        continue
                    found.append(number)
            if not block:
                return found


def header_and_rows(open_bytes: Opener, scanned: _Scan, delimiter: str):
    """(csv reader, the text stream under it, whether its last record may lack a line end).

    A file ending in a line break can still end inside a quoted field (cut after a line break the field
    holds). Then a closing quote is fed after the text: it ends that field, so the reader yields the cut
    record last; after a complete last record it makes one blank record instead. Without quotes in the
    file, a final line break always ends the last record.
    """
    stream = io.TextIOWrapper(open_bytes(), encoding=scanned.encoding, newline="")
    lines: Iterator[str] = stream
    if scanned.last not in ("\n", "\r"):
        unterminated = True
    elif not scanned.quotes:
        unterminated = False
    else:
        lines, unterminated = chain(stream, ['"']), True
    return csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False), stream, unterminated


def numbered_rows(reader, stream, first: int) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) from `first` on; the stream is closed once the rows are read (or dropped)."""
    try:
        yield from enumerate(reader, first)
    finally:
        stream.close()


def mark_utf8_rows(rows: Iterator[tuple[int, list[str]]], reader, lines: list[int],
                   marks: dict[int, int]) -> Iterator[tuple[int, list[str]]]:
    """Yield `rows` unchanged, first recording in `marks` each one that spans a line in `lines`."""
    previous = reader.line_num
    for number, cells in rows:
        index = bisect_right(lines, previous)
        if index < len(lines) and lines[index] <= reader.line_num:
            marks[number] = lines[index]
        previous = reader.line_num
        yield number, cells
