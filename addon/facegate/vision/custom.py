"""A face model the user brings: an ONNX file run by OpenCV's DNN module.

Stronger face models than the ones facegate ships exist, but most are published for
non-commercial research only, so facegate cannot ship them; a user may bring one for private use.
The file is pinned by its SHA-256 in the configuration, the user acknowledges its licence there,
and the engine refuses to start with it until `facegate calibrate` has fitted its open-set
policy: a new model's scores mean nothing until they are measured.

The face is aligned onto the ArcFace template scaled to the model's square input, converted to
the model's colour order, then normalised as `(pixel - mean) / std` per channel.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from facegate.errors import ModelError
from facegate.models import sha256_of
from facegate.vision.align import align
from facegate.vision.embed import normalise
from facegate.vision.types import Face, Image, Vector

ColourOrder = Literal["rgb", "bgr"]


@dataclass(frozen=True, kw_only=True)
class CustomModel:
    path: Path
    sha256: str
    input_size: int
    colour_order: ColourOrder
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    licence: str


def verified_path(model: CustomModel) -> Path:
    """The model file, if it is the pinned one; a missing or different file stops the engine."""
    if not model.path.is_file():
        raise ModelError(f"custom model {model.path} does not exist")
    actual = sha256_of(model.path)
    if actual != model.sha256:
        raise ModelError(
            f"custom model {model.path} has SHA-256 {actual}, but custom_model.sha256 pins "
            f"{model.sha256}: the file was altered or replaced. If you meant to change the "
            "model, put its SHA-256 in the configuration and run `facegate calibrate` again"
        )
    return model.path


class CustomEmbedder:
    name = "custom"

    def __init__(self, model: CustomModel) -> None:
        self._model = model
        try:
            self._net = cv2.dnn.readNetFromONNX(str(verified_path(model)))
        except cv2.error as error:
            raise ModelError(f"custom model {model.path} cannot be loaded: {error}") from None
        self._mean = np.asarray(model.mean, dtype=np.float32)
        self._std = np.asarray(model.std, dtype=np.float32)
        self._lock = threading.Lock()  # shared by the engine's threads: one call at a time
        probe = self._run(np.zeros((model.input_size, model.input_size, 3), dtype=np.uint8))
        self.dim = int(probe.size)

    def _run(self, aligned: Image) -> Vector:
        pixels = aligned if self._model.colour_order == "bgr" else aligned[:, :, ::-1]
        tensor = (pixels.astype(np.float32) - self._mean) / self._std
        with self._lock:
            self._net.setInput(np.ascontiguousarray(tensor.transpose(2, 0, 1)[None]))
            output = np.array(self._net.forward(), dtype=np.float32)
        return output.reshape(-1)

    def embed(self, image: Image, face: Face) -> Vector:
        return normalise(self._run(align(image, face, self._model.input_size)))

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        return [self.embed(image, face) for image, face in items]
