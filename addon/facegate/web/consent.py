"""The consent endpoints (R2, R6): given by the person for this step alone, against the
notice in force; renewed; withdrawn in one step."""

from __future__ import annotations

from aiohttp import web

from facegate.web import body
from facegate.web.bodies import ConsentBody, ConsentRenewalBody
from facegate.web.body import fail
from facegate.web.people import person_detail
from facegate.web.replies import PersonRoutes, call, reply


class ConsentRoutes(PersonRoutes):
    def _current_notice(self, version: str) -> str:
        """The notice version the person was shown, which must be the one in force."""
        current = self.engine.notice.version
        if version != current:
            fail(
                409,
                f"the processing notice changed: the current version is {current}, not "
                f"{version}. Show the person the current notice (GET /api/notice) and ask again",
            )
        return version

    async def give_consent(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, ConsentBody)  # R2: agree is the JSON true, nothing else
        version = self._current_notice(data.notice_version)  # last: the body is acceptable
        consent = await call(
            self.store.give_consent,
            person_id,
            notice_version=version,
            method=data.method,
            signer=data.signer,
            witness=data.witness,
            guardian=data.guardian,
            entered_by=data.entered_by,
            days=data.days,
        )
        await self._changed("consent_given", person_id)
        return reply(consent.to_json(), status=201)

    async def renew_consent(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, ConsentRenewalBody)
        version = self._current_notice(data.notice_version)
        consent = await call(
            self.store.renew_consent, person_id, notice_version=version, days=data.days
        )
        await self._changed("consent_renewed", person_id)
        return reply(consent.to_json())

    async def withdraw_consent(self, request: web.Request) -> web.Response:
        # One step (R6): no body is needed, and none is checked, so nothing a client adds can
        # stand in the way of a withdrawal.
        person_id = await self._existing_person(request)
        deleted = await call(self.store.withdraw_consent, person_id)
        await self._changed("consent_withdrawn", person_id)
        detail = await call(person_detail, self.engine, person_id)
        return reply({"withdrawn": True, "templates_deleted": deleted, "person": detail})
