"""StockGate: the gateway service (core, database, pipeline, transports, scheduler, web, CLI)."""

__version__ = "0.1.0"
