"""The REST API (token auth, JSON in and out) over one running Engine.

Every bad input gets a 4xx with {"error": "<what is wrong>"}; the whole body is checked before
anything is written, and each store operation commits together with its audit entry, so no
request leaves a half-written record. Store and vision work runs off the event loop: the
store on the default executor, enrolment on one dedicated thread that owns its own face
analyzer (LiteRT interpreters are not shared between threads).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

import facegate
from facegate.access.credential_gate import UnknownDoorError
from facegate.config import METHODS
from facegate.engine import Engine
from facegate.errors import (
    ConsentError,
    EnrolmentError,
    FacegateError,
    TamperError,
    TooManyChangesError,
)
from facegate.identity.credentials import CREDENTIAL_KINDS, CredentialError
from facegate.identity.store import DEFAULT_CONSENT_DAYS, MAX_CONSENT_DAYS, Consent
from facegate.installation import load_or_create_installation_id
from facegate.notice import LANGUAGES
from facegate.web import body
from facegate.web.auth import check_authorization
from facegate.web.body import BadRequestError, fail
from facegate.web.events import EventHub, events_handler
from facegate.web.faces import CameraError, FaceEnrolment
from facegate.web.openapi import build_spec

_LOGGER = logging.getLogger("facegate.web")
T = TypeVar("T")

CAMERA_POLL_S = 2.0  # how soon the event stream says that a camera went offline or came back
PERSON_FIELDS = ("name", "birth_year", "minor", "leaves_on")
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
CONSENT_METHODS = ("signed_name", "checkbox", "paper")
_R4_FIELDS = (
    "R4: a person needs no ID-card number, title deed or phone number to get in, and "
    "facegate has no place to store one"
)
_R2_BUNDLED = "R2: consent to face processing is its own step and is never bundled with other terms"

_dumps = partial(json.dumps, ensure_ascii=False)
ENGINE = web.AppKey("engine", Engine)
HUB = web.AppKey("hub", EventHub)
SPEC = web.AppKey("openapi", dict)


def create_app(
    engine: Engine,
    token: str,
    *,
    hub: EventHub | None = None,
    camera_poll_s: float = CAMERA_POLL_S,
) -> web.Application:
    """The API application for `engine`; every request needs `Authorization: Bearer <token>`."""
    if len(token) < 16:
        raise FacegateError("the API token must be at least 16 characters")
    api = _Api(engine, hub or EventHub(), camera_poll_s=camera_poll_s)
    app = web.Application(middlewares=[_guard(token)], client_max_size=body.JSON_LIMIT)
    app[ENGINE] = engine
    app[HUB] = api.hub
    app[SPEC] = build_spec()
    for method, path, handler in api.routes():
        app.router.add_route(method, path, handler)
    # The engine's listener list is shared with every door actuator, so this also reaches
    # decisions on doors started before the app.
    engine.add_listener(api.hub.on_decision)
    app.on_startup.append(api.on_startup)
    app.on_shutdown.append(api.on_shutdown)
    app.on_cleanup.append(api.on_cleanup)
    return app


def _reply(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Chinese text as text, not \u escapes: the notice is read by people too.
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return _reply({"error": message}, status=status, headers=headers)


def _guard(token: str) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        problem = check_authorization(request.headers.get("Authorization"), token)
        if problem is not None:
            return _error(401, problem, {"WWW-Authenticate": 'Bearer realm="facegate"'})
        try:
            return await handler(request)
        except BadRequestError as error:
            return _error(error.status, error.message)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            return _error(error.status, _http_message(request, error), _allow(error))
        except ConsentError as error:
            return _error(409, str(error))
        except CameraError as error:
            return _error(503, str(error))
        except EnrolmentError as error:
            return _error(422, str(error))
        except TamperError as error:
            return _error(409, f"stored data failed its integrity check: {error}")
        except FacegateError as error:
            message = str(error)
            return _error(404 if message.startswith("no person with id") else 400, message)
        except Exception:
            _LOGGER.exception("API %s %s failed", request.method, request.path)
            return _error(500, "internal error; the engine log has the details")

    return guard


def _http_message(request: web.Request, error: web.HTTPException) -> str:
    if isinstance(error, web.HTTPNotFound) and error.reason == "Not Found":
        return f"no such endpoint: {request.method} {request.path}"
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return "the request body is too large"
    return error.reason


def _allow(error: web.HTTPException) -> dict[str, str] | None:
    allow = error.headers.get("Allow")
    return {"Allow": allow} if allow else None


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Blocking store work off the loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


class _Api:
    def __init__(self, engine: Engine, hub: EventHub, *, camera_poll_s: float) -> None:
        self.engine = engine
        self.store = engine.store
        self.hub = hub
        self.installation_id = load_or_create_installation_id(engine.config.data_dir)
        self._camera_poll_s = camera_poll_s
        self._camera_watch: asyncio.Task[None] | None = None
        self.faces = FaceEnrolment(
            engine,
            reply=_reply,
            existing_person=self._existing_person,
            require_consent=self._require_consent,
            changed=self._changed,
        )
        self._door_lock = asyncio.Lock()

    def routes(self) -> list[tuple[str, str, Handler]]:
        people = "/api/people/{person_id}"
        return [
            ("GET", "/api/health", self.health),
            ("GET", "/api/installation", self.installation),
            ("GET", "/api/openapi.json", self.openapi),
            ("GET", "/api/events", events_handler(self.hub, self.snapshot)),
            ("GET", "/api/notice", self.notice),
            ("GET", "/api/doors", self.doors),
            ("POST", "/api/doors/{door}/methods", self.door_method),
            ("GET", "/api/people", self.people),
            ("POST", "/api/people", self.create_person),
            ("GET", people, self.person),
            ("PATCH", people, self.update_person),
            ("DELETE", people, self.erase_person),
            ("GET", people + "/export", self.export),
            ("POST", people + "/consent", self.give_consent),
            ("POST", people + "/consent/renew", self.renew_consent),
            ("POST", people + "/consent/withdraw", self.withdraw_consent),
            ("POST", people + "/faces", self.faces.upload),
            ("POST", people + "/faces/snapshot", self.faces.snapshot),
            ("POST", people + "/credentials", self.add_credential),
            ("DELETE", people + "/credentials/{credential_id}", self.remove_credential),
            ("POST", "/api/access/credential", self.access_credential),
            ("GET", "/api/audit", self.audit),
            ("GET", "/api/audit/verify", self.audit_verify),
        ]

    # Lifecycle ----------------------------------------------------------------------------

    async def on_startup(self, _app: web.Application) -> None:
        self.hub.attach(asyncio.get_running_loop())
        self._camera_watch = asyncio.create_task(self._watch_cameras(), name="camera-watch")

    async def on_shutdown(self, _app: web.Application) -> None:
        if self._camera_watch is not None:
            self._camera_watch.cancel()
            await asyncio.gather(self._camera_watch, return_exceptions=True)
        self.hub.close()

    def _cameras_online(self) -> dict[str, bool]:
        return {name: health.online for name, health in self.engine.camera_health().items()}

    async def _watch_cameras(self) -> None:
        """Readers keep their own health; this turns its changes into `camera` messages."""
        known = self._cameras_online()  # the snapshot already carries the state at connect
        while True:
            await asyncio.sleep(self._camera_poll_s)
            try:
                now = self._cameras_online()
            except Exception:  # a reader failing to report must not end the watch
                _LOGGER.exception("events: could not read camera health")
                continue
            for name, online in now.items():
                if known.get(name) != online:
                    self.hub.publish({"type": "camera", "camera": name, "online": online})
            known = now

    async def on_cleanup(self, _app: web.Application) -> None:
        self.faces.close()

    # Shared pieces ------------------------------------------------------------------------

    async def _changed(self, change: str, person_id: str | None = None) -> None:
        """After any change to people, consent, templates or credentials: the doors see it at
        once, and so do the event stream's clients."""
        await _call(self.engine.identity_changed)
        fields: dict[str, Any] = {}
        if person_id is not None:
            fields["person_id"] = person_id
            try:
                fields["person"] = await _call(self._summary, person_id)
            except FacegateError:
                fields["person"] = None  # erased
        self.hub.state(change, **fields)

    async def _existing_person(self, request: web.Request) -> str:
        person_id = request.match_info["person_id"]
        if len(person_id) > 64:
            fail(404, f"no person with id {person_id[:64]}…")
        try:
            await _call(self.store.person, person_id)
        except FacegateError:
            fail(404, f"no person with id {person_id}")
        return person_id

    def _consent_state(self, consents: list[Consent], live: Consent | None) -> dict[str, Any]:
        current = self.engine.notice.version
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

    def _summary(self, person_id: str) -> dict[str, Any]:
        person = self.store.person(person_id)
        consents = self.store.consents(person_id)
        live = self.store.live_consent(person_id)
        return {
            **person.to_json(),
            "needs_guardian": person.needs_guardian(),
            "consent": self._consent_state(consents, live),
            "templates": self.store.template_count(person_id),
            "credentials": [
                {"id": c.id, "kind": c.kind, "label": c.label}
                for c in self.store.credentials(person_id)
            ],
        }

    def _detail(self, person_id: str) -> dict[str, Any]:
        return {
            **self._summary(person_id),
            "consents": [c.to_json() for c in self.store.consents(person_id)],
        }

    def _door_json(self, door_id: str, overrides: dict[tuple[str, str], bool]) -> dict[str, Any]:
        door = self.engine.config.doors[door_id]
        enabled = sorted(m for m in door.methods if overrides.get((door_id, m), True))
        camera: dict[str, Any] | None = None
        if door.camera is not None:
            reader = self.engine.readers.get(door.camera)
            camera = {
                "name": door.camera,
                "online": reader.health().online if reader is not None else False,
            }
        worker = self.engine.doors.get(door_id)
        gate = self.engine.credential_gate
        return {
            "id": door.id,
            "name": door.name,
            "methods": sorted(door.methods),
            "enabled": enabled,
            "face_enabled": worker.face_enabled if worker is not None else "face" in enabled,
            "camera": camera,
            "lock": "mqtt" if door.lock.command_topic is not None else "home_assistant",
            # Counters only: never a presented value, never who tried.
            "credential_attempts": gate.stats(door_id) if gate is not None else None,
        }

    def _doors(self) -> list[dict[str, Any]]:
        overrides = self.store.door_method_overrides()
        return [self._door_json(d, overrides) for d in self.engine.config.doors]

    async def snapshot(self) -> dict[str, Any]:
        def gather() -> dict[str, Any]:
            people = []
            for person in self.store.people():
                try:
                    people.append(self._summary(person.id))
                except FacegateError:
                    continue  # erased meanwhile
            return {
                "notice_version": self.engine.notice.version,
                "doors": self._doors(),
                "people": people,
            }

        return await _call(gather)

    # Health, notice, spec -----------------------------------------------------------------

    async def health(self, _request: web.Request) -> web.Response:
        def gather() -> dict[str, Any]:
            verdict = self.store.verify_audit()
            cameras = {name: asdict(h) for name, h in self.engine.camera_health().items()}
            online = sum(1 for h in cameras.values() if h["online"])
            connected = getattr(self.engine.link, "connected", None)  # MqttLink's property
            mqtt = connected if isinstance(connected, bool) else None
            healthy = (
                verdict.ok
                and online == len(cameras)
                and not self.engine.refused_templates
                and mqtt is not False  # no broker: no lock command can go out
            )
            return {
                "status": "ok" if healthy else "degraded",
                "notice_version": self.engine.notice.version,
                "doors": len(self.engine.config.doors),
                "cameras": cameras,
                "cameras_online": online,
                "cameras_total": len(cameras),
                "people": len(self.store.people()),
                "templates": self.store.template_count(),
                "templates_in_use": len(self.engine.gallery()),
                "refused_templates": self.engine.refused_templates,
                "decision_policy": self.engine.decision_policy(),
                "mqtt_connected": mqtt,
                "audit_ok": verdict.ok,
                "audit_problem": verdict.problem,
                "event_clients": self.hub.clients,
            }

        return _reply(await _call(gather))

    async def installation(self, _request: web.Request) -> web.Response:
        # The event key lets Home Assistant check `sig` before it drives a lock (R12). Whoever
        # holds the API token can open every door anyway, so it adds nothing to their power.
        config = self.engine.config
        return _reply(
            {
                "installation_id": self.installation_id,
                "version": facegate.__version__,
                "event_key": self.engine.event_key.hex(),
                "mqtt_prefix": config.mqtt.prefix,
                "doors": list(config.doors),
            }
        )

    async def openapi(self, request: web.Request) -> web.Response:
        return _reply(request.app[SPEC])

    async def notice(self, request: web.Request) -> web.Response:
        lang = request.query.get("lang", "en")
        if lang not in LANGUAGES:
            fail(400, f"lang must be one of {', '.join(LANGUAGES)}")
        person_id = request.query.get("person") or None
        if person_id is not None:
            try:
                await _call(self.store.person, person_id)
            except FacegateError:
                fail(404, f"no person with id {person_id}")
        notice = self.engine.notice
        await _call(self.store.note_notice_shown, notice.version, person_id)
        return _reply({**notice.to_json(lang), "languages": list(LANGUAGES)})

    # Doors --------------------------------------------------------------------------------

    async def doors(self, _request: web.Request) -> web.Response:
        return _reply({"doors": await _call(self._doors)})

    async def door_method(self, request: web.Request) -> web.Response:
        door_id = request.match_info["door"]
        door = self.engine.config.doors.get(door_id)
        if door is None:
            fail(404, f"no door with id {door_id}")
        data = await body.json_object(request)
        body.only(data, ("method", "enabled"))
        method = body.choice(data, "method", METHODS)
        enabled = body.flag(data, "enabled")
        if method not in door.methods:
            fail(
                409,
                f"door {door_id} is not configured for {method} (configured: "
                f"{', '.join(sorted(door.methods))}); add it to the door's methods in the "
                "configuration",
            )
        async with self._door_lock:  # two changes at once must not both pass the R4 check
            overrides = await _call(self.store.door_method_overrides)
            now_on = {m for m in door.methods if overrides.get((door_id, m), True)}
            after = now_on | {method} if enabled else now_on - {method}
            if after == {"face"}:
                fail(
                    409,
                    f"R4: the face must never be the only way in; door {door_id} would be left "
                    "with face as its only enabled method. Enable a PIN, card, tag or phone "
                    "method first",
                )
            await _call(self.store.set_door_method, door_id, method, enabled)
            worker = self.engine.doors.get(door_id)
            if method == "face" and worker is not None:
                worker.face_enabled = enabled
            overrides = await _call(self.store.door_method_overrides)
        result = self._door_json(door_id, overrides)
        self.hub.state("door", door=result)
        return _reply(result)

    # People -------------------------------------------------------------------------------

    async def people(self, _request: web.Request) -> web.Response:
        snapshot = await self.snapshot()
        return _reply({"people": snapshot["people"]})

    async def create_person(self, request: web.Request) -> web.Response:
        data = await body.json_object(request)
        body.only(data, PERSON_FIELDS, why=_R4_FIELDS)
        name = body.required_text(data, "name", max_length=80)
        year = dt.date.today().year
        birth_year = body.integer(data, "birth_year", low=year - 130, high=year)
        minor = body.flag(data, "minor", default=False)
        leaves_on = _date(data, "leaves_on")
        person = await _call(
            self.store.add_person, name, birth_year=birth_year, minor=minor, leaves_on=leaves_on
        )
        await self._changed("person_created", person.id)
        return _reply(await _call(self._detail, person.id), status=201)

    async def person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        return _reply(await _call(self._detail, person_id))

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
        await _call(
            self.store.update_person, person_id, leaves_on=leaves_on, disabled_methods=disabled
        )
        await self._changed("person_updated", person_id)
        return _reply(await _call(self._detail, person_id))

    async def erase_person(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        receipt = await _call(self.store.erase_person, person_id, "request")
        await self._changed("person_erased", person_id)
        return _reply(receipt.to_json())

    async def export(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        document = await _call(self.store.export_person, person_id)
        disposition = f'attachment; filename="facegate-export-{person_id}.json"'
        return _reply(document, headers={"Content-Disposition": disposition})

    # Consent ------------------------------------------------------------------------------

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
        try:
            consent = await _call(
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
        except ConsentError as error:
            fail(400, str(error))
        await self._changed("consent_given", person_id)
        return _reply(consent.to_json(), status=201)

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
        consent = await _call(
            self.store.renew_consent, person_id, notice_version=version, days=days
        )
        await self._changed("consent_renewed", person_id)
        return _reply(consent.to_json())

    async def withdraw_consent(self, request: web.Request) -> web.Response:
        # One step (R6): no body is needed, and none is checked, so nothing a client adds can
        # stand in the way of a withdrawal.
        person_id = await self._existing_person(request)
        deleted = await _call(self.store.withdraw_consent, person_id)
        await self._changed("consent_withdrawn", person_id)
        detail = await _call(self._detail, person_id)
        return _reply({"withdrawn": True, "templates_deleted": deleted, "person": detail})

    # Faces --------------------------------------------------------------------------------

    async def _require_consent(self, person_id: str) -> None:
        if await _call(self.store.live_consent, person_id) is None:
            fail(
                409,
                f"R2: person {person_id} has no live consent for face processing; record the "
                "person's consent (POST /api/people/{id}/consent) before enrolling a face",
            )

    # Credentials --------------------------------------------------------------------------

    async def add_credential(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.json_object(request)
        body.only(data, ("kind", "value", "label"))
        kind = body.choice(data, "kind", CREDENTIAL_KINDS)
        value = data.get("value")
        if not isinstance(value, str):
            fail(
                400,
                "field 'value' is required and must be a string (send a PIN as \"123456\", so "
                "leading zeros are kept)",
            )
        label = body.text(data, "label", max_length=60) or ""
        try:
            credential = await _call(
                self.engine.add_credential,
                person_id,
                kind,  # checked against CREDENTIAL_KINDS
                value,
                label,
            )
        except CredentialError as error:
            fail(400, str(error))
        except TooManyChangesError as error:
            return _error(429, str(error), {"Retry-After": str(math.ceil(error.retry_after_s))})
        except FacegateError as error:
            fail(409, str(error))
        await self._changed("credentials", person_id)
        # Never the value: the store does not even hold it in clear.
        return _reply(
            {"id": credential.id, "kind": credential.kind, "label": credential.label},
            status=201,
        )

    async def remove_credential(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        credential_id = request.match_info["credential_id"]
        held = await _call(self.store.credentials, person_id)
        if credential_id not in {c.id for c in held}:
            fail(404, f"person {person_id} has no credential {credential_id}")
        await _call(self.store.remove_credential, person_id, credential_id)
        await self._changed("credentials", person_id)
        return _reply({"removed": credential_id})

    async def access_credential(self, request: web.Request) -> web.Response:
        data = await body.json_object(request)
        body.only(data, ("door", "kind", "value"))
        door_id = body.required_text(data, "door", max_length=64)
        kind = body.choice(data, "kind", CREDENTIAL_KINDS)
        value = data.get("value")
        if not isinstance(value, str) or not value:
            fail(400, "field 'value' is required and must be a non-empty string")
        if len(value) > 256:
            fail(400, "field 'value' must be at most 256 characters")
        if door_id not in self.engine.config.doors:
            fail(404, f"no door with id {door_id}")
        try:
            # The same decision, lock command, signed event and audit entry as a face (R5).
            event = await _call(self.engine.present_credential, door_id, kind, value)
        except UnknownDoorError as error:
            fail(404, str(error))
        except CredentialError as error:
            fail(400, str(error))
        except FacegateError as error:
            fail(409, str(error))
        return _reply(dict(event))

    # Audit --------------------------------------------------------------------------------

    async def audit(self, request: web.Request) -> web.Response:
        after = body.query_int(request, "after", low=0, high=2**62, default=0)
        limit = body.query_int(request, "limit", low=1, high=1000, default=100)
        entries = await _call(self.store.audit_entries, after=after, limit=limit)
        return _reply(
            {
                "entries": [e.to_json() for e in entries],
                "next_after": entries[-1].seq if entries else after,
            }
        )

    async def audit_verify(self, _request: web.Request) -> web.Response:
        verdict = await _call(self.store.verify_audit)
        return _reply({**verdict.to_json(), "checked_at": time.time()})


def _date(data: dict[str, Any], key: str) -> str | None:
    value = body.text(data, key, max_length=10)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        fail(400, f"field {key!r} must be a date written YYYY-MM-DD")
