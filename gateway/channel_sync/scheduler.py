"""The channel scheduler: per channel listing sync, order pull and quantity push, once per database.

APScheduler 3 runs the interval jobs (`coalesce`, one instance at a time) and a worker thread pushes
the outbox within about a second of a change (it polls for due rows and waits a moment to batch what
arrives). Only the holder of the `channel-scheduler` lease (table `leases`, renewed while held, taken
over when it expires; renewed by a heartbeat thread of its own) does anything, so two `serve` processes
on one database never run a job twice; every job is also safe to run twice. An interval edited in the
database (`gateway.channel_sync.overrides`) is picked up every `schedule_check_seconds` (5 s). Each scheduled run is
recorded in `job_runs`. `live_scheduler_holder` tells the CLI whether a `serve` runs the jobs already.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from sqlalchemy import select

from gateway.clock import as_utc, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.leases import Lease, holder_is_dead_local, process_holder
from gateway.errors import StockGateError
from gateway.settings import ChannelSettings, Settings

log = logging.getLogger(__name__)
LEASE_NAME = "channel-scheduler"
JOBS = ("listings", "orders", "push")
INTERVAL_KEYS = {"listings": "listing_interval_seconds", "orders": "order_interval_seconds",
                 "push": "push_interval_seconds"}


def default_holder() -> str:
    """A name for this scheduler that is unique across machines and processes."""
    return process_holder()


class ChannelScheduler:
    """Runs every enabled channel's jobs while this process holds the scheduler lease."""

    name = "channel scheduler"

    def __init__(self, db: Database, settings: Settings, *, holder: str | None = None,
                 adapter_factory: Callable | None = None, lease_seconds: float = 15.0,
                 poll_seconds: float = 0.3, debounce_seconds: float = 0.2, schedule_check_seconds: float = 5.0):
        from gateway.channel_sync.jobs import ChannelJobs

        self.db, self.settings = db, settings
        self.holder = holder or default_holder()
        self.lease = Lease(db, LEASE_NAME, self.holder, lease_seconds)
        self.poll_seconds, self.debounce_seconds = poll_seconds, debounce_seconds
        self.schedule_check_seconds = schedule_check_seconds
        self._scheduled: dict[tuple[str, str], float] = {}
        self.channels: dict[str, ChannelSettings] = {c.name: c for c in settings.channels if c.enabled}
        self.jobs = ChannelJobs(db, settings, adapter_factory)
        self._stop = threading.Event()
        self._leader = False
        self._scheduler: BackgroundScheduler | None = None
        self._worker: threading.Thread | None = None
        self._heartbeat: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this scheduler held the lease at its last look."""
        return self._leader

    def start(self) -> None:
        """Schedule every channel's jobs and start the push worker; returns at once."""
        from gateway.app import sync_config

        sync_config(self.db, self.settings)
        for name in self.channels:
            self.jobs.adapter(name)        # a channel that cannot be built stops start-up, with its reason
        self._leader = self._hold_lease()
        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                      "misfire_grace_time": 30})
        self._scheduled = self._intervals()
        for (job, name), seconds in self._scheduled.items():
            scheduler.add_job(self.run_scheduled, IntervalTrigger(seconds=seconds), args=(job, name),
                              id=f"{job}:{name}", name=f"{job} {name}", next_run_time=now())
        scheduler.add_job(self._refresh_guarded, IntervalTrigger(seconds=self.schedule_check_seconds),
                          id="refresh-schedules", name="refresh channel schedules")
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)   # not a line per run
        scheduler.start()
        self._scheduler = scheduler
        self._worker = threading.Thread(target=self._push_worker, name="channel-push-worker", daemon=True)
        self._worker.start()
        self._heartbeat = threading.Thread(target=self._renew_lease, name="channel-lease-heartbeat", daemon=True)
        self._heartbeat.start()
        log.info("channel scheduler started: holder=%s channels=%s leader=%s", self.holder,
                 ",".join(self.channels) or "-", self._leader)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scheduling, let a running job finish (up to `timeout` seconds), give the lease up."""
        self._stop.set()
        if self._scheduler is not None:
            closer = threading.Thread(target=self._scheduler.shutdown, kwargs={"wait": True}, daemon=True)
            closer.start()
            closer.join(timeout)
        for thread in (self._worker, self._heartbeat):
            if thread is not None:
                thread.join(timeout)
        if self._leader:
            try:
                self.lease.release()
            except StockGateError as exc:
                log.warning("channel scheduler: could not release the lease: %s", exc)
        self._leader = False
        log.info("channel scheduler stopped: holder=%s", self.holder)

    def _hold_lease(self) -> bool:
        try:
            held = self.lease.hold()
        except StockGateError as exc:
            log.warning("channel scheduler: lease check failed: %s", exc)
            held = False
        if held != self._leader:
            log.info("channel scheduler %s: %s the lease", self.holder, "took" if held else "lost")
        self._leader = held
        return held

    def _intervals(self) -> dict[tuple[str, str], float]:
        """(job, channel) -> its interval in seconds: the file's, or an operator's stored edit."""
        from gateway.channel_sync.overrides import channel_edits, effective_channel

        with self.db.read() as conn:
            edits = channel_edits(conn)
        intervals = {}
        for name, cfg in self.channels.items():
            effective = effective_channel(cfg, edits.get(name)).channel
            intervals.update({(job, name): getattr(effective, INTERVAL_KEYS[job]) for job in JOBS})
        return intervals

    def refresh_schedules(self) -> list[str]:
        """Give every job whose interval was edited (`stockgate channels set`) since the last look its new
        interval, counted from now; returns the jobs changed ("push amz"). Runs every
        `schedule_check_seconds` on its own."""
        changed = []
        for (job, name), seconds in self._intervals().items():
            if self._scheduled.get((job, name)) == seconds or self._scheduler is None:
                continue
            self._scheduler.reschedule_job(f"{job}:{name}", trigger=IntervalTrigger(seconds=seconds))
            self._scheduled[(job, name)] = seconds
            changed.append(f"{job} {name}")
            log.info("channel scheduler: %s %s now runs every %s s", job, name, seconds)
        return changed

    def _refresh_guarded(self) -> None:
        try:
            self.refresh_schedules()
        except StockGateError as exc:   # a database that cannot be read now: the next look tries again
            log.warning("channel scheduler: could not read edited schedules: %s", exc)
        except Exception:  # a bad moment (database restart) must not stop the look for the next edit
            log.exception("channel scheduler: could not read edited schedules; trying again later")

    def run_scheduled(self, job: str, channel: str) -> None:
        """One scheduled run: only while holding the lease; recorded in `job_runs`."""
        if self._stop.is_set() or not self._hold_lease():
            return
        self.jobs.run(job, channel, holder=self.holder)

    def _renew_lease(self) -> None:
        """Renew (or try to take) the lease every third of its life, on a thread of its own, so a long job
        (a feed push waiting on a slow server) never lets it lapse."""
        while not self._stop.wait(max(self.lease.seconds / 3, self.poll_seconds)):
            self._hold_lease()

    def _push_worker(self) -> None:
        """Push due outbox rows soon after a change, while this scheduler holds the lease."""
        while not self._stop.wait(self.poll_seconds):
            if not self._leader:
                continue
            try:
                due = self.jobs.channels_due(self.channels)
                if due and not self._stop.wait(self.debounce_seconds):   # let a burst of changes gather
                    for name in due:
                        self.jobs.push_now(name)
            except StockGateError as exc:   # a channel or state file that cannot be used: one line, retried
                log.warning("channel push worker: %s; retrying at the next poll", exc)
            except Exception:  # the worker must survive a bad moment (database restart, channel outage)
                log.exception("channel push worker: push failed; retrying at the next poll")


def live_scheduler_holder(db: Database, *, except_holder: str | None = None) -> str | None:
    """The holder of the channel scheduler lease when a live scheduler (a running `serve`) holds it: not
    expired and not a dead process of this host; None otherwise."""
    le = schema.leases.c
    with db.read() as conn:
        row = conn.execute(select(le.holder, le.expires_at).where(le.name == LEASE_NAME)).first()
    if row is None or row.holder == except_holder or as_utc(row.expires_at) <= now() \
            or holder_is_dead_local(row.holder):
        return None
    return row.holder
