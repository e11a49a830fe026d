"""The people endpoints and how a person is shown: a display name and what they chose, never
an ID card, a phone number or a title deed (R4), never a template or a credential's value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from facegate.engine import Engine
from facegate.identity.records import Consent
from facegate.vocabulary import METHODS
from facegate.web import body
from facegate.web.body import fail
from facegate.web.replies import call, reply

PERSON_FIELDS = ("name", "birth_year", "minor", "leaves_on")
_R4_FIELDS = (
    "R4: a person needs no ID-card number, title deed or phone number to get in, and "
    "facegate has no place to store one"
)


def _consent_state(consents: list[Consent], live: Consent | None, current: str) -> dict[str, Any]:
    if live is not None:
        return {
            "status": "live",
            "expires_at": live.expires_at,
            "notice_version": live.notice_version,
            "current_notice": live.notice_version == current,
        }
    if not consents:
        return {"status": "none"}
    latest = max(consents, key=lambda c: c.given_at)
    if latest.withdrawn_at is not None:
        status = "withdrawn"
    elif latest.needs_renewal:
        status = "needs_renewal"
    else:
        status = "expired"
    return {
        "status": status,
        "expires_at": latest.expires_at,
        "notice_version": latest.notice_version,
        "current_notice": latest.notice_version == current,
    }


def person_summary(engine: Engine, person_id: str) -> dict[str, Any]:
    """A person as lists and the event stream show them: never a template or a value."""
    store = engine.store
    person = store.person(person_id)
    consents = store.consents(person_id)
    live = store.live_consent(person_id)
    return {
        **person.to_json(),
        "needs_guardian": person.needs_guardian(),
        "consent": _consent_state(consents, live, engine.notice.version),
        "templates": store.template_count(person_id),
        "credentials": [
            {"id": c.id, "kind": c.kind, "label": c.label} for c in store.credentials(person_id)
        ],
    }


def person_detail(engine: Engine, person_id: str) -> dict[str, Any]:
    """The summary and the person's whole consent history."""
    return {
        **person_summary(engine, person_id),
        "consents": [c.to_json() for c in engine.store.consents(person_id)],
    }


class PeopleRoutes:
    def __init__(
        self,
        engine: Engine,
        *,
        existing_person: Callable[[web.Request], Awaitable[str]],
        changed: Callable[[str, str | None], Awaitable[None]],
        snapshot: Callable[[], Awaitable[dict[str, Any]]],
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self._existing_person = existing_person
        self._changed = changed
        self.snapshot = snapshot

    async def people(self, _request: web.Request) -> web.Response:
        snapshot = await self.snapshot()
        return reply({"people": snapshot["people"]})

    async def create_person(self, request: web.Request) -> web.Response:
        data = await body.json_object(request)
        body.only(data, PERSON_FIELDS, why=_R4_FIELDS)
        name = body.required_text(data, "name", max_length=80)
        year = dt.date.today().year
        birth_year = body.integer(data, "birth_year", low=year - 130, high=year)
        minor = body.flag(data, "minor", default=False)
        leaves_on = _date(data, "leaves_on")
        person = await call(
            self.store.add_person, name, birth_year=birth_year, minor=minor, leaves_on=leaves_on
        )
        await self._changed("person_created", person.id)
        return reply(await call(person_detail, self.engine, person.id), status=201)

    async def person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        return reply(await call(person_detail, self.engine, person_id))

    async def update_person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.json_object(request)
        body.only(data, ("leaves_on", "disabled_methods"))
        if not data:
            fail(400, "nothing to change: send leaves_on and/or disabled_methods")
        leaves_on: str | None = None
        if "leaves_on" in data:
            # null clears the move-out date; the store reads "" as "no date".
            leaves_on = _date(data, "leaves_on") or ""
        disabled: list[str] | None = None
        if "disabled_methods" in data:
            value = data["disabled_methods"]
            if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                fail(400, "field 'disabled_methods' must be a list of method names")
            unknown = sorted(set(value) - set(METHODS))
            if unknown:
                fail(
                    400,
                    f"disabled_methods: unknown method(s) {', '.join(unknown)} "
                    f"(known: {', '.join(METHODS)})",
                )
            disabled = list(value)
        await call(
            self.store.update_person, person_id, leaves_on=leaves_on, disabled_methods=disabled
        )
        await self._changed("person_updated", person_id)
        return reply(await call(person_detail, self.engine, person_id))

    async def erase_person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        receipt = await call(self.store.erase_person, person_id, "request")
        await self._changed("person_erased", person_id)
        return reply(receipt.to_json())

    async def export(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        document = await call(self.store.export_person, person_id)
        disposition = f'attachment; filename="facegate-export-{person_id}.json"'
        return reply(document, headers={"Content-Disposition": disposition})


def _date(data: dict[str, Any], key: str) -> str | None:
    value = body.text(data, key, max_length=10)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        fail(400, f"field {key!r} must be a date written YYYY-MM-DD")
