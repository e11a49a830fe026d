"""The phone key (R4, R5): a passkey on the resident's own phone. Registered from their page
(platform authenticator, user verification required), then "Open <door>" signs a fresh
challenge, which is verified here against the stored public key before the same decision path,
lock command and audit entry as any credential run (method `phone`).

WebAuthn needs a secure context and a host name: `localhost`, or HTTPS with the residents'
certificate. Elsewhere the page says why the phone key is unavailable. A challenge lives one
minute and serves once. A door opens by phone key only from the local network unless the
door's `phone_anywhere` says otherwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any

import webauthn
from aiohttp import web
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from facegate.engine import Engine
from facegate.errors import FacegateError
from facegate.identity.passkey_records import Passkey
from facegate.web.attempts import Attempts
from facegate.web.resident.app import SESSION, render, words

CHALLENGE_S = 60.0
RP_NAME = "facegate"
# Phone keys that fail their check (another person's key, a bad signature) for one person: this
# many in the window, then the person's "Open" waits.
BAD_KEYS = 5
BAD_KEYS_WINDOW_S = 600.0


def _origin(request: web.Request) -> tuple[str, str]:
    """The relying party id (the host name, no port) and the page's origin."""
    return request.url.host or "localhost", f"{request.scheme}://{request.host}"


async def _object(request: web.Request) -> dict[str, Any]:
    """The script's JSON body, which must be an object; anything else is a clear 400."""
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(reason="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="the body must be a JSON object")
    return body


def _descriptors(keys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(k.webauthn_id)) for k in keys
    ]


def _local(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


class PhoneKey:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        # person id -> (purpose, challenge, door, until): one pending ceremony per person.
        self._challenges: dict[str, tuple[str, bytes, str | None, float]] = {}
        self._bad_keys = Attempts(BAD_KEYS, BAD_KEYS_WINDOW_S)

    def _person(self, request: web.Request) -> str:
        return request[SESSION].person_id

    def _take(self, person_id: str, purpose: str) -> tuple[bytes, str | None]:
        pending = self._challenges.pop(person_id, None)
        if pending is None or pending[0] != purpose or time.monotonic() > pending[3]:
            raise web.HTTPBadRequest(reason="the request expired: try again")
        return pending[1], pending[2]

    async def page(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        keys = await asyncio.to_thread(self.store.passkeys, person_id)
        doors = [
            {"id": door.id, "name": door.name}
            for door in self.engine.config.doors.values()
            if "phone" in door.methods
        ]
        return render(request, "phone.html", has_key=bool(keys), doors=doors)

    async def register_options(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        summary = await asyncio.to_thread(self.store.person, person_id)
        rp_id, _origin_url = _origin(request)
        existing = await asyncio.to_thread(self.store.passkeys, person_id)
        options = webauthn.generate_registration_options(
            rp_id=rp_id,
            rp_name=RP_NAME,
            user_id=person_id.encode(),
            user_name=summary.name,
            authenticator_selection=AuthenticatorSelectionCriteria(
                authenticator_attachment=AuthenticatorAttachment.PLATFORM,
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(existing),
        )
        self._challenges[person_id] = (
            "register",
            options.challenge,
            None,
            time.monotonic() + CHALLENGE_S,
        )
        return web.Response(text=webauthn.options_to_json(options), content_type="application/json")

    async def register(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        challenge, _door = self._take(person_id, "register")
        rp_id, origin = _origin(request)
        try:
            verified = webauthn.verify_registration_response(
                credential=await _object(request),
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                require_user_verification=True,
            )
        except WebAuthnException as error:
            raise web.HTTPBadRequest(reason=f"the phone key was not accepted: {error}") from None
        await asyncio.to_thread(
            self.store.add_passkey,
            person_id,
            webauthn_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
        )
        await asyncio.to_thread(self.engine.identity_changed)
        return web.json_response({"registered": True})

    async def open_options(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        door_id = (await _object(request)).get("door")
        door = self.engine.config.doors.get(str(door_id))
        if door is None or "phone" not in door.methods:
            raise web.HTTPNotFound(reason=f"no door {door_id} that opens by phone")
        keys = await asyncio.to_thread(self.store.passkeys, person_id)
        if not keys:
            raise web.HTTPConflict(reason="this person has no phone key")
        rp_id, _origin_url = _origin(request)
        options = webauthn.generate_authentication_options(
            rp_id=rp_id,
            allow_credentials=_descriptors(keys),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        self._challenges[person_id] = (
            "open",
            options.challenge,
            door.id,
            time.monotonic() + CHALLENGE_S,
        )
        return web.Response(text=webauthn.options_to_json(options), content_type="application/json")

    async def open(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        t = words(request)
        person_id = self._person(request)
        challenge, door_id = self._take(person_id, "open")
        assert door_id is not None
        door = self.engine.config.doors[door_id]
        if self._bad_keys.refused(person_id):
            raise web.HTTPTooManyRequests(reason=t["phone_too_many"])
        if not door.phone_anywhere and not _local(request.remote):
            gate = self.engine.credential_gate
            if gate is None:
                raise FacegateError("the engine is not started")
            person = await asyncio.to_thread(self.store.person, person_id)
            await asyncio.to_thread(
                gate.refuse_phone_key,
                door.id,
                person_id=person_id,
                person_name=person.name,
                arrived=arrived,
            )
            return web.json_response({"result": "denied", "says": t["phone_not_local"]})
        credential = await _object(request)
        key = next(
            (k for k in await asyncio.to_thread(self.store.passkeys, person_id)
             if k.webauthn_id == credential.get("id")),
            None,
        )  # fmt: skip
        if key is None:
            self._bad_keys.failed(person_id)
            raise web.HTTPBadRequest(reason="this phone key is not this person's")
        rp_id, origin = _origin(request)
        try:
            verified = webauthn.verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=key.public_key,
                credential_current_sign_count=key.sign_count,
                require_user_verification=True,
            )
        except WebAuthnException as error:
            self._bad_keys.failed(person_id)
            raise web.HTTPBadRequest(reason=f"the phone key's signature failed: {error}") from None
        await asyncio.to_thread(
            self.store.note_signature, key.credential_id, verified.new_sign_count
        )
        # The same decision, lock command, signed event and audit entry as any method (R5).
        event = await asyncio.to_thread(
            self.engine.present_credential,
            door.id,
            "phone",
            key.webauthn_id,
            arrived=arrived,
            passkey_verified=True,
        )
        granted = event.get("result") == "granted"
        says = t["phone_opened" if granted else "phone_denied"].format(
            door=door.name, reason=event.get("reason")
        )
        return web.json_response({"result": event.get("result"), "says": says})
