"""Per-door galleries against one gallery for all: the same people and probe frames, split into
K access groups of one door each (K = 1 is one gallery for all), judged frame by frame with the
engine's own code — the door's policy at its own gallery's size, then the engine's check
against every enrolled person (door.explained).

For each probe frame of an enrolled person, three trials:
- **resident**: at their own group's door — recognised, taken for another, or rejected;
- **stranger**: the same face as someone enrolled nowhere (left out of every gallery), at a
  door — let in or not; this is the rate the open-set policy holds at its target;
- **other group**: the enrolled person at a door of another group (drawn at random) — let in
  or not. Without the engine's check it is a stranger to that door; with it, it is usually
  recognised as themselves and refused (`not_allowed`).

The policy lowers a smaller door's threshold and keeps strangers at its target, so the gain
shows as residents let in. Strangers are also judged at one fixed threshold (a one-person
door's, as a door without the open-set policy would use), where the gain shows as fewer
strangers let in: fewer people to be mistaken for.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from facegate.access.gallery import Gallery
from facegate.access.policy import DecisionPolicy
from facegate.door import explained
from facegate.doorsim.simulate import Probe, upper_95, with_threshold

GROUP_COUNTS = (1, 2, 4, 8, 16, 32, 64)
MIN_PER_DOOR = 5


def _rate(count: int, trials: int) -> dict[str, float | int]:
    return {
        "count": count,
        "trials": trials,
        "rate": round(count / trials, 5) if trials else 0.0,
        "upper_95": round(upper_95(count, trials), 5),
    }


def by_groups(
    gallery: Gallery, probes: Sequence[Probe], policy: DecisionPolicy, seed: int
) -> list[dict[str, object]]:
    """One row per number of groups K (at least MIN_PER_DOOR people per door)."""
    people = gallery.person_ids
    fixed = with_threshold(policy, policy.threshold(1))
    rows = []
    for count in (k for k in GROUP_COUNTS if len(people) // k >= MIN_PER_DOOR):
        order = list(people)
        random.Random(seed).shuffle(order)  # noqa: S311 (a reproducible draw, not a secret)
        group_of = {person: i % count for i, person in enumerate(order)}
        doors = [gallery.only(p for p in people if group_of[p] == g) for g in range(count)]
        pick = random.Random(seed + count)  # noqa: S311
        tally: Counter[str] = Counter()
        for probe in probes:
            vector, own = probe.sample.vector, probe.person_id
            if own is None or not gallery.holds(own):
                continue
            tally["frames"] += 1  # a frame without a usable face lets nobody in
            if vector is None:
                continue
            home = doors[group_of[own]]
            # Resident at their own door.
            door_says = policy.judge(home.rank(vector), home.people)
            checked = explained(door_says, home, gallery, vector, policy)
            tally["resident_correct"] += door_says.person_id == own
            tally["resident_correct_checked"] += checked.person_id == own
            # A person the door does not admit is named only to be refused (not_allowed).
            tally["resident_wrong_checked"] += checked.person_id not in {None, own} and home.holds(
                checked.person_id
            )
            # The same face as a stranger, enrolled nowhere.
            excluded = home.people - 1
            stranger = policy.judge(home.rank(vector, excluding=own), excluded)
            tally["stranger_let_in"] += stranger.person_id is not None
            stranger_checked = explained(stranger, home, gallery, vector, policy, excluding=own)
            tally["stranger_let_in_checked"] += stranger_checked.person_id is not None and (
                home.holds(stranger_checked.person_id)
            )
            naive = fixed.judge(home.rank(vector, excluding=own), excluded)
            tally["stranger_let_in_fixed"] += naive.person_id is not None
            if count == 1:
                continue
            # At another group's door.
            other = doors[pick.choice([g for g in range(count) if g != group_of[own]])]
            says = policy.judge(other.rank(vector), other.people)
            tally["other_group_let_in"] += says.person_id is not None
            # Refused unless the check names someone that door admits (never the person).
            seen = explained(says, other, gallery, vector, policy)
            tally["other_group_let_in_checked"] += seen.person_id is not None and other.holds(
                seen.person_id
            )
        frames = tally["frames"]
        per_door = len(people) / count
        other_trials = frames if count > 1 else 0
        rows.append(
            {
                "groups": count,
                "people_per_door": round(per_door, 1),
                "threshold": round(policy.threshold(round(per_door)), 4),
                "residents_let_in": _rate(tally["resident_correct"], frames),
                "residents_let_in_checked": _rate(tally["resident_correct_checked"], frames),
                "residents_taken_for_another_checked": _rate(
                    tally["resident_wrong_checked"], frames
                ),
                "strangers_let_in": _rate(tally["stranger_let_in"], frames),
                "strangers_let_in_checked": _rate(tally["stranger_let_in_checked"], frames),
                "fixed_threshold": round(fixed.threshold(1), 4),
                "strangers_let_in_at_fixed_threshold": _rate(
                    tally["stranger_let_in_fixed"], frames
                ),
                "other_group_let_in": _rate(tally["other_group_let_in"], other_trials),
                "other_group_let_in_checked": _rate(
                    tally["other_group_let_in_checked"], other_trials
                ),
            }
        )
    return rows
