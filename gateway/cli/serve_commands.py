"""`stockgate serve`: run the gateway (worker, FTP server, sources) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import os


def register(sub) -> None:
    p = sub.add_parser("serve", help="run everything: processing worker, FTP server, SFTP pollers, watched folders")
    p.set_defaults(func=cmd_serve)


def cmd_serve(app, args) -> int:
    """Run until signalled; one log line per file on stderr (INFO unless STOCKGATE_LOG_LEVEL says otherwise)."""
    from gateway.serve import serve

    if not os.environ.get("STOCKGATE_LOG_LEVEL"):
        logging.getLogger("gateway").setLevel(logging.INFO)
    return serve(app.settings, app.db)
