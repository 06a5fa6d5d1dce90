"""The three channel jobs (listing sync, order pull, quantity push) for the scheduler and the CLI.

`ChannelJobs` builds each configured channel's adapter once, serialises pushes of one channel within the
process, and records every run it is asked to record in `job_runs` (job, channel, holder, times, ok,
a JSON summary of what it did).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from channels.errors import ChannelError
from gateway.channel_sync.adapters import make_adapter
from gateway.channel_sync.listings import SyncOutcome, sync_listings
from gateway.channel_sync.order_pull import PullOutcome, pull_orders
from gateway.channel_sync.pusher import Backoff, PushOutcome, next_due, push_channel, reconcile_channel
from gateway.clock import as_utc, now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.errors import NotFoundError, StockGateError
from gateway.orders.rows import channel_row
from gateway.settings import Settings

log = logging.getLogger(__name__)
JOB_NAMES = ("listings", "orders", "push")


@dataclass(frozen=True)
class JobResult:
    """One channel job run now, as `stockgate channels sync|pull|push --json` and the API report it:
    `outcome` what it did (the fields of SyncOutcome, PullOutcome or PushOutcome), or `error` why it failed."""

    job: str
    channel: str
    ok: bool
    outcome: dict | None = None
    error: str | None = None

    @property
    def complete(self) -> bool:
        """It ran, and nothing in it failed or was skipped (no failed push, no problem named)."""
        return self.ok and not (self.outcome.get("failed", 0) or self.outcome.get("problems"))


class ChannelJobs:
    """Run channel jobs against the configured channels' adapters."""

    def __init__(self, db: Database, settings: Settings, adapter_factory: Callable | None = None):
        self.db, self.settings = db, settings
        self._factory = adapter_factory or (lambda channel, data_dir: make_adapter(channel, data_dir, db=db))
        self._adapters: dict[str, object] = {}
        self._push_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def adapter(self, channel: str):
        """The channel's adapter, built on first use; NotFoundError for a channel not configured."""
        with self._guard:
            if channel not in self._adapters:
                settings = self.settings.channel(channel)
                if settings is None:
                    known = ", ".join(c.name for c in self.settings.channels) or "none"
                    raise NotFoundError(f"channel {channel!r} is not configured (configured: {known})")
                self._adapters[channel] = self._factory(settings, self.settings.data_dir)
                self._push_locks[channel] = threading.Lock()
            return self._adapters[channel]

    def _backoff(self, channel: str) -> Backoff:
        cfg = self.settings.channel(channel)
        return Backoff(cfg.retry_base_seconds, cfg.retry_max_seconds)

    def sync(self, channel: str, *, full: bool = False) -> SyncOutcome:
        """Listing sync: incremental from the stored cursor, or full."""
        return sync_listings(self.db, channel, self.adapter(channel), full=full)

    def pull(self, channel: str) -> PullOutcome:
        """Order pull from the stored cursor."""
        return pull_orders(self.db, channel, self.adapter(channel))

    def push_now(self, channel: str) -> PushOutcome:
        """Push the channel's due outbox rows."""
        adapter = self.adapter(channel)
        with self._push_locks[channel]:
            return push_channel(self.db, channel, adapter, backoff=self._backoff(channel))

    def push(self, channel: str) -> PushOutcome:
        """The interval push: re-enqueue every listing not showing its target, then push what is due."""
        self.adapter(channel)
        with self.db.write() as conn:
            reconcile_channel(conn, channel_row(conn, channel).id)
        return self.push_now(channel)

    def channels_due(self, names: Iterable[str]) -> list[str]:
        """The channels among `names` with outbox rows due now."""
        wanted = set(names)
        c = schema.channels.c
        with self.db.read() as conn:
            due = next_due(conn)
            names_by_id = dict(conn.execute(select(c.id, c.name)).all())
        at = now()
        return [names_by_id[c_id] for c_id, when in due.items()
                if names_by_id.get(c_id) in wanted and as_utc(when) <= at]

    def run(self, job: str, channel: str, *, holder: str, full: bool = False, log_failures: bool = True):
        """Run `job` ("listings", "orders" or "push") for `channel`, recorded in `job_runs`; returns
        (ok, outcome or error message). Channel and database failures are reported, not raised; they are
        also logged unless `log_failures` is off (a command line that prints the failure itself)."""
        level = logging.WARNING if log_failures else logging.DEBUG
        runs = schema.job_runs.c
        with self.db.write() as conn:
            run_id = conn.execute(schema.job_runs.insert().values(
                job=job, channel=channel, holder=holder, started_at=now())).inserted_primary_key[0]
        try:
            outcome = {"listings": lambda: self.sync(channel, full=full), "orders": lambda: self.pull(channel),
                       "push": lambda: self.push(channel)}[job]()
            ok, detail = True, outcome
            summary = json.dumps(dataclasses.asdict(outcome), default=str)
        except (ChannelError, StockGateError) as exc:
            ok, detail, summary = False, str(exc), json.dumps({"error": str(exc)})
            log.log(level, "channel job %s %s failed: %s", job, channel, exc)
        except Exception as exc:  # recorded as a failed run, never lost in a scheduler thread
            log.log(logging.ERROR if log_failures else logging.DEBUG, "channel job %s %s failed unexpectedly",
                    job, channel, exc_info=True)
            ok, detail = False, f"{type(exc).__name__}: {exc}"
            summary = json.dumps({"error": detail})
        with self.db.write() as conn:
            conn.execute(update(schema.job_runs).where(runs.id == run_id).values(
                finished_at=now(), ok=ok, detail=summary))
        return ok, detail

    def run_now(self, job: str, channel: str, *, holder: str, full: bool = False,
                actor: str | None = None) -> JobResult:
        """`run` asked for by an operator (the command line, the Listings page): NotFoundError for a channel
        not configured, before anything is recorded; failures are in the result, not logged. Written to the
        audit log (`channel.<job>`, with what it did) when an `actor` is named."""
        if job not in JOB_NAMES:
            raise NotFoundError(f"no channel job {job!r} (jobs: {', '.join(JOB_NAMES)})")
        self.adapter(channel)
        ok, outcome = self.run(job, channel, holder=holder, full=full, log_failures=False)
        result = JobResult(job, channel, True, outcome=dataclasses.asdict(outcome)) if ok else \
            JobResult(job, channel, False, error=outcome)
        if actor is not None:
            from gateway.accounts.audit import record

            record(self.db, actor=actor, action=f"channel.{job}", target=channel,
                   detail={"full": full, "ok": ok, "error": result.error,
                           **{k: v for k, v in (result.outcome or {}).items() if isinstance(v, int)}})
        return result
