"""The people endpoints and how a person is shown: a display name and what they chose, never
an ID card, a phone number or a title deed (R4), never a template or a credential's value."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from facegate.engine import Engine
from facegate.errors import NotFoundError
from facegate.identity.records import Consent, Credential, PersonOverview
from facegate.web import body
from facegate.web.bodies import PersonBody, PersonChangeBody
from facegate.web.body import fail
from facegate.web.replies import PersonRoutes, call, reply


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


def present(overview: PersonOverview, notice_version: str) -> dict[str, Any]:
    """A person as lists and the event stream show them: never a template or a value."""
    person = overview.person
    live = overview.live_consent(time.time())
    return {
        **person.to_json(),
        "needs_guardian": person.needs_guardian(),
        "consent": _consent_state(overview.consents, live, notice_version),
        "templates": overview.templates,
        "credentials": [credential_ref(c) for c in overview.credentials],
        "groups": overview.groups,
    }


def credential_ref(credential: Credential) -> dict[str, Any]:
    """A credential as the API shows it: kind, label and validity, never its value."""
    return {
        "id": credential.id,
        "kind": credential.kind,
        "label": credential.label,
        **credential.validity.to_json(),
    }


def everyone(engine: Engine) -> list[dict[str, Any]]:
    """Every person, read at one moment in four queries (the event stream's snapshot)."""
    version = engine.notice.version
    return [present(overview, version) for overview in engine.store.overviews()]


def _overview(engine: Engine, person_id: str) -> PersonOverview:
    """One person's overview; NotFoundError, or TamperError for an altered row, as
    `store.person` says."""
    found = engine.store.overviews(person_id)
    if not found:
        engine.store.person(person_id)  # says why: no such person, or an altered row
        raise NotFoundError(f"no person with id {person_id}")
    return found[0]


def person_summary(engine: Engine, person_id: str) -> dict[str, Any]:
    """One person as `present` shows them."""
    return present(_overview(engine, person_id), engine.notice.version)


def person_detail(engine: Engine, person_id: str) -> dict[str, Any]:
    """The summary and the person's whole consent history."""
    overview = _overview(engine, person_id)
    return {
        **present(overview, engine.notice.version),
        "consents": [c.to_json() for c in overview.consents],
    }


class PeopleRoutes(PersonRoutes):
    async def people(self, _request: web.Request) -> web.Response:
        return reply({"people": await call(everyone, self.engine)})

    async def create_person(self, request: web.Request) -> web.Response:
        data = await body.parse(request, PersonBody)
        person = await call(
            self.store.add_person,
            data.name,
            birth_year=data.birth_year,
            minor=data.minor,
            leaves_on=data.leaves_on,
            groups=data.groups,
            validity=data.validity(self.engine.config.zone),
        )
        await self._changed("person_created", person.id)
        return reply(await call(person_detail, self.engine, person.id), status=201)

    async def person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        return reply(await call(person_detail, self.engine, person_id))

    async def update_person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, PersonChangeBody)
        sent = data.model_fields_set
        if not sent:
            fail(400, "nothing to change: send leaves_on and/or disabled_methods")
        # null clears the move-out date; the store reads "" as "no date".
        leaves_on = (data.leaves_on or "") if "leaves_on" in sent else None
        disabled = data.disabled_methods if "disabled_methods" in sent else None
        if "disabled_methods" in sent and disabled is None:
            fail(400, "field 'disabled_methods' must be a list of method names (empty for none)")
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
