"""Helpers shared by the tests of a marketplace channel run through the gateway against its contract server:
credential variables for the channel's options, stock linked and pushed, what is still owed, two processes'
workers syncing at once, every row of the database as text, and the web API's order cancel."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager

from sqlalchemy import select

from gateway.channel_sync.jobs import ChannelJobs
from gateway.db import schema
from gateway.stock import stock_view

FAST_RETRIES = {"backoff_base_seconds": 0.01, "throttle_max_delay_seconds": 0.05, "throttle_budget_seconds": 0.2}


def credential_options(monkeypatch, market, env: dict[str, str]) -> dict[str, str]:
    """Set each variable of `env` (variable -> the market's attribute, e.g. `client_id`) to the market's
    value; the options naming them (`client_id_env = "<variable>"`)."""
    for variable, attribute in env.items():
        monkeypatch.setenv(variable, getattr(market, attribute))
    return {f"{attribute}_env": variable for variable, attribute in env.items()}


def available_quantity(ch, sku: str) -> int:
    """The SKU's available quantity in StockGate."""
    with ch.jobs.db.read() as conn:
        return stock_view(conn, [sku])[0]["available"]


def linked(ch, name: str, add_listing, stock: dict[str, int]) -> None:
    """Each SKU in stock at MF, listed on the marketplace by `add_listing(sku)`, synced and pushed."""
    for sku, quantity in stock.items():
        ch.set(sku, "MF", quantity)
        add_listing(sku)
    ch.jobs.sync(name, full=True)
    ch.jobs.push_now(name)


def owed(ch, key=schema.listings.c.listing_id) -> list:
    """(`key`, last_push_error) of every listing with a push still in the outbox."""
    with ch.jobs.db.read() as conn:
        return conn.execute(select(key, schema.listings.c.last_push_error)
                            .join(schema.push_outbox, schema.push_outbox.c.listing_pk == schema.listings.c.id)).all()


def end_backoff(ch) -> None:
    """Every push in the outbox is due now (its backoff is over)."""
    with ch.jobs.db.write() as conn:
        conn.execute(schema.push_outbox.update().values(due_at=schema.push_outbox.c.created_at))


def sync_from_two_processes(ch, db, name: str) -> None:
    """Four workers, two of each of two processes' adapters over the same database, sync `name` at once."""
    second = ChannelJobs(db, ch.settings)                   # another process's adapters over the same database
    barrier = threading.Barrier(4)

    def sync(jobs):
        barrier.wait()
        jobs.sync(name, full=True)

    threads = [threading.Thread(target=sync, args=(jobs,)) for jobs in (ch.jobs, second, ch.jobs, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def database_text(db) -> str:
    """Every row of every table, as text (to look for a credential in)."""
    with db.read() as conn:
        return " ".join(str(row) for table in schema.metadata.sorted_tables for row in conn.execute(select(table)).all())


@contextmanager
def web_api(ch):
    """The web server on a free loopback port over the channel's database (no user configured: open);
    yields `post(path, body) -> (status, answer)`."""
    from gateway.web import WebServer

    settings = dataclasses.replace(ch.settings, web=dataclasses.replace(ch.settings.web, port=0))
    server = WebServer(ch.jobs.db, settings)
    server.start()

    def post(path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as refused:
            return refused.code, json.load(refused)

    try:
        yield post
    finally:
        server.stop(5)
