"""Time helpers: StockGate stores and shows UTC, and reads ISO-8601 from users."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.errors import UsageError


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """`value` as aware UTC (SQLite hands back naive datetimes, which StockGate wrote as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 text of `value` in UTC, or None."""
    value = as_utc(value)
    return value.isoformat() if value else None


def parse_iso(text: str, what: str = "time") -> datetime:
    """Read an ISO-8601 time given by a user (naive means UTC); UsageError naming the value otherwise."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{what} {text!r} is not an ISO-8601 time (e.g. 2026-11-26T08:30:00Z)") from exc
    return as_utc(value)
