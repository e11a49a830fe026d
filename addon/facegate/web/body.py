"""Reading and checking request bodies: every problem becomes a 4xx that says what is wrong.

Handlers validate the whole body before they touch the store, so a bad request never leaves
a half-written record behind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from typing import Any, NoReturn

from aiohttp import web

from facegate.plain_text import text_problem

JSON_LIMIT = 64 * 1024
# Long enough for a photo from a phone on a weak Wi-Fi link, short enough that a trickled
# body cannot hold a handler for long.
BODY_DEADLINE_S = 60.0
# No field the API takes needs more digits; Python refuses to convert beyond 4,300 anyway,
# and that used to surface as a 500.
_MAX_NUMBER_DIGITS = 30


class BadRequestError(Exception):
    """A 4xx answer: `status` and the message for {"error": ...}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def fail(status: int, message: str) -> NoReturn:
    raise BadRequestError(status, message)


async def read_limited(request: web.Request, limit: int, what: str) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        fail(413, f"{what} is larger than {_size(limit)}")
    chunks = bytearray()
    try:
        # A body trickled in a byte at a time must not hold a handler (and its thread) forever.
        async with asyncio.timeout(BODY_DEADLINE_S):
            async for chunk in request.content.iter_chunked(64 * 1024):
                chunks += chunk
                if len(chunks) > limit:
                    fail(413, f"{what} is larger than {_size(limit)}")
    except TimeoutError:
        fail(408, f"{what} did not arrive within {BODY_DEADLINE_S:.0f} s")
    return bytes(chunks)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            fail(400, f"field {key!r} appears twice in the body")
        result[key] = value
    return result


def _no_constants(name: str) -> NoReturn:
    fail(400, f"the body is not valid JSON: {name} is not a JSON number")


def _number(kind: type[int] | type[float]) -> Any:
    def parse(digits: str) -> int | float:
        if len(digits) > _MAX_NUMBER_DIGITS:
            fail(400, f"a number in the body has more than {_MAX_NUMBER_DIGITS} characters")
        return kind(digits)

    return parse


async def json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object; with `optional`, an empty body reads as {}."""
    raw = await read_limited(request, JSON_LIMIT, "the JSON body")
    if not raw.strip():
        if optional:
            return {}
        fail(400, "a JSON object body is required")
    if request.content_type != "application/json":
        # A form or a text/plain body can be sent across origins without a preflight.
        fail(415, "send the body as application/json")
    try:
        value = json.loads(
            raw,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_number(int),
            parse_float=_number(float),
        )
    except UnicodeDecodeError:
        fail(400, "the body is not valid JSON: it is not UTF-8")
    except json.JSONDecodeError as error:
        fail(400, f"the body is not valid JSON: {error.msg} at line {error.lineno}")
    except RecursionError:
        fail(400, "the body is nested too deeply")
    if not isinstance(value, dict):
        fail(400, "the body must be a JSON object")
    return value


def only(body: dict[str, Any], allowed: Collection[str], *, why: str = "") -> None:
    """Refuses any field outside `allowed`, naming them (and `why` they have no place here)."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        names = ", ".join(unknown)
        known = ", ".join(sorted(allowed)) or "none"
        message = f"unknown field(s): {names} (accepted: {known})"
        fail(400, f"{message}; {why}" if why else message)


def text(
    body: dict[str, Any], key: str, *, required: bool = False, max_length: int = 200
) -> str | None:
    """A string field; blank counts as missing. None when absent (or null) and not required."""
    value = body.get(key)
    if value is None:
        if required:
            fail(400, f"field {key!r} is required")
        return None
    if not isinstance(value, str):
        fail(400, f"field {key!r} must be a string")
    if len(value) > max_length:
        fail(400, f"field {key!r} must be at most {max_length} characters")
    if (problem := text_problem(value)) is not None:
        fail(400, f"field {key!r} {problem}")
    if not value.strip():
        if required:
            fail(400, f"field {key!r} must not be blank")
        return None
    return value


def required_text(body: dict[str, Any], key: str, *, max_length: int = 200) -> str:
    value = text(body, key, required=True, max_length=max_length)
    assert value is not None
    return value


def choice(body: dict[str, Any], key: str, choices: Collection[str]) -> str:
    value = body.get(key)
    if value is None:
        fail(400, f"field {key!r} is required (one of {', '.join(choices)})")
    if not isinstance(value, str) or value not in choices:
        fail(400, f"field {key!r} must be one of {', '.join(choices)}")
    return value


def flag(body: dict[str, Any], key: str, *, default: bool | None = None) -> bool:
    """A JSON true/false; "true", 1 and friends are refused, not guessed at."""
    value = body.get(key)
    if value is None:
        if default is None:
            fail(400, f"field {key!r} is required (true or false)")
        return default
    if not isinstance(value, bool):
        fail(400, f"field {key!r} must be the JSON value true or false")
    return value


def integer(
    body: dict[str, Any], key: str, *, low: int, high: int, default: int | None = None
) -> int | None:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        fail(400, f"field {key!r} must be a whole number")
    if not low <= value <= high:
        fail(400, f"field {key!r} must be between {low} and {high}")
    return value


def query_int(request: web.Request, key: str, *, low: int, high: int, default: int) -> int:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        fail(400, f"query parameter {key!r} must be a whole number")
    if not low <= value <= high:
        fail(400, f"query parameter {key!r} must be between {low} and {high}")
    return value
