"""The administrator's side of the resident pages: an invitation link (and its QR code) for a
person, and withdrawing it. Part of the route table."""

from __future__ import annotations

from aiohttp import web

from facegate.invitations import invite
from facegate.web import schemas
from facegate.web.replies import PersonRoutes, call, reply
from facegate.web.route_table import Route

_INVITATION = "/api/people/{person_id}/invitation"

INVITATION_ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path=_INVITATION,
        handler="invitations.create",
        operation_id="invitePerson",
        summary="A single-use link to the resident pages for this person, with its QR code",
        answer=schemas.InvitationLink,
        answer_says="the link (shown once)",
        status=201,
        errors=(404, 409),
        description="The person opens it on their own phone to read the notice, give or "
        "decline consent (R2), enrol, set a PIN and use their rights. It expires "
        "(`residents.invitation_hours`, default 72 h) and works once; a new invitation "
        "replaces the person's earlier unused ones. No body is needed.",
    ),
    Route(
        method="DELETE",
        path=_INVITATION,
        handler="invitations.revoke",
        operation_id="revokeInvitation",
        summary="Withdraw the person's unused invitation links",
        answer=schemas.InvitationsRevoked,
        answer_says="how many were withdrawn",
        errors=(404,),
    ),
)


class InvitationRoutes(PersonRoutes):
    async def create(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        link = await call(invite, self.store, self.engine.config, person_id)
        return reply(link.to_json(), status=201)

    async def revoke(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        revoked = await call(self.store.revoke_invitations, person_id)
        return reply({"revoked": revoked})
