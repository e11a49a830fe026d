"""Score fusion by construction: the concatenation of unit vectors, scaled by 1/sqrt(n), has a
cosine equal to the mean of the members' cosines, so fused templates match like any other.

The members run side by side: LiteRT and OpenCV release the GIL while they compute, so on a
multi-core machine a fused frame costs about as much as its slowest member, not their sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from facegate.vision.embed import Embedder
from facegate.vision.types import Face, Image, Vector


class FusedEmbedder:
    def __init__(self, members: Sequence[Embedder]) -> None:
        self._members = list(members)
        self.name = "fused"
        self.dim = sum(m.dim for m in self._members)
        self._scale = 1.0 / math.sqrt(len(self._members))
        # One worker per extra member; each member is used by one thread at a time, since
        # an interpreter must not be shared between threads.
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(self._members) - 1), thread_name_prefix="fused-embed"
        )

    def embed(self, image: Image, face: Face) -> Vector:
        return self.embed_many([(image, face)])[0]

    def embed_many(self, items: Sequence[tuple[Image, Face]]) -> list[Vector]:
        first, *others = self._members
        pending = [self._pool.submit(member.embed_many, items) for member in others]
        parts = [first.embed_many(items), *(future.result() for future in pending)]
        return [
            (np.concatenate(row) * self._scale).astype(np.float32)
            for row in zip(*parts, strict=True)
        ]
