"""Reading and checking request bodies: every problem becomes a 4xx that says what is wrong.

Handlers validate the whole body before they touch the store, so a bad request never leaves
a half-written record behind.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NoReturn, TypeVar

from aiohttp import web
from pydantic import ValidationError

from facegate.validation import problems, says, where
from facegate.web.bodies import Body

B = TypeVar("B", bound=Body)

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


async def parse(request: web.Request, model: type[B], *, optional: bool = False) -> B:
    """The body read as `model`; every problem is a 400 that names the field."""
    data = await json_object(request, optional=optional)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fail(400, explain(model, error))


def explain(model: type[Body], error: ValidationError) -> str:
    """One message for people: the fields at fault, and why."""
    found = problems(error)
    unknown = sorted(where(p) for p in found if p["type"] == "extra_forbidden")
    if unknown:
        known = ", ".join(model.model_fields) or "none"
        message = f"unknown field(s): {', '.join(unknown)} (accepted: {known})"
        why = model.refuses_extra_because
        return f"{message}; {why}" if why else message
    lines = []
    for problem in found:
        line = f"field {where(problem) or 'body'!r} {says(problem)}"
        hint = model.hints.get(str(problem["loc"][0])) if problem["loc"] else None
        lines.append(f"{hint} ({line})" if hint else line)
    return "; ".join(dict.fromkeys(lines))


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
