"""Commands for files: ingest, reprocess, release, reject, history, report, template."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import select

from gateway.cli.output import print_json, print_table
from gateway.cli.stock_commands import positive_int
from gateway.db import schema
from gateway.errors import NotFoundError, UsageError

# The pipeline (and the parsers, calamine, openpyxl behind it) load when a file command runs, not for
# every `stockgate` invocation.

PROGRESS_FROM_BYTES = 1024 * 1024     # smaller files are done before a bar would say anything
STATUSES = ("received", "processing", "applied", "applied_with_errors", "rejected", "duplicate", "held")
TRANSPORTS = ("ftp", "sftp", "folder", "cli", "web")


def register(sub) -> None:
    p = sub.add_parser("ingest", help="put a local file through the pipeline and print its report")
    p.add_argument("path", metavar="PATH", help="the CSV or XLSX file to put through the pipeline")
    p.add_argument("--warehouse", metavar="CODE", help="a stock file of this warehouse (default: Quantity Update)")
    p.add_argument("--mode", choices=("partial", "full", "delta"), help="stock files only (default partial)")
    p.add_argument("--as-of", metavar="ISO", help="the time the file's figures describe")
    p.add_argument("--create-unknown-skus", action="store_true",
                   help="create SKUs the catalog does not know (default: report them as UNKNOWN_SKU)")
    p.add_argument("--sheet", metavar="NAME", help="XLSX: the sheet to read (default: the first visible one)")
    p.add_argument("--dry-run", action="store_true", help="validate and show what would change; change nothing")
    p.add_argument("--changes", action="store_true",
                   help="with --dry-run: list each SKU's level before and after (JSON: `changes`)")
    p.add_argument("--force", action="store_true",
                   help="process it even when the same bytes were applied before (the duplicate rule); the "
                        "report names that file in `forced_from`")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("reprocess", help="put a stored file through the pipeline again, as a new file linked to "
                                         "the first (after creating a SKU, or when its mode was wrong)")
    p.add_argument("file_id", metavar="FILE_ID", help="the stored file to run again (its id in `history`)")
    p.add_argument("--mode", choices=("partial", "full", "delta"), help="stock files: read it in this mode this time")
    p.add_argument("--create-unknown-skus", action="store_true", help="create the SKUs StockGate does not know")
    p.add_argument("--json", action="store_true", help="print the new file's report as JSON")
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("release", help="apply a file held by the snapshot guard")
    p.add_argument("file_id", metavar="FILE_ID", help="the file's id (from `history` or its report)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("preview", help="what a received or held file would change, each SKU's level before and "
                                       "after (a held one as releasing it would); nothing is changed")
    p.add_argument("file_id", metavar="FILE_ID", help="the file's id (from `history` or its report)")
    p.add_argument("--limit", type=positive_int, default=1000, help="list at most this many changes (default 1000)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("reject", help="reject a file held by the snapshot guard: nothing applied, its report "
                                      "says who rejected it and why")
    p.add_argument("file_id", metavar="FILE_ID", help="the held file's id (from `history` or its report)")
    p.add_argument("--reason", metavar="TEXT", help="why, for its report (one line)")
    p.add_argument("--json", action="store_true", help="print its new report as JSON (for scripts)")
    p.set_defaults(func=cmd_reject)

    p = sub.add_parser("history", help="Bulk Upload History, newest first")
    p.add_argument("--limit", type=positive_int, default=50, help="at most this many files: a page (default 50)")
    p.add_argument("--page", type=positive_int, default=1, help="this page of --limit files (default 1)")
    p.add_argument("--status", choices=STATUSES, help="only files in this state")
    p.add_argument("--warehouse", metavar="CODE", help="its stock files and the Quantity Update files that "
                                                       "changed it (code in any case)")
    p.add_argument("--transport", choices=TRANSPORTS, help="only files that came this way")
    p.add_argument("--account", metavar="LOGIN", help="only files sent by this FTP login")
    p.add_argument("--since", metavar="DATE", help="received at or after this date or ISO time")
    p.add_argument("--until", metavar="DATE", help="received before this ISO time, or on or before this date")
    p.add_argument("--name", metavar="TEXT", help="only files whose name contains TEXT (any case)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the page as JSON (for scripts)")
    out.add_argument("--csv", action="store_true", help="print every matching file as CSV (no paging)")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("report", help="one file's report")
    p.add_argument("file_id", metavar="FILE_ID", help="the file's id (from `history` or its report)")
    p.add_argument("--format", choices=("json", "csv", "text"), default="text",
                   help="the report as text (default), its JSON document or its CSV")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("template", help="the Quantity Update template with current figures")
    p.add_argument("--format", choices=("csv", "xlsx"), help="default: from the --output name (.xlsx, else csv)")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="where to write the template")
    p.add_argument("--warehouse", action="append", metavar="CODE", help="only these warehouse columns")
    p.set_defaults(func=cmd_template)


class _Progress:
    """A progress bar on stderr (tqdm) for a large file on a terminal: the rows read and checked of the rows
    in the file, rows per second and the time left; then the phase it is in (applying, reporting). It is
    cleared when the report is printed."""

    def __init__(self, label: str):
        self.label = label
        self._bar = None

    def __call__(self, phase: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(f"{self.label} {phase}")

    def rows(self, done: int, total: int | None) -> None:
        """Told by the parser after each chunk of rows."""
        if self._bar is None:
            import shutil

            from tqdm import tqdm

            # the terminal's width, 80 when it does not say (tqdm would draw nothing on a width of 0)
            self._bar = tqdm(total=total, desc=f"{self.label} validating", unit=" rows", file=sys.stderr,
                             leave=False, ncols=shutil.get_terminal_size().columns, mininterval=0.25)
        if self._bar.total is not None and done > self._bar.total:
            self._bar.total = done                      # quoted line breaks made the estimate short
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _print_report(report, as_json: bool, dry_run: bool = False) -> int:
    if as_json:
        print_json(report.document)
    else:
        sys.stdout.write(report.to_text())
        if dry_run:
            print("dry run: nothing was applied or recorded")
    return report.exit_code


def cmd_ingest(app, args) -> int:
    from gateway.intake import receive_file
    from gateway.pipeline import preview, preview_changes, process_in_turn
    from gateway.pipeline.rerun import refuse_forcing_waiting_movements
    from gateway.pipeline.uploads import delivery_for

    path = Path(args.path)
    _check_readable(path)
    if args.mode and not args.warehouse:
        raise UsageError("--mode applies to stock files: name their warehouse with --warehouse")
    delivery = delivery_for(app.db, name=path.name, transport="cli", warehouse=args.warehouse, mode=args.mode,
                            as_of=args.as_of, sheet=args.sheet, create_unknown_skus=args.create_unknown_skus,
                            force=args.force)
    if args.changes and not args.dry_run:
        raise UsageError("--changes lists what a dry run would change: add --dry-run")
    if args.force and not args.dry_run:   # never a second copy of movements that still wait to be applied
        refuse_forcing_waiting_movements(app.db, delivery, path)
    if args.dry_run:   # the file is read a block at a time (_check_readable opened it)
        if args.changes:
            return _print_preview(preview_changes(app.db, app.settings, delivery, path), args.json)
        return _print_report(preview(app.db, app.settings, delivery, path), args.json, dry_run=True)
    shown = not args.json and sys.stderr.isatty() and path.stat().st_size >= PROGRESS_FROM_BYTES
    progress = _Progress(path.name[:30]) if shown else None
    try:
        file_id = receive_file(app.db, app.settings.data_dir, delivery, path)
        report = process_in_turn(app.db, app.settings, file_id, on_phase=progress)   # after earlier files
    finally:
        if progress is not None:
            progress.close()
    return _print_report(report, args.json)


def _print_preview(result, as_json: bool) -> int:
    if as_json:
        print_json(result.as_dict())
        return result.report.exit_code
    sys.stdout.write(result.report.to_text())
    print_table(["SKU", "WAREHOUSE", "BEFORE", "AFTER", "ROW"],
                [[c.sku, c.warehouse, "-" if c.before is None else c.before, c.after,
                  "-" if c.row is None else c.row] for c in result.changes], empty="no level would change")
    if result.total_changes > len(result.changes):
        print(f"... and {result.total_changes - len(result.changes):,} more changes")
    print("dry run: nothing was applied or recorded")
    return result.report.exit_code


def _check_readable(path: Path) -> None:
    """UsageError unless `path` is a regular file this process can open (not a folder, FIFO or device)."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path}: not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def cmd_reprocess(app, args) -> int:
    from gateway.cli.user_commands import cli_actor
    from gateway.pipeline import process_in_turn
    from gateway.pipeline.actions import reprocess_file

    file_id = reprocess_file(app.db, app.settings, args.file_id, actor=cli_actor(), mode=args.mode,
                             create_unknown_skus=args.create_unknown_skus)
    return _print_report(process_in_turn(app.db, app.settings, file_id), args.json)


