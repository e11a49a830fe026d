"""The decision window (per-frame votes and the track), the gallery's ranking of people, and the
open-set policy's verdict on a ranking."""

import numpy as np
import pytest
from facegate.access.gallery import Gallery, Match, Ranking
from facegate.access.policy import Calibration, DecisionPolicy, ImpostorTail, Verdict
from facegate.access.vote import TrackWindow, VoteWindow
from facegate.identity.records import StoredTemplate


def _verdict(person: str | None, score: float, reason: str | None = None) -> Verdict:
    return Verdict(
        reason=reason or ("match" if person else "unknown"),  # type: ignore[arg-type]
        person_id=person,
        person_name=person.title() if person else None,
        score=score,
    )


def _unit(values: list[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _window(required: int = 3, window: int = 5, window_s: float = 1.5) -> VoteWindow:
    return VoteWindow(
        required=required, window=window, window_s=window_s, judge=lambda v: _verdict(None, 0)
    )


def test_k_of_n_grants_only_after_k_agreeing_frames():
    votes = _window()
    assert votes.cast(0.0, _verdict("ann", 0.7)) is None
    assert votes.cast(0.1, _verdict(None, 0.1)) is None
    assert votes.cast(0.2, _verdict("ann", 0.8)) is None
    outcome = votes.cast(0.3, _verdict("ann", 0.75))
    assert outcome is not None
    assert outcome.verdict.person_id == "ann"
    assert outcome.verdict.score == 0.8
    assert outcome.ballots == 3
    assert (outcome.first_at, outcome.last_at) == (0.0, 0.3)


def test_k_of_n_mixed_people_never_add_up():
    votes = _window()
    for i, person in enumerate(["ann", "bob", "ann", "bob", "cat"]):
        assert votes.cast(i * 0.1, _verdict(person, 0.7)) is None


def test_ambiguous_frames_agree_on_ambiguous_and_name_nobody():
    votes = _window()
    for i in range(2):
        assert votes.cast(i * 0.1, _verdict(None, 0.7, "ambiguous")) is None
    assert votes.cast(0.2, _verdict(None, 0.2)) is None  # an unknown frame is another opinion
    outcome = votes.cast(0.3, _verdict(None, 0.7, "ambiguous"))
    assert outcome is not None
    assert (outcome.verdict.reason, outcome.verdict.person_id) == ("ambiguous", None)


def test_k_of_n_old_frames_fall_out_of_the_time_window():
    votes = _window(window_s=1.0)
    votes.cast(0.0, _verdict("ann", 0.7))
    votes.cast(0.1, _verdict("ann", 0.7))
    # Two seconds later the earlier frames no longer count.
    assert votes.cast(2.1, _verdict("ann", 0.7)) is None
    assert votes.cast(2.2, _verdict("ann", 0.7)) is None
    assert votes.cast(2.3, _verdict("ann", 0.7)) is not None


def test_k_of_n_only_last_n_frames_count():
    votes = _window(required=3, window=4)
    for i, person in enumerate(["ann", "ann", None, None, None]):
        outcome = votes.cast(i * 0.1, _verdict(person, 0.2))
    assert outcome is not None and outcome.verdict.person_id is None  # three unknowns in 4


def test_k_of_n_window_clears_after_an_outcome():
    votes = _window(required=2, window=3)
    votes.cast(0.0, _verdict("ann", 0.7))
    assert votes.cast(0.1, _verdict("ann", 0.7)) is not None
    assert votes.cast(0.2, _verdict("ann", 0.7)) is None


def test_windows_reject_impossible_settings():
    for window_class in (VoteWindow, TrackWindow):
        with pytest.raises(ValueError, match="between 1 and the window"):
            window_class(required=4, window=3, window_s=1.0, judge=lambda v: _verdict(None, 0))


def test_track_judges_the_mean_of_its_frames_once_enough_have_arrived():
    judged: list[np.ndarray] = []

    def judge(vector: np.ndarray) -> Verdict:
        judged.append(vector)
        return _verdict("ann" if vector[0] > 0.9 else None, float(vector[0]))

    track = TrackWindow(required=3, window=5, window_s=1.5, judge=judge)
    frames = [_unit([1, 0.3, 0]), _unit([1, -0.3, 0]), _unit([1, 0, 0.2])]
    assert track.add(0.0, frames[0]) is None
    assert track.add(0.1, frames[1]) is None
    outcome = track.add(0.2, frames[2])
    assert outcome is not None and outcome.ballots == 3
    # The frames' noise cancels in their mean: the track scores above every single frame.
    assert np.allclose(judged[-1], _unit(np.sum(frames, axis=0).tolist()))
    assert outcome.verdict.person_id == "ann"
    assert outcome.verdict.score > max(float(f[0]) for f in frames)
    assert track.add(0.3, frames[0]) is None  # a grant starts a new track


def test_track_keeps_sliding_after_a_denial():
    scores = iter([0.2, 0.95])
    track = TrackWindow(
        required=2, window=3, window_s=1.5, judge=lambda v: _verdict(None, next(scores))
    )
    track.add(0.0, _unit([1, 0]))
    assert track.add(0.1, _unit([1, 0])) is not None  # unknown, from two frames
    # The next frame is judged together with the earlier ones, not after two fresh frames.
    assert track.add(0.2, _unit([1, 0])) is not None


def _template(person: str, values: list[float]) -> StoredTemplate:
    return StoredTemplate(
        id=person + str(values),
        person_id=person,
        person_name=person.title(),
        vector=_unit(values),
        consent_expires_at=1e12,
    )


def test_gallery_ranks_people_by_their_best_template_or_their_mean():
    templates = [
        _template("ann", [1, 0, 0]),
        _template("bob", [0, 1, 0]),
        _template("ann", [0.9, 0.1, 0]),
    ]
    probe = _unit([0.8, 0.6, 0])
    each = Gallery(templates, dim=3, policy="each").rank(probe)
    assert each is not None and each.best.person_id == "ann"
    assert each.best.score == pytest.approx(float(_unit([0.9, 0.1, 0]) @ probe))
    assert each.runner_up == pytest.approx(0.6)
    mean = Gallery(templates, dim=3, policy="mean")
    ranked = mean.rank(probe)
    centroid = _unit((_unit([1, 0, 0]) + _unit([0.9, 0.1, 0])).tolist())
    assert ranked is not None and ranked.best.score == pytest.approx(float(centroid @ probe))
    assert mean.people == 2
    # A stranger's view: the same door without Ann.
    stranger = mean.rank(probe, excluding="ann")
    assert stranger is not None and stranger.best.person_id == "bob"
    assert stranger.runner_up is None


def test_empty_gallery_matches_nobody():
    assert Gallery([], dim=3).rank(_unit([1, 0, 0])) is None
    assert (
        Gallery([_template("ann", [1, 0, 0])], dim=3).rank(_unit([1, 0, 0]), excluding="ann")
        is None
    )


def _policy(margin: float = 0.05) -> DecisionPolicy:
    tail = ImpostorTail(
        dataset="test",
        comparisons=100_000,
        onset=0.3,
        onset_rate=0.01,
        scale=0.04,
        shape=0.0,
        fitted_shape=-0.1,
        highest=0.5,
    )
    return DecisionPolicy(
        calibration=Calibration(embedder="t", tails=(tail,), max_spread=0.7, margin=margin)
    )


def _ranking(best: float, runner_up: float | None) -> Ranking:
    match = Match(person_id="ann", person_name="Ann", score=best, consent_expires_at=1e12)
    return Ranking(best=match, runner_up=runner_up)


def test_policy_names_a_person_only_above_the_threshold_and_clear_of_the_runner_up():
    policy = _policy()
    threshold = policy.threshold(10)
    assert policy.judge(_ranking(threshold + 0.01, 0.1), 10).reason == "match"
    assert policy.judge(_ranking(threshold - 0.01, 0.1), 10).reason == "unknown"
    close = policy.judge(_ranking(threshold + 0.03, threshold), 10)
    assert (close.reason, close.person_id) == ("ambiguous", None)
    assert policy.judge(None, 10).reason == "unknown"
