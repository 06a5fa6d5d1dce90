"""`NulGuard`: a request whose path, query, form or JSON body holds a NUL character is refused (400) before
any room sees it. No text StockGate keeps may hold one (PostgreSQL cannot store it, SQLite would), so a
lookup or a write with one would otherwise fail differently on each engine. Multipart uploads pass: a
file's bytes are the parsers' to judge (they refuse binary files in words)."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

from gateway.web.middleware import plain_answer

REFUSED = "the request holds a NUL character (\\0), which no name, SKU or text may hold\n"


def holds_nul(value: object) -> bool:
    """True when a string anywhere in a parsed JSON value (keys too) holds a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def body_holds_nul(kind: str, body: bytes) -> bool:
    """True when a form's or a JSON document's text holds a NUL (raw or escaped)."""
    if b"\x00" in body:
        return True
    if kind == "application/json":
        try:
            return holds_nul(json.loads(body))
        except ValueError:
            return False            # not JSON: the route answers that (422)
    return b"%00" in body


class NulGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if "\x00" in path or "\x00" in unquote_plus(scope.get("query_string", b"").decode("latin-1")):
            return await plain_answer(send, 400, REFUSED, path=path)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if scope["method"] == "GET" or kind == "multipart/form-data":
            return await self.app(scope, receive, send)
        # a non-upload post is small (`middleware.Shield` refused more than 64 KB): read it, judge it, replay it
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body_holds_nul(kind, body):
            return await plain_answer(send, 400, REFUSED, path=path)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[dict], then=None):
    async def receive():
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}
    return receive
