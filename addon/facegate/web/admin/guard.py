"""Who may see the administrator pages, and how their forms are kept theirs.

Two ways in, nothing else:
- Home Assistant's ingress: the Supervisor has already checked that the user is an
  administrator of Home Assistant and proxies the request from its own address, adding
  `X-Ingress-Path`. Those headers are believed only from `api.ingress_proxy` (the Supervisor's
  172.30.32.2); anyone else sending them is a stranger asking for the login page.
- Standalone: the API token typed once into the login page starts a session (an HttpOnly,
  SameSite=Strict cookie, eight hours). Wrong tokens from one address are limited.

Every form carries a CSRF token (the session's, or for ingress one derived from a secret of
this process and the Home Assistant user), compared in constant time; a form posted from
another origin is refused. Pages may be framed only by their own origin (ingress shows them in
Home Assistant's frame, which is that origin), load nothing from elsewhere (R9), and are never
cached.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from facegate.config import Config
from facegate.web.attempts import Attempts

ADMIN_COOKIE = "fg_admin"
SESSION_S = 8 * 3600.0
BAD_LOGINS = 5
BAD_LOGINS_WINDOW_S = 900.0
# The path Home Assistant's ingress serves the add-on under, prefixed to every link.
_INGRESS_PATH = re.compile(r"/api/hassio_ingress/[A-Za-z0-9_-]{1,128}")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'none'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Administrator:
    """Who is on the page: `via` is "ingress" or "token"; `base` prefixes every link."""

    who: str
    via: str
    csrf: str
    base: str = ""


ADMINISTRATOR = web.RequestKey("administrator", Administrator)


@dataclass
class _Session:
    csrf: str
    until: float


class AdminGuard:
    def __init__(self, config: Config, token: str) -> None:
        self._proxy = config.api.ingress_proxy
        self._token = token
        self._secret = secrets.token_bytes(32)
        self._sessions: dict[str, _Session] = {}
        self.bad_logins = Attempts(BAD_LOGINS, BAD_LOGINS_WINDOW_S)

    # Who is asking ------------------------------------------------------------------------

    def administrator(self, request: web.Request) -> Administrator | None:
        ingress = request.headers.get("X-Ingress-Path")
        if ingress is not None and request.remote == self._proxy:
            if not _INGRESS_PATH.fullmatch(ingress):
                raise web.HTTPBadRequest(reason="X-Ingress-Path is not an ingress path")
            user = request.headers.get("X-Remote-User-Id", "")
            who = request.headers.get("X-Remote-User-Name") or "Home Assistant"
            csrf = hmac.new(self._secret, f"ingress:{user}".encode(), hashlib.sha256).hexdigest()
            return Administrator(who=who, via="ingress", csrf=csrf, base=ingress)
        session = self._session(request.cookies.get(ADMIN_COOKIE, ""))
        if session is None:
            return None
        return Administrator(who="administrator", via="token", csrf=session.csrf)

    def _session(self, cookie: str) -> _Session | None:
        if not cookie:
            return None
        key = hashlib.sha256(cookie.encode()).hexdigest()  # the cookie itself is kept nowhere
        session = self._sessions.get(key)
        if session is None or session.until < time.monotonic():
            self._sessions.pop(key, None)
            return None
        return session

    # Logging in and out -------------------------------------------------------------------

    def log_in(self, request: web.Request, presented: str) -> str | None:
        """A new session's cookie when `presented` is the API token; None (counted) if not."""
        source = request.remote or "?"
        if not hmac.compare_digest(presented.strip().encode(), self._token.encode()):
            self.bad_logins.failed(source)
            return None
        self.bad_logins.forgive(source)
        now = time.monotonic()
        self._sessions = {k: s for k, s in self._sessions.items() if s.until > now}
        cookie = secrets.token_urlsafe(32)
        self._sessions[hashlib.sha256(cookie.encode()).hexdigest()] = _Session(
            csrf=secrets.token_urlsafe(24), until=now + SESSION_S
        )
        return cookie

    def log_out(self, request: web.Request) -> None:
        cookie = request.cookies.get(ADMIN_COOKIE, "")
        self._sessions.pop(hashlib.sha256(cookie.encode()).hexdigest(), None)

    # Forms ----------------------------------------------------------------------------------

    @staticmethod
    def same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or origin == f"{request.scheme}://{request.host}":
            return True
        # Through ingress the browser's origin is Home Assistant's, which the proxy's Host
        # does not show: the CSRF token carries the check there.
        return request.get(ADMINISTRATOR) is not None and request[ADMINISTRATOR].via == "ingress"

    @staticmethod
    def csrf_ok(request: web.Request, sent: str) -> bool:
        administrator = request.get(ADMINISTRATOR)
        return administrator is not None and hmac.compare_digest(
            sent.encode(), administrator.csrf.encode()
        )
