"""Which model files a configuration needs: verified before the engine starts anything."""

from __future__ import annotations

from facegate.config import Config
from facegate.models import MODELS
from facegate.vision.embed import EMBEDDER_MODELS
from facegate.vision.liveness import MINIFASNET

_DETECTOR_MODELS = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range.tflite",
}


def required_models(config: Config) -> list[str]:
    # The short-range detector is always needed: enrolment photos are close-ups.
    names = {_DETECTOR_MODELS["short"]} | {
        _DETECTOR_MODELS[c.detector] for c in config.cameras.values()
    }
    names.update(EMBEDDER_MODELS[config.embedder])
    if any(door.checks_liveness for door in config.doors.values()):
        names.update(file for file, _scale in MINIFASNET)
    return sorted(n for n in names if n in MODELS)
