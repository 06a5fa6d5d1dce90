"""The parts of an XLSX zip, read in bounded steps: declared sizes checked first, inflating counted.

No size an archive declares is trusted past the check it passes. A part is inflated at most
CHUNK_BYTES at a time from its own compressed bytes, with a running count: more output than its
declared size is refused the moment it appears (a zip that lies about its sizes), and its stream must
end exactly at that size with the declared CRC. zipfile's own `read()` inflates up to 2 GB in one
call before it truncates to the declared size, which is why it is not used for the parts.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain

from parsers.issues import make_issue
from parsers.model import ParseOptions
from parsers.tables import TableReadError

CHUNK_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000
RATIO_CHECK_FROM_BYTES = 1024 * 1024
MAX_TREE_PART_BYTES = 16 * 1024 * 1024   # workbook.xml and its rels are parsed into trees: kilobytes in practice
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")   # signature .. name length, extra length (30 bytes)
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_SST_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?sst\b")


def refuse(code: str, **fields: object) -> TableReadError:
    """The TableReadError carrying a file-level issue of `code`."""
    return TableReadError(make_issue(code, **fields))


def check_zip(archive: zipfile.ZipFile, options: ParseOptions) -> None:
    """Refuse a workbook whose declared sizes, ratios or member count could exhaust memory."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise refuse("ZIP_BOMB", reason=f"it has {len(members):,} members (limit {MAX_MEMBERS:,})")
    total = sum(m.file_size for m in members)
    if total > options.max_uncompressed_bytes:
        raise refuse("ZIP_BOMB", reason=f"it would unpack to {total:,} bytes "
                                        f"(limit {options.max_uncompressed_bytes:,})")
    for member in members:
        if member.file_size > RATIO_CHECK_FROM_BYTES:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > options.max_compression_ratio:
                raise refuse("ZIP_BOMB", reason=f"'{member.filename}' is compressed {ratio:,.0f} to 1 "
                                                f"(limit {options.max_compression_ratio:,.0f})")


def member_chunks(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes, at most CHUNK_BYTES at a time, never more than it declares.

    Raises TableReadError: ZIP_BOMB when the part holds more than its declared size, UNREADABLE_FILE
    when it is encrypted, damaged, shorter than declared, fails its CRC or uses a method Excel never
    writes (only stored and deflated are read).
    """
    name = info.filename
    if info.flag_bits & 0x1:
        raise refuse("UNREADABLE_FILE", reason=f"its part '{name}' is encrypted")
    offset = info.header_offset
    header = data[offset: offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive (no local header for '{name}')")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    raw = memoryview(data)[start: start + info.compress_size]
    if len(raw) < info.compress_size:
        raise refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive ('{name}' is cut short)")
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterable[bytes] = (bytes(raw[i: i + CHUNK_BYTES]) for i in range(0, len(raw), CHUNK_BYTES))
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = _inflate(raw, name)
    else:
        raise refuse("UNREADABLE_FILE", reason=f"its part '{name}' uses compression method "
                                               f"{info.compress_type}, which Excel never writes")
    produced, crc = 0, 0
    for piece in pieces:
        produced += len(piece)
        if produced > info.file_size:
            raise refuse("ZIP_BOMB", reason=f"'{name}' unpacks to more than the {info.file_size:,} bytes "
                                            "it declares")
        crc = zlib.crc32(piece, crc)
        yield piece
    if produced != info.file_size or crc != info.CRC:
        raise refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive ('{name}' does not match its "
                                               "declared size and CRC)")


def _inflate(raw: memoryview, name: str) -> Iterator[bytes]:
    """Inflate a raw deflate stream, at most CHUNK_BYTES of output per step."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position, pending = 0, b""
    try:
        while not inflater.eof:
            if not pending and position < len(raw):
                pending = raw[position: position + CHUNK_BYTES]
                position += len(pending)
            out = inflater.decompress(pending, CHUNK_BYTES)
            pending = inflater.unconsumed_tail
            if out:
                yield out
            elif not pending and position >= len(raw) and not inflater.eof:
                raise refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive ('{name}' ends early)")
    except zlib.error as exc:
        raise refuse("UNREADABLE_FILE", reason=f"it is a damaged zip archive ('{name}': {exc})") from None


def read_member(data: bytes, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The whole part, refused (ZIP_BOMB) when it declares more than `limit` bytes."""
    if info.file_size > limit:
        raise refuse("ZIP_BOMB", reason=f"its part '{info.filename}' would unpack to {info.file_size:,} bytes "
                                        f"(limit {limit:,})")
    return b"".join(member_chunks(data, info))


def as_utf8(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """XML chunks re-encoded as UTF-8 when the part is UTF-16 (by BOM or by its first `<`), else as they are."""
    iterator = iter(chunks)
    first = next(iterator, b"")
    if first[:2] not in _UTF16_STARTS:
        yield first
        yield from iterator
        return
    encoding = "utf-16" if first[:2] in _UTF16_STARTS[:2] else "utf-16-le" if first[:1] == b"<" else "utf-16-be"
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    for chunk in chain([first], iterator):
        yield decoder.decode(chunk).encode("utf-8", "replace")
    yield decoder.decode(b"", final=True).encode("utf-8", "replace")


class DtdWatch:
    """Feeds of one XML part's chunks: refuses (XML_FORBIDDEN) a `<!DOCTYPE` or `<!ENTITY`, any case."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        """Check the next UTF-8 chunk (a declaration cut between two chunks is still seen)."""
        text = self.tail + chunk
        start = text.find(b"<!")
        while start >= 0:  # comments and CDATA are the only other `<!` in a part
            if text[start + 2: start + 9].upper().startswith((b"DOCTYPE", b"ENTITY")):
                raise refuse("XML_FORBIDDEN", part=self.part)
            start = text.find(b"<!", start + 2)
        self.tail = text[-8:]


def declares_dtd(xml: bytes) -> bool:
    """True when XML bytes carry a `<!DOCTYPE` or `<!ENTITY` (any case; UTF-8 or UTF-16)."""
    watch = DtdWatch("")
    try:
        for chunk in as_utf8([xml]):
            watch.feed(chunk)
    except TableReadError:
        return True
    return False


def checked_chunks(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's chunks as UTF-8, each checked for a DTD before it is given out."""
    watch = DtdWatch(info.filename)
    for chunk in as_utf8(member_chunks(data, info)):
        watch.feed(chunk)
        yield chunk


def shared_string_sizes(chunks: Iterable[bytes]) -> list[int]:
    """An upper bound of each shared string's length: the bytes of its `<si>` element, in order."""
    sizes: list[int] = []
    carry, marker = b"", b"<si"
    for number, chunk in enumerate(chunks):
        if number == 0:
            root = _SST_ROOT.search(chunk)
            marker = b"<" + ((root.group(1) if root else None) or b"") + b"si"
        parts = (carry + chunk).split(marker)
        carry = parts.pop()
        sizes.extend(map(len, parts))
    sizes.append(len(carry))
    return sizes[1:]   # what comes before the first <si> is the part's header
