"""The Quantity Update template as a download (the Templates page, `/template.csv|xlsx`, `/api/v1/templates`):
written by `stock.template.write_template` as `stockgate template` writes it, then sent from its file a
block at a time."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from fastapi.responses import StreamingResponse

from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.stock.template import write_template
from gateway.web.downloads import file_attachment

TEMPLATE_TYPES = {"csv": "text/csv; charset=utf-8",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def template_response(db: Database, fmt: str, warehouses: Sequence[str] | None = None) -> StreamingResponse:
    """The template as `fmt` with every warehouse's column, or `warehouses`' in that order. UsageError for an
    unknown format, NotFoundError naming the known warehouses for an unknown one."""
    if fmt not in TEMPLATE_TYPES:
        raise UsageError(f"no template as {fmt!r}: csv or xlsx")
    picked = [code.strip() for code in warehouses or () if code.strip()] or None
    with tempfile.TemporaryDirectory(prefix="stockgate-template-") as folder:
        path = Path(folder) / f"quantity_update_template.{fmt}"
        with db.read() as conn:
            write_template(conn, path, fmt=fmt, warehouses=picked)
        data = open(path, "rb")   # sent from the file (still readable once its folder is removed)
    return file_attachment(data, TEMPLATE_TYPES[fmt], path.name)
