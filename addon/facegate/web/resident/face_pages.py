"""Face enrolment on the resident's phone (R10): photos chosen, or frames taken by the page from
the phone's camera, read into memory, analysed there and never stored.

While the camera is on, the page sends one frame every moment to `/face/check` and shows what
the engine would say of it — no face, turned away, too blurry or dark, too far to tell that it
is a live person, a photo or a screen held up (liveness, R12) — before anything is enrolled.
Both need a live consent first: no face is analysed before the person agreed (R2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from aiohttp import BodyPartReader, web

from facegate.engine import Engine
from facegate.enrol import MAX_ENROLMENT_IMAGES, analyse_for_enrolment, decode_image, enrol_images
from facegate.errors import FacegateError
from facegate.identity.invitation_records import ResidentSession
from facegate.web.faces import IMAGE_LIMIT
from facegate.web.resident.app import (
    FORM_LIMIT,
    SESSION,
    check_csrf,
    render,
    said,
    words,
)

Done = Callable[[str, str], Awaitable[None]]
Home = Callable[..., Awaitable[web.Response]]


class FacePages:
    def __init__(self, engine: Engine, done: Done, home: Home) -> None:
        self.engine = engine
        self.store = engine.store
        self._done = done
        self._home = home
        # One analysis at a time, as for the administrator API (web/faces.py).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resident-enrol")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, function: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, function)

    async def page(self, request: web.Request, **page: Any) -> web.Response:
        return render(request, "face.html", **page)

    async def enrol(self, request: web.Request) -> web.Response:
        t = words(request)
        session: ResidentSession = request[SESSION]
        csrf, blobs = await _form_images(request, MAX_ENROLMENT_IMAGES)
        check_csrf(request, csrf)
        if not blobs:
            return await self.page(request, problem=t["photos"])
        try:
            images = [
                (label, await asyncio.to_thread(decode_image, blob, label))
                for label, blob in zip(_labels(t, len(blobs)), blobs, strict=True)
            ]
            del blobs
            enrolment = await self._run(
                partial(
                    enrol_images,
                    self.store,
                    self.engine.analyzer("short"),
                    session.person_id,
                    images,
                    max_spread=self.engine.max_spread,
                )
            )
            del images
        except FacegateError as error:  # too dark, no face, a screen, not the same person
            return await self.page(request, problem=said(request, error))
        await self._done("templates", session.person_id)
        return await self._home(
            request, flash=t["enrolled"].format(count=len(enrolment.template_ids))
        )

    async def check(self, request: web.Request) -> web.Response:
        """One camera frame judged as an enrolment would judge it; nothing is kept."""
        t = words(request)
        session: ResidentSession = request[SESSION]
        csrf, blobs = await _form_images(request, 1)
        check_csrf(request, csrf)
        if not blobs:
            raise web.HTTPBadRequest(reason="send one frame as the field 'image'")
        if await asyncio.to_thread(self.store.live_consent, session.person_id) is None:
            raise web.HTTPConflict(reason=t["no_consent_yet"])
        label = t["camera_label"]
        try:
            image = await asyncio.to_thread(decode_image, blobs.pop(), label)
            analyzer = self.engine.analyzer("short")
            await self._run(partial(analyse_for_enrolment, analyzer, label, image))
            del image
        except FacegateError as error:
            return web.json_response({"ready": False, "says": said(request, error)})
        return web.json_response({"ready": True, "says": t["camera_ready"]})


def _labels(t: dict[str, str], count: int) -> list[str]:
    return [t["photo_n"].format(n=i + 1) for i in range(count)]


async def _form_images(request: web.Request, most: int) -> tuple[str, list[bytes]]:
    """The CSRF token and at most `most` photos of a face form, read into memory as they
    stream in (never spooled to a temporary file, as `request.post()` would: R10)."""
    csrf, spent = "", 0
    images: list[bytes] = []
    budget = most * IMAGE_LIMIT + FORM_LIMIT
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise web.HTTPBadRequest(reason="nested multipart bodies are not accepted")
        chunks = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            spent += len(chunk)
            chunks += chunk
            if spent > budget or len(chunks) > IMAGE_LIMIT:
                raise web.HTTPRequestEntityTooLarge(max_size=IMAGE_LIMIT, actual_size=spent)
        if part.name == "csrf":
            csrf = chunks.decode(errors="replace")[:200]
        elif part.name == "image" and chunks:
            if len(images) == most:
                raise web.HTTPBadRequest(reason=f"at most {most} photos")
            images.append(bytes(chunks))
    return csrf, images
