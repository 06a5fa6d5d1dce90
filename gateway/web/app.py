"""`create_app`: the web page as one FastAPI application: the HTML rooms, the JSON API under `/api/v1/`,
its OpenAPI document (`/openapi.json`) and interactive docs (`/docs`, served from the installed
fastapi-offline package: nothing is fetched from the network), the static files, the error pages and
the gate of `middleware` around all of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from gateway.accounts.sessions import SessionStore
from gateway.accounts.throttle import LoginThrottle
from gateway.db.engine import Database
from gateway.errors import RetryableError
from gateway.settings import Settings
from gateway.web import api, rooms
from gateway.web.api.deps import with_gate_answers
from gateway.web.middleware import BodyTimeoutError, SessionGate, Shield
from gateway.web.nul_guard import NulGuard
from gateway.web.templating import message, render_text

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
SWAGGER_DIR = Path(fastapi_offline.__file__).with_name("static")
TITLES = {400: "Cannot do that", 403: "Refused", 404: "Not found", 405: "Not allowed", 409: "Cannot do that",
          413: "Too large", 429: "Too many tries"}


class StockGateApp(FastAPI):
    """FastAPI with `middleware.Shield` outermost, so even Starlette's own last-resort 500 carries the
    security headers, and `nul_guard.NulGuard` inside it (a body that stops arriving while it reads is
    Shield's 408, not Starlette's 500)."""

    def __init__(self, settings: Settings, db: Database, **kwargs):
        self._shield_settings, self._shield_db = settings, db
        super().__init__(**kwargs)

    def build_middleware_stack(self):
        return Shield(NulGuard(super().build_middleware_stack()), self._shield_settings, self._shield_db)

    def openapi(self) -> dict:
        """FastAPI's document of the routes, with what the gate answers before them (`api.deps`)."""
        if self.openapi_schema is None:
            self.openapi_schema = with_gate_answers(super().openapi())
        return self.openapi_schema


def create_app(db: Database, settings: Settings, *, on_received: Callable[[str], None] | None = None) -> FastAPI:
    """The application for `db` and `settings`; `on_received(file_id)` is told of every file received."""
    app = StockGateApp(settings, db, title="StockGate", version="1", docs_url=None, redoc_url=None,
                       openapi_url="/openapi.json")
    app.state.db, app.state.settings, app.state.on_received = db, settings, on_received
    app.state.sessions = SessionStore(db, web=settings.web)     # in the database: a restart logs nobody out
    app.state.throttle = LoginThrottle(db)
    for router in (*rooms.ROUTERS, *api.ROUTERS):
        app.include_router(router)
    app.add_api_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SessionGate, sessions=app.state.sessions)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(BodyTimeoutError, body_timeout)
    app.add_exception_handler(RetryableError, retryable_error)
    app.add_exception_handler(Exception, internal_error)
    return app


def docs_page(request: Request):
    """Swagger UI for `/openapi.json`, from local files, started by `static/docs.js` (no inline script)."""
    from fastapi.responses import HTMLResponse

    return HTMLResponse(render_text("docs/swagger.html", openapi_url=request.app.openapi_url))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


async def http_error(request: Request, exc: StarletteHTTPException):
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and "Allow" in headers:       # HEAD is answered only by the API
        headers["Allow"] = ", ".join(m for m in headers["Allow"].split(", ") if m != "HEAD")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if _is_api(request):
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)
    if exc.status_code == 405:
        detail = f"method not allowed here: use {headers.get('Allow', 'GET')}"
    if getattr(request.state, "session", "unset") == "unset":     # refused before the session was read
        return PlainTextResponse(detail + "\n", status_code=exc.status_code, headers=headers)
    page = message(request, exc.status_code, TITLES.get(exc.status_code, "Cannot do that"), detail)
    page.headers.update(headers)
    return page


async def validation_error(request: Request, exc: RequestValidationError):
    if _is_api(request):
        # jsonable_encoder, as FastAPI's own handler: an error's `ctx` may hold the exception that raised it
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
    problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'request'}: {e['msg']}" for e in exc.errors())
    return message(request, 400, "Cannot do that", f"the request is not valid: {problems}")


async def body_timeout(request: Request, exc: BodyTimeoutError):
    seconds = request.app.state.settings.web.read_timeout_seconds
    return PlainTextResponse(f"the post stopped arriving (nothing for {seconds:g} s): send it again\n",
                             status_code=408, headers={"Connection": "close"})


async def retryable_error(request: Request, exc: RetryableError):
    if _is_api(request):
        return JSONResponse({"detail": f"{exc} (try again)"}, status_code=503)
    return PlainTextResponse(f"{exc} (try again)\n", status_code=503)


async def internal_error(request: Request, exc: Exception):
    log.error("web request %s %s failed", request.method, request.url.path, exc_info=exc)
    if _is_api(request):
        return JSONResponse({"detail": "internal error: it has been logged"}, status_code=500)
    return PlainTextResponse("internal error: it has been logged\n", status_code=500)


def route_table(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """(path, methods) of every route and mount of `app` (HEAD left out: only the API answers it), for the
    test that no route goes without a login decision; included routers are walked into."""
    table: list[tuple[str, frozenset[str]]] = []

    def walk(routes) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)     # FastAPI's record of an include_router
            if included is not None:
                walk(included.routes)
            elif isinstance(route, Mount):
                table.append((route.path, frozenset({"GET"})))
            else:
                table.append((route.path, frozenset(route.methods or ()) - {"HEAD"}))

    walk(app.routes)
    return table
