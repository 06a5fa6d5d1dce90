"""A tiny browser for tests: `http.client` requests to 127.0.0.1, the session cookie kept, no redirects
followed, and helpers to read forms and tables out of the HTML the page sends; `raw_request` for bytes
no browser would send, with the answer's header lines as they came."""

from __future__ import annotations

import html
import http.client
import re
import secrets
import socket
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode


def evaluated_template(text: str) -> bool:
    """Whether `{{7*7}}` shows as 49 in `text`: a 49 standing alone, not one inside a time (18:49:28), a date
    or a longer number."""
    return re.search(r"(?<![\d:.,-])49(?![\d:.,])", text) is not None


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def visible_text(self) -> str:
        """What a reader sees: the text without tags, entities unescaped."""
        return html.unescape(re.sub(r"<[^>]+>", " ", self.text))

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def csrf_token(self) -> str:
        found = re.search(r'name="csrf_token" value="([^"]*)"', self.text)
        assert found, "the page has no form with a CSRF token"
        return html.unescape(found.group(1))

    def table_rows(self, index: int = 0) -> list[list[str]]:
        """The body rows of the index-th table, each cell's text unescaped."""
        tables = re.findall(r"<table>(.*?)</table>", self.text, re.S)
        body = re.search(r"<tbody>(.*)</tbody>", tables[index], re.S).group(1)
        return [[html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
                for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]

    def table_headers(self, index: int = 0) -> list[str]:
        """The header cells of the index-th table."""
        head = re.search(r"<thead>(.*?)</thead>", re.findall(r"<table>(.*?)</table>", self.text, re.S)[index], re.S)
        return [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<th[^>]*>(.*?)</th>", head.group(1))]

    def table_html(self, index: int = 0) -> str:
        return re.findall(r"<table>(.*?)</table>", self.text, re.S)[index]


class Browser:
    """Requests to the web page on `port`; keeps the `sg_session` cookie like a browser would."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.port, self.host = port, host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Page:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            page = Page(response.status, response.headers, response.read())
        finally:
            conn.close()
        for value in page.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(value)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return page

    def get(self, path: str, headers: dict[str, str] | None = None) -> Page:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Page:
        body = urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                 **(headers or {})})

    def upload(self, path: str, fields: dict[str, str], filename: str, data: bytes,
               headers: dict[str, str] | None = None) -> Page:
        """A multipart/form-data post as a browser sends it: text fields, then the file."""
        boundary = "----sgtest" + secrets.token_hex(8)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                 for name, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                 **(headers or {})})

    def login(self, username: str, password: str, next_path: str = "/") -> Page:
        token = self.get("/login").csrf_token()
        return self.post("/login", {"username": username, "password": password, "next": next_path,
                                    "csrf_token": token})


@dataclass
class RawAnswer:
    """An answer read off the socket as it came: the status, the header lines unparsed, the body."""

    status: int
    header_lines: list[str]
    body: bytes

    def headers_named(self, name: str) -> list[str]:
        prefix = name.lower() + ":"
        return [line.split(":", 1)[1].strip() for line in self.header_lines if line.lower().startswith(prefix)]


def raw_request(port: int, data: bytes, *, timeout: float = 20, host: str = "127.0.0.1") -> RawAnswer:
    """Send `data` as it is, then read one answer: its head, then its body to its Content-Length (or until
    the server closes); a `TimeoutError` when no answer is complete within `timeout` seconds of silence."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            head, sep, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head) if sep else None
            if length and len(body) >= int(length.group(1)):
                break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/"), f"not an HTTP answer: {received[:200]!r}"
    return RawAnswer(int(lines[0].split()[1]), lines[1:], body)


def ingest(stockgate, tmp_path, name: str, text: str, *args: str) -> dict:
    """`stockgate ingest` of a file written with `text`; its --json result."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = stockgate("ingest", str(path), *args, "--json")
    assert result.out, result
    return result.json()
