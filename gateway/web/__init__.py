"""The web page of `stockgate serve`: upload history, reports, inventory, listings, orders and uploads.

    WebServer(db, settings, on_received=...)   .start() / .stop(timeout) / .port
"""

from gateway.web.server import WebServer

__all__ = ["WebServer"]
