"""Score fusion by construction: the concatenation of unit vectors, scaled by 1/sqrt(n), has a
cosine equal to the mean of the members' cosines, so fused templates match like any other."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from facegate.vision.embed import Embedder
from facegate.vision.types import Face, Image, Vector


class FusedEmbedder:
    def __init__(self, members: Sequence[Embedder]) -> None:
        self._members = list(members)
        self.name = "fused"
        self.dim = sum(m.dim for m in self._members)
        self._scale = 1.0 / math.sqrt(len(self._members))

    def embed(self, image: Image, face: Face) -> Vector:
        parts = [m.embed(image, face) for m in self._members]
        return (np.concatenate(parts) * self._scale).astype(np.float32)

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        parts = [m.embed_many(items) for m in self._members]
        return [
            (np.concatenate(row) * self._scale).astype(np.float32)
            for row in zip(*parts, strict=True)
        ]
