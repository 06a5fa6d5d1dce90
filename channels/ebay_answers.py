"""Read eBay's answers: the token endpoint's OAuth errors in the seller's terms, the REST error envelope in one
line, and the server's clock from the `Date` header."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx


def token_problem(r: httpx.Response) -> str:
    """What the token endpoint's OAuth error (`error`, `error_description`) means for the seller."""
    try:
        body = r.json()
    except ValueError:
        body = {}
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    said = f"{r.status_code} {error}: {body.get('error_description', '')}".strip() if error else \
        f"{r.status_code}: {r.text[:200]}"
    if error == "invalid_grant":
        return f"refused the refresh token ({said}): it expired or was revoked; grant access again"
    if error == "invalid_scope":
        return f"refused the scopes asked for ({said}): the refresh token was not granted all of them"
    if error in ("invalid_client", "unauthorized_client") or r.status_code == 401:
        return f"refused the client id and secret ({said})"
    return f"failed ({said})"


def error_list(errors: Any) -> str:
    if isinstance(errors, list) and errors:
        return "; ".join(f"{e.get('errorId', '?')}: {e.get('longMessage') or e.get('message') or ''}".strip()
                         for e in errors if isinstance(e, dict))
    return "no error given"


def errors_text(r: httpx.Response) -> str:
    """eBay's error envelope (`errors[{errorId, message, longMessage}]`) in one line, or the body's start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return error_list(body["errors"])
    return str(body)[:200]


def server_ms(r: httpx.Response) -> int | None:
    """The server's clock from the `Date` header, as epoch milliseconds."""
    try:
        return int(email.utils.parsedate_to_datetime(r.headers["date"]).timestamp() * 1000)
    except (KeyError, TypeError, ValueError):
        return None
