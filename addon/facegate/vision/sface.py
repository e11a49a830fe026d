"""SFace (128-d, OpenCV Zoo) through OpenCV's own FaceRecognizerSF."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import cv2

from facegate.models import model_path
from facegate.vision.align import align
from facegate.vision.embed import normalise
from facegate.vision.types import Face, Image, Vector

MODEL = "face_recognition_sface_2021dec.onnx"


class SFace:
    name = "sface"
    dim = 128

    def __init__(self, models_dir: Path) -> None:
        self._recognizer = cv2.FaceRecognizerSF.create(str(model_path(models_dir, MODEL)), "")
        self._lock = threading.Lock()  # shared by the engine's threads: one call at a time

    def embed(self, image: Image, face: Face) -> Vector:
        # Our alignment uses the same ArcFace template as FaceRecognizerSF.alignCrop.
        aligned = align(image, face)
        with self._lock:
            feature = self._recognizer.feature(aligned)
        return normalise(feature)

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        return [self.embed(image, face) for image, face in items]
