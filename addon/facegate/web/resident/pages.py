"""The resident pages, one handler each: the invitation, the notice (R1), the consent step with
a decline of equal weight (R2, R3), face enrolment from the phone (R10), the PIN (R4), and the
person's rights — renew, withdraw (R6), export (R11), erase with its receipt (R7).

Every change goes through the same store and engine calls as the administrator API, so the
doors see it at once and the audit log has it; the administrator API's event stream is told
through `changed`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import web

from facegate.engine import Engine
from facegate.enrol import MAX_ENROLMENT_IMAGES
from facegate.errors import FacegateError
from facegate.identity.invitation_records import InvitationError, ResidentSession
from facegate.identity.records import DEFAULT_CONSENT_DAYS
from facegate.visitors import doors_opened
from facegate.web.cookies import session_cookie
from facegate.web.faces import IMAGE_LIMIT
from facegate.web.people import person_summary
from facegate.web.resident.app import (
    FORM_LIMIT,
    SESSION,
    SESSION_COOKIE,
    Guard,
    PageError,
    language,
    render,
    said,
    secure,
    words,
)
from facegate.web.resident.face_pages import FacePages
from facegate.web.resident.phone_key import PhoneKey

Changed = Callable[[str, str], None]
STATIC = "static"


def _day(moment: float | None) -> str:
    return "" if moment is None else dt.datetime.fromtimestamp(moment).date().isoformat()


class ResidentPages:
    def __init__(self, engine: Engine, guard: Guard, changed: Changed | None = None) -> None:
        self.engine = engine
        self.store = engine.store
        self._guard = guard
        self._changed = changed
        self.faces = FacePages(engine, self._done, self.home)

    def close(self) -> None:
        self.faces.close()

    async def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(function, *args, **kwargs)

    async def _done(self, change: str, person_id: str) -> None:
        await self._call(self.engine.identity_changed)
        if self._changed is not None:
            self._changed(change, person_id)

    @staticmethod
    def _person_id(request: web.Request) -> str:
        session: ResidentSession = request[SESSION]
        return session.person_id

    async def _summary(self, request: web.Request) -> dict[str, Any]:
        summary: dict[str, Any] = await self._call(
            person_summary, self.engine, self._person_id(request)
        )
        return summary

    # The invitation ---------------------------------------------------------------------

    async def invitation_page(self, request: web.Request) -> web.Response:
        """The link opened: whose it is and a button to start. Opening it spends nothing (a
        chat app's link preview must not use up a single-use link); the button does."""
        try:
            name = await self._call(self.store.invited, request.match_info["token"])
        except InvitationError as error:
            raise self._dead_link(request, error) from None
        return render(request, "invitation.html", name=name)

    def _dead_link(self, request: web.Request, error: InvitationError) -> PageError:
        """A link that cannot be used, counted against the address that brought it."""
        self._guard.bad_link(request)
        t = words(request)
        return PageError(410, t["invalid_link"], said(request, error), t["ask_again"])

    async def invitation(self, request: web.Request) -> web.Response:
        residents = self.engine.config.residents
        try:
            session, token = await self._call(
                self.store.redeem, request.match_info["token"], session_days=residents.session_days
            )
        except InvitationError as error:
            raise self._dead_link(request, error) from None
        request[SESSION] = session
        summary = await self._summary(request)
        # A page, not a redirect: after a link opened from another app, a redirect would not
        # carry the SameSite=Strict cookie; the resident's own tap on Continue does.
        response = render(request, "welcome.html", person=summary)
        session_cookie(
            response,
            SESSION_COOKIE,
            token,
            max_age=residents.session_days * 86400,
            secure=secure(request),
        )
        return response

    # Overview and notice ----------------------------------------------------------------

    async def home(self, request: web.Request, **page: Any) -> web.Response:
        summary = await self._summary(request)
        groups = await self._call(self.store.groups)
        consent = summary["consent"]
        return render(
            request,
            "home.html",
            person=summary,
            doors=doors_opened(groups, summary["groups"], self.engine.config),
            consent_until=_day(consent.get("expires_at")) if consent["status"] == "live" else "",
            has_pin=any(c["kind"] == "pin" for c in summary["credentials"]),
            **page,
        )

    async def notice(self, request: web.Request) -> web.Response:
        person_id = self._person_id(request)
        notice = self.engine.notice
        lang = language(request)
        await self._call(self.store.note_notice_shown, notice.version, person_id)
        summary = await self._summary(request)
        return render(
            request,
            "notice.html",
            version=notice.version,
            lines=notice.text[lang].splitlines(),
            offer_choice=summary["consent"]["status"] != "live" and not summary["visitor"],
        )

    # Consent (R2, R3, R6) ---------------------------------------------------------------

    async def consent_page(self, request: web.Request, **page: Any) -> web.Response:
        summary = await self._summary(request)
        until = dt.date.today() + dt.timedelta(days=DEFAULT_CONSENT_DAYS)
        return render(
            request,
            "consent.html",
            person=summary,
            version=self.engine.notice.version,
            until=until.isoformat(),
            needs_guardian=summary["needs_guardian"],
            **page,
        )

    async def consent(self, request: web.Request) -> web.Response:
        t = words(request)
        person_id = self._person_id(request)
        form = await request.post()
        if form.get("choice") == "decline":
            await self._call(self.store.note_consent_declined, person_id)
            return await self.pin_page(request, flash=t["declined"])
        if form.get("agree") != "yes":
            return await self.consent_page(request, problem=t["agree_box"].split(" (")[0])
        version = str(form.get("notice_version", ""))
        if version != self.engine.notice.version:
            return await self.consent_page(request, problem=t["csrf"])
        signer = str(form.get("signer", "")).strip()
        guardian = str(form.get("guardian", "")).strip() or None
        if not signer:
            return await self.consent_page(request, problem=t["signature"])
        summary = await self._summary(request)
        if summary["needs_guardian"] and guardian is None:  # R3, said before the store says it
            return await self.consent_page(
                request, problem=t["guardian_intro"].format(name=summary["name"])
            )
        try:
            await self._call(
                self.store.give_consent,
                person_id,
                notice_version=version,
                method="signed_name",
                signer=signer,
                guardian=guardian,
            )
        except FacegateError as error:  # the rule that refused it, in its words (R3 ...)
            return await self.consent_page(request, problem=said(request, error))
        await self._done("consent_given", person_id)
        return await self.faces.page(request)

    # PIN (R4, R5) -----------------------------------------------------------------------

    async def pin_page(self, request: web.Request, **page: Any) -> web.Response:
        return render(request, "pin.html", **page)

    async def pin(self, request: web.Request) -> web.Response:
        t = words(request)
        person_id = self._person_id(request)
        form = await request.post()
        pin, again = str(form.get("pin", "")), str(form.get("pin_again", ""))
        if pin != again:
            return await self.pin_page(request, problem=t["pin_mismatch"])
        held = [c for c in await self._call(self.store.credentials, person_id) if c.kind == "pin"]
        try:
            await self._call(self.engine.add_credential, person_id, "pin", pin, "set by resident")
        except FacegateError as error:  # easy to guess, already in use, too many changes
            return await self.pin_page(request, problem=said(request, error))
        for old in held:  # the new PIN replaces the old one
            await self._call(self.store.remove_credential, person_id, old.id)
        await self._done("credentials", person_id)
        return await self.home(request, flash=t["pin_saved"])

    # My data (R6, R7, R11) --------------------------------------------------------------

    async def data_page(self, request: web.Request, **page: Any) -> web.Response:
        t = words(request)
        consent = (await self._summary(request))["consent"]
        status = consent["status"]
        text = t[f"status_{status}"].format(until=_day(consent.get("expires_at")))
        return render(
            request,
            "data.html",
            consent_text=text,
            consent_live=status == "live",
            consent_needs_renewal=status == "needs_renewal",
            **page,
        )

    async def renew(self, request: web.Request) -> web.Response:
        t = words(request)
        person_id = self._person_id(request)
        consent = await self._call(
            self.store.renew_consent, person_id, notice_version=self.engine.notice.version
        )
        await self._done("consent_renewed", person_id)
        return await self.data_page(
            request, flash=t["renewed"].format(until=_day(consent.expires_at))
        )

    async def withdraw(self, request: web.Request) -> web.Response:
        t = words(request)
        person_id = self._person_id(request)
        deleted = await self._call(self.store.withdraw_consent, person_id)
        await self._done("consent_withdrawn", person_id)
        return await self.data_page(request, flash=t["withdrawn"].format(count=deleted))

    async def export(self, request: web.Request) -> web.Response:
        person_id = self._person_id(request)
        document = await self._call(self.store.export_person, person_id)
        return web.Response(
            body=json.dumps(document, ensure_ascii=False, indent=2).encode(),
            content_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="facegate-my-data.json"'},
        )

    async def erase_page(self, request: web.Request) -> web.Response:
        return render(request, "erase.html")

    async def erase(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("confirm") != "yes":
            return render(request, "erase.html", problem=words(request)["erase_confirm"])
        person_id = self._person_id(request)
        receipt = await self._call(self.store.erase_person, person_id, "request")
        await self._done("person_erased", person_id)
        t = words(request)
        what = t["list_separator"].join(
            t[f"deleted_{kind}"].format(count=receipt.deleted[kind])
            for kind in ("person", "templates", "credentials", "consents", "memberships")
            if receipt.deleted.get(kind)
        )
        when = dt.datetime.fromtimestamp(receipt.erased_at).isoformat(" ", timespec="seconds")
        response = render(request, "receipt.html", receipt=receipt.to_json(), when=when, what=what)
        response.del_cookie(SESSION_COOKIE, path="/")
        return response


def create_resident_app(engine: Engine, changed: Changed | None = None) -> web.Application:
    guard = Guard(engine)
    pages = ResidentPages(engine, guard, changed)
    app = web.Application(
        middlewares=[guard.middleware],
        client_max_size=MAX_ENROLMENT_IMAGES * IMAGE_LIMIT + FORM_LIMIT,
    )
    router = app.router
    router.add_get("/invite/{token}", pages.invitation_page)
    router.add_post("/invite/{token}", pages.invitation)
    router.add_get("/", pages.home)
    router.add_get("/notice", pages.notice)
    router.add_get("/consent", pages.consent_page)
    router.add_post("/consent", pages.consent)
    router.add_get("/face", pages.faces.page)
    router.add_post("/face", pages.faces.enrol)
    router.add_post("/face/check", pages.faces.check)
    router.add_get("/pin", pages.pin_page)
    router.add_post("/pin", pages.pin)
    router.add_get("/data", pages.data_page)
    router.add_post("/data/renew", pages.renew)
    router.add_post("/data/withdraw", pages.withdraw)
    router.add_get("/data/export", pages.export)
    router.add_get("/data/erase", pages.erase_page)
    router.add_post("/data/erase", pages.erase)
    phone = PhoneKey(engine)
    router.add_get("/phone", phone.page)
    router.add_post("/phone/register/options", phone.register_options)
    router.add_post("/phone/register", phone.register)
    router.add_post("/phone/open/options", phone.open_options)
    router.add_post("/phone/open", phone.open)
    router.add_static("/static/", str(resources.files("facegate.web.resident") / STATIC))

    async def close(_app: web.Application) -> None:
        pages.close()

    app.on_cleanup.append(close)
    return app
