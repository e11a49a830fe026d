"""How every handler answers: JSON as people read it, errors in one shape, blocking store
work kept off the event loop; and what the routes about one person share."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from functools import partial
from http import HTTPStatus
from typing import Any, TypeVar

from aiohttp import web

from facegate.engine import Engine

T = TypeVar("T")
_dumps = partial(json.dumps, ensure_ascii=False)


def reply(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Chinese text as text, not \u escapes: the notice is read by people too.
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def error_reply(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    key: str | None = None,
    refusal: tuple[str, dict[str, object]] | None = None,
) -> web.Response:
    """`{"error": message, "key": ...}`: the key names the kind of refusal for programs (the
    error table's, else the status's own name: "not_found", "bad_request", ...). `refusal`,
    where the engine names it finer (a PIN too easy to guess, no face found ...), adds
    `"refusal"` and its `"values"`, for a program to say it in its own words (Home Assistant
    translates them)."""
    name = key or HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    body: dict[str, object] = {"error": message, "key": name}
    if refusal is not None:
        body["refusal"], body["values"] = refusal
    return reply(body, status=status, headers=headers)


class PersonRoutes:
    """What the routes about one person share: the engine and its store, the check that the
    person in the path exists (404 otherwise), and the hook that tells the event stream."""

    def __init__(
        self,
        engine: Engine,
        *,
        existing_person: Callable[[web.Request], Awaitable[str]],
        changed: Callable[[str, str | None], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self._existing_person = existing_person
        self._changed = changed


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Blocking store work off the loop."""
    return await asyncio.to_thread(function, *args, **kwargs)
