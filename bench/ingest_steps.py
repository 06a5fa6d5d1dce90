"""Where the pipeline's time and memory go, measured from outside: wrap its step functions with timers.

`install()` replaces the named functions in their modules (where the callers look them up) by timed
wrappers, and listens to SQLAlchemy's cursor events for the statements it sends; each step records its
calls, its seconds (inclusive), the process's resident memory after it and the peak so far. Nothing in
gateway/ is changed: only this process's module attributes.
"""

from __future__ import annotations

import functools
import importlib
import os
import resource
import threading
import time

# (label, module, attribute): the modules are the ones whose global the caller looks up
STEPS = [
    ("claim", "gateway.pipeline.claims", "_claim"),
    ("run (claimed file)", "gateway.pipeline.claims", "_run"),
    ("read spool", "gateway.pipeline.process", "read_spool"),
    ("parse (csv + checks)", "gateway.pipeline.process", "parse_file"),
    ("streamed: parse + rows into the TEMP tables", "gateway.pipeline.staging", "stage_stream"),
    ("streamed: chunk INSERTs (SQLite)", "gateway.pipeline.staging", "insert_rows"),
    ("streamed: chunk COPY (PostgreSQL)", "gateway.pipeline.staging", "copy_rows"),
    ("streamed: repeated SKUs", "gateway.pipeline.staging", "_settle_repeats"),
    ("staged: apply_file_diff", "gateway.pipeline.process", "apply_file_diff"),
    ("decide", "gateway.pipeline.process", "decide"),
    ("plan_file", "gateway.pipeline.process", "plan_file"),
    ("orders since as_of", "gateway.pipeline.plan", "ordered_since"),
    ("file rows -> TEMP table", "gateway.pipeline.file_table", "_insert"),
    ("join: differing rows", "gateway.pipeline.file_table", "differing_rows"),
    ("item ids (PostgreSQL)", "gateway.pipeline.plan", "_item_ids"),
    ("levels read (PostgreSQL, FOR UPDATE)", "gateway.pipeline.plan", "read_warehouse_levels"),
    ("unknown SKUs", "gateway.pipeline.plan", "_unknown_skus"),
    ("catalog read", "gateway.stock.levels", "catalog_ids"),
    ("catalog read", "gateway.pipeline.plan", "catalog_ids"),
    ("insert_ignore (INSERT ... ON CONFLICT DO NOTHING)", "gateway.stock.levels", "insert_ignore"),
    ("StockChanges built (_plan_cells)", "gateway.pipeline.plan", "_plan_cells"),
    ("apply_stock_changes", "gateway.pipeline.process", "apply_stock_changes"),
    ("levels read", "gateway.stock.levels", "_read_levels"),
    ("plan_changes (core)", "gateway.stock.levels", "plan_changes"),
    ("outbox enqueue_for_items", "gateway.channel_sync.outbox", "enqueue_for_items"),
    ("build_report", "gateway.pipeline.process", "build_report"),
    ("record_outcome", "gateway.pipeline.process", "record_outcome"),
    ("titles: the valid rows' titles", "gateway.pipeline.process", "valid_titles"),
    ("titles: compared with the catalog, stored", "gateway.pipeline.process", "store_titles"),
    ("after commit: report files, archive", "gateway.pipeline.claims", "finish_after_commit"),
]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries that across exec, so a child started
    by a large parent would report the parent's resident size at the fork as its floor."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Steps:
    """A tree of timed steps, keyed by the path of labels from the outermost."""

    def __init__(self) -> None:
        self.local = threading.local()   # each thread its own stack (the claim's heartbeat writes too)
        self.records: dict[tuple[str, ...], list] = {}   # path -> [calls, seconds, rss after, peak after]
        self.hooks: dict[str, callable] = {}            # label -> called on entry (e.g. a memory snapshot)

    @property
    def stack(self) -> list[str]:
        if not hasattr(self.local, "stack"):
            thread = threading.current_thread()
            self.local.stack = [] if thread is threading.main_thread() else [f"(thread {thread.name})"]
            if self.local.stack:   # shown as the head of that thread's steps
                self.records.setdefault(tuple(self.local.stack), [0, 0.0, 0.0, 0.0])
        return self.local.stack

    def begin(self, label: str) -> tuple[tuple[str, ...], float]:
        """Enter a step; the token `end` takes."""
        stack = self.stack
        stack.append(label)
        path = tuple(stack)
        self.records.setdefault(path, [0, 0.0, 0.0, 0.0])   # listed in the order first begun
        if label in self.hooks:
            self.hooks[label]()
        return path, time.perf_counter()

    def end(self, token: tuple[tuple[str, ...], float]) -> None:
        """Leave the step of `token` (and any step left open inside it, e.g. by a failed statement)."""
        path, started = token
        elapsed = time.perf_counter() - started
        del self.stack[len(path) - 1:]
        record = self.records[path]
        record[0] += 1
        record[1] += elapsed
        record[2], record[3] = rss_mb(), peak_mb()

    def wrap(self, label: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            token = self.begin(label)
            try:
                return fn(*args, **kwargs)
            finally:
                self.end(token)
        return timed

    def install(self) -> None:
        """Wrap every step of STEPS, the executemany of levels and ledger, the commit, and the statements
        SQLAlchemy sends (labelled by their first words)."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.engine.base import Connection

        for label, module, attribute in STEPS:
            mod = importlib.import_module(module)
            setattr(mod, attribute, self.wrap(label, getattr(mod, attribute)))
        levels = importlib.import_module("gateway.stock.levels")
        execute_many = levels._execute_many

        def labelled_execute_many(conn, sql, rows):
            token = self.begin("executemany " + " ".join(sql.split()[:3]))
            try:
                return execute_many(conn, sql, rows)
            finally:
                self.end(token)
        levels._execute_many = labelled_execute_many
        Connection._commit_impl = self.wrap("COMMIT", Connection._commit_impl)

        @event.listens_for(Engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            words = " ".join(statement.split()[:3])
            context.bench_token = self.begin(f"SQLAlchemy {'executemany' if executemany else 'execute'}: {words}")

        @event.listens_for(Engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            self.end(context.bench_token)

        @event.listens_for(Engine, "handle_error")
        def failed(exception_context):
            token = getattr(exception_context.execution_context, "bench_token", None)
            if token is not None:
                self.end(token)

    def table(self, minimum: float = 0.01) -> list[str]:
        """The tree, in the order steps were first seen, with each parent's unaccounted time as `(rest)`."""
        lines = [f"{'step':<64} {'calls':>5} {'seconds':>8} {'RSS after':>10} {'peak after':>10}"]
        order = {path: n for n, path in enumerate(self.records)}
        paths = sorted(order, key=lambda p: (p[0].startswith("(thread"), p[0] if p[0].startswith("(thread") else "",
                                             order[p]))   # the main thread's steps, then each other thread's
        for path in paths:
            calls, seconds, rss, peak = self.records[path]
            if len(path) == 1 and path[0].startswith("(thread"):
                lines.append(path[0])
                continue
            if seconds < minimum:
                continue
            lines.append(f"{'  ' * (len(path) - 1) + path[-1]:<64} {calls:>5} {seconds:>8.2f} {rss:>7.0f} MB "
                         f"{peak:>7.0f} MB")
            children = [r[1] for p, r in self.records.items() if len(p) == len(path) + 1 and p[:-1] == path]
            if any(c >= minimum for c in children) and seconds - sum(children) >= minimum:
                lines.append(f"{'  ' * len(path) + '(rest)':<64} {'':>5} {seconds - sum(children):>8.2f}")
        return lines
