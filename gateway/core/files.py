"""The life of a received file: its states and the transitions allowed between them."""

from __future__ import annotations

from enum import Enum


class FileStatus(str, Enum):
    RECEIVED = "received"
    PROCESSING = "processing"
    APPLIED = "applied"
    APPLIED_WITH_ERRORS = "applied_with_errors"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    HELD = "held"


FINAL = frozenset({FileStatus.APPLIED, FileStatus.APPLIED_WITH_ERRORS, FileStatus.REJECTED, FileStatus.DUPLICATE})

TRANSITIONS: dict[FileStatus, frozenset[FileStatus]] = {
    FileStatus.RECEIVED: frozenset({FileStatus.PROCESSING}),
    # back to RECEIVED when a worker stops before committing (the file is processed again)
    FileStatus.PROCESSING: frozenset({FileStatus.RECEIVED, FileStatus.HELD} | FINAL),
    # `release` applies a held file; a newer file can make it stale (rejected)
    FileStatus.HELD: frozenset({FileStatus.PROCESSING, FileStatus.REJECTED}),
    FileStatus.APPLIED: frozenset(),
    FileStatus.APPLIED_WITH_ERRORS: frozenset(),
    FileStatus.REJECTED: frozenset(),
    FileStatus.DUPLICATE: frozenset(),
}

EXIT_CODES = {
    FileStatus.APPLIED: 0,
    FileStatus.APPLIED_WITH_ERRORS: 3,
    FileStatus.REJECTED: 4,
    FileStatus.DUPLICATE: 4,
    FileStatus.HELD: 4,
}


class InvalidTransitionError(ValueError):
    """A file was asked to move to a state it cannot reach from where it is."""


def check_transition(current: FileStatus | str, new: FileStatus | str) -> FileStatus:
    """Return `new` when a file in `current` may move to it; raise InvalidTransitionError otherwise."""
    current, new = FileStatus(current), FileStatus(new)
    if new not in TRANSITIONS[current]:
        raise InvalidTransitionError(f"a {current.value} file cannot become {new.value}")
    return new
