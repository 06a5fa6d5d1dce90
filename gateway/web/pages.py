"""The body of each web page, from the plain data `queries` reads; every value goes through `markup.e`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.core.files import FileStatus
from gateway.web.markup import (
    Html, badge, e, file_url, hidden, join, link, number, pager, select_box, table, url, when,
)

STATUSES = tuple(s.value for s in FileStatus)
UNFINISHED = (FileStatus.RECEIVED.value, FileStatus.PROCESSING.value)


def _files_table(files: Sequence[dict]) -> Html:
    rows = [[link(file_url(f["file_id"]), f["file_id"]), when(f["received_at"]), f["name"], f["warehouse"] or "-",
             f["kind"].replace("_", " "), f["transport"], badge(f["status"]), number(f["rows"]["total"]),
             number(f["rows"]["applied"]), number(f["rows"]["errors"]), number(f["rows"]["warnings"])]
            for f in files]
    return table(["File", "Received (UTC)", "Name", "Warehouse", "Kind", "Via", "Status", "Rows", "Applied",
                  "Errors", "Warnings"], rows, empty="no files yet", numeric=(7, 8, 9, 10))


def dashboard_page(summary: dict[str, Any]) -> Html:
    """Counts of files by status, of items, listings and orders, and the latest files."""
    tiles = [("Files received", summary["files"], "/history"), ("SKUs", summary["items"], "/stock"),
             ("Warehouses", summary["warehouses"], "/stock"), ("Active listings", summary["listings"], "/listings"),
             ("Unlinked listings", summary["unlinked_listings"], "/listings"), ("Orders", summary["orders"], "/orders"),
             ("Quantities waiting to be pushed", summary["pending_pushes"], "/listings")]
    tile_html = "".join(f'<a class="tile" href="{e(href)}"><strong>{e(number(n))}</strong>'
                        f'<span>{e(label)}</span></a>' for label, n, href in tiles)
    by_status = summary["files_by_status"]
    statuses = join((link(url("/history", {"status": s}), f"{s.replace('_', ' ')}: {by_status[s]:,}")
                     for s in STATUSES if by_status.get(s)), " · ")
    return Html(f'<section class="tiles">{tile_html}</section>'
                f'<p class="statuses">{statuses or e("No files received yet.")}</p>'
                f'<h2>Latest files</h2>{_files_table(summary["latest"])}'
                f'<p>{link("/history", "Full upload history")} · {link("/upload", "Upload a file")} · '
                f'{link("/template.csv", "Quantity Update template (CSV)")} · '
                f'{link("/template.xlsx", "(XLSX)")}</p>')


def history_page(files: Sequence[dict], *, status: str, warehouse: str, warehouses: Sequence[str], page: int,
                 has_more: bool) -> Html:
    """Bulk Upload History: newest first, filtered by status and warehouse, each linked to its report."""
    form = (f'<form method="get" action="/history" class="filters">'
            f'<label for="status">Status</label>'
            f'{select_box("status", [("", "any"), *[(s, s.replace("_", " ")) for s in STATUSES]], status)}'
            f'<label for="warehouse">Warehouse</label>'
            f'{select_box("warehouse", [("", "any"), *[(w, w) for w in warehouses]], warehouse)}'
            f'<button type="submit">Filter</button></form>')
    return Html(form + _files_table(files) + pager("/history", {"status": status, "warehouse": warehouse}, page,
                                                  has_more))


def _summary_list(pairs: Sequence[tuple[str, object]]) -> Html:
    return Html("<dl class=summary>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in pairs) + "</dl>")


def _reprocess_form(f: dict[str, Any], csrf: str) -> Html:
    """Reprocess: the stored file through the pipeline again as a new file (after creating a SKU, or in
    another mode), past the duplicate rule; a CSRF-protected post like every form of the page."""
    mode = ""
    if f["kind"] == "stock":
        modes = [("", f"as before ({f['mode']})"), ("partial", "partial"), ("full", "full"), ("delta", "delta")]
        mode = f'<label for="mode">Mode</label>{select_box("mode", modes, "")}'
    return Html(f'<h2>Process it again</h2><form method="post" action="{e(file_url(f["file_id"], "/reprocess"))}" '
                f'class="reprocess">{hidden("csrf_token", csrf)}{mode}'
                f'<label class="check"><input type="checkbox" name="create_unknown_skus" value="1"> '
                f'create SKUs StockGate does not know yet</label><button type="submit">Reprocess</button></form>'
                f'<p class="note">The stored file goes through the pipeline again as a new file linked to this one '
                f'(its report says <code>forced_from</code>); it is judged as of {e(when(f["as_of"]))} UTC, so a '
                f'newer file of its warehouse makes it stale.</p>')


def file_page(f: dict[str, Any], csrf: str = "") -> Html:
    """A file's report: what it was, what happened, its changes and its issues, with downloads, the files
    that re-ran it and a Reprocess form."""
    report = f["report"] or {}
    sender = f["account"] or f["source"] or ""
    rows, changes = f["rows"], report.get("changes") or {}
    facts = [("File", f["file_id"]), ("Name", f["name"]), ("Status", badge(f["status"])),
             ("Warehouse", f["warehouse"] or "- (Quantity Update)"), ("Kind / mode", f"{f['kind']} / {f['mode']}"),
             ("Received via", f"{f['transport']} {sender}".strip()), ("Received (UTC)", when(f["received_at"])),
             ("As of (UTC)", when(f["as_of"])), ("Finished (UTC)", when(f["finished_at"])),
             ("Size", f"{f['size']:,} bytes"), ("SHA-256", f["sha256"])]
    if f["message"]:
        facts.append(("Message", f["message"]))
    if f.get("forced_from"):
        facts.append(("Re-run of", link(file_url(f["forced_from"]), f["forced_from"])))
    if f.get("reruns"):
        facts.append(("Processed again as", join((Html(f'{link(file_url(r["file_id"]), r["file_id"])} '
                                                       f'({e(r["status"])})') for r in f["reruns"]), ", ")))
    counts = [("Rows", number(rows["total"])), ("Applied", number(rows["applied"])),
              ("Unchanged", number((report.get("rows") or {}).get("unchanged", ""))),
              ("Errors", number(rows["errors"])), ("Warnings", number(rows["warnings"]))]
    counts += [(k.capitalize(), number(changes.get(k, ""))) for k in ("increased", "decreased", "zeroed")]
    rerun = _reprocess_form(f, csrf) if csrf and f["status"] not in UNFINISHED else ""
    if f["status"] in UNFINISHED:
        downloads = Html('<p class="note">This file is waiting to be processed; this page refreshes by itself.</p>')
    else:
        downloads = Html(f'<p>The report: {link(file_url(f["file_id"], "/report.json"), "JSON")} '
                         f'({link(file_url(f["file_id"], "/report.json?download=1"), "download")}) · '
                         f'{link(file_url(f["file_id"], "/report.csv"), "CSV of issues")} (download)</p>')
    issues = table(["Row", "SKU", "Column", "Value", "Severity", "Code", "Message"],
                   [[i["row"] if i["row"] is not None else "file", i["sku"], i["column"], i["value"],
                     badge(i["severity"]),
                     i["code"], i["message"]] for i in f["issues"]], empty="no issues")
    more = ""
    if f["issue_count"] > len(f["issues"]):
        more = (f'<p class="note">Showing the first {len(f["issues"]):,} of {f["issue_count"]:,} issues: '
                f'the CSV has them all.</p>')
    return Html(_summary_list(facts) + f'<h2>Rows</h2>{_summary_list(counts)}{downloads}'
                f'<h2>Issues ({f["issue_count"]:,})</h2>{issues}{more}{rerun}'
                f'<p>{link("/history", "« Upload history")}</p>')


def stock_page(items: Sequence[dict], codes: Sequence[str], *, search: str, page: int, total: int,
               per_page: int) -> Html:
    """Inventory: SKU, on hand per warehouse and available, with a SKU search box and a CSV download of
    every matching SKU."""
    form = (f'<form method="get" action="/stock" class="filters"><label for="q">SKU contains</label>'
            f'<input type="search" name="q" id="q" value="{e(search)}"><button type="submit">Search</button></form>')
    rows = [[item["sku"], *[number(item["warehouses"].get(code, "")) for code in codes], number(item["available"])]
            for item in items]
    numeric = tuple(range(1, len(codes) + 2))
    first = (page - 1) * per_page + 1 if items else 0
    export = link(url("/stock.csv", {"q": search}), "download all as CSV")
    summary = Html(f'<p class="note">{first:,}-{first + len(items) - 1 if items else 0:,} of {total:,} SKUs '
                   f'({export})</p>')
    return Html(form + summary + table(["SKU", *codes, "Available"], rows, empty="no SKUs", numeric=numeric)
                + pager("/stock", {"q": search}, page, page * per_page < total))


def listings_page(listings: Sequence[dict], *, channels: Sequence[str], channel: str, page: int,
                  has_more: bool) -> Html:
    """Listings per channel: link state and reason, status, channel and last pushed quantities."""
    form = (f'<form method="get" action="/listings" class="filters"><label for="channel">Channel</label>'
            f'{select_box("channel", [("", "all"), *[(c, c) for c in channels]], channel)}'
            f'<button type="submit">Show</button></form>')
    rows = [[x["channel"], x["listing_id"], x["sku"], x["size"], x["item"],
             x["link"] + (f" ({x['link_reason']})" if x["link_reason"] else ""), badge(x["status"]),
             number(x["channel_quantity"]), number(x["last_pushed_quantity"]), when(x["last_pushed_at"]),
             number(x["pending_quantity"]), x["last_push_error"]] for x in listings]
    return Html(form + table(["Channel", "Listing", "SKU", "Size", "Linked item", "Link", "Status",
                              "Channel qty", "Last pushed", "Pushed at (UTC)", "Waiting", "Push error"],
                             rows, empty="no listings", numeric=(7, 8, 10))
                + pager("/listings", {"channel": channel}, page, has_more))


def orders_page(orders: Sequence[dict], *, channels: Sequence[str], channel: str, page: int, has_more: bool) -> Html:
    """Orders, newest placement first, with units asked for, taken, restored and oversold."""
    form = (f'<form method="get" action="/orders" class="filters"><label for="channel">Channel</label>'
            f'{select_box("channel", [("", "all"), *[(c, c) for c in channels]], channel)}'
            f'<button type="submit">Show</button></form>')
    rows = [[o["channel"], o["order_id"], when(o["placed_at"]), badge(o["status"]), number(o["lines"]),
             number(o["units"]), number(o["taken"]), number(o["restored"]), number(o["oversold"])] for o in orders]
    return Html(form + table(["Channel", "Order", "Placed (UTC)", "Status", "Lines", "Units", "Taken", "Restored",
                              "Oversold"], rows, empty="no orders", numeric=(4, 5, 6, 7, 8))
                + pager("/orders", {"channel": channel}, page, has_more))


def upload_page(warehouses: Sequence[str], csrf: str, *, max_mb: int, error: str | None = None,
                warehouse: str = "", mode: str = "partial") -> Html:
    """The upload form: a Quantity Update (any warehouse columns) or one warehouse's stock file."""
    problem = f'<p class="error">{e(error)}</p>' if error else ""
    choices = [("", "Quantity Update template (warehouse columns)"), *[(w, f"stock file of {w}") for w in warehouses]]
    modes = [("partial", "partial: only the SKUs in the file"), ("full", "full: SKUs missing from the file become 0"),
             ("delta", "delta: quantities are changes (+/-)")]
    return Html(
        f'{problem}<form method="post" action="/upload" enctype="multipart/form-data" class="upload">'
        f'{hidden("csrf_token", csrf)}'
        f'<label for="file">File (CSV or XLSX, at most {max_mb:,} MB)</label>'
        f'<input type="file" name="file" id="file" accept=".csv,.txt,.xlsx,.xlsm" required>'
        f'<label for="warehouse">What it is</label>{select_box("warehouse", choices, warehouse)}'
        f'<label for="mode">Stock file mode</label>{select_box("mode", modes, mode)}'
        f'<label class="check"><input type="checkbox" name="create_unknown_skus" value="1"> '
        f'create SKUs StockGate does not know yet</label>'
        f'<button type="submit">Upload</button></form>'
        f'<p class="note">The file goes through the same checks as a file dropped over FTP; you are taken to its '
        f'report. Current figures: {link("/template.csv", "template CSV")} · {link("/template.xlsx", "XLSX")}</p>')


def login_page(csrf: str, *, next_path: str, error: str | None = None) -> Html:
    problem = f'<p class="error">{e(error)}</p>' if error else ""
    return Html(f'{problem}<form method="post" action="/login" class="login">{hidden("csrf_token", csrf)}'
                f'{hidden("next", next_path)}<label for="username">User name</label>'
                f'<input name="username" id="username" autocomplete="username" required autofocus>'
                f'<label for="password">Password</label>'
                f'<input type="password" name="password" id="password" autocomplete="current-password" required>'
                f'<button type="submit">Log in</button></form>')


def message_page(text: str) -> Html:
    """The body of an error or notice page."""
    return Html(f'<p class="message">{e(text)}</p><p>{link("/", "Dashboard")}</p>')
