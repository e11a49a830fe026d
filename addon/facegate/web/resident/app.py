"""The resident pages' application: sessions from invitation links, CSRF on every form, the
language of each page, and headers that keep everything on this origin.

A session is an HttpOnly, SameSite=Strict cookie (Secure when the pages are served over
HTTPS); each form carries the session's CSRF token, compared in constant time. Pages forbid
loading anything from another origin (Content-Security-Policy, R9), leak no invitation token
through the Referer, and are never cached. An address that keeps presenting bad invitation
links is refused for a while.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import jinja2
from aiohttp import web

from facegate.engine import Engine
from facegate.errors import FacegateError
from facegate.identity.invitation_records import ResidentSession
from facegate.web.attempts import Attempts
from facegate.web.resident.words import (
    LANGUAGES,
    WORDS,
    page_language,
    refusal,
    remember_language,
)

_LOGGER = logging.getLogger("facegate.residents")
SESSION_COOKIE = "fg_session"
FORM_LIMIT = 64 * 1024
# Bad invitation links from one address: this many within the window, then refused.
BAD_LINKS = 10
BAD_LINKS_WINDOW_S = 600.0
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "same-origin",  # the invitation token in a URL goes to no other site
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
PUBLIC = ("/invite/", "/static/")
JSON_PATHS = ("/phone/", "/face/check")  # what the page scripts read as JSON, errors too

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("resident_session", ResidentSession)
LANG = web.RequestKey("resident_lang", str)

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("facegate.web.resident", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


class PageError(Exception):
    """A refusal shown on a page: its status, heading and text (never a stack trace)."""

    def __init__(self, status: int, heading: str, text: str, more: str = "") -> None:
        super().__init__(text)
        self.status, self.heading, self.text, self.more = status, heading, text, more


def language(request: web.Request) -> str:
    return str(request.get(LANG, "en"))


def words(request: web.Request) -> dict[str, str]:
    return WORDS[language(request)]


def said(request: web.Request, error: Exception) -> str:
    """An engine's refusal in the page's language."""
    return refusal(language(request), error)


def render(
    request: web.Request, template: str, *, status: int = 200, **values: Any
) -> web.Response:
    lang = language(request)
    session: ResidentSession | None = request.get(SESSION)
    text = _ENVIRONMENT.get_template(template).render(
        lang=lang,
        other_lang=next(x for x in LANGUAGES if x != lang),
        t=WORDS[lang],
        csrf=session.csrf if session is not None else "",
        flash=values.pop("flash", None),
        problem=values.pop("problem", None),
        **values,
    )
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    remember_language(request, response, lang)
    return response


def secure(request: web.Request) -> bool:
    return request.scheme == "https"


class Guard:
    """The middleware: language, session, CSRF, bad-link limits, headers, and every error as a
    page."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._bad_links = Attempts(BAD_LINKS, BAD_LINKS_WINDOW_S)

    def bad_link(self, request: web.Request) -> None:
        self._bad_links.failed(request.remote or "?")

    def _too_many(self, request: web.Request) -> bool:
        return self._bad_links.refused(request.remote or "?")

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request[LANG] = page_language(request)
        try:
            response = await self._paged(request, handler)
        except (PageError, web.HTTPException) as error:
            if isinstance(error, web.HTTPException) and error.status < 400:
                raise
            status = error.status if isinstance(error, PageError) else error.status_code
            text = error.text if isinstance(error, PageError) else error.reason
            response = web.json_response({"error": text}, status=status)
        response.headers.update(HEADERS)
        return response

    async def _paged(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await self._guarded(request, handler)
        except PageError as error:
            if request.path.startswith(JSON_PATHS):
                raise
            response = render(
                request,
                "message.html",
                status=error.status,
                heading=error.heading,
                text=error.text,
                more=error.more,
            )
        except web.HTTPException as error:
            if error.status < 400 or request.path.startswith(JSON_PATHS):
                raise
            t = words(request)
            response = render(
                request, "message.html", status=error.status, heading=t["problem"],
                text=error.reason, more="",
            )  # fmt: skip
        except Exception:
            _LOGGER.exception("resident page %s %s failed", request.method, request.path)
            t = words(request)
            response = render(
                request, "message.html", status=500, heading=t["problem"],
                text="internal error; the engine log has the details", more="",
            )  # fmt: skip
        response.headers.update(HEADERS)
        return response

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        t = words(request)
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin not in (None, f"{request.scheme}://{request.host}"):
            # A form posted from another site (the session cookie is SameSite=Strict anyway;
            # this also keeps another site from starting a session with its own invitation).
            raise PageError(403, t["problem"], t["csrf"])
        if request.path.startswith("/invite/") and self._too_many(request):
            raise PageError(429, t["invalid_link"], t["too_many"])
        if not request.path.startswith(PUBLIC):
            token = request.cookies.get(SESSION_COOKIE, "")
            session = self.engine.store.resident_session(token) if token else None
            if session is None:
                raise PageError(401, t["invalid_link"], t["no_session"], t["ask_again"])
            request[SESSION] = session
            if request.method == "POST" and request.content_type != "multipart/form-data":
                if request.content_type == "application/json":  # the phone key's script
                    sent = request.headers.get("X-CSRF-Token", "")
                else:
                    form = await request.post()
                    sent = str(form.get("csrf", ""))
                if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                    raise PageError(403, t["problem"], t["csrf"])
        try:
            return await handler(request)
        except FacegateError as error:
            raise PageError(400, t["problem"], said(request, error)) from error


def check_csrf(request: web.Request, sent: str) -> None:
    """For a form read as a stream (multipart): the token it carried."""
    session: ResidentSession = request[SESSION]
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        t = words(request)
        raise PageError(403, t["problem"], t["csrf"])
