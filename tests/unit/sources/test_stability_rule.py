"""The shared "is this file complete?" rule: temporary names, markers, size and mtime stable over time."""

import pytest

from channels.stability import RemoteEntry, StabilityTracker, candidates, markers_for


@pytest.mark.parametrize("name", ["stock.csv.tmp", "stock.csv.part", "stock.csv.filepart", ".stock.csv",
                                  "STOCK.CSV.PART"])
def test_temporary_names_are_never_candidates(name):
    assert candidates([RemoteEntry(name, 10, 1.0)], "*", done_marker=False) == []


def test_the_pattern_matches_without_regard_to_case():
    entries = [RemoteEntry(n, 1, 1.0) for n in ("STOCK.CSV", "stock.csv", "stock.xlsx", "notes.txt")]
    assert [e.name for e in candidates(entries, "*.csv", done_marker=False)] == ["STOCK.CSV", "stock.csv"]


def test_in_marker_mode_markers_are_not_data_files_and_are_found_beside_their_file():
    entries = [RemoteEntry(n, 1, 1.0) for n in ("a.csv", "a.csv.done", "b.csv", "b.csv.ok", "c.csv")]
    assert [e.name for e in candidates(entries, "*", done_marker=True)] == ["a.csv", "b.csv", "c.csv"]
    names = [e.name for e in entries]
    assert (markers_for("a.csv", names), markers_for("b.csv", names), markers_for("c.csv", names)) == \
        (["a.csv.done"], ["b.csv.ok"], [])


def test_a_file_is_stable_only_after_two_equal_looks_stable_seconds_apart():
    tracker = StabilityTracker(10)
    assert tracker.observe(RemoteEntry("a.csv", 100, 5.0), at=0) is False
    assert tracker.observe(RemoteEntry("a.csv", 100, 5.0), at=9.9) is False
    assert tracker.observe(RemoteEntry("a.csv", 100, 5.0), at=10) is True


def test_a_change_of_size_or_mtime_restarts_the_wait():
    tracker = StabilityTracker(10)
    tracker.observe(RemoteEntry("a.csv", 100, 5.0), at=0)
    assert tracker.observe(RemoteEntry("a.csv", 120, 5.0), at=10) is False      # grew
    assert tracker.observe(RemoteEntry("a.csv", 120, 6.0), at=20) is False      # rewritten, same size
    assert tracker.observe(RemoteEntry("a.csv", 120, 6.0), at=29) is False
    assert tracker.observe(RemoteEntry("a.csv", 120, 6.0), at=30) is True
    assert tracker.ready_at("a.csv") == 30


def test_with_zero_stable_seconds_a_file_is_ready_on_the_first_look():
    assert StabilityTracker(0).observe(RemoteEntry("a.csv", 1, 1.0), at=0) is True


def test_files_gone_from_the_listing_are_forgotten():
    tracker = StabilityTracker(10)
    tracker.observe(RemoteEntry("a.csv", 1, 1.0), at=0)
    tracker.observe(RemoteEntry("b.csv", 1, 1.0), at=0)
    tracker.keep_only(["b.csv"])
    assert tracker.pending == ["b.csv"]
