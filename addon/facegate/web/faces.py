"""Face enrolment over the API: photos uploaded, or frames of the door camera.

Everything here runs after the person's consent has been checked (R2); images are decoded and
analysed in memory on one enrolment thread and dropped, never written anywhere (R10). Several
images (up to 5) are enrolled together and checked for spread (enrol.enrol_vectors): a photo of
somebody else refuses the whole enrolment, naming it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from aiohttp import BodyPartReader, web

from facegate.engine import Engine
from facegate.enrol import (
    MAX_ENROLMENT_IMAGES,
    Enrolment,
    analyse_for_enrolment,
    decode_image,
    enrol_images,
    enrol_vectors,
)
from facegate.errors import CameraError, EnrolmentError
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.types import Image, Vector
from facegate.web import body
from facegate.web.bodies import SnapshotBody
from facegate.web.body import fail

IMAGE_LIMIT = 10 * 2**20  # one enrolment photo
_MULTIPART_OVERHEAD = 64 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png")
SNAPSHOT_TIMEOUT_S = 3.0
# Door-camera enrolment (how many frames: web/bodies.py): usable frames taken at least this far
# apart (so they are not copies of one instant), within this long for the resident to face it.
CAMERA_FRAME_GAP_S = 0.3
CAMERA_ENROL_TIMEOUT_S = 10.0

Reply = Callable[..., web.Response]


class FaceEnrolment:
    def __init__(
        self,
        engine: Engine,
        *,
        reply: Reply,
        existing_person: Callable[[web.Request], Awaitable[str]],
        require_consent: Callable[[str], Awaitable[None]],
        changed: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self._reply = reply
        self._existing_person = existing_person
        self._require_consent = require_consent
        self._changed = changed
        # One thread for enrolment, so that enrolments take turns (a person's photos are
        # judged against their earlier ones); its analyzer is over the engine's shared models.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-enrol")
        self._analyzer: FaceAnalyzer | None = None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _analyzer_here(self) -> FaceAnalyzer:
        if self._analyzer is None:
            self._analyzer = self.engine.analyzer("short")
        return self._analyzer

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, partial(function, *args)
        )

    async def _done(self, person_id: str, enrolment: Enrolment) -> web.Response:
        await self._changed("templates", person_id)
        count = await asyncio.to_thread(self.engine.store.template_count, person_id)
        return self._reply(
            {
                "templates": enrolment.template_ids,
                "template_count": count,
                "spread": enrolment.spread,
                "max_spread": self.engine.max_spread,
            },
            status=201,
        )

    def _enrol_images(self, person_id: str, images: list[tuple[str, Image]]) -> Enrolment:
        return enrol_images(
            self.engine.store,
            self._analyzer_here(),
            person_id,
            images,
            max_spread=self.engine.max_spread,
        )

    async def upload(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        await self._require_consent(person_id)  # not a byte of a photo is read before (R2)
        content_type = request.content_type
        if content_type in IMAGE_TYPES:
            blobs = [await body.read_limited(request, IMAGE_LIMIT, "the image")]
        elif content_type == "multipart/form-data":
            blobs = await _multipart_images(request)
        else:
            fail(
                415,
                "send the photo as the body with Content-Type image/jpeg or image/png, or up "
                f"to {MAX_ENROLMENT_IMAGES} photos as fields named 'image' of a "
                "multipart/form-data body",
            )
        if not all(blobs):
            fail(400, "an image is empty")
        labels = (
            ["the uploaded image"]
            if len(blobs) == 1
            else [f"uploaded image {i + 1}" for i in range(len(blobs))]
        )
        try:
            # Decoded in memory, never written anywhere (R10); an unreadable one is an
            # ImageError (400, web/error_table.py).
            images = [
                (label, await self._run(decode_image, blob, label))
                for label, blob in zip(labels, blobs, strict=True)
            ]
        finally:
            del blobs
        enrolment = await self._run(self._enrol_images, person_id, images)
        del images
        return await self._done(person_id, enrolment)

    async def snapshot(self, request: web.Request) -> web.Response:
        person_id = await self._existing_person(request)
        data = await body.parse(request, SnapshotBody)
        door_id, count = data.door, data.frames
        if door_id not in self.engine.config.doors:
            fail(404, f"no door with id {door_id}")
        if self.engine.door_camera(door_id) is None:
            fail(409, f"door {door_id} has no face camera to take a snapshot from")
        await self._require_consent(person_id)
        enrolment = await self._run(self._from_camera, person_id, door_id, count)
        return await self._done(person_id, enrolment)

    def _from_camera(self, person_id: str, door_id: str, count: int) -> Enrolment:
        """On the enrolment thread: `count` usable frames of the door camera, quality-gated
        one by one (a frame without a usable face is skipped), enrolled together."""
        reader = self.engine.door_camera(door_id)
        assert reader is not None  # checked before the enrolment thread was asked
        analyzer = self._analyzer_here()
        vectors: list[Vector] = []
        labels: list[str] = []
        last_problem = "none"
        deadline = time.monotonic() + CAMERA_ENROL_TIMEOUT_S
        while len(vectors) < count and time.monotonic() < deadline:
            frame = reader.snapshot(SNAPSHOT_TIMEOUT_S)
            if frame is None:
                health = reader.health()
                raise CameraError(
                    f"camera {reader.name} gave no frame within {SNAPSHOT_TIMEOUT_S:.0f} s"
                    + (f" ({health.last_error})" if health.last_error else "")
                )
            label = f"the {door_id} camera's frame {len(vectors) + 1}"
            try:
                vectors.append(analyse_for_enrolment(analyzer, label, frame.image))
                labels.append(label)
            except EnrolmentError as error:
                last_problem = str(error)
            finally:
                del frame  # the frame is never kept (R10)
            time.sleep(CAMERA_FRAME_GAP_S)
        if len(vectors) < count:
            raise EnrolmentError(
                f"the {door_id} camera gave {len(vectors)} usable frame(s) of {count} within "
                f"{CAMERA_ENROL_TIMEOUT_S:.0f} s (last problem: {last_problem}); ask the "
                "resident to face the camera, close enough and still"
            )
        return enrol_vectors(
            self.engine.store,
            person_id,
            vectors,
            embedder=analyzer.embedder.name,
            max_spread=self.engine.max_spread,
            labels=labels,
        )


async def _multipart_images(request: web.Request) -> list[bytes]:
    """The 'image' fields of a multipart body, streamed into memory (never spooled to disk,
    as `request.post()` would do for file fields: R10)."""
    budget = MAX_ENROLMENT_IMAGES * IMAGE_LIMIT + _MULTIPART_OVERHEAD
    if request.content_length is not None and request.content_length > budget:
        fail(413, "the multipart body is too large")
    images: list[bytes] = []
    try:
        reader = await request.multipart()
        spent = 0
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                fail(400, "nested multipart bodies are not accepted")
            chunks = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                spent += len(chunk)
                if part.name == "image":
                    chunks += chunk
                if len(chunks) > IMAGE_LIMIT:
                    fail(413, f"an image is larger than {IMAGE_LIMIT // 2**20} MiB")
                if spent > budget:
                    fail(413, "the multipart body is too large")
            if part.name == "image":
                if len(images) == MAX_ENROLMENT_IMAGES:
                    fail(400, f"send at most {MAX_ENROLMENT_IMAGES} 'image' fields")
                images.append(bytes(chunks))
    except (ValueError, AssertionError) as error:  # aiohttp's complaints about a bad body
        fail(400, f"the multipart body is malformed: {error}")
    if not images:
        fail(400, "the multipart body has no field named 'image'")
    return images
