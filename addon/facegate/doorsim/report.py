"""`facegate eval door`: the whole simulation of one policy on one face set, as JSON and a plot.

Beyond the headline rates it sweeps the threshold (frames) and the number of people enrolled
(random sub-galleries), and reports hard impostors (each person's most similar other identities)
beside random ones, since random pairs (often a man and a woman) overstate how well strangers
are kept out.
"""

from __future__ import annotations

import datetime as dt
import platform
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facegate.access.gallery import TEMPLATE_POLICY, Gallery, TemplatePolicy
from facegate.access.policy import DecisionPolicy
from facegate.config import DecisionConfig
from facegate.doorsim.data import FaceSet, enrolled
from facegate.doorsim.groups import by_groups
from facegate.doorsim.simulate import (
    DoorSimulation,
    Probe,
    judge_frames,
    rank_frames,
    with_threshold,
)

GALLERY_SIZES = (10, 30, 100, 300, 1000)
SIZE_REPEATS = 5
HARD_NEIGHBOURS = 5
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.801, 0.01))


@dataclass(frozen=True, kw_only=True)
class DoorEval:
    enrol: int = 3
    gallery: int | None = None  # enrol a random subset of this many people
    template_policy: TemplatePolicy = TEMPLATE_POLICY
    attempts_per_person: int = 10
    seed: int = 20261202


def simulate(
    faces: FaceSet,
    *,
    policy: DecisionPolicy,
    decision: DecisionConfig,
    dim: int,
    options: DoorEval,
) -> dict[str, Any]:
    enrol_part, probe_part = faces.split(options.enrol)
    chosen = sorted(faces.people)
    if options.gallery is not None:
        if not 2 <= options.gallery <= len(chosen):
            raise ValueError(
                f"--gallery must be between 2 and {len(chosen)} (the people in the set)"
            )
        draw = random.Random(options.seed)  # noqa: S311 (a reproducible draw, not a secret)
        chosen = sorted(draw.sample(chosen, options.gallery))
    with enrolled(
        {person: enrol_part[person] for person in chosen},
        embedder=faces.embedder,
        dim=dim,
        max_spread=policy.calibration.max_spread,
        policy=options.template_policy,
    ) as enrolment:
        gallery = enrolment.gallery
        by_person = {
            person: [Probe(sample=s, person_id=enrolment.person_ids.get(person)) for s in samples]
            for person, samples in probe_part.items()
            if samples
        }
        probes = [probe for group in by_person.values() for probe in group]
        door = DoorSimulation(gallery, policy, decision)
        frames = door.frames(probes)
        attempts = door.attempts(
            by_person, per_person=options.attempts_per_person, seed=options.seed
        )
        ranked = rank_frames(gallery, probes)
        return {
            "dataset": faces.name,
            "embedder": faces.embedder,
            "people": len(faces.people),
            "people_enrolled": gallery.people,
            "probes": len(probes),
            "enrol_images": options.enrol,
            "enrolment": {
                "template_policy": options.template_policy,
                "images_used": enrolment.images_used,
                "refused_by_quality_gate": enrolment.refused_quality,
                "left_out_by_spread_check": enrolment.retakes,
                "people_not_enrolled": len(enrolment.not_enrolled),
                "spread_p50": _percentile(enrolment.spreads, 50),
                "spread_p95": _percentile(enrolment.spreads, 95),
                "max_spread": policy.calibration.max_spread,
            },
            "frame": frames.rates(),
            "attempt": {
                **attempts.rates(),
                "frames_per_attempt": decision.votes_window,
                "attempts_per_person": options.attempts_per_person,
            },
            "policy": {
                **policy.describe(gallery.people),
                "aggregate": decision.aggregate,
                "votes_required": decision.votes_required,
                "calibration": policy.calibration.summary(),
            },
            "impostors": impostor_report(
                gallery, probes, policy.threshold(gallery.people), options.seed
            ),
            "by_threshold": [
                {"threshold": t, **_short(judge_frames(ranked, with_threshold(policy, t)).rates())}
                for t in THRESHOLDS
            ],
            "by_gallery_size": by_gallery_size(gallery, probes, policy, options.seed),
            "by_groups": by_groups(gallery, probes, policy, options.seed),
            "ms_per_image": round(faces.ms_per_image, 1),
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()}, Python {platform.python_version()}",
        }


def _short(rates: dict[str, object]) -> dict[str, object]:
    keys = ("correct", "wrong_person", "rejected", "stranger_let_in", "stranger_let_in_upper_95")
    return {key: rates[key] for key in keys}


def _percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


def by_gallery_size(
    gallery: Gallery, probes: Sequence[Probe], policy: DecisionPolicy, seed: int
) -> list[dict[str, object]]:
    """Rates as the door grows: the policy's threshold against one fixed at a 1-person door's."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible draw, not a secret)
    people = gallery.person_ids
    sizes = sorted({s for s in GALLERY_SIZES if s < len(people)} | {len(people)})
    fixed = with_threshold(policy, policy.threshold(1))
    rows = []
    for size in sizes:
        for repeat in range(1 if size == len(people) else SIZE_REPEATS):
            door = gallery.only(rng.sample(people, size))
            ranked = rank_frames(door, probes)
            rows.append(
                {
                    "people": size,
                    "repeat": repeat,
                    "policy": {
                        "threshold": policy.threshold(size),
                        **_short(judge_frames(ranked, policy).rates()),
                        "predicted_stranger_let_in": policy.calibration.rate(
                            policy.threshold(size), size
                        ),
                    },
                    "fixed": {
                        "threshold": fixed.threshold(size),
                        **_short(judge_frames(ranked, fixed).rates()),
                        "predicted_stranger_let_in": policy.calibration.rate(
                            fixed.threshold(size), size
                        ),
                    },
                }
            )
    return rows


def impostor_report(
    gallery: Gallery, probes: Sequence[Probe], threshold: float, seed: int
) -> dict[str, object]:
    """Probe frames against each person's most similar other identities, and random ones."""
    ids = gallery.person_ids
    if len(ids) <= HARD_NEIGHBOURS:
        return {}
    index = {person_id: i for i, person_id in enumerate(ids)}
    centroids = gallery.centroids()
    likeness = centroids @ centroids.T
    np.fill_diagonal(likeness, -np.inf)
    nearest = np.argsort(-likeness, axis=1)[:, :HARD_NEIGHBOURS]
    rng = np.random.default_rng(seed)
    hard: list[float] = []
    drawn: list[float] = []
    for probe in probes:
        own = index.get(probe.person_id or "")
        if probe.sample.vector is None or own is None:
            continue
        scores = gallery.person_scores(probe.sample.vector)
        hard.extend(scores[nearest[own]].tolist())
        others = rng.choice(np.delete(np.arange(len(ids)), own), HARD_NEIGHBOURS, replace=False)
        drawn.extend(scores[others].tolist())

    def describe(values: list[float]) -> dict[str, object]:
        array = np.asarray(values)
        return {
            "pairs": len(values),
            "mean": round(float(array.mean()), 4),
            "p99": round(float(np.percentile(array, 99)), 4),
            "max": round(float(array.max()), 4),
            "at_or_above_threshold": round(float(np.mean(array >= threshold)), 6),
        }

    if not hard:
        return {}
    return {
        "neighbours": HARD_NEIGHBOURS,
        "hard": describe(hard),
        "random": describe(drawn),
    }
