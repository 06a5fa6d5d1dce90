"""Read form posts with the standard library: url-encoded fields and multipart/form-data (file uploads).

Problems with a post are `FormError`s carrying a message for the person who sent it, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from urllib.parse import parse_qs

MAX_FIELD_CHARS = 10_000        # a plain (non-file) field longer than this is refused
MAX_PARTS = 50


class FormError(ValueError):
    """A post that cannot be read; the message says what was wrong, for the person who sent it."""


@dataclass(frozen=True)
class UploadedFile:
    """A file field: the name the browser gave (last path part only) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Form:
    """A post's text fields (first value of each) and its uploaded files."""

    fields: dict[str, str]
    files: dict[str, UploadedFile]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


def parse_urlencoded(body: bytes) -> Form:
    """An application/x-www-form-urlencoded body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError("the form was not sent as UTF-8") from exc
    try:
        values = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_PARTS, errors="strict")
    except UnicodeDecodeError as exc:
        raise FormError("the form was not sent as UTF-8") from exc
    except ValueError as exc:
        raise FormError(f"the form has more than {MAX_PARTS} fields") from exc
    return Form({k: v[0][:MAX_FIELD_CHARS] for k, v in values.items()}, {})


def _boundary(content_type: str) -> bytes:
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise FormError("the upload has no valid multipart boundary")
    return boundary.encode("latin-1", "replace")


def _basename(filename: str) -> str:
    """Browsers may send a full path (old Internet Explorer): keep its last part."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip()


def parse_multipart(body: bytes, content_type: str) -> Form:
    """A multipart/form-data body: text fields and files (headers parsed by `email`)."""
    delimiter = b"--" + _boundary(content_type)
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise FormError("the upload is incomplete (the connection may have been cut): try again")
    if len(chunks) - 2 > MAX_PARTS:
        raise FormError(f"the form has more than {MAX_PARTS} parts")
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise FormError("the upload is not valid multipart/form-data")
        head, sep, content = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise FormError("the upload is not valid multipart/form-data")
        headers = HeaderParser().parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")   # browsers send UTF-8
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise FormError("an upload part has no field name")
        filename = headers.get_filename()
        if filename is not None:
            files.setdefault(name, UploadedFile(_basename(filename), content))
        else:
            text = content.decode("utf-8", "replace")
            if len(text) > MAX_FIELD_CHARS:
                raise FormError(f"the form field {name!r} is too long")
            fields.setdefault(name, text)
    return Form(fields, files)


def parse_form(body: bytes, content_type: str | None) -> Form:
    """A post body of either encoding browsers use for forms."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        return parse_multipart(body, content_type or "")
    if kind in ("application/x-www-form-urlencoded", ""):
        return parse_urlencoded(body)
    raise FormError(f"a form cannot be sent as {kind!r}")
