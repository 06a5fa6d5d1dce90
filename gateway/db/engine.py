"""Build the SQLAlchemy engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3).

`Database.write()` opens a transaction that rolls back unless the block finishes; on SQLite it starts
with BEGIN IMMEDIATE, so two writers queue on the database lock instead of one losing its update.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from gateway.errors import ConfigError, RetryableError
from gateway.settings.paths import absolute_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    """The engine plus the two ways of using it: a write transaction and a read."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.is_postgres = engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends normally, rolled back otherwise."""
        with self._translate(), self.engine.connect() as conn:
            conn.info["sg_write"] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop("sg_write", None)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (never takes SQLite's write lock)."""
        with self._translate(), self.engine.connect() as conn:
            with conn.begin() as tx:
                yield conn
                tx.rollback()

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise RetryableError(f"database unavailable: {str(exc.orig).strip().splitlines()[0]}") from exc

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None     # let SQLAlchemy's begin event emit BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("sg_write") else "BEGIN")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite `url` (made absolute against the current directory); None for any other
    database, an in-memory one or a SQLite `file:` URI."""
    try:
        parsed = make_url(absolute_database_url(url, Path(os.getcwd())))
    except ArgumentError:
        return None
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_database(url: str, *, echo: bool = False, create: bool = False) -> Database:
    """Create the engine for `url`; for SQLite, make a relative file absolute now (the pool opens
    connections later, whatever the current directory is then), and with `create` (only `init`) make
    the folder that holds it."""
    try:
        parsed = make_url(absolute_database_url(url, Path(os.getcwd())))
    except ArgumentError as exc:
        raise ConfigError(f"database_url: {url!r} is not a database URL") from exc
    if parsed.drivername.startswith("sqlite"):
        if create and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                                 "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    elif parsed.drivername.startswith("postgresql"):
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
    else:
        raise ConfigError(f"database_url: {parsed.drivername!r} is not supported (use sqlite or postgresql)")
    return Database(engine)
