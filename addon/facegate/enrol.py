"""Enrolment from images: decoded in memory, turned into templates, never written anywhere (R10)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from facegate.errors import ConsentError, EnrolmentError
from facegate.identity.store import IdentityStore
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.types import Image

MAX_IMAGE_BYTES = 20 * 1024 * 1024


def decode_image(data: bytes, label: str) -> Image:
    """Decodes JPEG/PNG bytes in memory; the bytes are not kept beyond this call."""
    if len(data) > MAX_IMAGE_BYTES:
        raise EnrolmentError(f"{label}: image larger than {MAX_IMAGE_BYTES // 2**20} MiB")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise EnrolmentError(f"{label}: not a readable JPEG or PNG image")
    return np.asarray(image, dtype=np.uint8)


def read_image(path: Path) -> Image:
    try:
        return decode_image(path.read_bytes(), str(path))
    except OSError as error:
        raise EnrolmentError(f"{path}: cannot read ({error.strerror})") from None


def enrol_images(
    store: IdentityStore,
    analyzer: FaceAnalyzer,
    person_id: str,
    images: Iterable[tuple[str, Image]],
) -> list[str]:
    """Adds one template per usable image; refuses everything if the person has no consent.

    All images are analysed before anything is stored, so a bad image leaves no partial
    enrolment behind.
    """
    if store.live_consent(person_id) is None:
        raise ConsentError(
            f"person {person_id} has no live consent for face processing (R2); "
            "no face is analysed before consent is recorded"
        )
    vectors = []
    for label, image in images:
        analysis = analyzer.analyze(image)
        if analysis.face is None:
            raise EnrolmentError(f"{label}: no face found")
        if analysis.vector is None:
            reason = analysis.quality.reason if analysis.quality else "unusable"
            raise EnrolmentError(f"{label}: face refused by the quality gate ({reason})")
        vectors.append(analysis.vector)
    if not vectors:
        raise EnrolmentError("no images given")
    return [store.add_template(person_id, v, embedder=analyzer.embedder.name) for v in vectors]
