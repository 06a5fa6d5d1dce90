"""StockGate: the gateway service, a folder per room (docs/architecture.md).

core, db, settings, intake, pipeline, stock, orders, channel_sync, transports, web, cli; at the top, the
composition root (`app`, `serve`, `__main__`) and small shared helpers.
"""

__version__ = "0.1.0"
