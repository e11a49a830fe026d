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
from pathlib import Path

import pytest
from conftest_door import ACCESS_TOPIC, LOCK_TOPIC, NoLink
from facegate.access.liveness import CONFIDENT_ATTACK, LIVE_THRESHOLD, judge_window
from facegate.attacks import AttackKind, portrait, render_attack
from facegate.clip import video_frames, write_clip
from facegate.config import parse
from facegate.engine import Engine
from facegate.enrol import enrol_images, read_image
from facegate.errors import EnrolmentError
from facegate.vision.analyzer import nearest_face
from facegate.vision.detect import FaceDetector
from facegate.vision.liveness import LivenessEvidence
from facegate.vision.liveness_cues import MOIRE_LIMIT, frame_around, moire

pytest_plugins = ["conftest_mqtt", "conftest_door"]

TEST_LIMIT_S = 300
HAMILTON = Path("video/face_recognition/short_hamilton_clip.mp4")
LIN = Path("enroll/lin_manuel_miranda/lin-manuel-miranda.png")
SIZE = (640, 480)
# From 2.8 s on the performer faces the camera in every frame.
LIVE_FROM_S, LIVE_S = 2.8, 3.0


def _evidence(live: float, print_: float = 0.0, cue: str | None = None) -> LivenessEvidence:
    return LivenessEvidence(live=live, print=print_, replay=1.0 - live - print_, cue=cue)


def test_window_is_live_only_on_its_mean_and_without_a_confident_attack_frame() -> None:
    above = LIVE_THRESHOLD + 0.05
    assert judge_window([_evidence(above)] * 3).live
    assert judge_window([_evidence(1.0), _evidence(1.0), _evidence(LIVE_THRESHOLD - 0.3)]).live
    low = judge_window([_evidence(LIVE_THRESHOLD - 0.1)] * 3)
    assert (low.verdict, low.reason) == ("spoof", "low_live_score")
    # One frame that is confidently a print denies a window whose mean would pass.
    confident = [_evidence(1.0), _evidence(1.0), _evidence(0.0, print_=CONFIDENT_ATTACK)]
    vetoed = judge_window(confident)
    assert (vetoed.verdict, vetoed.reason) == ("spoof", "confident_print")
    assert judge_window([_evidence(1.0), _evidence(1.0, cue="frame_edges")]).reason == (
        "frame_edges"
    )
    assert judge_window([]).reason == "no_evidence"


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
    kinds: list[AttackKind] = ["print", "phone"]
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


@pytest.mark.parametrize("attack", ["print", "phone"])
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
    assert report["apcer"]["print"]["items"] == 1 and report["apcer"]["replay"]["items"] == 2
    assert set(report["apcer_by_kind"]) == {"print", "tablet", "phone"}
    clip = next(i for i in report["items"] if i["file"].endswith(".mp4"))
    assert clip["frames"] > 30 and clip["windows"] > 10 and not clip["passed_as_live"]
    assert report["by_group"]["lestari_fake"]["passed_as_live"] == 0
    assert out.with_suffix(".png").stat().st_size > 20_000
    assert "passed as live (APCER)" in result.stdout


def test_the_border_of_a_held_up_print_is_seen_and_a_live_doorway_has_none(
    clips: dict[str, Path], models_dir: Path
) -> None:
    detector = FaceDetector(models_dir, "full")

    def borders(clip: Path) -> list[bool]:
        seen = []
        for frame in video_frames(clip, start_s=0.0, seconds=3.0, size=SIZE):
            face = nearest_face(detector.detect(frame))
            if face is not None:
                seen.append(frame_around(frame, face))
        return seen

    printed, live = borders(clips["print"]), borders(clips["live"])
    assert printed and live
    assert sum(printed) >= len(printed) // 2  # the sheet's four edges, in most frames
    assert not any(live)


def test_screen_moire_is_seen_in_a_monitor_and_not_in_live_skin(
    clips: dict[str, Path], faces: Path, models_dir: Path
) -> None:
    detector = FaceDetector(models_dir, "full")
    live = []
    for frame in video_frames(clips["live"], start_s=0.0, seconds=3.0, size=SIZE):
        face = nearest_face(detector.detect(frame))
        if face is not None:
            live.append(moire(frame, face))
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
