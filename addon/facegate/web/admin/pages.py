"""The administrator pages, on the API's listener under /admin/ (Home Assistant's ingress opens
them from the sidebar): health, doors and their methods (R4 kept by the engine), people and
their status — never a photo, a template or a credential's value —, invitations with their QR
codes, access groups, recent decisions and the audit chain's verdict.

Every change goes through the same store and engine calls as the API, so the doors, the audit
log and the event stream (Home Assistant) see it at once. Pages work without JavaScript.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from facegate.engine import Engine
from facegate.errors import FacegateError, NotFoundError
from facegate.invitations import invite
from facegate.web.admin.guard import (
    ADMIN_COOKIE,
    ADMINISTRATOR,
    HEADERS,
    SESSION_S,
    AdminGuard,
    Handler,
)
from facegate.web.admin.words import WORDS
from facegate.web.cookies import session_cookie
from facegate.web.health import doors_json, engine_health
from facegate.web.people import everyone, person_detail
from facegate.web.resident.words import LANGUAGES, page_language, remember_language

_LOGGER = logging.getLogger("facegate.admin")
LANG = web.RequestKey("admin_lang", str)
RECENT = 50
Changed = Callable[[str, str | None], Awaitable[None]]
DoorChanged = Callable[[str], None]

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("facegate.web.admin", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


class PageError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def _when(moment: float | None) -> str:
    if moment is None:
        return ""
    return dt.datetime.fromtimestamp(moment).isoformat(sep=" ", timespec="minutes")


def _day(moment: float | None) -> str:
    return "" if moment is None else dt.datetime.fromtimestamp(moment).date().isoformat()


def words(request: web.Request) -> dict[str, str]:
    return WORDS[request.get(LANG, "en")]


def render(
    request: web.Request, template: str, *, status: int = 200, **values: Any
) -> web.Response:
    lang = request.get(LANG, "en")
    administrator = request.get(ADMINISTRATOR)
    text = _ENVIRONMENT.get_template(template).render(
        lang=lang,
        other_lang=next(x for x in LANGUAGES if x != lang),
        t=WORDS[lang],
        admin=administrator,
        base=administrator.base if administrator is not None else "",
        csrf=administrator.csrf if administrator is not None else "",
        flash=values.pop("flash", None),
        problem=values.pop("problem", None),
        when=_when,
        **values,
    )
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    remember_language(request, response, lang)
    return response


def consent_text(t: dict[str, str], consent: dict[str, Any]) -> str:
    return t[f"status_{consent['status']}"].format(until=_day(consent.get("expires_at")))


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


class AdminPages:
    def __init__(
        self, engine: Engine, guard: AdminGuard, changed: Changed, door_changed: DoorChanged
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.guard = guard
        self._changed = changed
        self._door_changed = door_changed

    # The middleware --------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request[LANG] = page_language(request)
        try:
            response = await self._guarded(request, handler)
        except PageError as error:
            response = render(request, "message.html", status=error.status, text=error.text)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            text = words(request)["not_found"] if error.status == 404 else error.reason
            response = render(request, "message.html", status=error.status, text=text)
        except Exception:
            _LOGGER.exception("admin page %s %s failed", request.method, request.path)
            response = render(
                request, "message.html", status=500,
                text="internal error; the engine log has the details",
            )  # fmt: skip
        response.headers.update(HEADERS)
        return response

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        t = words(request)
        administrator = self.guard.administrator(request)
        if administrator is not None:
            request[ADMINISTRATOR] = administrator
        if request.method == "POST" and not self.guard.same_origin(request):
            raise PageError(403, t["csrf"])
        public = request.path == "/admin/login" or request.path.startswith("/admin/static/")
        if administrator is None and not public:
            return render(request, "login.html", status=401)
        if request.method == "POST" and request.path != "/admin/login":
            form = await request.post()
            if not self.guard.csrf_ok(request, str(form.get("csrf", ""))):
                raise PageError(403, t["csrf"])
        return await handler(request)

    # Logging in ----------------------------------------------------------------------------

    async def login_page(self, request: web.Request) -> web.Response:
        return render(request, "login.html")

    async def login(self, request: web.Request) -> web.StreamResponse:
        t = words(request)
        if self.guard.bad_logins.refused(request.remote or "?"):
            return render(request, "login.html", status=429, problem=t["too_many_logins"])
        form = await request.post()
        cookie = self.guard.log_in(request, str(form.get("token", "")))
        if cookie is None:
            return render(request, "login.html", status=401, problem=t["bad_token"])
        response = _see_other("/admin/")
        session_cookie(
            response, ADMIN_COOKIE, cookie, max_age=SESSION_S, secure=request.scheme == "https"
        )
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self.guard.log_out(request)
        response = _see_other("/admin/login")
        response.del_cookie("fg_admin", path="/")
        return response

    # Overview and doors --------------------------------------------------------------------

    async def overview(self, request: web.Request, **page: Any) -> web.Response:
        health, doors = await asyncio.to_thread(self._overview)
        return render(
            request, "overview.html", health=health, problems=self._problems(request, health),
            doors=doors, **page,
        )  # fmt: skip

    def _overview(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return engine_health(self.engine, 0), doors_json(self.engine)

    @staticmethod
    def _problems(request: web.Request, health: dict[str, Any]) -> list[str]:
        t = words(request)
        problems = [
            t["camera_offline"].format(name=name)
            for name, camera in health["cameras"].items()
            if not camera["online"]
        ]
        if not health["audit_ok"]:
            problems.append(t["audit_broken"].format(problem=health["audit_problem"]))
        if health["tampered_rows"]:
            rows = "; ".join(f"{k}: {', '.join(v)}" for k, v in health["tampered_rows"].items())
            problems.append(t["tampered"].format(rows=rows))
        if health["refused_templates"]:
            problems.append(t["refused_templates"].format(count=health["refused_templates"]))
        for door, methods in health["under_attack"].items():
            problems.append(t["attacked"].format(door=door, methods=", ".join(methods)))
        if health["mqtt_connected"] is False:
            problems.append(t["mqtt_down"])
        return problems

    async def door_method(self, request: web.Request) -> web.Response:
        t = words(request)
        door_id, method = request.match_info["door"], request.match_info["method"]
        if door_id not in self.engine.config.doors:
            raise web.HTTPNotFound()
        enabled = (await request.post()).get("enabled") == "yes"
        try:
            await asyncio.to_thread(self.engine.set_door_method, door_id, method, enabled)
        except FacegateError as error:  # R4, or a method the door is not configured with
            return await self.overview(request, problem=str(error))
        self._door_changed(door_id)
        name = self.engine.config.doors[door_id].name
        state = t["on" if enabled else "off"]
        return await self.overview(
            request, flash=t["door_saved"].format(door=name, method=method, state=state)
        )

    # People --------------------------------------------------------------------------------

    async def people(self, request: web.Request, **page: Any) -> web.Response:
        people = await asyncio.to_thread(everyone, self.engine)
        groups = await asyncio.to_thread(self.store.groups)
        names = {g.id: g.name for g in groups}
        return render(
            request, "people.html", people=people, groups=groups, group_names=names,
            consent_text=consent_text, **page,
        )  # fmt: skip

    async def add_person(self, request: web.Request) -> web.StreamResponse:
        t = words(request)
        form = await request.post()
        try:
            person = await asyncio.to_thread(
                self.store.add_person,
                str(form.get("name", "")),
                minor=form.get("minor") == "yes",
                groups=[str(g) for g in form.getall("group", [])],
            )
        except FacegateError as error:
            return await self.people(request, problem=str(error))
        await self._changed("person_created", person.id)
        return await self.person(
            request, person_id=person.id, flash=t["person_added"].format(name=person.name)
        )

    async def person(
        self, request: web.Request, *, person_id: str | None = None, **page: Any
    ) -> web.Response:
        person_id = person_id or request.match_info["person_id"]
        try:
            person = await asyncio.to_thread(person_detail, self.engine, person_id)
        except NotFoundError:
            raise web.HTTPNotFound() from None
        groups = await asyncio.to_thread(self.store.groups)
        page.setdefault("invitation", None)
        return render(
            request, "person.html", person=person, groups=groups, consent_text=consent_text,
            hours=self.engine.config.residents.invitation_hours, **page,
        )  # fmt: skip

    async def invite(self, request: web.Request) -> web.Response:
        person_id = request.match_info["person_id"]
        try:
            link = await asyncio.to_thread(invite, self.store, self.engine.config, person_id)
        except NotFoundError:
            raise web.HTTPNotFound() from None
        return await self.person(request, invitation=link, qr=link.qr_data_uri())

    async def revoke(self, request: web.Request) -> web.Response:
        revoked = await asyncio.to_thread(
            self.store.revoke_invitations, request.match_info["person_id"]
        )
        return await self.person(request, flash=words(request)["revoked"].format(count=revoked))

    async def set_groups(self, request: web.Request) -> web.Response:
        person_id = request.match_info["person_id"]
        chosen = [str(g) for g in (await request.post()).getall("group", [])]
        try:
            await asyncio.to_thread(self.store.set_groups, person_id, chosen)
        except FacegateError as error:
            return await self.person(request, problem=str(error))
        await self._changed("groups", person_id)
        return await self.person(request, flash=words(request)["groups_saved"])

    # Decisions and the audit chain ---------------------------------------------------------

    async def decisions(self, request: web.Request) -> web.Response:
        recent = await asyncio.to_thread(self.store.recent_access, RECENT)
        doors = self.engine.config.doors
        rows = [
            {
                "when": _when(entry.ts),
                "door": doors[entry.door].name if entry.door in doors else entry.door,
                "method": entry.data.get("method"),
                "result": entry.data.get("result"),
                "reason": entry.data.get("reason"),
                "who": name or "—",
            }
            for entry, name in recent
        ]
        return render(request, "decisions.html", rows=rows)

    async def audit(self, request: web.Request) -> web.Response:
        verdict = await asyncio.to_thread(self.store.verify_audit)
        return render(request, "audit.html", verdict=verdict)


def create_admin_app(
    engine: Engine, token: str, changed: Changed, door_changed: DoorChanged
) -> web.Application:
    """The administrator pages, to be mounted at /admin/ on the API's application."""
    guard = AdminGuard(engine.config, token)
    pages = AdminPages(engine, guard, changed, door_changed)
    app = web.Application(middlewares=[pages.middleware])
    router = app.router
    router.add_get("/", pages.overview)
    router.add_get("/login", pages.login_page)
    router.add_post("/login", pages.login)
    router.add_post("/logout", pages.logout)
    router.add_post("/doors/{door}/{method}", pages.door_method)
    router.add_get("/people", pages.people)
    router.add_post("/people", pages.add_person)
    router.add_get("/people/{person_id}", pages.person)
    router.add_post("/people/{person_id}/invitation", pages.invite)
    router.add_post("/people/{person_id}/invitation/revoke", pages.revoke)
    router.add_post("/people/{person_id}/groups", pages.set_groups)
    router.add_get("/decisions", pages.decisions)
    router.add_get("/audit", pages.audit)
    router.add_static("/static/", str(resources.files("facegate.web.resident") / "static"))
    return app
