"""`facegate calibrate`: fits an embedder's open-set calibration on labelled face sets.

For each set, every person is enrolled from their first K images, and every usable image of
every person is compared with every *other* enrolled person, matched as the door matches them
(the template policy). The upper 1 % of those stranger scores — each face against the
identities it resembles most — is fitted with a generalised Pareto tail (policy.fit_tail). The
door's threshold then follows from the tails, the number of people and the target rate. The
spread allowed in an enrolment is set from the same tails (policy.Calibration.max_spread).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from facegate.access.gallery import TEMPLATE_POLICY, Gallery, TemplatePolicy
from facegate.access.policy import Calibration, ImpostorTail, fit_tail
from facegate.doorsim.data import FaceSet, enrolled


def stranger_scores(
    faces: FaceSet, gallery: Gallery, person_ids: dict[str, str]
) -> npt.NDArray[np.float32]:
    """Every usable image against every enrolled person except its own."""
    order = {person_id: i for i, person_id in enumerate(gallery.person_ids)}
    scores = []
    for person, samples in faces.people.items():
        own = order.get(person_ids.get(person, ""))
        for sample in samples:
            if sample.vector is None:
                continue
            row = gallery.person_scores(sample.vector)
            scores.append(np.delete(row, own) if own is not None else row)
    return np.concatenate(scores) if scores else np.zeros(0, dtype=np.float32)


def fit(
    face_sets: Sequence[FaceSet],
    *,
    dim: int,
    enrol: int = 3,
    model_sha256: str | None = None,
    policy: TemplatePolicy = TEMPLATE_POLICY,
) -> Calibration:
    if not face_sets:
        raise ValueError("calibration needs at least one face set")
    tails: list[ImpostorTail] = []
    for faces in face_sets:
        enrol_part, _ = faces.split(enrol)
        # No spread check yet: that limit is what this calibration is about to set.
        with enrolled(
            enrol_part, embedder=faces.embedder, dim=dim, max_spread=math.inf, policy=policy
        ) as enrolment:
            scores = stranger_scores(faces, enrolment.gallery, enrolment.person_ids)
        tails.append(fit_tail(scores, dataset=faces.name))
    return Calibration(
        embedder=face_sets[0].embedder,
        tails=tuple(tails),
        max_spread=round(1.0 - max(tail.onset for tail in tails), 3),
        model_sha256=model_sha256,
    )
