"""Liveness (R12): a print or a screen held up to a real RTSP door camera is denied as `spoof`;
the live resident is granted; an enrolment from a photo of a photo is refused; the window's
verdict follows its rule; and `facegate eval liveness` reports attacks as a user runs it."""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import pytest
from conftest_door import ACCESS_TOPIC, LOCK_TOPIC, NoLink
from facegate.access.liveness import (
    CONFIDENT_ATTACK,
    ENROL_LIVE_THRESHOLD,
    LIVE_THRESHOLD,
    MOTION_BASELINE_S,
    SPOOF_REASONS,
    LivenessVerdict,
    VetoHold,
    judge_held,
    judge_window,
)
from facegate.access.policy import Verdict
from facegate.access.vote import TrackWindow, VoteWindow
from facegate.attacks import AttackKind, portrait, render_attack
from facegate.clip import video_frames, write_clip
from facegate.config import QualityConfig, parse
from facegate.engine import Engine
from facegate.enrol import analyse_for_enrolment, enrol_images, read_image
from facegate.errors import EnrolmentError
from facegate.vision.analyzer import FaceAnalyzer, nearest_face
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import create_embedder
from facegate.vision.liveness import LivenessEvidence, MiniFASNet
from facegate.vision.liveness_cues import MOIRE_LIMIT, frame_around, moire
from facegate.vision.liveness_motion import NON_RIGID_MIN_PX, PATCH, face_motion, face_patch
from facegate.vision.quality import QualityLimits
from facegate.vision.types import Face, Image

pytest_plugins = ["conftest_mqtt", "conftest_door"]

T = TypeVar("T")

TEST_LIMIT_S = 300
HAMILTON = Path("video/face_recognition/short_hamilton_clip.mp4")
LIN = Path("enroll/lin_manuel_miranda/lin-manuel-miranda.png")
SIZE = (640, 480)
# From 2.8 s on the performer faces the camera in every frame.
LIVE_FROM_S, LIVE_S = 2.8, 3.0


