"""Downloads: a file name given in ASCII and, exactly, in UTF-8 (RFC 6266), and an open file sent a block
at a time with its length (a million-SKU export is never all in memory)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

STREAM_BLOCK_BYTES = 256 * 1024


def disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value that no file name can split or end."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(body: bytes, content_type: str, filename: str, *, inline: bool = False) -> Response:
    """Bytes as a download (`inline`: shown in the browser, saved under that name when saved)."""
    return Response(body, media_type=None, headers={"Content-Type": content_type,
                                                   "Content-Disposition": disposition(filename, inline=inline)})


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while block := stream.read(STREAM_BLOCK_BYTES):
            yield block
    finally:
        stream.close()


def file_attachment(stream: BinaryIO, content_type: str, filename: str) -> StreamingResponse:
    """An open file sent from where it stands, a block at a time, then closed."""
    size = os.fstat(stream.fileno()).st_size - stream.tell()
    return StreamingResponse(_blocks(stream), headers={
        "Content-Type": content_type, "Content-Length": str(size), "Content-Disposition": disposition(filename)})
