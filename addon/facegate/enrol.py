"""Enrolment from images: decoded in memory, turned into templates, never written anywhere (R10)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facegate.access.liveness import ENROL_LIVE_THRESHOLD, judge_window
from facegate.errors import ConsentError, EnrolmentError, ImageError
from facegate.identity.store import IdentityStore
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.embed import normalise
from facegate.vision.image_size import declared_size
from facegate.vision.types import Image, Vector

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_ENROLMENT_IMAGES = 5
# A 48-megapixel phone photo fits; a face needs far fewer, and decoding more costs memory.
MAX_IMAGE_PIXELS = 50_000_000


class SpreadError(EnrolmentError):
    """The enrolment's images do not look like one person; `index` names the odd one out."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message, key="spread")
        self.index = index


def decode_image(data: bytes, label: str) -> Image:
    """Decodes JPEG/PNG bytes in memory; the bytes are not kept beyond this call."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(
            f"{label}: image larger than {MAX_IMAGE_BYTES // 2**20} MiB",
            key="image_too_large",
            label=label,
        )
    size = declared_size(data)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise ImageError(
            f"{label}: image of {size[0]}x{size[1]} pixels; at most "
            f"{MAX_IMAGE_PIXELS // 10**6} megapixels are accepted",
            key="image_too_large",
            label=label,
        )
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError(
            f"{label}: not a readable JPEG or PNG image", key="not_an_image", label=label
        )
    return np.asarray(image, dtype=np.uint8)


def read_image(path: Path) -> Image:
    try:
        return decode_image(path.read_bytes(), str(path))
    except OSError as error:
        raise ImageError(f"{path}: cannot read ({error.strerror})") from None


@dataclass(frozen=True, kw_only=True)
class Enrolment:
    template_ids: list[str]
    spread: float  # see `spread`; 0 for a person's first and only image


def spread(vectors: Sequence[Vector], *, first: int = 0) -> tuple[float, int]:
    """How far the least typical image from `first` on lies from the others, and its index.

    The spread is 1 minus that image's cosine with the normalised mean of all the others: 0 for
    identical images, near 1 for an image of somebody else. Images before `first` (templates
    already stored) are compared with, never blamed.
    """
    if len(vectors) < 2 or first >= len(vectors):
        return 0.0, first
    total = np.sum(vectors, axis=0)
    likeness = [float(v @ normalise(total - v)) for v in vectors[first:]]
    # Two images are equally far from each other: the later one is the one to take again.
    worst = len(likeness) - 1 if len(vectors) == 2 else int(np.argmin(likeness))
    return 1.0 - likeness[worst], first + worst


def enrol_vectors(
    store: IdentityStore,
    person_id: str,
    vectors: Sequence[Vector],
    *,
    embedder: str,
    max_spread: float,
    labels: Sequence[str] | None = None,
) -> Enrolment:
    """Stores an enrolment's templates, checked together with the person's earlier ones.

    Every image's vector is stored (the gallery's template policy decides how they are matched).
    Several images make a resident robust to one bad picture, but only if they show the same
    person: an image whose spread from the others exceeds `max_spread` (a photo of
    somebody else, or one so poor it matches strangers as well as its owner) refuses the whole
    enrolment, naming that image.
    """
    if not vectors:
        raise EnrolmentError("no images given")
    earlier = store.person_vectors(person_id, embedder)
    together = [*earlier, *vectors]
    measured, worst = spread(together, first=len(earlier))
    if measured > max_spread:
        names = labels or [f"image {i + 1}" for i in range(len(vectors))]
        raise SpreadError(
            f"{names[worst - len(earlier)]}: does not look like the person's other enrolment "
            f"images (spread {measured:.2f}, at most {max_spread:.2f} allowed); use photos of "
            "this person only, facing the camera",
            index=worst - len(earlier),
        )
    ids = [store.add_template(person_id, vector, embedder=embedder) for vector in vectors]
    return Enrolment(template_ids=ids, spread=round(measured, 4))


def analyse_for_enrolment(analyzer: FaceAnalyzer, label: str, image: Image) -> Vector:
    """One enrolment image's vector; refuses an image without a face, below the quality gate,
    or (where the doors check liveness) not of a live person: an enrolment from a photo of a
    photo, or of a screen, must not pass where the door would not (R12)."""
    analysis = analyzer.analyze(image)
    if analysis.face is None:
        raise EnrolmentError(f"{label}: no face found", key="no_face", label=label)
    if analysis.no_liveness_evidence:
        raise EnrolmentError(
            f"{label}: the face is too small to check that it is a live person; come closer "
            "to the camera, or use a closer photo",
            key="too_small_for_liveness",
            label=label,
        )
    if (
        analysis.liveness is not None
        and not judge_window([analysis.liveness], threshold=ENROL_LIVE_THRESHOLD).live
    ):
        raise EnrolmentError(
            f"{label}: this looks like a photo of a photo or of a screen, not of the person "
            "(liveness, R12); take a new photo of the person themselves",
            key="not_live",
            label=label,
        )
    if analysis.vector is None:
        reason = analysis.quality.reason if analysis.quality else "unusable"
        raise EnrolmentError(
            f"{label}: face refused by the quality gate ({reason})",
            key=f"quality_{reason}",
            label=label,
        )
    return analysis.vector


def enrol_images(
    store: IdentityStore,
    analyzer: FaceAnalyzer,
    person_id: str,
    images: Iterable[tuple[str, Image]],
    *,
    max_spread: float,
) -> Enrolment:
    """Enrols a person from 1-5 images (photos, or frames of the door camera).

    Refuses everything if the person has no live consent; all images are analysed before
    anything is stored, so a bad image leaves no partial enrolment behind.
    """
    if store.live_consent(person_id) is None:
        raise ConsentError(
            f"person {person_id} has no live consent for face processing (R2); "
            "no face is analysed before consent is recorded"
        )
    given = list(images)
    if len(given) > MAX_ENROLMENT_IMAGES:
        raise EnrolmentError(f"at most {MAX_ENROLMENT_IMAGES} images at a time")
    labels = [label for label, _ in given]
    vectors = [analyse_for_enrolment(analyzer, label, image) for label, image in given]
    return enrol_vectors(
        store,
        person_id,
        vectors,
        embedder=analyzer.embedder.name,
        max_spread=max_spread,
        labels=labels,
    )
