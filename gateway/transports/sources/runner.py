"""Run the configured SFTP and folder sources: one thread per source polling on its schedule (interval or
5-field cron), folders also woken by file events, failures retried with capped exponential backoff.

Each poll is recorded in table `source_state` (what `stockgate sources` shows), and runs under a lease
row in `leases`, so a `stockgate sources poll` or a second `serve` never polls the same source at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from gateway.clock import as_utc, iso, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.leases import Lease, process_holder
from gateway.db.upsert import upsert
from gateway.errors import ConfigError, NotFoundError, RetryableError
from gateway.intake import receive_file
from gateway.settings import Settings, SourceSettings
from gateway.transports.sources import sftp
from gateway.transports.sources.folder import FolderStore, FolderWatcher
from gateway.transports.sources.pickup import Pickup, PickupResult

log = logging.getLogger("stockgate.sources")
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 900.0
LEASE_SECONDS = 600
BUSY_RETRY_SECONDS = 10
HOLDER = process_holder(tag=False)


class SourceBusyError(RetryableError):
    """Another process (or `stockgate sources poll`) is polling this source right now."""


class Schedule:
    """When a source polls: every `interval_seconds`, or at the fire times of its 5-field `cron`
    (server's local time zone); after a failure, sooner or later by capped exponential backoff."""

    def __init__(self, source: SourceSettings, backoff_base: float = BACKOFF_BASE_SECONDS,
                 backoff_cap: float = BACKOFF_CAP_SECONDS):
        self.source, self.backoff_base, self.backoff_cap = source, backoff_base, backoff_cap
        self.cron = None
        if source.cron:
            try:
                self.cron = CronTrigger.from_crontab(source.cron)
            except ValueError as exc:
                raise ConfigError(f"{source.key('cron')}: {source.cron!r} is not a 5-field cron "
                                  f"expression ({exc})") from exc
        elif source.interval_seconds <= 0:
            raise ConfigError(f"{source.key('interval_seconds')}: {source.interval_seconds} must be more than 0")

    def next_regular(self, after: datetime) -> datetime:
        """The next scheduled poll after `after`."""
        if self.cron is None:
            return after + timedelta(seconds=self.source.interval_seconds)
        return as_utc(self.cron.get_next_fire_time(None, after.astimezone()))

    def next_after(self, at: datetime, *, failures: int, waiting: bool) -> datetime:
        """The next poll after one that ended at `at` with `failures` failures in a row in total."""
        if failures:
            return at + timedelta(seconds=min(self.backoff_base * 2 ** (failures - 1), self.backoff_cap))
        regular = self.next_regular(at)
        if waiting:       # a file not yet stable gets its next look soon, not a whole interval later
            return min(regular, at + timedelta(seconds=max(self.source.stable_seconds, 1.0)))
        return regular


# -- state and lease --------------------------------------------------------------------------------

def _state(db: Database, name: str):
    with db.read() as conn:
        return conn.execute(select(schema.source_state).where(schema.source_state.c.name == name)).first()


def _record(db: Database, name: str, values: dict) -> None:
    with db.write() as conn:
        upsert(conn, schema.source_state, [{"name": name, "failures": 0, **values}], ["name"], list(values))


@contextlib.contextmanager
def _lease(db: Database, name: str) -> Iterator[None]:
    """Hold the lease `source:<name>`; SourceBusyError when a live holder has it."""
    lease = Lease(db, f"source:{name}", HOLDER, LEASE_SECONDS)
    if not lease.hold():
        raise SourceBusyError(f"source {name} is being polled by {lease.current_holder()} right now")
    try:
        yield
    finally:
        lease.release()


# -- one poll ---------------------------------------------------------------------------------------

def poll_source(db: Database, settings: Settings, name: str, *, pickup: Pickup | None = None,
                schedule: Schedule | None = None, stop: threading.Event | None = None,
                receive: Callable[..., str] = receive_file) -> PickupResult:
    """Poll the source `name` once now: fetch what is ready, record the outcome in `source_state`.

    A connection failure (refused host key, network, login) is recorded and raised; a failure of single
    files is recorded and listed in the result's `errors`. Nothing is logged here: the caller says it once
    (`stockgate sources poll` as one error line, the runner of `serve` as one log line).
    """
    source = find_source(settings, name)
    pickup = pickup or Pickup(db, settings.data_dir, source, receive=receive,
                              as_of_pattern=settings.files.as_of_pattern)
    schedule = schedule or Schedule(source)
    with _lease(db, name):
        started = now()
        state = _state(db, name)
        failures = state.failures if state is not None else 0
        try:
            result = _poll_store(source, pickup, stop)
        except Exception as exc:
            failures += 1
            ended = now()
            _record(db, name, {"last_poll_at": started, "last_error_at": ended, "last_error": str(exc)[:2000],
                               "failures": failures,
                               "next_poll_at": schedule.next_after(ended, failures=failures, waiting=False)})
            raise
        ended = now()
        values = {"last_poll_at": started}
        if result.errors:
            failures += 1
            values |= {"last_error_at": ended, "last_error": "; ".join(result.errors)[:2000]}
        else:
            failures = 0
            values["last_success_at"] = ended
        values |= {"failures": failures,
                   "next_poll_at": schedule.next_after(ended, failures=failures, waiting=bool(result.waiting))}
        _record(db, name, values)
    return result


def _poll_store(source: SourceSettings, pickup: Pickup, stop: threading.Event | None) -> PickupResult:
    if source.type == "folder":
        return pickup.poll(FolderStore(source), stop=stop)
    with sftp.connect(source) as session:
        return pickup.poll(sftp.SftpStore(source, session), stop=stop)


def find_source(settings: Settings, name: str) -> SourceSettings:
    """The configured source `name`; NotFoundError naming the configured ones otherwise."""
    for source in settings.sources:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in settings.sources) or "none configured"
    raise NotFoundError(f"source {name!r} is not in the configuration (sources: {known})")


