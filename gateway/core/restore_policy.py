"""Whether a cancelled order gives its stock back: the 14-day rule, the operator's choice, the policy.

Errors: ValueError for a bad policy, place or choice value; ChoiceRequiredError(ValueError) when a
cancellation made in StockGate arrives without the operator's choice; CancelledBeforePlacedError(ValueError)
for a cancellation dated before the order's placement, which no rule can judge. All are permanent.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from functools import lru_cache

from gateway.core.reason_tables import REASON_TABLES, ReasonRow

RESTORE_WINDOW = timedelta(days=14)
NOT_CONSULTED = "not_consulted"


class RestorePolicy(StrEnum):
    """A channel's restore policy for cancellations made on the marketplace."""

    ALWAYS = "always"
    NEVER = "never"
    SMART = "smart"


class ReasonVerdict(StrEnum):
    """What the reason tables say about one marketplace's cancellation reason."""

    YES = "yes"
    NO = "no"
    AMBIGUOUS = "ambiguous"
    UNRECOGNISED = "unrecognised"
    MISSING = "missing"
    UNKNOWN_MARKETPLACE = "unknown_marketplace"


class CancelledBeforePlacedError(ValueError):
    """A cancellation time earlier than the order's placement: the data is wrong, nothing is decided."""


class ChoiceRequiredError(ValueError):
    """A cancellation made in StockGate needs the operator's explicit restore/keep choice."""


@dataclass(frozen=True)
class RestoreDecision:
    """The outcome, the rule that decided it, what the reason table said, and a sentence for people."""

    restore: bool
    rule: str
    reason_verdict: str
    explanation: str


