"""The REST API (token auth, JSON in and out) over one running Engine.

Every bad input gets a 4xx with {"error": "<what is wrong>", "key": "<its kind>"}; the whole
body is checked before anything is written, and each store operation commits together with its
audit entry, so no request leaves a half-written record. Store and vision work runs off the
event loop: the store on the default executor, enrolment on one dedicated thread (over the
engine's shared models, which take one call at a time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from operator import attrgetter
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

import facegate
from facegate.engine import Engine
from facegate.errors import (
    FacegateError,
    NotFoundError,
)
from facegate.installation import load_or_create_installation_id
from facegate.notice import LANGUAGES
from facegate.web import body
from facegate.web.access_routes import AccessRoutes
from facegate.web.admin.pages import create_admin_app
from facegate.web.audit_routes import AuditRoutes
from facegate.web.auth import check_authorization
from facegate.web.bodies import DoorMethodBody
from facegate.web.body import BadRequestError, fail
from facegate.web.consent import ConsentRoutes
from facegate.web.credentials import CredentialRoutes
from facegate.web.error_table import error_response
from facegate.web.event_stream import EventHub, events_handler
from facegate.web.faces import FaceEnrolment
from facegate.web.health import door_json, doors_json, engine_health
from facegate.web.invitation_routes import InvitationRoutes
from facegate.web.openapi import build_spec
from facegate.web.people import PeopleRoutes, everyone, person_summary
from facegate.web.replies import call, error_reply, reply
from facegate.web.routes import ROUTES

_LOGGER = logging.getLogger("facegate.web")
T = TypeVar("T")

# How soon the event stream says that a camera or the MQTT broker went away or came back.
CAMERA_POLL_S = 2.0
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
    # The administrator pages: Home Assistant's "Open Web UI" and sidebar land on "/".
    app.router.add_get("/", _to_pages)
    app.router.add_get("/admin", _to_pages)
    app.add_subapp("/admin/", create_admin_app(engine, token, api.changed, api.door_changed))
    # The engine's listener list is shared with every door actuator, so this also reaches
    # decisions on doors started before the app.
    engine.add_listener(api.hub.on_decision)
    engine.watch_doors(api.door_changed)
    app.on_startup.append(api.on_startup)
    app.on_shutdown.append(api.on_shutdown)
    app.on_cleanup.append(api.on_cleanup)
    return app


def change_notifier(app: web.Application) -> Callable[[str, str], None]:
    """For the resident pages (another listener): their changes reach this API's event stream,
    so Home Assistant sees a consent given or a PIN set on a phone at once."""
    engine, hub = app[ENGINE], app[HUB]

    def changed(change: str, person_id: str) -> None:
        try:
            person = person_summary(engine, person_id)
        except FacegateError:
            person = None  # erased
        hub.state_threadsafe(change, person_id=person_id, person=person)

    return changed


async def _to_pages(request: web.Request) -> web.StreamResponse:
    # Relative, so that it stays under Home Assistant's ingress path.
    raise web.HTTPFound("admin/")


def _guard(token: str) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in ("/", "/admin") or request.path.startswith("/admin/"):
            return await handler(request)  # the pages' own guard (web/admin/guard.py)
        problem = check_authorization(request.headers.get("Authorization"), token)
        if problem is not None:
            return error_reply(401, problem, {"WWW-Authenticate": 'Bearer realm="facegate"'})
        try:
            return await handler(request)
        except BadRequestError as error:
            return error_reply(error.status, error.message)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            return error_reply(error.status, _http_message(request, error), _allow(error))
        except FacegateError as error:
            return error_response(error)  # web/error_table.py: one status per error type
        except Exception:
            _LOGGER.exception("API %s %s failed", request.method, request.path)
            return error_reply(500, "internal error; the engine log has the details")

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
            reply=reply,
            existing_person=self._existing_person,
            require_consent=self._require_consent,
            changed=self.changed,
        )
        self.summary = partial(person_summary, engine)
        self.people = PeopleRoutes(
            engine,
            existing_person=self._existing_person,
            changed=self.changed,
        )
        self.audit = AuditRoutes(engine.store)
        self.consent = ConsentRoutes(
            engine,
            existing_person=self._existing_person,
            changed=self.changed,
        )
        self.credentials = CredentialRoutes(
            engine, existing_person=self._existing_person, changed=self.changed
        )
        self.access = AccessRoutes(
            engine, existing_person=self._existing_person, changed=self.changed
        )
        self.invitations = InvitationRoutes(
            engine, existing_person=self._existing_person, changed=self.changed
        )
        self.events = events_handler(self.hub, self.snapshot)

    def routes(self) -> list[tuple[str, str, Handler]]:
        """The route table's endpoints, each bound to the method that answers it."""
        return [(r.method, r.path, attrgetter(r.handler)(self)) for r in ROUTES]

    # Lifecycle ----------------------------------------------------------------------------

    async def on_startup(self, _app: web.Application) -> None:
        self.hub.attach(asyncio.get_running_loop())
        self._camera_watch = asyncio.create_task(self._watch_links(), name="link-watch")

    async def on_shutdown(self, _app: web.Application) -> None:
        if self._camera_watch is not None:
            self._camera_watch.cancel()
            await asyncio.gather(self._camera_watch, return_exceptions=True)
        self.hub.close()

    def _cameras_online(self) -> dict[str, bool]:
        return {name: health.online for name, health in self.engine.camera_health().items()}

    def _broker_connected(self) -> bool | None:
        connected = getattr(self.engine.link, "connected", None)  # MqttLink's property
        return connected if isinstance(connected, bool) else None

    async def _watch_links(self) -> None:
        """Camera readers and the MQTT link keep their own state; this turns its changes into
        `camera` and `mqtt` messages, so that Home Assistant says at once when a door cannot
        see or cannot open (the snapshot and the health carry the state at connect)."""
        cameras, broker = self._cameras_online(), self._broker_connected()
        while True:
            await asyncio.sleep(self._camera_poll_s)
            try:
                now, connected = self._cameras_online(), self._broker_connected()
            except Exception:  # a reader failing to report must not end the watch
                _LOGGER.exception("events: could not read camera or broker health")
                continue
            for name, online in now.items():
                if cameras.get(name) != online:
                    self.hub.publish({"type": "camera", "camera": name, "online": online})
            if connected is not None and connected != broker:
                self.hub.publish({"type": "mqtt", "connected": connected})
            cameras, broker = now, connected

    async def on_cleanup(self, _app: web.Application) -> None:
        self.faces.close()

    # Shared pieces ------------------------------------------------------------------------

    async def changed(self, change: str, person_id: str | None = None) -> None:
        """After any change to people, consent, templates or credentials: the doors see it at
        once, and so do the event stream's clients."""
        await call(self.engine.identity_changed)
        fields: dict[str, Any] = {}
        if person_id is not None:
            fields["person_id"] = person_id
            try:
                fields["person"] = await call(self.summary, person_id)
            except FacegateError:
                fields["person"] = None  # erased
        self.hub.state(change, **fields)

    async def _existing_person(self, request: web.Request) -> str:
        person_id = request.match_info["person_id"]
        if len(person_id) > 64:
            fail(404, f"no person with id {person_id[:64]}…")
        try:
            # Whether the person exists; an altered row is refused by what uses it (409), while
            # erasure and export still reach it (R7, R11).
            await call(self.store.person, person_id, checked=False)
        except NotFoundError:
            fail(404, f"no person with id {person_id}")
        return person_id

    def door_changed(self, door_id: str) -> None:
        """On an engine thread: a door's own state changed (a lockout, a guessing attack)."""
        overrides = self.store.door_method_overrides()
        self.hub.state_threadsafe("door", door=door_json(self.engine, door_id, overrides))

    async def snapshot(self) -> dict[str, Any]:
        def gather() -> dict[str, Any]:
            return {
                "notice_version": self.engine.notice.version,
                "doors": doors_json(self.engine),
                "people": everyone(self.engine),
            }

        return await call(gather)

    # Health, notice, spec -----------------------------------------------------------------

    async def health(self, _request: web.Request) -> web.Response:
        return reply(await call(engine_health, self.engine, self.hub.clients))

    async def installation(self, _request: web.Request) -> web.Response:
        # The event key lets Home Assistant check `sig` before it drives a lock (R12). Whoever
        # holds the API token can open every door anyway, so it adds nothing to their power.
        config = self.engine.config
        return reply(
            {
                "installation_id": self.installation_id,
                "version": facegate.__version__,
                "event_key": self.engine.event_key.hex(),
                "mqtt_prefix": config.mqtt.prefix,
                "doors": list(config.doors),
            }
        )

    async def openapi(self, request: web.Request) -> web.Response:
        return reply(request.app[SPEC])

    async def notice(self, request: web.Request) -> web.Response:
        lang = request.query.get("lang", "en")
        if lang not in LANGUAGES:
            fail(400, f"lang must be one of {', '.join(LANGUAGES)}")
        person_id = request.query.get("person") or None
        if person_id is not None:
            try:
                await call(self.store.person, person_id)
            except FacegateError:
                fail(404, f"no person with id {person_id}")
        notice = self.engine.notice
        await call(self.store.note_notice_shown, notice.version, person_id)
        return reply({**notice.to_json(lang), "languages": list(LANGUAGES)})

    # Doors --------------------------------------------------------------------------------

    async def doors(self, _request: web.Request) -> web.Response:
        return reply({"doors": await call(doors_json, self.engine)})

    async def door_method(self, request: web.Request) -> web.Response:
        door_id = request.match_info["door"]
        if door_id not in self.engine.config.doors:
            fail(404, f"no door with id {door_id}")
        data = await body.parse(request, DoorMethodBody)
        # R4 and the configured methods are checked by the engine and its store (RuleError: 409).
        await call(self.engine.set_door_method, door_id, data.method, data.enabled)
        overrides = await call(self.store.door_method_overrides)
        result = door_json(self.engine, door_id, overrides)
        self.hub.state("door", door=result)
        return reply(result)

    # Faces --------------------------------------------------------------------------------

    async def _require_consent(self, person_id: str) -> None:
        if await call(self.store.live_consent, person_id) is None:
            fail(
                409,
                f"R2: person {person_id} has no live consent for face processing; the person "
                "gives it on their own pages (send them an invitation) before a face is enrolled",
            )