def source_status(db: Database, settings: Settings) -> list[dict]:
    """Each configured source with what its last polls did, for `stockgate sources`."""
    with db.read() as conn:
        states = {r.name: r for r in conn.execute(select(schema.source_state))}
    rows = []
    for s in settings.sources:
        st = states.get(s.name)
        where = s.path if s.type == "folder" else f"sftp://{s.username}@{s.host}:{s.port}{s.remote_dir}"
        rows.append({
            "name": s.name, "type": s.type, "warehouse": s.warehouse, "where": where,
            "schedule": f"cron {s.cron}" if s.cron else f"every {s.interval_seconds:g}s",
            "last_poll_at": iso(st.last_poll_at) if st else None,
            "last_success_at": iso(st.last_success_at) if st else None,
            "last_error_at": iso(st.last_error_at) if st else None,
            "last_error": st.last_error if st else None,
            "failures": st.failures if st else 0,
            "next_poll_at": iso(st.next_poll_at) if st else None,
        })
    return rows


def current_error(row: dict) -> str:
    """A `source_status` row's last error when it is newer than its last success (an old one is history)."""
    if not row["last_error"]:
        return ""
    if row["last_success_at"] and row["last_error_at"] and row["last_success_at"] > row["last_error_at"]:
        return ""
    return row["last_error"]


# -- the runner -------------------------------------------------------------------------------------

class SourceRunner:
    """Polls every configured source on its schedule in its own thread, until `stop`."""

    def __init__(self, db: Database, settings: Settings, *, on_received: Callable[[str], None] | None = None,
                 backoff_base: float = BACKOFF_BASE_SECONDS, backoff_cap: float = BACKOFF_CAP_SECONDS,
                 receive: Callable[..., str] = receive_file):
        self.db, self.settings, self.on_received = db, settings, on_received
        self.sources = {s.name: s for s in settings.sources}
        self._schedules = {n: Schedule(s, backoff_base, backoff_cap) for n, s in self.sources.items()}
        self._pickups = {n: Pickup(db, settings.data_dir, s, receive=receive,
                                   as_of_pattern=settings.files.as_of_pattern) for n, s in self.sources.items()}
        self._wake = {n: threading.Event() for n in self.sources}
        self._locks = {n: threading.Lock() for n in self.sources}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watchers: list[FolderWatcher] = []

    def start(self) -> None:
        """Start one thread per source, and a file-event watcher per folder source."""
        self._stop.clear()
        for name, source in self.sources.items():
            if source.type == "folder":
                watcher = FolderWatcher(FolderStore(source).folder, self._wake[name].set)
                watcher.start()
                self._watchers.append(watcher)
            thread = threading.Thread(target=self._run, args=(name,), name=f"source-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10) -> None:
        """Stop polling; a download in progress finishes (its file is then received or left remote)."""
        self._stop.set()
        for event in self._wake.values():
            event.set()
        for watcher in self._watchers:
            watcher.stop(timeout)
        deadline = now() + timedelta(seconds=timeout)
        for thread in self._threads:
            thread.join(max(0.0, (deadline - now()).total_seconds()))
        self._threads, self._watchers = [], []

    def poll_now(self, name: str) -> PickupResult:
        """Poll `name` once, now, in the caller's thread (waiting for a poll already running)."""
        if name not in self.sources:
            find_source(self.settings, name)
        with self._locks[name]:
            return self._poll(name)

    def _poll(self, name: str) -> PickupResult:
        result = poll_source(self.db, self.settings, name, pickup=self._pickups[name],
                             schedule=self._schedules[name], stop=self._stop)
        for error in result.errors:
            log.warning("source %s: %s", name, error)
        if self.on_received:
            for fetched in result.fetched:
                self.on_received(fetched["file_id"])
        return result

    def _first_poll_at(self, name: str) -> datetime:
        at, schedule = now(), self._schedules[name]
        natural = at if schedule.cron is None else schedule.next_regular(at)
        state = _state(self.db, name)
        stored = as_utc(state.next_poll_at) if state is not None else None
        return max(at, stored) if stored is not None and stored < natural else natural

    def _run(self, name: str) -> None:
        next_at = self._first_poll_at(name)
        wake = self._wake[name]
        while not self._stop.is_set():
            delay = (next_at - now()).total_seconds()
            if delay > 0 and not wake.wait(delay):
                continue                     # the time has come: loop once more to poll
            if self._stop.is_set():
                break
            wake.clear()
            next_at = self._poll_in_loop(name)

    def _poll_in_loop(self, name: str) -> datetime:
        """Poll from the source's thread; never raises; returns when to poll next."""
        failed = None
        with self._locks[name]:
            try:
                self._poll(name)
            except SourceBusyError as exc:
                log.info("%s: polled again in %ds", exc, BUSY_RETRY_SECONDS)
                return now() + timedelta(seconds=BUSY_RETRY_SECONDS)
            except Exception as exc:  # recorded in source_state by poll_source; the thread keeps going
                failed = exc
        try:
            state = _state(self.db, name)
        except RetryableError:
            state = None                     # database unavailable: try again after a backoff delay
        if failed is not None:
            log.warning("source %s: poll failed (%s in a row): %s", name, state.failures if state else "?", failed,
                        exc_info=log.isEnabledFor(logging.DEBUG))
        if state is None or state.next_poll_at is None:
            return now() + timedelta(seconds=self._schedules[name].backoff_base)
        return max(as_utc(state.next_poll_at), now() + timedelta(seconds=0.5))
