"""The one way the pages set a session cookie: for this site only (SameSite=Strict), out of
scripts' reach (HttpOnly), over HTTPS only when the page came over HTTPS, and gone when the
session ends."""

from __future__ import annotations

from aiohttp import web


def session_cookie(
    response: web.StreamResponse, name: str, value: str, *, max_age: float, secure: bool
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(max_age),
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
    )
