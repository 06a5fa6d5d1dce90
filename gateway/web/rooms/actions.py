"""What the inventory and listings rooms share for their actions: who acts (the audit actor), whether
the user may act at all (operator and admin: a viewer is shown no action), a typed quantity read by the
files' rule, and the HTTP status of a refused action."""

from __future__ import annotations

from gateway.channel_sync.linking import LinkRefusedError
from gateway.errors import NotFoundError, UsageError
from gateway.stock.typed_quantity import read_quantity
from gateway.web.auth import role_allows
from gateway.web.deps import User


def actor_of(user: User) -> str:
    """The audit log's actor for a web user: `web:NAME`."""
    return f"web:{user.name}"


def can_act(user: User | None) -> bool:
    """True for an operator or an admin: the pages show them the action buttons."""
    return user is not None and role_allows(user.role, "operator")


def quantity_field(text: str, *, signed: bool, what: str) -> int:
    """A quantity typed in a form (a set's figure, an adjustment's signed delta); UsageError in words."""
    hint = "a quantity is set without a sign; to add or take away units use Adjust" if not signed else ""
    return read_quantity(text.strip(), signed=signed, what=what, signed_hint=hint)


def refusal_status(exc: Exception) -> int:
    """404 for something named that does not exist, 409 for a link the listing rules refuse, else 400."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, LinkRefusedError):
        return 409
    return 400 if isinstance(exc, UsageError) else 500
