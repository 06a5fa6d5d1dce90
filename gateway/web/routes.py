"""Every URL of the web page and what answers it: `ROUTES` is the one list (a test walks it to check that
only `PUBLIC_PATHS` answer without a login).

A route handler takes the `Site` (database, settings, sessions) and the `Request` and returns a `Response`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import select

from gateway.errors import NotFoundError, UsageError
from gateway.intake import Delivery, receive_bytes
from gateway.pipeline.report import Report, issues_csv, report_basename
from gateway.pipeline.rerun import receive_again
from gateway.stock.template import write_template
from gateway.web import pages, queries
from gateway.web.auth import check_credentials, session_cookie
from gateway.web.markup import file_url
from gateway.web.site import Request, Response, Site, attachment, redirect

MODES = ("partial", "full", "delta")


# --- pages


def dashboard(site: Site, req: Request) -> Response:
    with site.db.read() as conn:
        summary = queries.dashboard(conn)
    return site.html(req, "Dashboard", pages.dashboard_page(summary), active="/")


def history(site: Site, req: Request) -> Response:
    status, warehouse, page = req.arg("status"), req.arg("warehouse"), req.page()
    if status and status not in pages.STATUSES:
        return site.message(req, 400, "Upload history", f"unknown status {status!r}: use one of "
                            + ", ".join(pages.STATUSES))
    with site.db.read() as conn:
        try:
            files, has_more = queries.history(conn, status=status or None, warehouse=warehouse or None, page=page)
        except NotFoundError as exc:   # a warehouse no code matches, in any case
            return site.message(req, 400, "Upload history", str(exc))
        codes = queries.warehouse_codes(conn)
    body = pages.history_page(files, status=status, warehouse=warehouse, warehouses=codes, page=page,
                              has_more=has_more)
    return site.html(req, "Bulk Upload History", body, active="/history")


def file_report(site: Site, req: Request) -> Response:
    file_id = req.params["file_id"]
    with site.db.read() as conn:
        detail = queries.file_detail(conn, file_id)
    if detail is None:
        return site.message(req, 404, "No such file", f"no file {file_id!r}: see the upload history")
    waiting = detail["status"] in pages.UNFINISHED
    return site.html(req, f"Report: {detail['name']}", pages.file_page(detail, site.csrf(req)), active="/history",
                     refresh_seconds=3 if waiting else None)


def reprocess(site: Site, req: Request) -> Response:
    """Put a stored file through the pipeline again as a new file (`stockgate reprocess`); show its page."""
    file_id, form = req.params["file_id"], req.form
    mode = form.get("mode").strip() or None
    try:
        new_id = receive_again(site.db, site.settings, file_id, mode=mode,
                               create_unknown_skus=form.get("create_unknown_skus") == "1")
    except NotFoundError as exc:
        return site.message(req, 404, "Cannot reprocess", str(exc))
    except UsageError as exc:
        return site.message(req, 409, "Cannot reprocess", str(exc))
    if site.on_received is not None:
        site.on_received(new_id)
    return redirect(file_url(new_id))


def _report_or_error(site: Site, req: Request) -> tuple[dict | None, Response | None]:
    file_id = req.params["file_id"]
    with site.db.read() as conn:
        exists, document = queries.report_document(conn, file_id)
    if not exists:
        return None, site.message(req, 404, "No such file", f"no file {file_id!r}: see the upload history")
    if document is None:
        return None, site.message(req, 409, "Not processed yet",
                                  f"file {file_id} has not been processed yet: its report comes when it has")
    return document, None


def report_json(site: Site, req: Request) -> Response:
    document, error = _report_or_error(site, req)
    if error:
        return error
    name = report_basename(document["name"], document["file_id"]) + ".json"
    # shown in the browser; `?download=1` (the page's download link) saves it
    return attachment(Report(document).to_json().encode("utf-8"), "application/json; charset=utf-8", name,
                      inline=req.arg("download") != "1")


def report_csv(site: Site, req: Request) -> Response:
    document, error = _report_or_error(site, req)
    if error:
        return error
    name = report_basename(document["name"], document["file_id"]) + ".csv"
    return attachment(issues_csv(document["issues"], bom=True).encode("utf-8"), "text/csv; charset=utf-8", name)


def stock(site: Site, req: Request) -> Response:
    search, page = req.arg("q")[:100], req.page()
    with site.db.read() as conn:
        items, total = queries.stock_page(conn, search=search, page=page)
        codes = queries.warehouse_codes(conn)
    body = pages.stock_page(items, codes, search=search, page=page, total=total, per_page=queries.PER_PAGE)
    return site.html(req, "Inventory", body, active="/stock")


def _channel_list(site: Site, req: Request, title: str, active: str, read, render) -> Response:
    channel, page, per_page = req.arg("channel"), req.page(), queries.PER_PAGE
    with site.db.read() as conn:
        channels = queries.channel_names(conn)
        if channel and channel not in channels:
            return site.message(req, 404, title, f"no channel {channel!r} (known: {', '.join(channels) or 'none'})")
        rows = read(conn, channel or None)
    shown = rows[(page - 1) * per_page: page * per_page]
    body = render(shown, channels=channels, channel=channel, page=page, has_more=len(rows) > page * per_page)
    return site.html(req, title, body, active=active)


def listings(site: Site, req: Request) -> Response:
    return _channel_list(site, req, "Listings", "/listings", queries.listings, pages.listings_page)


def orders(site: Site, req: Request) -> Response:
    return _channel_list(site, req, "Orders", "/orders", queries.orders, pages.orders_page)


def stock_csv(site: Site, req: Request) -> Response:
    """The inventory page as CSV (every matching SKU, not one page): streamed from the database into a
    temporary file, which is then sent a block at a time (a million SKUs are never all in memory)."""
    search = req.arg("q")[:100]
    out = tempfile.TemporaryFile(prefix="stockgate-inventory-")
    try:
        with site.db.read() as conn:
            queries.write_stock_csv(conn, out, search=search)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return attachment(out, "text/csv; charset=utf-8", "inventory.csv")


def template(site: Site, req: Request) -> Response:
    fmt = req.params["format"]
    with tempfile.TemporaryDirectory(prefix="stockgate-template-") as folder:
        path = Path(folder) / f"quantity_update_template.{fmt}"
        with site.db.read() as conn:
            write_template(conn, path, fmt=fmt)
        data = open(path, "rb")   # sent from the file (still readable once its folder is removed)
    content_type = ("text/csv; charset=utf-8" if fmt == "csv" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return attachment(data, content_type, path.name)


# --- upload


def _upload_form(site: Site, req: Request, *, status: int = 200, error: str | None = None) -> Response:
    with site.db.read() as conn:
        codes = queries.warehouse_codes(conn)
    form = req.form
    body = pages.upload_page(codes, site.csrf(req), max_mb=site.settings.files.max_file_mb, error=error,
                             warehouse=form.get("warehouse") if form else "",
                             mode=form.get("mode", "partial") if form else "partial")
    return site.html(req, "Upload a file", body, status=status, active="/upload")


def upload_form(site: Site, req: Request) -> Response:
    return _upload_form(site, req)


def upload(site: Site, req: Request) -> Response:
    """Receive an uploaded file like any other transport; the worker processes it; show its report page."""
    form = req.form
    uploaded = form.files.get("file")
    if uploaded is None or not uploaded.filename:
        return _upload_form(site, req, status=400, error="Choose a file to upload.")
    limit = site.settings.files.max_file_mb * 1024 * 1024
    if len(uploaded.data) > limit:
        return _upload_form(site, req, status=413, error=f"{uploaded.filename}: {len(uploaded.data):,} bytes is "
                            f"over the limit of {site.settings.files.max_file_mb:,} MB.")
    warehouse, mode = form.get("warehouse").strip(), form.get("mode", "partial").strip()
    with site.db.read() as conn:
        codes = queries.warehouse_codes(conn)
    warehouse = next((code for code in codes if code.casefold() == warehouse.casefold()), warehouse)   # any case
    if warehouse and warehouse not in codes:
        return _upload_form(site, req, status=400, error=f"unknown warehouse {warehouse!r} (known: {', '.join(codes)})")
    if mode not in MODES:
        return _upload_form(site, req, status=400, error=f"mode {mode!r} is not one of {', '.join(MODES)}")
    delivery = Delivery(name=uploaded.filename, transport="web", warehouse=warehouse or None,
                        mode=mode if warehouse else "absolute",
                        options={"create_unknown_skus": form.get("create_unknown_skus") == "1"})
    file_id = receive_bytes(site.db, site.settings.data_dir, delivery, uploaded.data)
    if site.on_received is not None:
        site.on_received(file_id)
    return redirect(file_url(file_id))


# --- login, health, static


# A path on this site and its query, in the characters a URL may hold as they are (RFC 3986): no space,
# control character, backslash or `#`, and no second `/` or `\` at the start (`//host` is another site).
LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


def safe_next(path: str) -> str:
    """Where to go after a login: `path` when it is a local path (`LOCAL_PATH`, and once percent-decoded
    still no control character nor `//host`), else `/`. It becomes a Location header: nothing else passes."""
    decoded = unquote(path)
    if (LOCAL_PATH.fullmatch(path) and not decoded.startswith(("//", "/\\"))
            and not any(c < " " or c == "\x7f" for c in decoded)):
        return path
    return "/"


def login_form(site: Site, req: Request) -> Response:
    if not site.login_required:
        return redirect("/")
    body = pages.login_page(site.csrf(req), next_path=safe_next(req.arg("next") or "/"))
    return site.html(req, "Log in", body)


def login(site: Site, req: Request) -> Response:
    if not site.login_required:
        return redirect("/")
    form, next_path = req.form, safe_next(req.form.get("next", "/"))
    if site.throttle.locked(req.client):
        body = pages.login_page(site.csrf(req), next_path=next_path,
                                error="Too many failed logins from your address: try again in 15 minutes.")
        return site.html(req, "Log in", body, status=429)
    if not check_credentials(site.settings.web, form.get("username"), form.get("password")):
        site.throttle.failed(req.client)
        body = pages.login_page(site.csrf(req), next_path=next_path, error="Wrong user name or password.")
        return site.html(req, "Log in", body, status=403)
    site.throttle.succeeded(req.client)
    if req.session is not None:
        site.sessions.drop(req.session.token)     # a new token at login: no session fixation
    req.session = req.new_session = site.sessions.create(user=site.settings.web.username)
    return redirect(next_path)


def logout(site: Site, req: Request) -> Response:
    if req.session is not None:
        site.sessions.drop(req.session.token)
    req.session = None
    response = redirect("/login" if site.login_required else "/")
    response.headers.append(("Set-Cookie", session_cookie(None)))
    return response


def healthz(site: Site, req: Request) -> Response:
    """`ok` when the database answers; 503 otherwise (no login needed: for monitoring)."""
    try:
        with site.db.read() as conn:
            conn.execute(select(1)).scalar_one()
    except Exception as exc:
        return Response(503, f"database unavailable: {type(exc).__name__}\n".encode(), "text/plain; charset=utf-8")
    return Response(200, b"ok\n", "text/plain; charset=utf-8")


def stylesheet(site: Site, req: Request) -> Response:
    return Response(200, site.stylesheet, "text/css; charset=utf-8", [("Cache-Control", "max-age=3600")])


@dataclass(frozen=True)
class Route:
    pattern: str
    methods: dict[str, Callable[[Site, Request], Response]]
    public: bool = False        # answers without a login

    def match(self, path: str) -> dict[str, str] | None:
        found = re.fullmatch(self.pattern, path)
        return found.groupdict() if found else None


FILE_ID = r"(?P<file_id>[0-9A-Za-z_.-]{1,40})"
ROUTES: tuple[Route, ...] = (
    Route("/", {"GET": dashboard}),
    Route("/history", {"GET": history}),
    Route(f"/files/{FILE_ID}", {"GET": file_report}),
    Route(f"/files/{FILE_ID}/reprocess", {"POST": reprocess}),
    Route(f"/files/{FILE_ID}/report\\.json", {"GET": report_json}),
    Route(f"/files/{FILE_ID}/report\\.csv", {"GET": report_csv}),
    Route("/stock", {"GET": stock}),
    Route("/stock\\.csv", {"GET": stock_csv}),
    Route("/listings", {"GET": listings}),
    Route("/orders", {"GET": orders}),
    Route("/template\\.(?P<format>csv|xlsx)", {"GET": template}),
    Route("/upload", {"GET": upload_form, "POST": upload}),
    Route("/logout", {"POST": logout}),
    Route("/login", {"GET": login_form, "POST": login}, public=True),
    Route("/healthz", {"GET": healthz}, public=True),
    Route("/static/style\\.css", {"GET": stylesheet}, public=True),
)
PUBLIC_PATHS = ("/login", "/healthz", "/static/style.css")


def find_route(path: str) -> tuple[Route, dict[str, str]] | None:
    """The route answering `path` and the values its pattern captured, or None."""
    for route in ROUTES:
        params = route.match(path)
        if params is not None:
            return route, params
    return None
