"""Consented templates in memory, matched by cosine similarity, person by person.

A person may have several templates (several enrolment images); the person's score is the best
of them. The open-set policy needs two numbers from every match: the best person's score and
the runner-up person's, so that a face between two residents is never given to either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from facegate.identity.records import StoredTemplate
from facegate.vision.types import Vector

# How a person's enrolment images are matched. Every image's vector is stored either way, so the
# choice can change without enrolling anyone again:
# - "each": every vector is a template, and the person's score is their best template's;
# - "mean": the person is matched by the normalised mean of their vectors.
TemplatePolicy = Literal["each", "mean"]
TEMPLATE_POLICIES: tuple[TemplatePolicy, ...] = ("each", "mean")
# Chosen by `facegate eval door` (README, "Open-set decisions"): with 3 images, the mean accepted
# 2-3 % more resident frames than the best of each at the same threshold, on both face sets.
TEMPLATE_POLICY: TemplatePolicy = "mean"


@dataclass(frozen=True, kw_only=True)
class Match:
    person_id: str
    person_name: str
    score: float
    consent_expires_at: float


@dataclass(frozen=True, kw_only=True)
class Ranking:
    """The best person for one face, and how close the next person came."""

    best: Match
    runner_up: float | None  # the second-best *person's* score; None with one person enrolled


class Gallery:
    """An immutable snapshot; the engine swaps in a new one when templates change."""

    def __init__(
        self, templates: list[StoredTemplate], dim: int, policy: TemplatePolicy = TEMPLATE_POLICY
    ) -> None:
        # Templates are kept grouped by person, so that a person's best template is one
        # reduction over a contiguous run of scores.
        ids = sorted({t.person_id for t in templates})
        index = {person_id: i for i, person_id in enumerate(ids)}
        self._templates = sorted(templates, key=lambda t: index[t.person_id])
        self._policy = policy
        self._dim = dim
        self._matrix = (
            np.stack([t.vector for t in self._templates])
            if templates
            else np.zeros((0, dim), dtype=np.float32)
        )
        owners = np.array([index[t.person_id] for t in self._templates], dtype=np.intp)
        self._starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if ids else owners
        self._person_ids = ids
        self._index = index
        self._centroids = self._mean_vectors()

    def __len__(self) -> int:
        return len(self._templates)

    @property
    def people(self) -> int:
        """How many people a face here is compared with: the N of the open-set policy."""
        return len(self._person_ids)

    @property
    def person_ids(self) -> list[str]:
        """The people in the order of `person_scores`."""
        return list(self._person_ids)

    def centroids(self) -> npt.NDArray[np.float32]:
        """Each person's templates averaged and normalised again, in `person_ids` order."""
        return self._centroids

    def _mean_vectors(self) -> npt.NDArray[np.float32]:
        sums = np.add.reduceat(self._matrix, self._starts) if self._templates else self._matrix
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids: npt.NDArray[np.float32] = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
        return centroids

    def holds(self, person_id: str) -> bool:
        return person_id in self._index

    def person_scores(self, vector: Vector) -> npt.NDArray[np.float32]:
        """Every person's score (the best of their templates), in the gallery's person order."""
        if not self._templates:
            return np.zeros(0, dtype=np.float32)
        if self._policy == "mean":
            means: npt.NDArray[np.float32] = self._centroids @ vector
            return means
        scores: npt.NDArray[np.float32] = np.maximum.reduceat(self._matrix @ vector, self._starts)
        return scores

    def rank(self, vector: Vector, *, excluding: str | None = None) -> Ranking | None:
        """The closest person and the runner-up's score, or None when nobody is compared.

        `excluding` leaves one person out: the door as a stranger who looks like them sees it.
        """
        scores = self.person_scores(vector)
        if excluding is not None and excluding in self._index:
            scores[self._index[excluding]] = -np.inf
        if not np.isfinite(scores).any():
            return None
        order = np.argsort(-scores, kind="stable")[:2].tolist()
        first = order[0]
        template = self._templates[int(self._starts[first])]
        runner_up = float(scores[order[1]]) if len(order) > 1 else None
        return Ranking(
            best=Match(
                person_id=template.person_id,
                person_name=template.person_name,
                score=float(scores[first]),
                consent_expires_at=template.consent_expires_at,
            ),
            runner_up=runner_up if runner_up is not None and np.isfinite(runner_up) else None,
        )

    def only(self, person_ids: Iterable[str]) -> Gallery:
        """The same gallery holding just these people (a smaller door, for the simulation)."""
        kept = set(person_ids)
        return Gallery([t for t in self._templates if t.person_id in kept], self._dim, self._policy)