def _texture(seed: int) -> np.ndarray:
    """A face-sized grey patch with corners to track (smoothed noise)."""
    noise = np.random.default_rng(seed).uniform(0, 255, (PATCH // 4, PATCH // 4))
    big = cv2.resize(noise.astype(np.float32), (PATCH, PATCH), interpolation=cv2.INTER_CUBIC)
    return np.clip(big, 0, 255).astype(np.uint8)


def _moved(patch: np.ndarray, *, flat: bool) -> np.ndarray:
    """The patch a moment later: tilted as a held-up picture is (one homography), or bent
    the way a talking, turning face bends (a different shift in different places)."""
    if flat:
        corners = np.float32([[0, 0], [PATCH, 0], [PATCH, PATCH], [0, PATCH]])
        tilted = corners + np.float32([[3, 1], [-2, 2], [-4, -1], [2, -3]])
        homography = cv2.getPerspectiveTransform(corners, tilted)
        return cv2.warpPerspective(patch, homography, (PATCH, PATCH), borderMode=cv2.BORDER_REFLECT)
    ys, xs = np.mgrid[0:PATCH, 0:PATCH].astype(np.float32)
    bend_x = xs + 2.5 * np.sin(ys / 9.0)
    bend_y = ys + 2.0 * np.cos(xs / 11.0)
    return cv2.remap(patch, bend_x, bend_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _evidence(live: float, print_: float = 0.0, cue: str | None = None) -> LivenessEvidence:
    return LivenessEvidence(live=live, print=print_, replay=1.0 - live - print_, cue=cue)


def _window(*scores: float, flat: bool = False, print_: float = 0.0) -> list[LivenessEvidence]:
    """Frames of one window whose face moved from the first to the last like a face (or like
    a picture, with `flat`)."""
    first = _texture(len(scores))
    patches = [first] * (len(scores) - 1) + [_moved(first, flat=flat)]
    return [
        LivenessEvidence(live=s, print=print_, replay=1.0 - s - print_, patch=p)
        for s, p in zip(scores, patches, strict=True)
    ]


def test_face_motion_tells_a_picture_from_a_face() -> None:
    first = _texture(1)
    flat, bent = (
        face_motion(first, _moved(first, flat=True)),
        face_motion(first, _moved(first, flat=False)),
    )
    assert flat is not None and bent is not None
    assert flat.moved_px > 1.0 and not flat.live  # it moved, but as one plane
    assert bent.live and bent.non_rigid_px >= NON_RIGID_MIN_PX
    assert face_motion(first, first) is not None and not face_motion(first, first).live
    assert face_motion(np.full((PATCH, PATCH), 128, np.uint8), first) is None  # nothing to track


def test_window_is_live_only_on_its_mean_and_without_a_confident_attack_frame() -> None:
    above = LIVE_THRESHOLD + 0.05
    assert judge_window(_window(above, above, above)).live
    assert judge_window(_window(1.0, 1.0, LIVE_THRESHOLD - 0.3)).live
    assert judge_window([_evidence(above)]).live  # one photo: no motion to judge
    low = judge_window(_window(*[LIVE_THRESHOLD - 0.1] * 3))
    assert (low.verdict, low.reason) == ("spoof", "low_live_score")
    # One frame that is confidently a print denies a window whose mean would pass.
    confident = [_evidence(1.0), _evidence(1.0), _evidence(0.0, print_=CONFIDENT_ATTACK)]
    vetoed = judge_window(confident)
    assert (vetoed.verdict, vetoed.reason) == ("spoof", "confident_print")
    assert judge_window([_evidence(1.0), _evidence(1.0, cue="frame_edges")]).reason == (
        "frame_edges"
    )
    assert judge_window([]).reason == "no_evidence"
    # A picture held up and tilted, that the models took for a face, is still denied.
    flat = judge_window(_window(1.0, 1.0, 1.0, flat=True))
    assert (flat.verdict, flat.reason) == ("spoof", "no_live_motion")
    # Frames without a face region (a model that gives none) cannot show motion: not live.
    assert judge_window([_evidence(1.0)] * 3).reason == "no_live_motion"


def test_a_face_caught_as_an_attack_stays_caught_while_in_view() -> None:
    hold = VetoHold(hold_s=3.0)
    window = _window(1.0, 1.0, 1.0)
    assert judge_window(window).live
    hold.see(10.0, _evidence(0.05, print_=0.95))
    held = judge_held(window, hold.held(12.0))
    assert held is not None and (held.verdict, held.reason) == ("spoof", "confident_print")
    assert judge_held(window, hold.held(13.5)) == judge_window(window)  # 3.5 s ago: released
    hold.see(14.0, _evidence(1.0))  # a live frame does not renew the hold
    assert hold.held(14.0) is None
    assert judge_held([], "confident_print") is None  # no evidence: liveness is off


def test_another_threshold_changes_only_the_score_to_reach() -> None:
    """What `facegate eval liveness` sweeps: a window under the door's threshold is judged for
    motion and vetoes as the door would judge it at a lower one."""
    below = LIVE_THRESHOLD - 0.2
    assert not judge_window(_window(below, below, below)).live
    swept = judge_held(_window(below, below, below), None, threshold=below)
    assert swept is not None and swept.live
    flat = judge_held(_window(1.0, 1.0, below, flat=True), None, threshold=0.0)
    assert flat is not None and flat.reason == "no_live_motion"
    held = judge_held(_window(below, below, below), "confident_replay", threshold=0.0)
    assert held is not None and held.reason == "confident_replay"


def _seen_by(vector: np.ndarray, patch: np.ndarray) -> tuple[np.ndarray, LivenessEvidence]:
    return vector, LivenessEvidence(live=1.0, print=0.0, replay=0.0, patch=patch)


def test_r12_a_face_held_still_is_measured_against_its_own_earlier_frames_only() -> None:
    """A resident who holds still for the window's few frames is judged against an earlier
    frame of their own face (within MOTION_BASELINE_S), never against somebody else's: an
    attacker's own live face, just before they raise a photo, must not lend it motion."""
    ann, stranger = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)

    def judge(vector: np.ndarray, named_above: float = 0.95) -> Verdict:
        named = float(vector[0]) > named_above  # by default a mixed track matches nobody
        return Verdict(
            reason="match" if named else "unknown",
            person_id="ann" if named else None,
            person_name="Ann" if named else None,
            score=float(vector[0]),
        )

    still = _texture(11)
    turned = _moved(still, flat=False)  # the same face a second earlier, in another pose

    def last_verdict(first: np.ndarray) -> LivenessVerdict | None:
        window = TrackWindow(required=3, window=3, window_s=1.5, judge=judge)
        frames = [_seen_by(first, turned)] + [_seen_by(ann, still)] * 5
        outcomes = [window.add(0.1 * i, *frame) for i, frame in enumerate(frames)]
        last = [outcome for outcome in outcomes if outcome is not None][-1]
        assert last.verdict.person_id == "ann" and last.first_at > 0.0  # the first frame is out
        return last.liveness

    own = last_verdict(ann)  # Ann turned, then held still: live against her earlier frame
    assert own is not None and own.live
    borrowed = last_verdict(stranger)  # a stranger's face, then Ann's photo held still
    assert borrowed is not None and borrowed.reason == "no_live_motion"
    # A track that matches Ann although its first frame was the stranger's: that frame is no
    # baseline either.
    window = TrackWindow(required=3, window=3, window_s=1.5, judge=lambda v: judge(v, 0.85))
    frames = [_seen_by(stranger, turned)] + [_seen_by(ann, still)] * 2
    mixed = [window.add(0.1 * i, *frame) for i, frame in enumerate(frames)][-1]
    assert mixed is not None and mixed.verdict.person_id == "ann" and mixed.first_at == 0.0
    assert mixed.liveness is not None and mixed.liveness.reason == "no_live_motion"
    # Nor is the last frame, when it is the stranger's after two of Ann's.
    window = TrackWindow(required=3, window=3, window_s=1.5, judge=lambda v: judge(v, 0.85))
    frames = [_seen_by(ann, turned), _seen_by(ann, still), _seen_by(stranger, still)]
    mixed = [window.add(0.1 * i, *frame) for i, frame in enumerate(frames)][-1]
    assert mixed is not None and mixed.verdict.person_id == "ann"
    assert mixed.liveness is not None and mixed.liveness.reason == "no_live_motion"
    # The same with per-frame votes: Ann's own earlier frame counts, a stranger's does not.
    for first, live in ((ann, True), (stranger, False)):
        votes = VoteWindow(required=3, window=5, window_s=1.5, judge=judge)
        frames = [_seen_by(first, turned)] + [_seen_by(ann, still)] * 6
        outcomes = [votes.add(0.1 * i, *frame) for i, frame in enumerate(frames)]
        last = [outcome for outcome in outcomes if outcome is not None][-1]
        assert last.first_at > 0.0 and last.liveness is not None and last.liveness.live == live
    # An earlier frame is forgotten MOTION_BASELINE_S after it was seen.
    window = TrackWindow(required=3, window=3, window_s=1.5, judge=judge)
    frames = [_seen_by(ann, turned)] + [_seen_by(ann, still)] * round(MOTION_BASELINE_S * 10 + 4)
    last = [window.add(0.1 * i, *frame) for i, frame in enumerate(frames)][-1]
    assert last is not None and last.liveness is not None
    assert last.liveness.reason == "no_live_motion"


def test_r12_a_face_not_yet_moving_is_watched_before_it_is_refused() -> None:
    """A face just come into view that has not moved yet is not a spoof yet: such a window's
    verdict is not final until the face has been watched for MOTION_BASELINE_S (the door stays
    shut and silent meanwhile); after that the same stillness is final. A second without a face
    starts the watch again; a face caught as an attack moments ago gets no time."""
    ann = np.array([1.0, 0.0], np.float32)

    def judge(_vector: np.ndarray) -> Verdict:
        return Verdict(reason="match", person_id="ann", person_name="Ann", score=0.9)

    still = _texture(5)
    window = TrackWindow(required=3, window=5, window_s=1.5, judge=judge)
    frames = {0.1 * i: window.add(0.1 * i, *_seen_by(ann, still)) for i in range(16)}
    verdicts = {at: o.liveness for at, o in frames.items() if o is not None}
    assert all(v is not None and v.reason == "no_live_motion" for v in verdicts.values())
    early = [v.final for at, v in verdicts.items() if v is not None and at < MOTION_BASELINE_S]
    late = [v.final for at, v in verdicts.items() if v is not None and at > MOTION_BASELINE_S]
    assert early and not any(early) and late and all(late)
    # Two seconds later, after a gap without a face, the watch starts again.
    again = [window.add(3.5 + 0.1 * i, *_seen_by(ann, still)) for i in range(3)][-1]
    assert again is not None and again.liveness is not None and not again.liveness.final
    # A face that moves is live at once, watched or not.
    moving = TrackWindow(required=3, window=5, window_s=1.5, judge=judge)
    outcomes = [moving.add(0.1 * i, *_seen_by(ann, p)) for i, p in enumerate(_still_then_bent())]
    assert outcomes[-1] is not None and outcomes[-1].liveness is not None
    assert outcomes[-1].liveness.live
    # A veto held from an attack frame a moment ago leaves no time to show motion.
    held = judge_held(_window(1.0, 1.0, 1.0, flat=True), "frame_edges", watched_s=0.2)
    assert held is not None and held.final and held.reason == "no_live_motion"
    assert judge_held(_window(1.0, 1.0, 1.0, flat=True), None, watched_s=0.2) == replace(
        judge_window(_window(1.0, 1.0, 1.0, flat=True)), final=False
    )


def _still_then_bent() -> list[np.ndarray]:
    still = _texture(6)
    return [still, still, _moved(still, flat=False)]


@pytest.fixture(scope="module")
def clips(
    tmp_path_factory: pytest.TempPathFactory, faces: Path, models_dir: Path
) -> dict[str, Path]:
    """The live resident from a real video, and a print and a phone showing the same person
    (built in memory from the shared data and written only to pytest's temporary folder)."""
    folder = tmp_path_factory.mktemp("liveness")
    live = video_frames(faces / HAMILTON, start_s=LIVE_FROM_S, seconds=LIVE_S, size=SIZE)
    photo = read_image(faces / LIN)
    face = nearest_face(FaceDetector(models_dir, "short").detect(photo))
    assert face is not None
    made = {"live": write_clip(live, folder / "live.mp4", fps=10, size=SIZE)}
    kinds: list[AttackKind] = ["print", "phone", "cutout"]
    for kind in kinds:
        rng = random.Random(f"{kind}-7")
        shown = [portrait(photo, face.box, rng)]
        frames = render_attack(kind, shown, rng, frames=30, size=SIZE)
        made[kind] = write_clip(frames, folder / f"{kind}.mp4", fps=10, size=SIZE)
    return made


def _run(door_factory, clip: Path, faces: Path, lock_and_events):
    door, _server = door_factory(clip, liveness="required")
    resident = door.enrol("Lin-Manuel Miranda", faces / LIN)
    door.start()
    assert door.engine.wait_for_end(timeout=60)
    assert lock_and_events.wait_for(lambda m: any(x.topic == ACCESS_TOPIC for x in m), 5)
    time.sleep(0.5)
    events = [json.loads(m.text) for m in lock_and_events.on(ACCESS_TOPIC)]
    return door, resident, events, lock_and_events.on(LOCK_TOPIC)


def test_r12_live_resident_is_granted_with_the_liveness_verdict(
    door_factory, clips: dict[str, Path], faces: Path, lock_and_events
) -> None:
    door, resident, events, locks = _run(door_factory, clips["live"], faces, lock_and_events)
    granted = [e for e in events if e["result"] == "granted"]
    assert [e["person"]["id"] for e in granted] == [resident]
    assert granted[0]["liveness"]["verdict"] == "live"
    assert granted[0]["liveness"]["score"] >= LIVE_THRESHOLD
    assert len(locks) == 1
    assert door.engine.decision_policy()["liveness"] == {"front_door": "required"}


def test_r12_a_resident_who_holds_still_at_first_is_let_in_not_called_a_spoof(
    door_factory, faces: Path, lock_and_events, tmp_path: Path
) -> None:
    """The resident stands still for the door's first frames (one frame, held 0.8 s), then
    moves as people do: the door watches instead of denying a live face as a spoof, and lets
    them in once they move."""
    live = video_frames(faces / HAMILTON, start_s=LIVE_FROM_S, seconds=LIVE_S, size=SIZE)
    clip = write_clip([live[0]] * 8 + live, tmp_path / "still-then-live.mp4", fps=10, size=SIZE)
    _door, resident, events, locks = _run(door_factory, clip, faces, lock_and_events)
    decided = [(e["result"], e["reason"], (e["person"] or {}).get("id")) for e in events]
    assert decided == [("granted", "match", resident)], events
    assert len(locks) == 1


@pytest.mark.parametrize("attack", ["print", "phone", "cutout"])
def test_r12_print_or_screen_of_the_resident_is_denied_as_spoof(
    door_factory, clips: dict[str, Path], faces: Path, lock_and_events, attack: str
) -> None:
    door, _resident, events, locks = _run(door_factory, clips[attack], faces, lock_and_events)
    assert locks == []
    assert events
    assert all((e["result"], e["reason"]) == ("denied", "spoof") for e in events)
    # A spoof names nobody and gives no match score: the attacker learns nothing of whom the
    # photo resembles.
    assert all(e["person"] is None and e["score"] is None for e in events)
    assert all(e["liveness"]["verdict"] == "spoof" for e in events)
    assert all(e["liveness"]["reason"] in SPOOF_REASONS for e in events)
    reasons = [x.data.get("reason") for x in door.engine.store.audit_entries(limit=1000)]
    assert "spoof" in reasons


def test_r12_enrolment_from_a_photo_of_a_photo_is_refused(
    door_factory, clips: dict[str, Path], faces: Path
) -> None:
    door, _server = door_factory(clips["live"], liveness="required")
    frame = video_frames(clips["print"], start_s=1.0, seconds=0.1, size=SIZE)[0]
    person = door.engine.store.add_person("Lin-Manuel Miranda")
    door.engine.store.give_consent(
        person.id, notice_version=door.engine.notice.version, method="checkbox", signer="L"
    )
    with pytest.raises(EnrolmentError, match="photo of a photo or of a screen"):
        enrol_images(
            door.engine.store,
            door.engine.analyzer("short"),
            person.id,
            [("a print held to the camera", frame)],
            max_spread=door.engine.max_spread,
        )
    assert door.engine.store.template_count(person.id) == 0


class _SureOf:
    """The real MiniFASNet pair, its cues and face region kept, with its live probability set:
    a photo the models are this sure shows a live person."""

    name = "minifasnet"

    def __init__(self, models_dir: Path, live: float) -> None:
        self._model, self._live = MiniFASNet(models_dir), live

    def assess(self, image: Image, face: Face) -> LivenessEvidence | None:
        evidence = self._model.assess(image, face)
        if evidence is None:
            return None
        rest = (1.0 - self._live) / 2
        return replace(evidence, live=self._live, print=rest, replay=rest)


def _enrolling(models_dir: Path, live: float) -> FaceAnalyzer:
    return FaceAnalyzer(
        FaceDetector(models_dir, "short"),
        create_embedder("mobilefacenet", models_dir),
        QualityLimits(**QualityConfig().model_dump()),
        liveness=_SureOf(models_dir, live),
    )


@pytest.mark.parametrize("live", [LIVE_THRESHOLD + 0.05, ENROL_LIVE_THRESHOLD - 0.05])
def test_r12_an_enrolment_photo_must_clear_the_stricter_threshold(
    models_dir: Path, faces: Path, live: float
) -> None:
    """One photo has no motion to judge: a live score that a door's window would accept is not
    enough to enrol; the stricter enrolment threshold is."""
    photo = read_image(faces / LIN)
    with pytest.raises(EnrolmentError, match="photo of a photo or of a screen"):
        analyse_for_enrolment(_enrolling(models_dir, live), "a photo", photo)
    assert judge_window([_evidence(live)]).live  # the door's window would have let it through
    sure = _enrolling(models_dir, ENROL_LIVE_THRESHOLD + 0.05)
    assert analyse_for_enrolment(sure, "a photo", photo).shape[0] > 0


def test_a_door_with_liveness_off_is_named_at_start(
    tmp_path: Path, models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse(
        {
            "data_dir": str(tmp_path / "data"),
            "models_dir": str(models_dir),
            "mqtt": {"host": "127.0.0.1"},
            "cameras": {"cam": {"source": "rtsp://127.0.0.1:1/door"}},
            "doors": {
                "front": {
                    "camera": "cam",
                    "methods": ["face", "pin"],
                    "lock": {"command_topic": "front/set"},
                    "liveness": "off",
                }
            },
        }
    )
    engine = Engine(config, NoLink())
    try:
        with caplog.at_level(logging.WARNING, logger="facegate.engine"):
            engine.start()
    finally:
        engine.stop()
    assert any("door front: liveness is off" in r.getMessage() for r in caplog.records)


def test_eval_liveness_reports_attacks_per_type_with_bounds(tmp_path: Path, faces: Path) -> None:
    labels = tmp_path / "pad.csv"
    labels.write_text(
        "file,label,kind,group\n"
        "pad/live/silentface_image_T1.jpg,live,live,a\n"
        "pad/live/doubango_genuine.jpg,live,live,b\n"
        "pad/attack_print/silentface_image_F1.jpg,print,print,a\n"
        "pad/attack_replay/silentface_image_F2.jpg,replay,tablet,a\n"
        "pad_real_dev/clips/replay/lestari_fake_c0.mp4,replay,phone,lestari_fake\n"
    )
    out = tmp_path / "liveness.json"
    result = subprocess.run(
        [sys.executable, "-m", "facegate.cli", "eval", "liveness", "--labels", str(labels),
         "--root", str(faces), "--json", str(out)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["bpcer"] == {"items": 2, "refused": 0, "rate": 0.0, "upper_95": 0.7764}
    assert report["bpcer_judged"]["items"] == 2 and report["not_judged"]["live"] == 0
    assert report["apcer"]["print"]["items"] == 1 and report["apcer"]["replay"]["items"] == 2
    assert set(report["apcer_by_kind"]) == {"print", "tablet", "phone"}
    clip = next(i for i in report["items"] if i["file"].endswith(".mp4"))
    assert clip["frames"] > 30 and clip["windows"] > 10 and not clip["passed_as_live"]
    # Group "a" holds a live photo, a print of it and a replay: counted apart, per label.
    groups, denied = report["by_group"], {"items": 1, "judged": 1, "passed_as_live": 0}
    assert groups["live"]["a"] == {"items": 1, "judged": 1, "passed_as_live": 1}
    assert (
        groups["print"]["a"] == groups["replay"]["a"] == groups["replay"]["lestari_fake"] == denied
    )
    assert out.with_suffix(".png").stat().st_size > 20_000
    assert "passed as live (APCER)" in result.stdout


def _per_face(clip: Path, detector: FaceDetector, look: Callable[[Image, Face], T]) -> list[T]:
    """`look` at the nearest face of each of the clip's first 3 s of frames."""
    seen = []
    for frame in video_frames(clip, start_s=0.0, seconds=3.0, size=SIZE):
        face = nearest_face(detector.detect(frame))
        if face is not None:
            seen.append(look(frame, face))
    return seen


def test_the_border_of_a_held_up_print_is_seen_and_a_live_doorway_has_none(
    clips: dict[str, Path], models_dir: Path
) -> None:
    detector = FaceDetector(models_dir, "full")
    printed = _per_face(clips["print"], detector, frame_around)
    live = _per_face(clips["live"], detector, frame_around)
    assert printed and live
    assert sum(printed) >= len(printed) // 2  # the sheet's four edges, in most frames
    assert not any(live)


def test_screen_moire_is_seen_in_a_monitor_and_not_in_live_skin(
    clips: dict[str, Path], faces: Path, models_dir: Path
) -> None:
    detector = FaceDetector(models_dir, "full")
    live = _per_face(clips["live"], detector, moire)
    assert live and max(live) < MOIRE_LIMIT
    photo = read_image(faces / LIN)
    box = nearest_face(FaceDetector(models_dir, "short").detect(photo))
    assert box is not None
    shown = []
    for seed in range(4):
        rng = random.Random(f"monitor-{seed}")
        frame = next(render_attack("monitor", [portrait(photo, box.box, rng)], rng, frames=1))
        face = nearest_face(detector.detect(frame))
        if face is not None:
            shown.append(moire(frame, face))
    assert max(shown) >= MOIRE_LIMIT


def test_a_live_face_moves_unlike_a_cut_out_print_of_it(
    clips: dict[str, Path], models_dir: Path
) -> None:
    """Over windows of five frames (as the door decides), the live performer's face bends
    beyond one homography; the cut-out print, carried by a shaking hand, never does."""
    detector = FaceDetector(models_dir, "full")

    def motion(clip: Path) -> list[float]:
        patches = _per_face(clip, detector, face_patch)
        found = [face_motion(a, b) for a, b in zip(patches, patches[4:], strict=False)]
        return [m.non_rigid_px for m in found if m is not None]

    live, cutout = motion(clips["live"]), motion(clips["cutout"])
    assert len(live) >= 5 and len(cutout) >= 5, (live, cutout)
    assert max(live) >= NON_RIGID_MIN_PX
    assert max(cutout) < NON_RIGID_MIN_PX
