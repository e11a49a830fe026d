"""A resident's phone for the integration's tests: it opens the invitation link an administrator
handed over and goes through the engine's resident pages as their browser would — the form
posts, the session cookie, the CSRF field, the photos sent as a multipart upload. Only the
standard library: Home Assistant's environments hold no browser (the engine's suite drives the
same pages in Chromium). The sockets come from the harness (see engine_harness's docstring).
"""

from __future__ import annotations

import asyncio
import http.client
import uuid
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from engine_client import _connect


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = _connect(self.host, self.port, self.timeout)


class _Fields(HTMLParser):
    """The named inputs of a page (hidden fields such as `csrf` and `notice_version`)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") and found.get("type") == "hidden":
            self.values[str(found["name"])] = found.get("value") or ""


class PhoneError(Exception):
    """A page answered with an error status: the status and the page's text."""


class ResidentPhone:
    """One resident's browser: `open_invitation(url)`, then `consent(name)` and
    `enrol(photo)`; each returns the HTML of the page it ended on."""

    def __init__(self, language: str = "en") -> None:
        self._origin = ""
        self._cookies: SimpleCookie = SimpleCookie()
        self._language = language

    def _request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> str:
        parts = urlsplit(self._origin)
        connection = _Connection(parts.hostname or "", parts.port or 80, timeout=60.0)
        headers = {"Accept-Language": self._language}
        if content_type:
            headers["Content-Type"] = content_type
        if self._cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self._cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                self._cookies.load(header)
        finally:
            connection.close()
        if response.status >= 400:
            raise PhoneError(f"{method} {path}: {response.status}\n{text}")
        return text

    def _fields(self, path: str) -> dict[str, str]:
        parser = _Fields()
        parser.feed(self._request("GET", path))
        return parser.values

    def open_invitation(self, url: str) -> str:
        """The link opened, then the page's Continue button pressed (it starts the session)."""
        parts = urlsplit(url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._request("GET", parts.path)
        return self._request("POST", parts.path, b"", "application/x-www-form-urlencoded")

    def consent(self, signer: str) -> str:
        """The notice read, the box ticked, the name signed and Agree pressed."""
        self._request("GET", "/notice")
        fields = self._fields("/consent")
        form = {**fields, "agree": "yes", "signer": signer, "choice": "agree"}
        body = urlencode(form).encode()
        return self._request("POST", "/consent", body, "application/x-www-form-urlencoded")

    def enrol(self, photo: bytes) -> str:
        """One face photo taken with the phone and sent from the enrolment page."""
        csrf = self._fields("/face")["csrf"]
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="image"; filename="face.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + photo
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self._request("POST", "/face", body, f"multipart/form-data; boundary={boundary}")

    async def async_run(self, *steps: tuple[str, str | bytes]) -> list[str]:
        """Steps (`open_invitation`, its argument) … run off Home Assistant's event loop."""
        return [await asyncio.to_thread(getattr(self, name), argument) for name, argument in steps]
