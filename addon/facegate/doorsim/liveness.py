"""`facegate eval liveness`: presentation attacks against the door's own liveness decision.

Items come from a CSV (`file,label`, label `live`, `print` or `replay`; optional `kind` and
`group` columns name a finer attack type and the recording an item was cut from). A `.jpg` or
`.png` is one frame, judged on its own (one frame shows no motion, so only the models and the
cues judge it); an `.mp4` goes frame by frame through the door's analysis (detection, quality
gate, liveness evidence) and its decision window, exactly as a door decides, motion check and
held vetoes included: the item passes as live if any window the door would decide on is judged
live.

Reported: APCER (attacks passed as live) per attack label and kind, BPCER (live items refused),
with counts and one-sided 95 % upper bounds, per-item verdicts, per-recording results where
items name their group, and the rates against the live threshold.
"""

from __future__ import annotations

import csv
import datetime as dt
import platform
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facegate.access.liveness import CONFIDENT_ATTACK, LIVE_THRESHOLD
from facegate.access.policy import Verdict
from facegate.access.vote import TrackWindow
from facegate.config import DecisionConfig
from facegate.doorsim.simulate import upper_95
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.types import Image

LABELS = ("live", "print", "replay")
SWEEP = tuple(round(t, 2) for t in np.arange(0.05, 1.0, 0.05))
_UNIT = np.ones(2, dtype=np.float32) / np.sqrt(2, dtype=np.float32)
# The window judges only liveness here: every face is "unknown", so it slides on as a door's does.
_NOBODY = Verdict(reason="unknown", person_id=None, person_name=None, score=-1.0)


@dataclass(frozen=True, kw_only=True)
class Item:
    file: str
    label: str
    kind: str
    group: str


@dataclass(kw_only=True)
class ItemResult:
    file: str
    label: str
    kind: str
    group: str
    frames: int
    frames_with_evidence: int
    windows: int
    passed_as_live: bool
    # The best mean live score among the windows that pass every check but the score itself (no
    # frame vetoed by a confident attack or a cue, none held, the face moving like a face); None
    # when there was no such window. Passed as live iff it reaches the threshold, so the sweep
    # tells what another threshold would do with the motion check and the vetoes still on.
    best_score: float | None
    reasons: list[str]


def read_items(path: Path) -> list[Item]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a CSV with columns file,label (kind, group optional)")
    items = []
    for number, row in enumerate(rows, start=2):
        label = row["label"].strip()
        if label not in LABELS:
            raise ValueError(f"{path}:{number}: label {label!r} is not one of {', '.join(LABELS)}")
        items.append(
            Item(
                file=row["file"],
                label=label,
                kind=(row.get("kind") or label).strip(),
                group=(row.get("group") or "").strip(),
            )
        )
    return items


def frames_of(path: Path) -> Iterator[tuple[float, Image]]:
    """(time in seconds, frame): one for a still, every frame of a clip at its own rate."""
    if path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)  # applies EXIF orientation
        if image is None:
            raise ValueError(f"cannot read image {path}")
        yield 0.0, np.asarray(image, dtype=np.uint8)
        return
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f"cannot open clip {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield index / fps, np.asarray(frame, dtype=np.uint8)
            index += 1
    finally:
        capture.release()


def assess(
    item: Item, root: Path, analyzers: Mapping[str, FaceAnalyzer], decision: DecisionConfig
) -> ItemResult:
    path = root / item.file
    still = path.suffix.lower() != ".mp4"
    analyzer = analyzers["still" if still else "clip"]
    window = TrackWindow(
        required=1 if still else decision.votes_required,
        window=decision.votes_window,
        window_s=decision.window_s,
        judge=lambda _vector: _NOBODY,
    )
    frames = evidence = windows = 0
    best: float | None = None
    passed = False
    reasons: set[str] = set()
    for at, image in frames_of(path):
        frames += 1
        analysis = analyzer.analyze(image, embed=False)
        if analysis.liveness is None:
            continue
        evidence += 1
        outcome = window.add(at, _UNIT, analysis.liveness)
        if outcome is None or outcome.liveness is None:
            continue
        windows += 1
        verdict = outcome.liveness
        passed = passed or verdict.live
        if verdict.reason is not None:
            reasons.add(verdict.reason)
        # For the sweep, the best score among windows that only the score could deny. A window
        # under the threshold was never checked for motion: judge it again with no score to
        # reach (the motion check runs only then, not twice for every window).
        if verdict.reason == "low_live_score":
            verdict = outcome.judge_liveness(0.0) or verdict
        if verdict.live:
            best = verdict.score if best is None else max(best, verdict.score)
    return ItemResult(
        file=item.file,
        label=item.label,
        kind=item.kind,
        group=item.group,
        frames=frames,
        frames_with_evidence=evidence,
        windows=windows,
        passed_as_live=passed,
        best_score=None if best is None else round(best, 4),
        reasons=sorted(reasons),
    )


