"""Read a posted form with Starlette's parsers (python-multipart): url-encoded fields, or multipart with
its file spooled to a temporary file; a post cut short or broken is a 400 naming the problem."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import parse_options_header

INCOMPLETE = "the upload is incomplete (the connection may have been cut): try again"


class _CompleteMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, noting whether the closing boundary came (python-multipart does not
    complain about a body that ends early)."""

    ended = False

    def on_end(self) -> None:
        self.ended = True


async def read_form(request: Request, *, max_files: int, max_fields: int, max_part_size: int) -> FormData:
    """The form of `request` (read once; later calls give the same form)."""
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    try:
        if content_type == b"multipart/form-data":
            parser = _CompleteMultiPartParser(request.headers, request.stream(), max_files=max_files,
                                              max_fields=max_fields, max_part_size=max_part_size)
            form = await parser.parse()
            if not parser.ended:
                await form.close()
                raise HTTPException(400, INCOMPLETE)
            return form
        if content_type in (b"application/x-www-form-urlencoded", b""):
            return await request.form(max_files=0, max_fields=max_fields, max_part_size=max_part_size)
    except MultiPartException as exc:
        raise HTTPException(400, f"the form cannot be read: {exc.message}") from exc
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "the form was not sent as UTF-8") from exc
    raise HTTPException(400, f"a form cannot be sent as {content_type.decode('latin-1')!r}")
