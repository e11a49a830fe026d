"""The Embedder interface and the factory that builds one backend by name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from facegate.vision.types import Face, Image, Vector
from facegate.vocabulary import EMBEDDER_NAMES, EmbedderName

if TYPE_CHECKING:
    from facegate.vision.custom import CustomModel

# The pinned model files each backend loads (dlib's weights ship inside its PyPI package; a
# custom model is the user's own file, pinned in the configuration).
EMBEDDER_MODELS: dict[EmbedderName, list[str]] = {
    "mobilefacenet": ["MobileFaceNet.tflite"],
    "sface": ["face_recognition_sface_2021dec.onnx"],
    "fused": ["MobileFaceNet.tflite", "face_recognition_sface_2021dec.onnx"],
    "dlib": [],
    "custom": [],
}


class Embedder(Protocol):
    """Turns one detected face into an L2-normalised vector; cosine similarity compares two."""

    name: str
    dim: int

    def embed(self, image: Image, face: Face) -> Vector: ...

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        """Several faces at once, where the backend can batch them (MobileFaceNet: two)."""
        ...


def normalise(vector: npt.ArrayLike) -> Vector:
    flat = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(flat))
    if norm == 0.0:
        raise ValueError("embedding has zero length")
    return (flat / norm).astype(np.float32)


def create_embedder(
    name: EmbedderName, models_dir: Path, custom: CustomModel | None = None
) -> Embedder:
    # Imported here so that a backend's library (dlib) is needed only when it is chosen.
    if name == "mobilefacenet":
        from facegate.vision.mobilefacenet import MobileFaceNet

        return MobileFaceNet(models_dir)
    if name == "sface":
        from facegate.vision.sface import SFace

        return SFace(models_dir)
    if name == "dlib":
        from facegate.vision.dlib_resnet import DlibResNet

        return DlibResNet()
    if name == "fused":
        from facegate.vision.fused import FusedEmbedder
        from facegate.vision.mobilefacenet import MobileFaceNet
        from facegate.vision.sface import SFace

        return FusedEmbedder([MobileFaceNet(models_dir), SFace(models_dir)])
    if name == "custom":
        from facegate.vision.custom import CustomEmbedder

        if custom is None:
            raise ValueError("embedder custom needs the custom_model settings")
        return CustomEmbedder(custom)
    raise ValueError(f"unknown embedder {name!r}; choose one of {', '.join(EMBEDDER_NAMES)}")