def _rate(count: int, total: int, key: str = "passed_as_live") -> dict[str, Any]:
    return {
        "items": total,
        key: count,
        "rate": round(count / total, 4) if total else None,
        "upper_95": round(upper_95(count, total), 4) if total else None,
    }


def summarise(results: list[ItemResult]) -> dict[str, Any]:
    live = [r for r in results if r.label == "live"]
    refused = sum(not r.passed_as_live for r in live)
    judged = [r for r in live if r.windows > 0]
    apcer = {
        label: _rate(sum(r.passed_as_live for r in group), len(group))
        for label in ("print", "replay")
        if (group := [r for r in results if r.label == label])
    }
    kinds: dict[str, list[ItemResult]] = defaultdict(list)
    live_kinds: dict[str, list[ItemResult]] = defaultdict(list)
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for result in results:
        (live_kinds if result.label == "live" else kinds)[result.kind].append(result)
        if result.group:
            groups[result.group].append(result)
    return {
        "bpcer": _rate(refused, len(live), "refused"),
        # The same over the live items the door could judge at all (ISO/IEC 30107-3 counts the
        # others as failures to acquire): a "step closer" or "look at the camera", not a spoof.
        "bpcer_judged": _rate(sum(not r.passed_as_live for r in judged), len(judged), "refused"),
        "bpcer_by_kind": {
            kind: _rate(sum(not r.passed_as_live for r in group), len(group), "refused")
            for kind, group in sorted(live_kinds.items())
        },
        # Items the door could not judge at all (too few frames with a face big and frontal
        # enough to fill one decision window):
        # counted above as refused (live) or kept out (attacks), and named here.
        "not_judged": {
            label: sum(1 for r in results if r.label == label and r.windows == 0)
            for label in LABELS
        },
        "apcer": apcer,
        "apcer_by_kind": {
            kind: _rate(sum(r.passed_as_live for r in group), len(group))
            for kind, group in sorted(kinds.items())
        },
        # Per label, then per recording or source: a synthetic set makes live attempts and
        # replays from the same clip, which must not be counted together.
        "by_group": {
            label: {
                name: {
                    "items": len(members),
                    "judged": sum(r.windows > 0 for r in members),
                    "passed_as_live": sum(r.passed_as_live for r in members),
                }
                for name, group in sorted(groups.items())
                if (members := [r for r in group if r.label == label])
            }
            for label in LABELS
        },
        "sweep": [_at(results, threshold) for threshold in SWEEP],
    }


def _at(results: list[ItemResult], threshold: float) -> dict[str, Any]:
    def passes(result: ItemResult) -> bool:
        return result.best_score is not None and result.best_score >= threshold

    row: dict[str, Any] = {"threshold": threshold}
    for label in LABELS:
        group = [r for r in results if r.label == label]
        if group:
            share = sum(map(passes, group)) / len(group)
            row["bpcer" if label == "live" else f"apcer_{label}"] = round(
                1 - share if label == "live" else share, 4
            )
    if judged := [r for r in results if r.label == "live" and r.windows > 0]:
        row["bpcer_judged"] = round(1 - sum(map(passes, judged)) / len(judged), 4)
    return row


def evaluate(
    items: list[Item],
    root: Path,
    analyzers: Mapping[str, FaceAnalyzer],
    decision: DecisionConfig,
) -> dict[str, Any]:
    """`analyzers` holds one for "still" items and one for "clip" items."""
    started = time.perf_counter()
    results = [assess(item, root, analyzers, decision) for item in items]
    frames = sum(r.frames for r in results)
    return {
        **summarise(results),
        "live_threshold": LIVE_THRESHOLD,
        "confident_attack": CONFIDENT_ATTACK,
        "frames_per_window": decision.votes_required,
        "items": [asdict(r) for r in results],
        "ms_per_frame": round(1000 * (time.perf_counter() - started) / max(frames, 1), 1),
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
