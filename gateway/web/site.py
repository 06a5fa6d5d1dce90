"""What every page handler works with: the `Request`, the `Response` it returns, and the `Site` holding the
database, the settings, the sessions and who to tell when a file arrives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from gateway.db.engine import Database
from gateway.settings import Settings
from gateway.web import pages
from gateway.web.auth import LoginThrottle, Session, SessionStore, login_required
from gateway.web.forms import Form
from gateway.web.markup import layout

STATIC_DIR = Path(__file__).with_name("static")


@dataclass
class Request:
    """One request as the handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    client: str
    session: Session | None = None
    form: Form | None = None
    params: dict[str, str] = field(default_factory=dict)   # from the route's pattern
    new_session: Session | None = None                    # handed out with this response

    def arg(self, name: str) -> str:
        return self.query.get(name, "").strip()

    def page(self) -> int:
        text = self.arg("page")
        return max(1, min(int(text), 1_000_000)) if text.isdigit() else 1


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: BinaryIO | None = None      # instead of `body`: an open file sent from where it stands, then closed


class Site:
    """What the handlers share: the database, the settings, the sessions and who to tell about a new file."""

    def __init__(self, db: Database, settings: Settings, on_received: Callable[[str], None] | None = None):
        self.db, self.settings, self.on_received = db, settings, on_received
        self.sessions = SessionStore()
        self.throttle = LoginThrottle()
        self.login_required = login_required(settings.web)
        self.stylesheet = (STATIC_DIR / "style.css").read_bytes()

    def csrf(self, req: Request) -> str:
        """The CSRF token for this browser's forms (a session is started when it has none)."""
        if req.session is None:
            req.session = req.new_session = self.sessions.create()
        return req.session.csrf

    def html(self, req: Request, title: str, body: str, *, status: int = 200, active: str = "",
             refresh_seconds: int | None = None) -> Response:
        user = req.session.user if req.session else None
        page = layout(title, body, user=user, csrf=req.session.csrf if user else None, active=active,
                      refresh_seconds=refresh_seconds)
        return Response(status, page.encode("utf-8"))

    def message(self, req: Request, status: int, title: str, text: str) -> Response:
        return self.html(req, title, pages.message_page(text), status=status)


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", "text/plain; charset=utf-8", [("Location", location)])


def attachment(body: bytes | BinaryIO, content_type: str, filename: str, *, inline: bool = False) -> Response:
    """A download (`inline`: shown in the browser, saved under that name when saved); the file name is
    given in ASCII and, exactly, in UTF-8 (RFC 6266). `body` may be an open file (a large download: sent
    a block at a time, never read into memory whole)."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    disposition = f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    headers = [("Content-Disposition", disposition)]
    if isinstance(body, bytes):
        return Response(200, body, content_type, headers)
    return Response(200, b"", content_type, headers, stream=body)
