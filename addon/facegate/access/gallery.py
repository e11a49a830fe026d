"""Consented templates in memory, matched by cosine similarity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.identity.store import StoredTemplate
from facegate.vision.types import Vector


@dataclass(frozen=True, kw_only=True)
class Match:
    person_id: str
    person_name: str
    score: float
    consent_expires_at: float


class Gallery:
    """An immutable snapshot; the engine swaps in a new one when templates change."""

    def __init__(self, templates: list[StoredTemplate], dim: int) -> None:
        self._templates = templates
        self._matrix = (
            np.stack([t.vector for t in templates])
            if templates
            else np.zeros((0, dim), dtype=np.float32)
        )

    def __len__(self) -> int:
        return len(self._templates)

    def best(self, vector: Vector) -> Match | None:
        """The closest template's person and score, or None when the gallery is empty."""
        if not self._templates:
            return None
        scores = self._matrix @ vector
        index = int(np.argmax(scores))
        template = self._templates[index]
        return Match(
            person_id=template.person_id,
            person_name=template.person_name,
            score=float(scores[index]),
            consent_expires_at=template.consent_expires_at,
        )
