"""A labelled face set (`<person>/<image>` folders) analysed once, and its people enrolled the
way a resident is: consent first, then the enrolment path with its quality gate and spread check.

Each person's first K images (sorted by name) are their enrolment images, every other image is a
probe frame. Images are decoded in memory and dropped once analysed; only vectors are kept.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from facegate.access.gallery import Gallery, TemplatePolicy
from facegate.enrol import SpreadError, enrol_vectors, read_image
from facegate.evaluate import central_face
from facegate.identity.store import IdentityStore
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.types import Face, Image, Vector

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SIM_NOTICE = "door-simulation"


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One image as the door saw it: a vector, or why there was none."""

    person: str
    image: str  # path relative to the data set
    vector: Vector | None
    refused: str | None  # "no_face", or the quality gate's reason


@dataclass(kw_only=True)
class FaceSet:
    name: str
    people: dict[str, list[Sample]]  # person folder -> samples in name order
    embedder: str
    ms_per_image: float

    def split(self, enrol: int) -> tuple[dict[str, list[Sample]], dict[str, list[Sample]]]:
        """Each person's first `enrol` images, and the rest (probe frames)."""
        return (
            {p: s[:enrol] for p, s in self.people.items()},
            {p: s[enrol:] for p, s in self.people.items()},
        )


def image_folders(dataset: Path) -> dict[str, list[Path]]:
    if not dataset.is_dir():
        raise ValueError(f"{dataset} is not a folder")
    folders = {
        folder.name: sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for folder in sorted(dataset.iterdir())
        if folder.is_dir()
    }
    folders = {name: images for name, images in folders.items() if images}
    if len(folders) < 2:
        raise ValueError(
            f"{dataset}: expected a folder per person (at least two) holding .jpg or .png images"
        )
    return folders


def analyse(dataset: Path, analyzer: FaceAnalyzer) -> FaceSet:
    """Every image through detection, the quality gate and the embedder, once."""
    people: dict[str, list[Sample]] = {}
    started = time.perf_counter()
    count = 0
    for person, paths in image_folders(dataset).items():
        samples = people.setdefault(person, [])
        for path in paths:
            image = read_image(path)
            # A labelled photo is about its central face; a door takes the nearest one.
            analysis = analyzer.analyze(image, partial(_central, image=image))
            del image
            refused = None
            if analysis.face is None:
                refused = "no_face"
            elif analysis.vector is None and analysis.quality is not None:
                refused = analysis.quality.reason
            samples.append(
                Sample(
                    person=person,
                    image=str(path.relative_to(dataset)),
                    vector=analysis.vector,
                    refused=refused,
                )
            )
            count += 1
    elapsed = time.perf_counter() - started
    return FaceSet(
        name=dataset.name,
        people=people,
        embedder=analyzer.embedder.name,
        ms_per_image=1000 * elapsed / max(count, 1),
    )


def _central(faces: list[Face], *, image: Image) -> Face | None:
    return central_face(faces, image.shape[1], image.shape[0])


@dataclass(kw_only=True)
class Enrolled:
    """Who got in the gallery, and what the enrolment path said about the rest."""

    gallery: Gallery
    person_ids: dict[str, str]  # person folder -> the store's person id
    images_used: int = 0
    refused_quality: int = 0  # enrolment images the quality gate refused
    retakes: int = 0  # images left out after the spread check named them
    not_enrolled: list[str] = field(default_factory=list)  # no usable image left
    spreads: list[float] = field(default_factory=list)


@contextmanager
def enrolled(
    people: dict[str, list[Sample]],
    *,
    embedder: str,
    dim: int,
    max_spread: float,
    policy: TemplatePolicy,
) -> Iterator[Enrolled]:
    """Enrols these people in a throw-away store, as residents who consented; yields the
    gallery the door would load. The store and its keys are deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="facegate-doorsim-") as tmp:
        store = IdentityStore(Path(tmp))
        try:
            store.record_notice(
                version=SIM_NOTICE, scope=SIM_NOTICE, text_en=SIM_NOTICE, text_zh=SIM_NOTICE
            )
            result = Enrolled(gallery=Gallery([], dim), person_ids={})
            for person, samples in people.items():
                _enrol_one(store, result, person, samples, embedder=embedder, max_spread=max_spread)
            loaded = store.load_templates(embedder)
            result.gallery = Gallery(loaded.templates, dim, policy)
            yield result
        finally:
            store.close()


def _enrol_one(
    store: IdentityStore,
    result: Enrolled,
    person: str,
    samples: Sequence[Sample],
    *,
    embedder: str,
    max_spread: float,
) -> None:
    usable = [s for s in samples if s.vector is not None]
    result.refused_quality += len(samples) - len(usable)
    record = store.add_person(person[:80])
    store.give_consent(
        record.id, notice_version=SIM_NOTICE, method="checkbox", signer="door simulation"
    )
    while usable:
        try:
            # A resident told that one photo does not look like the others leaves it out.
            enrolment = enrol_vectors(
                store,
                record.id,
                [s.vector for s in usable if s.vector is not None],
                embedder=embedder,
                max_spread=max_spread,
            )
        except SpreadError as error:
            del usable[error.index]
            result.retakes += 1
            continue
        result.person_ids[person] = record.id
        result.images_used += len(usable)
        result.spreads.append(enrolment.spread)
        return
    result.not_enrolled.append(person)
