"""Who may open which door, and when: access groups, a person's groups, validity of people and
credentials, and visitors with a code that ends. The routes (part of the route table) and the
handlers that answer them."""

from __future__ import annotations

from aiohttp import web

from facegate.errors import CredentialInUseError
from facegate.identity.credentials import generate_pin
from facegate.visitors import doors_opened, visitor_message
from facegate.web import bodies, body, schemas
from facegate.web.body import fail
from facegate.web.people import credential_ref, person_detail
from facegate.web.replies import PersonRoutes, call, reply
from facegate.web.route_table import Route

_GROUP = "/api/groups/{group_id}"
_PERSON = "/api/people/{person_id}"
_VALIDITY = (
    "Replaces the limits: what is not sent is no limit (uses made so far are kept). Moments "
    "without an offset are read in the installation's time zone (`timezone` in the "
    "configuration), and so are the schedule's hours, on the wall clock: across a "
    "daylight-saving change, 08:00 stays 08:00."
)

ACCESS_ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/groups",
        handler="access.groups",
        operation_id="listGroups",
        summary="Access groups: named sets of doors, with their member counts",
        answer=schemas.Groups,
        answer_says="groups",
    ),
    Route(
        method="POST",
        path="/api/groups",
        handler="access.add_group",
        operation_id="createGroup",
        summary="Add an access group: a name and its doors (or every door)",
        answer=schemas.AccessGroup,
        answer_says="the group",
        status=201,
        errors=(400,),
        body=bodies.GroupBody,
        description="The notice (R1) lists which doors each group opens, so it gets a new "
        "version; consents stay live (the doors that use a face are the configuration's).",
    ),
    Route(
        method="PATCH",
        path=_GROUP,
        handler="access.change_group",
        operation_id="changeGroup",
        summary="Rename a group or change its doors",
        answer=schemas.AccessGroup,
        answer_says="the group",
        errors=(400, 404, 409),
        body=bodies.GroupChangeBody,
    ),
    Route(
        method="DELETE",
        path=_GROUP,
        handler="access.remove_group",
        operation_id="removeGroup",
        summary="Remove a group; its members keep their other groups",
        answer=schemas.Removal,
        answer_says="removed",
        errors=(404,),
    ),
    Route(
        method="PUT",
        path=_PERSON + "/groups",
        handler="access.set_person_groups",
        operation_id="setPersonGroups",
        summary="The access groups the person belongs to (none: opens nothing)",
        answer=schemas.Person,
        answer_says="the person",
        errors=(400, 404, 409),
        body=bodies.PersonGroupsBody,
    ),
    Route(
        method="PUT",
        path=_PERSON + "/validity",
        handler="access.set_person_validity",
        operation_id="setPersonValidity",
        summary="When the person may open doors: from / until, a number of uses, weekly hours",
        answer=schemas.Person,
        answer_says="the person",
        errors=(400, 404, 409),
        body=bodies.ValidityFields,
        description=_VALIDITY,
    ),
    Route(
        method="PUT",
        path=_PERSON + "/credentials/{credential_id}/validity",
        handler="access.set_credential_validity",
        operation_id="setCredentialValidity",
        summary="When one credential opens doors: from / until, a number of uses, weekly hours",
        answer=schemas.CredentialRef,
        answer_says="the credential (never its value)",
        errors=(400, 404, 409),
        body=bodies.ValidityFields,
        description=_VALIDITY,
    ),
    Route(
        method="POST",
        path="/api/visitors",
        handler="access.add_visitor",
        operation_id="createVisitor",
        summary="A visitor with a generated code that ends: no face, no consent, no documents",
        answer=schemas.VisitorPass,
        answer_says="the visitor and their code (shown once)",
        status=201,
        errors=(400, 404),
        body=bodies.VisitorBody,
        description="The code is random, meets the PIN rules, and is returned this once with a "
        "message for the host to forward; the store keeps only its keyed hash. `valid_until` is "
        "required; `max_uses: 1` makes a one-time code (a courier).",
    ),
)


class AccessRoutes(PersonRoutes):
    @property
    def _doors(self) -> list[str]:
        return list(self.engine.config.doors)

    async def groups(self, _request: web.Request) -> web.Response:
        found = await call(self.store.groups)
        return reply({"groups": [g.to_json() for g in found]})

    async def add_group(self, request: web.Request) -> web.Response:
        data = await body.parse(request, bodies.GroupBody)
        group = await call(
            self.store.add_group,
            data.name,
            data.doors,
            every_door=data.every_door,
            known=self._doors,
        )
        await self._changed("groups", None)
        return reply((await call(self.store.group, group.id)).to_json(), status=201)

    async def change_group(self, request: web.Request) -> web.Response:
        group_id = request.match_info["group_id"]
        data = await body.parse(request, bodies.GroupChangeBody)
        if not data.model_fields_set:
            fail(400, "nothing to change: send name, doors and/or every_door")
        if "name" in data.model_fields_set and data.name is None:
            fail(400, "field 'name' must be a group's name")
        group = await call(
            self.store.change_group,
            group_id,
            name=data.name,
            doors=data.doors,
            every_door=data.every_door,
            known=self._doors,
        )
        await self._changed("groups", None)
        return reply(group.to_json())

    async def remove_group(self, request: web.Request) -> web.Response:
        group_id = request.match_info["group_id"]
        await call(self.store.remove_group, group_id)
        await self._changed("groups", None)
        return reply({"removed": group_id})

    async def set_person_groups(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, bodies.PersonGroupsBody)
        await call(self.store.set_groups, person_id, data.groups)
        await self._changed("person_updated", person_id)
        return reply(await call(person_detail, self.engine, person_id))

    async def set_person_validity(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, bodies.ValidityFields)
        validity = data.validity(self.engine.config.zone)
        await call(self.store.set_validity, person_id, validity)
        await self._changed("person_updated", person_id)
        return reply(await call(person_detail, self.engine, person_id))

    async def set_credential_validity(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        credential_id = request.match_info["credential_id"]
        data = await body.parse(request, bodies.ValidityFields)
        validity = data.validity(self.engine.config.zone)
        await call(self.store.set_validity, person_id, validity, credential_id=credential_id)
        await self._changed("credentials", person_id)
        held = await call(self.store.credentials, person_id)
        return reply(credential_ref(next(c for c in held if c.id == credential_id)))

    async def add_visitor(self, request: web.Request) -> web.Response:
        data = await body.parse(request, bodies.VisitorBody)
        zone = self.engine.config.zone
        validity = data.validity(zone)
        validity.check()  # before anyone is created
        visitor = await call(self.store.add_person, data.name, groups=data.groups, visitor=True)
        try:
            for attempt in range(3):
                code = generate_pin()
                try:
                    credential = await call(
                        self.store.add_credential, visitor.id, "pin", code, data.label, validity
                    )
                    break
                except CredentialInUseError:  # drawn before, by chance: draw again
                    if attempt == 2:
                        raise
        except BaseException:
            # A visitor without their code would be a person who opens nothing: no trace left.
            await call(self.store.erase_person, visitor.id, "request")
            raise
        await self._changed("person_created", visitor.id)
        doors = doors_opened(await call(self.store.groups), data.groups, self.engine.config)
        return reply(
            {
                "person": await call(person_detail, self.engine, visitor.id),
                "credential": credential_ref(credential),
                "code": code,
                "message": visitor_message(data.name, code, validity, doors, zone),
            },
            status=201,
        )
