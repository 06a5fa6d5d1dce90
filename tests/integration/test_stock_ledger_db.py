"""The stock core against real SQLite and PostgreSQL: levels and ledger written together."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.core.ledger import ChangeKind, StockChange
from gateway.db import schema
from gateway.stock import apply_stock_changes, ensure_items, ledger_sums, set_stock, stock_view, warehouse_id


def _levels(conn):
    s = schema.stock_levels.c
    return {(r.item_id, r.warehouse_id): r.on_hand for r in conn.execute(select(s.item_id, s.warehouse_id, s.on_hand))}


def test_a_batch_writes_levels_and_ledger_entries_in_one_transaction(db):
    with db.write() as conn:
        mf = warehouse_id(conn, "MF")
        ids = ensure_items(conn, ["A1", "A2"])
        apply_stock_changes(conn, [StockChange((ids["A1"], mf), ChangeKind.SET, 5, file_row=2),
                                   StockChange((ids["A2"], mf), ChangeKind.ADD, 3, file_row=3)],
                            cause="file", file_id="F1")
    with db.read() as conn:
        assert stock_view(conn) == [{"sku": "A1", "warehouses": {"MF": 5}, "available": 5},
                                    {"sku": "A2", "warehouses": {"MF": 3}, "available": 3}]
        assert _levels(conn) == ledger_sums(conn)
        rows = conn.execute(select(schema.ledger.c.file_id, schema.ledger.c.file_row)).all()
        assert sorted(rows) == [("F1", 2), ("F1", 3)]


def test_a_failure_inside_the_transaction_leaves_nothing_behind(db):
    try:
        with db.write() as conn:
            set_stock(conn, "A1", "MF", 5)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with db.read() as conn:
        assert stock_view(conn) == []
        assert ledger_sums(conn) == {}


def test_two_concurrent_writers_of_one_level_never_lose_an_update(db, concurrently):
    with db.write() as conn:
        set_stock(conn, "A1", "MF", 0)
    rounds = 25

    def add_one_repeatedly(_):
        for _ in range(rounds):
            with db.write() as conn:
                key = (ensure_items(conn, ["A1"])["A1"], warehouse_id(conn, "MF"))
                apply_stock_changes(conn, [StockChange(key, ChangeKind.ADD, 1)], cause="manual")

    assert concurrently(add_one_repeatedly, 2) == []
    with db.read() as conn:
        assert stock_view(conn, ["A1"])[0]["warehouses"]["MF"] == 2 * rounds
        assert _levels(conn) == ledger_sums(conn)


def test_a_non_sellable_warehouse_is_not_available(db):
    with db.write() as conn:
        conn.execute(schema.warehouses.insert().values(code="FBA", name="FBA", kind="fba", priority=5,
                                                       sellable=False, created_at=__import__("datetime").datetime.now()))
        set_stock(conn, "A1", "MF", 2)
        set_stock(conn, "A1", "FBA", 9)
    with db.read() as conn:
        assert stock_view(conn, ["A1"]) == [{"sku": "A1", "warehouses": {"MF": 2, "FBA": 9}, "available": 2}]


ops = st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["set", "add"]), st.integers(-10, 10)),
               min_size=1, max_size=12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(ops, min_size=1, max_size=4))
def test_after_any_sequence_of_changes_every_level_equals_the_sum_of_its_ledger(db, batches):
    for batch in batches:
        with db.write() as conn:
            ids = ensure_items(conn, ["A", "B"])
            mf = warehouse_id(conn, "MF")
            apply_stock_changes(conn, [StockChange((ids[s], mf), ChangeKind.SET if k == "set" else ChangeKind.ADD,
                                                   abs(n) if k == "set" else n) for s, k, n in batch], cause="manual")
    with db.read() as conn:
        levels = _levels(conn)
        assert all(v >= 0 for v in levels.values())
        sums = ledger_sums(conn)
        assert {k: v for k, v in levels.items() if v or k in sums} == sums
