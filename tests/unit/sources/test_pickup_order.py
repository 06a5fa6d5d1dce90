"""The order a source takes the files it finds ready: by the moment each describes, then by name; a ready
file waits for an older one still being checked for stability."""

from __future__ import annotations

from channels.stability import RemoteEntry
from gateway.settings import FileSettings
from gateway.transports.sources.pickup_order import described_at, take_in_turn

PATTERN = FileSettings().as_of_pattern


def names(pairs) -> list[str]:
    return [entry.name for entry, _row in pairs]


def test_ready_files_go_by_mtime_then_name_whatever_the_listing_order():
    listed = [RemoteEntry("c.csv", 1, 300.0), RemoteEntry("b.csv", 1, 100.0), RemoteEntry("a.csv", 1, 300.0)]

    now, later = take_in_turn([(e, None) for e in listed], [], PATTERN)

    assert (names(now), later) == (["b.csv", "a.csv", "c.csv"], [])


def test_a_timestamp_in_the_name_comes_before_the_mtime():
    entry = RemoteEntry("stock_20260301T0200.csv", 1, 9_999_999_999.0)
    assert described_at(entry, PATTERN) == 1772330400.0
    assert described_at(RemoteEntry("stock.csv", 1, 5.0), PATTERN) == 5.0
    assert described_at(entry, "") == 9_999_999_999.0


def test_ready_files_newer_than_an_unsettled_one_wait_for_it():
    ready = [(RemoteEntry(n, 1, t), None) for n, t in (("a.csv", 100.0), ("c.csv", 300.0), ("d.csv", 400.0))]

    now, later = take_in_turn(ready, [RemoteEntry("b.csv", 1, 200.0)], PATTERN)

    assert (names(now), names(later)) == (["a.csv"], ["c.csv", "d.csv"])
