"""Fixtures for the order service tests: channels and warehouses in the test database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.db import schema


@pytest.fixture
def add_channel(db):
    """Insert a channel row: add_channel(name, marketplace="amazon", policy="smart")."""

    def add(name: str, marketplace: str = "amazon", policy: str = "smart") -> str:
        with db.write() as conn:
            conn.execute(schema.channels.insert().values(
                name=name, marketplace=marketplace, adapter="sandbox", restore_policy=policy, buffer=0, max_qty=0,
                enabled=True, imported=False, created_at=datetime.now(UTC)))
        return name

    return add


@pytest.fixture
def add_warehouse(db):
    """Insert a warehouse: add_warehouse(code, priority, sellable=True)."""

    def add(code: str, priority: int, sellable: bool = True) -> str:
        with db.write() as conn:
            conn.execute(schema.warehouses.insert().values(
                code=code, name=code, kind="merchant", priority=priority, sellable=sellable,
                created_at=datetime.now(UTC)))
        return code

    return add
