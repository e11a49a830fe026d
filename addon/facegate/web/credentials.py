"""The credential endpoints (R4, R5): give a person a PIN, card, tag or phone, take it away,
and present one at a door through the same decision as a face."""

from __future__ import annotations

from aiohttp import web

from facegate.web import body
from facegate.web.bodies import CredentialBody, PresentedCredentialBody
from facegate.web.body import fail
from facegate.web.people import credential_ref
from facegate.web.replies import PersonRoutes, call, reply


class CredentialRoutes(PersonRoutes):
    async def add_credential(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, CredentialBody)
        credential = await call(
            self.engine.add_credential,
            person_id,
            data.kind,
            data.value,
            data.label,
            data.validity(self.engine.config.zone),
        )
        await self._changed("credentials", person_id)
        # Never the value: the store does not even hold it in clear.
        return reply(credential_ref(credential), status=201)

    async def remove_credential(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        credential_id = request.match_info["credential_id"]
        held = await call(self.store.credentials, person_id)
        if credential_id not in {c.id for c in held}:
            fail(404, f"person {person_id} has no credential {credential_id}")
        await call(self.store.remove_credential, person_id, credential_id)
        await self._changed("credentials", person_id)
        return reply({"removed": credential_id})

    async def access_credential(self, request: web.Request) -> web.Response:
        data = await body.parse(request, PresentedCredentialBody)
        door_id, kind, value = data.door, data.kind, data.value
        if door_id not in self.engine.config.doors:
            fail(404, f"no door with id {door_id}")
        # The same decision, lock command, signed event and audit entry as a face (R5).
        event = await call(self.engine.present_credential, door_id, kind, value)
        return reply(dict(event))