def normalise_reason(text: str) -> str:
    """Reduce a reason to lower-case letters and digits: case, spaces, punctuation and dashes vanish."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if char.isalnum())


def parse_policy(value: str) -> RestorePolicy:
    """Read a configured restore policy (`always`, `never`, `smart`, any case)."""
    try:
        return RestorePolicy(str(value).strip().lower())
    except ValueError:
        raise ValueError(
            f"restore_policy must be one of always, never, smart; got {value!r}"
        ) from None


def policy_from_legacy(restore_qty_on_cancel: bool) -> tuple[RestorePolicy, str]:
    """Translate the retired `restore_qty_on_cancel` switch into a policy and a deprecation warning.

    `true` keeps its old behaviour as `always`; `false` (stock was never given back) reads as `never`.
    """
    if not isinstance(restore_qty_on_cancel, bool):
        raise ValueError(f"restore_qty_on_cancel must be true or false; got {restore_qty_on_cancel!r}")
    policy = RestorePolicy.ALWAYS if restore_qty_on_cancel else RestorePolicy.NEVER
    setting = "true" if restore_qty_on_cancel else "false"
    warning = (
        f"restore_qty_on_cancel = {setting} is deprecated and is read as restore_policy = "
        f'"{policy}"; replace it with restore_policy = "{policy}" (or "smart" to decide by '
        f"the marketplace's cancellation reason)"
    )
    return policy, warning


@lru_cache(maxsize=None)
def _reason_index(marketplace: str) -> dict[str, ReasonRow]:
    """Normalised reason names and API codes of one marketplace, each pointing to its row."""
    index: dict[str, ReasonRow] = {}
    for row in REASON_TABLES[marketplace]:
        for key in (normalise_reason(row.reason), *map(normalise_reason, row.api_codes)):
            other = index.setdefault(key, row)
            if other is not row:
                raise RuntimeError(f"{marketplace} reasons {other.reason!r} and {row.reason!r} clash")
    return index


def _table_name(marketplace: str) -> str:
    return str(marketplace).strip().lower()


def match_reason(marketplace: str, reason: str | None) -> ReasonRow | None:
    """The table row a reason names (by written name or API code), or None."""
    name = _table_name(marketplace)
    if name not in REASON_TABLES or reason is None:
        return None
    return _reason_index(name).get(normalise_reason(reason))


def reason_verdict(marketplace: str, reason: str | None) -> ReasonVerdict:
    """Look a cancellation reason up in its marketplace's table.

    A marketplace without a table gives UNKNOWN_MARKETPLACE; an absent or blank reason MISSING; a
    reason the table does not list UNRECOGNISED.
    """
    if _table_name(marketplace) not in REASON_TABLES:
        return ReasonVerdict.UNKNOWN_MARKETPLACE
    if reason is None or not normalise_reason(reason):
        return ReasonVerdict.MISSING
    row = match_reason(marketplace, reason)
    return ReasonVerdict.UNRECOGNISED if row is None else ReasonVerdict(row.verdict)


def _as_utc(moment: datetime, what: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{what} must be a datetime; got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def _describe_age(age: timedelta) -> str:
    days, seconds = age.days, age.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"{days} d {hours} h {minutes} min"


def cancelled_before_placement(placed_at: datetime, cancelled_at: datetime) -> bool:
    """True when the cancellation is dated before the order was placed (the same moment is fine)."""
    return _as_utc(cancelled_at, "cancelled_at") < _as_utc(placed_at, "placed_at")


def describe_cancelled_before_placement(placed_at: datetime, cancelled_at: datetime) -> str:
    """The one sentence every refusal of such a cancellation gives."""
    return (f"cancelled at {_as_utc(cancelled_at, 'cancelled_at').isoformat()}, before the order was placed "
            f"at {_as_utc(placed_at, 'placed_at').isoformat()}: a cancellation cannot come before its order")


def is_past_restore_window(placed_at: datetime, cancelled_at: datetime) -> bool:
    """True when the cancellation came more than 14 days after the order was placed."""
    return _as_utc(cancelled_at, "cancelled_at") - _as_utc(placed_at, "placed_at") > RESTORE_WINDOW


def operator_choice_required(*, placed_at: datetime, cancelled_at: datetime, where: str) -> bool:
    """Whether restore_decision will need `choice`: cancelled in StockGate within 14 days."""
    return where == "stockgate" and not is_past_restore_window(placed_at, cancelled_at)


def restore_decision(
    *,
    marketplace: str,
    policy: str,
    reason: str | None,
    placed_at: datetime,
    cancelled_at: datetime,
    where: str,
    choice: str | None = None,
) -> RestoreDecision:
    """Decide whether a cancellation gives the allocated stock back; the first applicable rule wins.

    0. cancelled_at before placed_at: CancelledBeforePlacedError (nothing to decide on wrong data);
    1. more than 14 days between placed_at and cancelled_at: never (exactly 14 days is still inside);
    2. where == "stockgate": the operator's `choice`, "restore" or "keep" (None raises
       ChoiceRequiredError);
    3. where == "marketplace": the channel `policy`; under `smart` the marketplace's reason table,
       where No keeps the stock and everything else (Yes, Ambiguous, missing, unrecognised reason,
       marketplace without a table) restores.
    Naive datetimes are read as UTC.
    """
    parsed_policy = parse_policy(policy)
    if where not in ("stockgate", "marketplace"):
        raise ValueError(f"where must be 'stockgate' or 'marketplace'; got {where!r}")
    if choice not in (None, "restore", "keep"):
        raise ValueError(f"choice must be 'restore' or 'keep'; got {choice!r}")

    if cancelled_before_placement(placed_at, cancelled_at):
        raise CancelledBeforePlacedError(describe_cancelled_before_placement(placed_at, cancelled_at))
    age = _as_utc(cancelled_at, "cancelled_at") - _as_utc(placed_at, "placed_at")
    if age > RESTORE_WINDOW:
        return RestoreDecision(
            False, "older_than_14_days", NOT_CONSULTED,
            f"Cancelled {_describe_age(age)} after the order was placed, more than 14 days: "
            "stock is not restored, wherever it was cancelled.",
        )
    if where == "stockgate":
        if choice is None:
            raise ChoiceRequiredError(
                "cancelled in StockGate: the operator must choose 'restore' or 'keep'"
            )
        restores = choice == "restore"
        verb = "give the stock back" if restores else "keep the stock as it is"
        return RestoreDecision(
            restores, "operator_choice", NOT_CONSULTED,
            f"Cancelled in StockGate; the operator chose to {verb}.",
        )
    if parsed_policy is RestorePolicy.ALWAYS:
        return RestoreDecision(
            True, "policy_always", NOT_CONSULTED,
            "Cancelled on the marketplace; the channel's policy 'always' restores stock.",
        )
    if parsed_policy is RestorePolicy.NEVER:
        return RestoreDecision(
            False, "policy_never", NOT_CONSULTED,
            "Cancelled on the marketplace; the channel's policy 'never' does not restore stock.",
        )
    return _smart_decision(marketplace, reason)


def _smart_decision(marketplace: str, reason: str | None) -> RestoreDecision:
    verdict = reason_verdict(marketplace, reason)
    lead = "Cancelled on the marketplace under policy 'smart': "
    if verdict is ReasonVerdict.UNKNOWN_MARKETPLACE:
        return RestoreDecision(
            True, "smart_unknown_marketplace", verdict.value,
            f"{lead}marketplace {marketplace!r} has no reason table, so stock is restored.",
        )
    if verdict is ReasonVerdict.MISSING:
        return RestoreDecision(
            True, "smart_missing_reason", verdict.value,
            f"{lead}the marketplace gave no cancellation reason, so stock is restored.",
        )
    if verdict is ReasonVerdict.UNRECOGNISED:
        return RestoreDecision(
            True, "smart_unrecognised_reason", verdict.value,
            f"{lead}reason {reason!r} is not in the {_table_name(marketplace)} reason table; it is "
            "treated as Ambiguous, so stock is restored.",
        )
    row = match_reason(marketplace, reason)
    assert row is not None  # a yes/no/ambiguous verdict always comes from a row
    shown = f"{reason!r}" if reason == row.reason else f"{reason!r} ({row.reason})"
    label = {"yes": "Yes", "no": "No", "ambiguous": "Ambiguous (Yes)"}[row.verdict]
    outcome = "stock is restored" if row.restores else "stock is not restored"
    return RestoreDecision(
        row.restores, "smart_reason_table", verdict.value,
        f"{lead}reason {shown} reads {label} in the {_table_name(marketplace)} table, so {outcome}.",
    )
