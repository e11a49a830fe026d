"""The face galleries in memory: every enrolled person's templates, and each face door's share
of them — only the people whose access groups cover that door. A face at a door is compared
with fewer people, so a stranger has fewer people to be mistaken for, and the open-set policy
sets that door's threshold from its own gallery's size."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from facegate.access.gallery import TEMPLATE_POLICY, Gallery
from facegate.access.policy import Calibration, DecisionPolicy
from facegate.config import Config
from facegate.identity.store import IdentityStore
from facegate.vocabulary import EmbedderName

_LOGGER = logging.getLogger("facegate.engine")


class Galleries:
    def __init__(self, store: IdentityStore, embedder: EmbedderName, doors: Iterable[str]) -> None:
        self._store = store
        self._embedder = embedder
        self._doors = list(doors)
        self._lock = threading.Lock()
        self._everyone = Gallery([], 0)
        self._by_door: dict[str, Gallery] = {}
        self.refused = 0

    def everyone(self) -> Gallery:
        return self._everyone

    def door(self, door_id: str) -> Gallery:
        """The people this door admits (an empty gallery before the first load)."""
        return self._by_door.get(door_id, self._everyone)

    def reload(self) -> Gallery:
        """Reads the templates and the access groups again and swaps every gallery in."""
        # Load and swap under one lock: two reloads racing (housekeeping and a withdrawal)
        # must not install the older load last and let a withdrawn face open the door.
        with self._lock:
            loaded = self._store.load_templates(self._embedder)
            for error in loaded.refused:
                _LOGGER.error("refusing a stored template: %s", error)
            dim = 0 if not loaded.templates else len(loaded.templates[0].vector)
            everyone = Gallery(loaded.templates, dim)
            allowed = self._store.door_people(self._doors)
            by_door = {}
            held = set(everyone.person_ids)
            for door_id, people in allowed.items():
                # A door every enrolled person may pass shares the one gallery (and needs no
                # second look, door.explained).
                by_door[door_id] = everyone if held <= people else everyone.only(people & held)
            self._everyone, self._by_door = everyone, by_door
            self.refused = len(loaded.refused)
            return everyone

    def sizes(self) -> dict[str, int]:
        """How many people each face door compares a face with (health, diagnostics)."""
        return {door_id: gallery.people for door_id, gallery in self._by_door.items()}


def describe_policy(
    config: Config,
    calibration: Calibration,
    policies: dict[str, DecisionPolicy],
    galleries: Galleries,
) -> dict[str, object]:
    """The open-set policy as it stands, with its inputs and numbers, each face door at its own
    gallery's size (health, diagnostics)."""
    people = galleries.everyone().people
    sizes = galleries.sizes()
    decision = config.decision
    return {
        "embedder": config.embedder,
        "liveness": {door_id: config.doors[door_id].liveness for door_id in policies},
        "people_enrolled": people,
        "template_policy": TEMPLATE_POLICY,
        "aggregate": decision.aggregate,
        "frames": {
            "required": decision.votes_required,
            "window": decision.votes_window,
            "window_s": decision.window_s,
        },
        "doors": {
            door_id: policy.describe(sizes.get(door_id, people))
            for door_id, policy in policies.items()
        },
        "calibration": calibration.summary(),
    }
