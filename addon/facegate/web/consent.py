"""The consent endpoints (R2, R6): given by the person for this step alone, against the
notice in force; renewed; withdrawn in one step."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from facegate.identity.records import DEFAULT_CONSENT_DAYS, MAX_CONSENT_DAYS
from facegate.vocabulary import CONSENT_METHODS
from facegate.web import body
from facegate.web.body import fail
from facegate.web.people import person_detail
from facegate.web.replies import PersonRoutes, call, reply

CONSENT_FIELDS = (
    "agree",
    "notice_version",
    "signer",
    "method",
    "witness",
    "guardian",
    "entered_by",
    "days",
)
_R2_BUNDLED = "R2: consent to face processing is its own step and is never bundled with other terms"


class ConsentRoutes(PersonRoutes):
    def _agreed(self, data: dict[str, Any]) -> None:
        """The person's own, explicit agreement to this step alone (R2)."""
        agree = data.get("agree")
        if agree is not True:
            what = "is missing" if "agree" not in data else f"is {agree!r}, not true"
            fail(
                400,
                f'R2: consent needs "agree": true (the JSON value), given by the person for '
                f"this step alone; it is never pre-ticked or assumed ('agree' {what})",
            )

    def _current_notice(self, data: dict[str, Any]) -> str:
        """The notice version the person was shown, which must be the one in force."""
        version = body.required_text(data, "notice_version", max_length=64)
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
        data = await body.json_object(request)
        body.only(data, CONSENT_FIELDS, why=_R2_BUNDLED)
        self._agreed(data)
        signer = body.text(data, "signer", max_length=80)
        if signer is None:
            fail(400, "field 'signer' is required: the name of the person who gave consent")
        method = body.choice(data, "method", CONSENT_METHODS)
        witness = body.text(data, "witness", max_length=80)
        guardian = body.text(data, "guardian", max_length=80)
        entered_by = body.text(data, "entered_by", max_length=80)
        days = body.integer(
            data, "days", low=1, high=MAX_CONSENT_DAYS, default=DEFAULT_CONSENT_DAYS
        )
        version = self._current_notice(data)  # last: the body is otherwise acceptable
        assert days is not None
        consent = await call(
            self.store.give_consent,
            person_id,
            notice_version=version,
            method=method,  # checked against CONSENT_METHODS
            signer=signer,
            witness=witness,
            guardian=guardian,
            entered_by=entered_by,
            days=days,
        )
        await self._changed("consent_given", person_id)
        return reply(consent.to_json(), status=201)

    async def renew_consent(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.json_object(request)
        body.only(data, ("agree", "notice_version", "days"), why=_R2_BUNDLED)
        self._agreed(data)
        days = body.integer(
            data, "days", low=1, high=MAX_CONSENT_DAYS, default=DEFAULT_CONSENT_DAYS
        )
        version = self._current_notice(data)
        assert days is not None
        consent = await call(self.store.renew_consent, person_id, notice_version=version, days=days)
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
