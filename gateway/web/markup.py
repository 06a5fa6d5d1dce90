"""HTML building blocks that escape by default: every value is passed through `html.escape` unless it
is `Html` built by these helpers. SKUs, file names and messages are user data and show literally.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

NAV = (("/", "Dashboard"), ("/history", "Upload history"), ("/stock", "Inventory"), ("/listings", "Listings"),
       ("/orders", "Orders"), ("/upload", "Upload"))


class Html(str):
    """Markup that is already safe (built here from escaped parts): inserted as it is."""


def e(value: object) -> Html:
    """`value` as safe HTML text: escaped, None as empty, `Html` unchanged."""
    if isinstance(value, Html):
        return value
    if value is None:
        return Html("")
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    """Join values (each escaped unless `Html`)."""
    return Html(e(sep).join(e(p) for p in parts))


def url(path: str, params: Mapping[str, object] | None = None) -> str:
    """A local URL with its query string; empty and None parameters are left out."""
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def file_url(file_id: str, suffix: str = "") -> str:
    """The URL of a file's report page (or its `.json`/`.csv` download)."""
    return f"/files/{quote(file_id, safe='')}{suffix}"


def link(href: str, text: object, css: str = "") -> Html:
    attr = f' class="{e(css)}"' if css else ""
    return Html(f'<a href="{e(href)}"{attr}>{e(text)}</a>')


def badge(status: object) -> Html:
    """A status as a coloured label (the class is derived from the value, escaped like everything else)."""
    return Html(f'<span class="badge badge-{e(str(status).replace("_", "-"))}">{e(status)}</span>')


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, empty: str = "nothing to show",
          numeric: Sequence[int] = ()) -> Html:
    """A table; cells are escaped unless `Html`; columns listed in `numeric` are right-aligned."""
    head = "".join(f'<th{" class=num" if n in numeric else ""}>{e(h)}</th>' for n, h in enumerate(headers))
    body = ["<tr>" + "".join(f'<td{" class=num" if n in numeric else ""}>{e(c)}</td>' for n, c in enumerate(row))
            + "</tr>" for row in rows]
    if not body:
        body = [f'<tr><td colspan="{len(headers)}" class="empty">{e(empty)}</td></tr>']
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def select_box(name: str, options: Sequence[tuple[str, str]], selected: str | None) -> Html:
    """A <select>; `options` are (value, label)."""
    items = "".join(f'<option value="{e(v)}"{" selected" if v == (selected or "") else ""}>{e(label)}</option>'
                    for v, label in options)
    return Html(f'<select name="{e(name)}" id="{e(name)}">{items}</select>')


def hidden(name: str, value: object) -> Html:
    return Html(f'<input type="hidden" name="{e(name)}" value="{e(value)}">')


def pager(path: str, params: Mapping[str, object], page: int, has_more: bool) -> Html:
    """Newer/older links for a paged list."""
    parts = []
    if page > 1:
        parts.append(link(url(path, {**params, "page": page - 1 if page > 2 else None}), "« previous"))
    parts.append(Html(f"<span>page {page}</span>"))
    if has_more:
        parts.append(link(url(path, {**params, "page": page + 1}), "next »"))
    return Html(f'<nav class="pager">{join(parts, " ")}</nav>')


def number(value: object) -> str:
    """An integer with thousands separators; other values as they are."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else ("" if value is None else str(value))


def when(value: str | None) -> str:
    """An ISO time shortened to the second, in UTC."""
    return (value or "")[:19].replace("T", " ")


def layout(title: str, body: Html, *, user: str | None = None, csrf: str | None = None, active: str = "",
           refresh_seconds: int | None = None) -> Html:
    """The whole page: head, navigation (with a logout button for a logged-in user), title and body."""
    nav = "".join(f'<a href="{e(href)}"{" class=active" if href == active else ""}>{e(label)}</a>'
                  for href, label in NAV)
    logout = ""
    if user is not None and csrf is not None:
        logout = (f'<form method="post" action="/logout" class="logout">{hidden("csrf_token", csrf)}'
                  f'<span>{e(user)}</span> <button type="submit">Log out</button></form>')
    refresh = f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">' if refresh_seconds else ""
    return Html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{e(title)} - StockGate</title><link rel="stylesheet" href="/static/style.css">{refresh}</head>'
        f'<body><header><span class="brand">StockGate</span><nav>{nav}</nav>{logout}</header>'
        f'<main><h1>{e(title)}</h1>{body}</main></body></html>')
