"""One set of models per engine, shared by every camera's vision worker and by enrolment.

Each model takes one call at a time (its own lock around the interpreter), so the workers run
different models side by side and the memory is one set's, whatever the number of doors: the
SFace network alone holds about 65 MB, and a set per door cost ~240 MB a camera.
"""

from __future__ import annotations

import threading
from pathlib import Path

from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.custom import CustomModel
from facegate.vision.detect import DetectorRange, FaceDetector
from facegate.vision.embed import Embedder, create_embedder
from facegate.vision.liveness import MiniFASNet
from facegate.vision.quality import QualityLimits
from facegate.vocabulary import EmbedderName


class ModelSet:
    def __init__(
        self,
        models_dir: Path,
        embedder: EmbedderName,
        limits: QualityLimits,
        custom: CustomModel | None = None,
    ) -> None:
        self._models_dir = models_dir
        self._embedder_name = embedder
        self._custom = custom
        self._limits = limits
        self._lock = threading.Lock()  # models load on first use, once
        self._detectors: dict[DetectorRange, FaceDetector] = {}
        self._embedder: Embedder | None = None
        self._liveness: MiniFASNet | None = None

    def analyzer(self, detector_range: DetectorRange, *, liveness: bool) -> FaceAnalyzer:
        """An analyzer over the shared models (cheap: it holds references only)."""
        with self._lock:
            detector = self._detectors.get(detector_range)
            if detector is None:
                detector = FaceDetector(self._models_dir, detector_range)
                self._detectors[detector_range] = detector
            if self._embedder is None:
                self._embedder = create_embedder(
                    self._embedder_name, self._models_dir, self._custom
                )
            model = None
            if liveness:
                if self._liveness is None:
                    self._liveness = MiniFASNet(self._models_dir)
                model = self._liveness
            return FaceAnalyzer(detector, self._embedder, self._limits, liveness=model)
