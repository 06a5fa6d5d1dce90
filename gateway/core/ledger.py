"""Plan a batch of stock changes: new levels and the ledger entries that explain them.

A change either sets a level (`SET`) or adjusts it (`ADD`). Levels never go below zero: an adjustment
that would is clamped at 0 and says so. Changes to the same level apply in the order given.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

CAUSES = ("file", "order", "cancel", "manual", "listing_import")
NOTE_MAX_LENGTH = 500


class ChangeKind(str, Enum):
    SET = "set"
    ADD = "add"


class InvalidChangeError(ValueError):
    """A change that can never be applied (a negative absolute level, an unknown cause)."""


@dataclass(frozen=True, slots=True)
class StockChange:
    """One requested change of one stock level; `key` identifies the (item, warehouse) level."""

    key: Hashable
    kind: ChangeKind
    amount: int
    file_row: int | None = None
    reference: str | None = None
    note: str | None = None            # an operator's words with a manual edit: why


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """The effect of one change on one level: what the ledger records."""

    key: Hashable
    before: int
    after: int
    clamped: bool
    change: StockChange

    @property
    def delta(self) -> int:
        return self.after - self.before


def plan_changes(current: Mapping[Hashable, int], changes: Sequence[StockChange]) -> tuple[dict, list[PlannedEntry]]:
    """Apply `changes` to the `current` levels (missing keys are 0) without touching them.

    Returns the new level of every key that changed and one entry per change that moved a level (a
    change to the value it already has writes no entry).
    """
    levels: dict = {}
    entries: list[PlannedEntry] = []
    for change in changes:
        before = levels[change.key] if change.key in levels else current.get(change.key, 0)
        if change.kind is ChangeKind.SET:
            if change.amount < 0:
                raise InvalidChangeError(f"cannot set a level to {change.amount}: levels are never negative")
            after, clamped = change.amount, False
        else:
            after = before + change.amount
            clamped = after < 0
            after = max(after, 0)
        if after != before:
            levels[change.key] = after
            entries.append(PlannedEntry(change.key, before, after, clamped, change))
        elif clamped:
            entries.append(PlannedEntry(change.key, before, after, clamped, change))
    return levels, entries


def check_cause(cause: str) -> str:
    """Return `cause` when it is one the ledger knows, else raise InvalidChangeError."""
    if cause not in CAUSES:
        raise InvalidChangeError(f"unknown ledger cause {cause!r} (known: {', '.join(CAUSES)})")
    return cause


def clean_note(text: str | None) -> str | None:
    """An operator's note as the ledger keeps it: trimmed, None when empty; ValueError naming the problem
    for one over NOTE_MAX_LENGTH characters or holding a control character (a note is one line of text)."""
    note = (text or "").strip()
    if not note:
        return None
    if len(note) > NOTE_MAX_LENGTH:
        raise ValueError(f"the note is {len(note):,} characters long: at most {NOTE_MAX_LENGTH} are kept")
    if not note.isprintable():
        raise ValueError("the note holds a line break or another control character: write it on one line")
    return note
