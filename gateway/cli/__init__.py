"""The `stockgate` command line: one parser, a module per group of commands, errors as one line.

Each command module has `register(subparsers)`, which adds its commands with `func=handler`; a handler
takes (app, args) and returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from gateway.errors import ConfigError, NotFoundError, RetryableError, StockGateError, UsageError
from gateway.log_format import configure_logging

COMMAND_MODULES = (
    "gateway.cli.stock_commands",
    "gateway.cli.file_commands",
    "gateway.cli.order_commands",
    "gateway.cli.source_commands",
    "gateway.cli.serve_commands",
    "gateway.cli.channel_commands",
    "gateway.cli.user_commands",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse's name
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _version() -> str:
    """The installed package's version (pyproject.toml), or "unknown" when run from a bare source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stockgate")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The full `stockgate` parser with every command group registered."""
    parser = _Parser(prog="stockgate", description="StockGate: file-drop inventory integration gateway")
    parser.add_argument("--version", action="version", version=f"stockgate {_version()}",
                        help="print StockGate's version and exit")
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: $STOCKGATE_CONFIG, "
                                                          "else ./stockgate.toml, else built-in defaults)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _load_app(app_class, config: str | None):
    """Load the configuration; a deprecated key is reported as one `stockgate: warning:` line on stderr."""
    from gateway.settings import ConfigDeprecationWarning

    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConfigDeprecationWarning)
            return app_class.from_config(config)
    finally:
        for w in caught:
            if issubclass(w.category, ConfigDeprecationWarning):
                sys.stderr.write(f"stockgate: warning: {w.message}\n")
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    configure_logging(os.environ.get("STOCKGATE_LOG_LEVEL", "WARNING"))
    args = build_parser().parse_args(argv)
    from gateway.app import App

    app = None
    try:
        app = _load_app(App, args.config)
        return int(args.func(app, args) or 0)
    except (ConfigError, UsageError, NotFoundError) as exc:
        sys.stderr.write(f"stockgate: error: {exc}\n")
        return 2
    except RetryableError as exc:
        sys.stderr.write(f"stockgate: error: {exc} (try again)\n")
        return 1
    except StockGateError as exc:
        sys.stderr.write(f"stockgate: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("stockgate: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, not a traceback (STOCKGATE_DEBUG=1 shows it)
        if os.environ.get("STOCKGATE_DEBUG"):
            raise
        sys.stderr.write(f"stockgate: internal error: {type(exc).__name__}: {exc} "
                         "(run with STOCKGATE_DEBUG=1 for details)\n")
        return 1
    finally:
        if app is not None:
            app.close()