def cmd_release(app, args) -> int:
    from gateway.cli.user_commands import cli_actor
    from gateway.pipeline.actions import release_file

    return _print_report(release_file(app.db, app.settings, args.file_id, actor=cli_actor()), args.json)


def cmd_preview(app, args) -> int:
    from gateway.pipeline import preview_stored

    result = preview_stored(app.db, app.settings, args.file_id, limit=args.limit)
    if not args.json and result.released:
        print(f"file {args.file_id} is held: this is what releasing it would do")
    return _print_preview(result, args.json)


def cmd_reject(app, args) -> int:
    from gateway.cli.user_commands import cli_actor
    from gateway.pipeline.actions import reject_file

    report = reject_file(app.db, app.settings, args.file_id, actor=cli_actor(), reason=args.reason)
    if args.json:
        print_json(report.document)
    else:
        sys.stdout.write(report.to_text())
    return 0


def cmd_history(app, args) -> int:
    from gateway.pipeline.history import history_csv, history_filter, history_page

    filters = history_filter(status=args.status, warehouse=args.warehouse, transport=args.transport,
                             account=args.account, since=args.since, until=args.until, name=args.name)
    if args.csv:   # an unknown --warehouse: NotFoundError naming the known ones, before any output
        for chunk in history_csv(app.db, filters, bom=False):
            sys.stdout.write(chunk)
        return 0
    with app.db.read() as conn:
        page = history_page(conn, filters, page=args.page, per_page=args.limit)
    files = page["files"]
    if args.json:
        print_json(page)
    else:
        print_table(["FILE_ID", "RECEIVED", "NAME", "WAREHOUSE", "KIND", "STATUS", "ROWS", "APPLIED", "ERRORS"],
                    [[x["file_id"], (x["received_at"] or "")[:19], x["name"], x["warehouse"] or "-", x["kind"],
                      x["status"], x["rows"]["total"], x["rows"]["applied"], x["rows"]["errors"]] for x in files],
                    empty="no files")
        if page["pages"] > 1:
            print(f"page {page['page']:,} of {page['pages']:,} ({page['total']:,} files; --page N for another)")
    return 0


def cmd_report(app, args) -> int:
    f = schema.files.c
    with app.db.read() as conn:
        row = conn.execute(select(f.status, f.report).where(f.file_id == args.file_id)).first()
    if row is None:
        raise NotFoundError(f"no file {args.file_id!r} (see `stockgate history`)")
    if row.report is None:
        raise UsageError(f"file {args.file_id} is {row.status}: its report is written when it has been processed")
    from gateway.pipeline import Report

    report = Report(json.loads(row.report))
    if args.format == "json":
        print_json(report.document)
    elif args.format == "csv":
        sys.stdout.write(report.to_csv())
    else:
        sys.stdout.write(report.to_text())
    return 0


def cmd_template(app, args) -> int:
    from gateway.stock.template import write_template

    output = Path(args.output)
    fmt = args.format or ("xlsx" if output.suffix.lower() in (".xlsx", ".xlsm") else "csv")
    if not output.parent.is_dir():
        raise UsageError(f"{output.parent}: no such folder")
    with app.db.read() as conn:
        count = write_template(conn, output, fmt=fmt, warehouses=args.warehouse)
    print(f"template with {count:,} SKUs written to {output}")
    return 0
