"""The k-of-n vote and the gallery match."""

import numpy as np
import pytest
from facegate.access.gallery import Gallery
from facegate.access.vote import Ballot, VoteWindow
from facegate.identity.store import StoredTemplate


def _window(required: int = 3, window: int = 5, window_s: float = 1.5) -> VoteWindow:
    return VoteWindow(required=required, window=window, window_s=window_s)


def test_k_of_n_grants_only_after_k_agreeing_frames():
    votes = _window()
    assert votes.cast(Ballot(at=0.0, person_id="ann", score=0.7)) is None
    assert votes.cast(Ballot(at=0.1, person_id=None, score=0.1)) is None
    assert votes.cast(Ballot(at=0.2, person_id="ann", score=0.8)) is None
    outcome = votes.cast(Ballot(at=0.3, person_id="ann", score=0.75))
    assert outcome is not None
    assert outcome.person_id == "ann"
    assert outcome.score == 0.8
    assert outcome.ballots == 3
    assert (outcome.first_at, outcome.last_at) == (0.0, 0.3)


def test_k_of_n_mixed_people_never_add_up():
    votes = _window()
    for i, person in enumerate(["ann", "bob", "ann", "bob", "cat"]):
        assert votes.cast(Ballot(at=i * 0.1, person_id=person, score=0.7)) is None


def test_k_of_n_old_frames_fall_out_of_the_time_window():
    votes = _window(window_s=1.0)
    votes.cast(Ballot(at=0.0, person_id="ann", score=0.7))
    votes.cast(Ballot(at=0.1, person_id="ann", score=0.7))
    # Two seconds later the earlier frames no longer count.
    assert votes.cast(Ballot(at=2.1, person_id="ann", score=0.7)) is None
    assert votes.cast(Ballot(at=2.2, person_id="ann", score=0.7)) is None
    assert votes.cast(Ballot(at=2.3, person_id="ann", score=0.7)) is not None


def test_k_of_n_only_last_n_frames_count():
    votes = _window(required=3, window=4)
    for i, person in enumerate(["ann", "ann", None, None, None]):
        outcome = votes.cast(Ballot(at=i * 0.1, person_id=person, score=0.2))
    assert outcome is not None and outcome.person_id is None  # three unknowns in the last four


def test_k_of_n_window_clears_after_an_outcome():
    votes = _window(required=2, window=3)
    votes.cast(Ballot(at=0.0, person_id="ann", score=0.7))
    assert votes.cast(Ballot(at=0.1, person_id="ann", score=0.7)) is not None
    assert votes.cast(Ballot(at=0.2, person_id="ann", score=0.7)) is None


def test_vote_window_rejects_impossible_settings():
    with pytest.raises(ValueError, match="between 1 and the window"):
        VoteWindow(required=4, window=3, window_s=1.0)


def _unit(values: list[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _template(person: str, values: list[float]) -> StoredTemplate:
    return StoredTemplate(
        id=person + "-t",
        person_id=person,
        person_name=person.title(),
        vector=_unit(values),
        consent_expires_at=1e12,
    )


def test_gallery_returns_the_closest_persons_cosine():
    gallery = Gallery(
        [_template("ann", [1, 0, 0]), _template("bob", [0, 1, 0]), _template("ann", [0.9, 0.1, 0])],
        dim=3,
    )
    match = gallery.best(_unit([0.8, 0.6, 0]))
    assert match is not None
    assert match.person_id == "ann"
    assert match.score == pytest.approx(float(_unit([0.9, 0.1, 0]) @ _unit([0.8, 0.6, 0])))


def test_empty_gallery_matches_nobody():
    assert Gallery([], dim=3).best(_unit([1, 0, 0])) is None
