"""Allocation of accepted order lines to warehouses: priority, sellable only, oversold shortfall."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.allocation import Allocation, SourceStock, allocate, allocate_lines

EAST = SourceStock("EAST", priority=1, sellable=True, on_hand=3)
WEST = SourceStock("WEST", priority=2, sellable=True, on_hand=10)
FBA = SourceStock("FBA", priority=0, sellable=False, on_hand=50)


def test_an_order_is_served_by_the_first_priority_warehouse_before_the_next():
    allocation = allocate(5, [WEST, EAST])

    assert allocation == Allocation(parts=(("EAST", 3), ("WEST", 2)), oversold=0)


def test_an_order_the_first_warehouse_covers_takes_nothing_from_the_second():
    assert allocate(2, [EAST, WEST]).parts == (("EAST", 2),)


def test_a_non_sellable_warehouse_never_gives_even_with_the_best_priority():
    allocation = allocate(4, [FBA, EAST, WEST])

    assert dict(allocation.parts) == {"EAST": 3, "WEST": 1}


def test_the_shortfall_beyond_all_sellable_stock_is_recorded_as_oversold():
    allocation = allocate(20, [FBA, EAST, WEST])

    assert allocation.parts == (("EAST", 3), ("WEST", 10))
    assert allocation.oversold == 7
    assert allocation.allocated == 13


def test_a_sku_with_no_warehouses_is_wholly_oversold():
    assert allocate(4, []) == Allocation(parts=(), oversold=4)


def test_warehouses_with_equal_priority_give_in_order_of_their_code():
    north = SourceStock("NORTH", priority=1, sellable=True, on_hand=1)
    alpha = SourceStock("ALPHA", priority=1, sellable=True, on_hand=1)

    assert allocate(2, [north, alpha]).parts == (("ALPHA", 1), ("NORTH", 1))


def test_an_empty_warehouse_does_not_appear_in_the_allocation():
    empty = SourceStock("EMPTY", priority=0, sellable=True, on_hand=0)

    assert allocate(2, [empty, EAST]).parts == (("EAST", 2),)


def test_a_negative_order_quantity_is_refused_with_the_value():
    with pytest.raises(ValueError, match="-1"):
        allocate(-1, [EAST])


def test_a_warehouse_listed_twice_for_one_sku_is_refused_by_name():
    with pytest.raises(ValueError, match="EAST"):
        allocate(1, [EAST, EAST])


def test_two_lines_of_one_sku_share_its_stock_in_line_order():
    stock = {"HAT": [EAST, WEST], "CAP": [WEST]}

    allocations = allocate_lines([("l1", "HAT", 2), ("l2", "HAT", 4), ("l3", "CAP", 1)], stock)

    assert allocations["l1"].parts == (("EAST", 2),)
    assert allocations["l2"].parts == (("EAST", 1), ("WEST", 3))
    assert allocations["l3"].parts == (("WEST", 1),)
    assert list(allocations) == ["l1", "l2", "l3"]


def test_a_later_line_is_oversold_when_earlier_lines_used_the_stock():
    allocations = allocate_lines([(1, "HAT", 3), (2, "HAT", 2)], {"HAT": [EAST]})

    assert allocations[1] == Allocation(parts=(("EAST", 3),), oversold=0)
    assert allocations[2] == Allocation(parts=(), oversold=2)


def test_a_line_for_a_sku_without_stock_is_oversold():
    assert allocate_lines([("a", "UNKNOWN", 2)], {})["a"].oversold == 2


def test_an_order_line_id_given_twice_is_refused():
    with pytest.raises(ValueError, match="'a'"):
        allocate_lines([("a", "HAT", 1), ("a", "HAT", 1)], {"HAT": [EAST]})


sources_strategy = st.lists(
    st.builds(
        SourceStock,
        warehouse=st.sampled_from(["A", "B", "C", "D", "E", "F"]),
        priority=st.integers(min_value=0, max_value=3),
        sellable=st.booleans(),
        on_hand=st.integers(min_value=0, max_value=40),
    ),
    max_size=6,
    unique_by=lambda source: source.warehouse,
)


@given(quantity=st.integers(min_value=0, max_value=200), sources=sources_strategy)
def test_allocated_plus_oversold_is_the_ordered_quantity_and_no_warehouse_overgives(quantity, sources):
    allocation = allocate(quantity, sources)
    by_code = {source.warehouse: source for source in sources}

    assert sum(units for _, units in allocation.parts) + allocation.oversold == quantity
    for warehouse, units in allocation.parts:
        assert 0 < units <= by_code[warehouse].on_hand
        assert by_code[warehouse].sellable
    if allocation.oversold:
        sellable_total = sum(source.on_hand for source in sources if source.sellable)
        assert allocation.allocated == sellable_total


@given(
    quantities=st.lists(st.integers(min_value=0, max_value=30), max_size=5),
    sources=sources_strategy,
)
def test_lines_together_never_take_more_than_a_warehouse_holds(quantities, sources):
    lines = [(index, "SKU", quantity) for index, quantity in enumerate(quantities)]

    allocations = allocate_lines(lines, {"SKU": sources})

    taken: dict[str, int] = {}
    for allocation in allocations.values():
        for warehouse, units in allocation.parts:
            taken[warehouse] = taken.get(warehouse, 0) + units
    for source in sources:
        assert taken.get(source.warehouse, 0) <= source.on_hand
    assert sum(a.quantity for a in allocations.values()) == sum(quantities)
