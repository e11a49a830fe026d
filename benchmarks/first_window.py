"""A live face's first windows at the door: is it ever denied before it is let in?

    .venv/bin/python benchmarks/first_window.py [--clip MP4 ...] [--timings 200] [--out DIR]

A door decides on the frames it manages to take, and which those are depends on the stream
and the machine's load. Each clip (by default the demo's: the newcomer's live webcam man, and
with the shared data beside the checkout the live Hamilton clip, built as `facegate demo`
builds them) is analysed once, frame by frame, through the door's own analysis;
then `--timings` frame timings are drawn (a random start in the first 3 s, then steps of 1 to
3 frames, as a door behind its camera skips frames) and fed through the door's decision window
(`access/vote.py`, every face the same resident) until a window is judged live. Counted per
clip: timings whose first judged window was refused for showing no motion (which the door
denied as a spoof before 2026-12-03), timings in which the door now denies before it grants (a
final refusal), and timings that were let in at all.

Writes `first_window.json` and `first_window.png` into --out.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from facegate.access.policy import Verdict
from facegate.access.vote import TrackWindow
from facegate.config import DecisionConfig, QualityConfig
from facegate.demo import demo_home, find_shared, prepare
from facegate.doorsim.liveness import frames_of
from facegate.models import default_models_dir
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import create_embedder
from facegate.vision.liveness import LivenessEvidence, MiniFASNet
from facegate.vision.quality import QualityLimits

ROOT = Path(__file__).resolve().parents[1]
START_WITHIN = 30  # frames: where in the clip a face may first be taken
STEPS = (1, 1, 1, 2, 3)  # frames between two the door takes: mostly every one, sometimes behind
_RESIDENT = Verdict(reason="match", person_id="resident", person_name="Resident", score=0.9)
_UNIT = np.ones(2, dtype=np.float32) / np.sqrt(2, dtype=np.float32)


def evidence_of(clip: Path, analyzer: FaceAnalyzer) -> list[tuple[float, LivenessEvidence | None]]:
    """Each frame's time and liveness evidence, read as `facegate eval liveness` reads a clip;
    a clip that cannot be opened or holds no frame ends the run with a clear message."""
    try:
        found = [
            (at, analyzer.analyze(image, embed=False).liveness) for at, image in frames_of(clip)
        ]
    except ValueError as error:
        raise SystemExit(str(error)) from error
    if not found:
        raise SystemExit(f"{clip}: no frames could be read")
    return found


def one_timing(
    evidence: list[tuple[float, LivenessEvidence | None]], rng: random.Random
) -> dict[str, bool]:
    decision = DecisionConfig()
    window = TrackWindow(
        required=decision.votes_required,
        window=decision.votes_window,
        window_s=decision.window_s,
        judge=lambda _vector: _RESIDENT,
    )
    first_refused_for_stillness = denied_first = granted = False
    judged = 0
    index = rng.randrange(0, min(START_WITHIN, len(evidence)))
    while index < len(evidence) and not granted:
        at, seen = evidence[index]
        index += rng.choice(STEPS)
        if seen is None:
            continue
        outcome = window.add(at, _UNIT, seen)
        verdict = outcome.liveness if outcome is not None else None
        if verdict is None:
            continue
        judged += 1
        if judged == 1:
            first_refused_for_stillness = verdict.reason == "no_live_motion"
        granted = verdict.live
        denied_first = denied_first or (not verdict.live and verdict.final)
    return {
        "first_refused_for_stillness": first_refused_for_stillness,
        "denied_before_granted": denied_first and granted,
        "denied_never_granted": denied_first and not granted,
        "granted": granted,
    }


def plot(document: dict[str, Any], out: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    rows = document["clips"]
    keys = ["first_refused_for_stillness", "denied_before_granted", "granted"]
    labels = ["first window: no motion\n(a spoof before)", "denied, then let in\n(now)", "let in"]
    fig, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(rows), 1)
    for n, row in enumerate(rows):
        shares = [100 * row[k] / row["timings"] for k in keys]
        axis.bar(np.arange(len(keys)) + n * width, shares, width, label=Path(row["clip"]).name)
    axis.set_xticks(np.arange(len(keys)) + width * (len(rows) - 1) / 2, labels)
    axis.set(ylabel="% of frame timings", title="a live face's first windows at the door")
    axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, action="append", help="default: the demo's clip")
    parser.add_argument("--timings", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    models = default_models_dir()
    shared = find_shared()
    scenes = [None] if shared is None else [None, shared]  # the newcomer's, then Hamilton's
    clips = args.clip or [prepare(demo_home(), where, models).clip for where in scenes]
    embedder = create_embedder("mobilefacenet", models)  # never run: no vector is needed
    analyzer = FaceAnalyzer(
        FaceDetector(models, "full"),
        embedder,
        QualityLimits(**QualityConfig().model_dump()),
        liveness=MiniFASNet(models),
    )
    rows = []
    for clip in clips:
        evidence = evidence_of(clip, analyzer)
        rng = random.Random(f"first-window-{clip.name}")
        results = [one_timing(evidence, rng) for _ in range(args.timings)]
        row: dict[str, Any] = {"clip": clip.name, "frames": len(evidence), "timings": len(results)}
        for key in results[0]:
            row[key] = sum(r[key] for r in results)
        rows.append(row)
        print(json.dumps(row))
    document = {
        "measured": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "clips": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "first_window.json").write_text(json.dumps(document, indent=2) + "\n")
    plot(document, args.out / "first_window.png")
    print(f"wrote {args.out / 'first_window.json'} and first_window.png")


if __name__ == "__main__":
    main()
