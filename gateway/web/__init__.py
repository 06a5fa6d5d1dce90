"""The web page of `stockgate serve`: HTML rooms, a JSON API under `/api/v1/` and its OpenAPI document, on
FastAPI served by uvicorn (docs/web.md, "Adding a page").

    WebServer(db, settings, on_received=...)   .start() / .stop(timeout) / .port / .url
    create_app(db, settings, on_received=...)  -> FastAPI
"""

from gateway.web.app import create_app
from gateway.web.server import WebServer

__all__ = ["WebServer", "create_app"]
