"""The headers every answer of the web page carries, and the check that no header holds a line break."""

from __future__ import annotations

SERVER_NAME = "StockGate"
CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


def broken_headers(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """The names of headers whose name or value holds CR, LF or NUL (named, never shown: a value may hold a
    session token)."""
    return [name.decode("latin-1") for name, value in headers if any(c in name + value for c in b"\r\n\0")]
