"""One image through detection, alignment, quality and embedding, timed per stage."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from facegate.vision.align import align
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import Embedder
from facegate.vision.liveness import LivenessEvidence, LivenessModel
from facegate.vision.quality import QualityLimits, QualityVerdict, judge
from facegate.vision.types import Face, Image, Vector


@dataclass(kw_only=True)
class Analysis:
    face: Face | None = None
    quality: QualityVerdict | None = None
    liveness: LivenessEvidence | None = None
    # With a liveness model: the face was too small to give liveness evidence, so it does not
    # count (no evidence is never "live").
    no_liveness_evidence: bool = False
    # The caller had no use for this face past its detection (a door that just let it in).
    rested: bool = False
    vector: Vector | None = None
    stage_ms: dict[str, float] = field(default_factory=dict)


def nearest_face(faces: list[Face]) -> Face | None:
    """At a door the person who wants in is the one closest to the camera: the largest face."""
    return max(faces, key=lambda f: f.width, default=None)


class FaceAnalyzer:
    """Detect, quality, liveness (when a model is given), embed: a frame's way to a vector."""

    def __init__(
        self,
        detector: FaceDetector,
        embedder: Embedder,
        limits: QualityLimits,
        liveness: LivenessModel | None = None,
    ) -> None:
        self.detector = detector
        self.embedder = embedder
        self.limits = limits
        self.liveness = liveness

    def analyze(
        self,
        image: Image,
        choose: Callable[[list[Face]], Face | None] = nearest_face,
        *,
        embed: bool = True,
        rest: Callable[[Face], bool] | None = None,
    ) -> Analysis:
        """`choose` picks the face to judge: the nearest at a door; a labelled data set's
        photos pass the face their label is about. Without `embed` the frame stops after
        liveness (the liveness benchmark needs no vector). When `rest(face)` says so, the frame
        stops after detection: its face needs no judging (vision_stage.py)."""
        result = Analysis()
        started = time.perf_counter()
        result.face = choose(self.detector.detect(image))
        checked = time.perf_counter()
        result.stage_ms["detect"] = (checked - started) * 1000
        if result.face is None:
            return result
        if rest is not None and rest(result.face):
            result.rested = True
            return result
        result.quality = judge(result.face, align(image, result.face), self.limits)
        embedded = time.perf_counter()
        result.stage_ms["quality"] = (embedded - checked) * 1000
        if not result.quality.ok:
            return result
        if self.liveness is not None:
            result.liveness = self.liveness.assess(image, result.face)
            assessed = time.perf_counter()
            result.stage_ms["liveness"] = (assessed - embedded) * 1000
            embedded = assessed
            if result.liveness is None:
                result.no_liveness_evidence = True
                return result
        if not embed:
            return result
        result.vector = self.embedder.embed(image, result.face)
        result.stage_ms["embed"] = (time.perf_counter() - embedded) * 1000
        return result
