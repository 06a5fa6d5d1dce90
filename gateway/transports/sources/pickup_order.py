"""The order a source takes the files it finds ready together: by the moment each describes (as far as
the listing tells: a timestamp in the name, else the mtime), then by name; and a ready file waits while a
file seen beside it, not yet stable, describes an earlier moment. Files of a warehouse are applied in order
of receipt, so this order is what keeps a backlog of snapshots from rejecting itself as STALE_FILE.
"""

from __future__ import annotations

from collections.abc import Sequence

from channels.stability import RemoteEntry
from gateway.pipeline.kinds import as_of_from_name


def described_at(entry: RemoteEntry, as_of_pattern: str) -> float:
    """The moment a listed file describes, as far as its listing tells: the timestamp in its name (the
    pipeline's `as_of_pattern`), else its mtime (POSIX seconds)."""
    named = as_of_from_name(entry.name, as_of_pattern)
    return named.timestamp() if named is not None else entry.mtime


def take_in_turn(ready: list, unsettled: Sequence[RemoteEntry], as_of_pattern: str) -> tuple[list, list]:
    """(ready (entry, row) pairs in the order of the moment they describe, then name; those that wait
    because a file seen beside them, not yet stable, describes an earlier moment and must go first)."""
    def key(entry: RemoteEntry) -> tuple[float, str]:
        return described_at(entry, as_of_pattern), entry.name

    ordered = sorted(ready, key=lambda pair: key(pair[0]))
    if not unsettled:
        return ordered, []
    first_unsettled = min(map(key, unsettled))
    return [p for p in ordered if key(p[0]) < first_unsettled], [p for p in ordered if key(p[0]) >= first_unsettled]
