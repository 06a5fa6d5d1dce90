"""Planning stock changes: levels, ledger entries, never negative."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.ledger import ChangeKind, InvalidChangeError, StockChange, check_cause, plan_changes
from gateway.core.quantities import available_quantity, channel_quantity

SET, ADD = ChangeKind.SET, ChangeKind.ADD


def test_a_set_records_the_difference_from_the_current_level():
    levels, entries = plan_changes({"k": 5}, [StockChange("k", SET, 3)])
    assert levels == {"k": 3}
    assert [(e.before, e.after, e.delta) for e in entries] == [(5, 3, -2)]


def test_setting_a_level_to_its_current_value_writes_no_entry():
    assert plan_changes({"k": 5}, [StockChange("k", SET, 5)]) == ({}, [])


def test_an_adjustment_below_zero_is_clamped_and_says_so():
    levels, entries = plan_changes({"k": 2}, [StockChange("k", ADD, -5)])
    assert levels == {"k": 0}
    assert entries[0].clamped and entries[0].delta == -2


def test_a_negative_absolute_level_is_refused():
    with pytest.raises(InvalidChangeError):
        plan_changes({}, [StockChange("k", SET, -1)])


def test_unknown_causes_are_refused():
    with pytest.raises(InvalidChangeError):
        check_cause("gift")


def test_available_counts_only_sellable_warehouses_and_channels_get_buffer_and_cap():
    assert available_quantity([(5, True), (7, False), (2, True)]) == 7
    assert channel_quantity(10, buffer=3) == 7
    assert channel_quantity(2, buffer=3) == 0
    assert channel_quantity(10, buffer=0, max_qty=4) == 4
    assert channel_quantity(10, buffer=0, max_qty=0) == 10


changes = st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from([SET, ADD]), st.integers(-20, 20)), max_size=40)


@given(st.dictionaries(st.sampled_from("abc"), st.integers(0, 20)), changes)
def test_every_level_equals_its_start_plus_the_sum_of_its_entries(start, raw):
    batch = [StockChange(k, kind, abs(n) if kind is SET else n) for k, kind, n in raw]
    levels, entries = plan_changes(start, batch)
    for key in "abc":
        final = levels.get(key, start.get(key, 0))
        assert final >= 0
        assert final == start.get(key, 0) + sum(e.delta for e in entries if e.key == key)
