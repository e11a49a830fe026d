"""Verification accuracy of an embedder on a folder of `<person>/<image>` and a pair list.

Every image goes through the same path as a door frame (BlazeFace, alignment, embedder). A face
the detector misses is not skipped: its pairs score -1, so a genuine pair counts as a false
reject and the miss is charged to the embedder's figures.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facegate.vision.detect import DetectorRange, FaceDetector
from facegate.vision.embed import Embedder
from facegate.vision.types import Face, Image, Vector

MISSING_SCORE = -1.0
FARS = (1e-2, 1e-3, 1e-4)
EMBED_BATCH = 2


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    same: bool


@dataclass(kw_only=True)
class EvalResult:
    embedder: str
    pairs_genuine: int
    pairs_impostor: int
    tar_at_far_1e_2: float
    tar_at_far_1e_3: float
    tar_at_far_1e_4: float
    eer: float
    threshold_at_far_1e_3: float
    threshold_at_far_1e_4: float
    ms_per_face: float
    ms_per_detection: float
    failed_to_detect: int
    images: int

    def to_json(self) -> dict[str, object]:
        # Keys as the issue names them (tar_at_far_1e-3), which are not Python identifiers.
        return {key.replace("_1e_", "_1e-"): value for key, value in asdict(self).items()}


def read_pairs(path: Path) -> list[Pair]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"img1", "img2", "same"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a CSV with columns img1,img2,same")
    return [
        Pair(row["img1"], row["img2"], row["same"].strip().lower() in {"1", "true", "yes"})
        for row in rows
    ]


def central_face(faces: Sequence[Face], width: int, height: int) -> Face | None:
    """The face nearest the image centre: the labelled subject in a cropped dataset photo."""
    if not faces:
        return None
    centre = np.array([width / 2, height / 2])

    def distance(face: Face) -> float:
        x, y, w, h = face.box
        return float(np.linalg.norm(np.array([x + w / 2, y + h / 2]) - centre))

    return min(faces, key=distance)


def tar_at_far(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64], far: float
) -> tuple[float, float]:
    """(TAR, threshold): the lowest threshold whose impostor accept rate stays <= far.

    Accept means score > threshold. With n impostors, FAR below 1/n can only mean zero false
    accepts, so the threshold is then the highest impostor score.
    """
    ranked = np.sort(impostor)[::-1]
    allowed = int(np.floor(far * len(ranked)))
    threshold = float(ranked[min(allowed, len(ranked) - 1)])
    return float(np.mean(genuine > threshold)), threshold


def equal_error_rate(genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64]) -> float:
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    frr = np.searchsorted(np.sort(genuine), thresholds, side="right") / len(genuine)
    far = 1.0 - np.searchsorted(np.sort(impostor), thresholds, side="right") / len(impostor)
    best = int(np.argmin(np.abs(frr - far)))
    return float((frr[best] + far[best]) / 2)


def evaluate(
    *,
    dataset: Path,
    pairs: Sequence[Pair],
    embedder: Embedder,
    detector: FaceDetector,
) -> tuple[EvalResult, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    names = sorted({p.first for p in pairs} | {p.second for p in pairs})
    vectors: dict[str, Vector | None] = {}
    pending: list[tuple[str, Image, Face]] = []
    detect_s = embed_s = 0.0
    embedded = 0

    def flush() -> float:
        # Faces go to the embedder two at a time: MobileFaceNet's graph has a fixed batch of
        # two, and every backend is timed the same way.
        started = time.perf_counter()
        batch = embedder.embed_many([(image, face) for _, image, face in pending])
        vectors.update(zip([name for name, _, _ in pending], batch, strict=True))
        pending.clear()
        return time.perf_counter() - started

    for name in names:
        decoded = cv2.imread(str(dataset / name), cv2.IMREAD_COLOR)
        if decoded is None:
            raise ValueError(f"cannot read image {dataset / name}")
        image: Image = np.asarray(decoded, dtype=np.uint8)
        started = time.perf_counter()
        face = central_face(detector.detect(image), image.shape[1], image.shape[0])
        detect_s += time.perf_counter() - started
        if face is None:
            vectors[name] = None
            continue
        pending.append((name, image, face))
        embedded += 1
        if len(pending) == EMBED_BATCH:
            embed_s += flush()
    if pending:
        embed_s += flush()
    genuine: list[float] = []
    impostor: list[float] = []
    for pair in pairs:
        a, b = vectors[pair.first], vectors[pair.second]
        score = MISSING_SCORE if a is None or b is None else float(np.dot(a, b))
        (genuine if pair.same else impostor).append(score)
    gen, imp = np.asarray(genuine), np.asarray(impostor)
    if not len(gen) or not len(imp):
        raise ValueError("the pair list needs both genuine and impostor pairs")
    rates = {far: tar_at_far(gen, imp, far) for far in FARS}
    result = EvalResult(
        embedder=embedder.name,
        pairs_genuine=len(gen),
        pairs_impostor=len(imp),
        tar_at_far_1e_2=rates[1e-2][0],
        tar_at_far_1e_3=rates[1e-3][0],
        tar_at_far_1e_4=rates[1e-4][0],
        eer=equal_error_rate(gen, imp),
        threshold_at_far_1e_3=rates[1e-3][1],
        threshold_at_far_1e_4=rates[1e-4][1],
        ms_per_face=1000.0 * embed_s / max(embedded, 1),
        ms_per_detection=1000.0 * detect_s / max(len(names), 1),
        failed_to_detect=sum(v is None for v in vectors.values()),
        images=len(names),
    )
    return result, gen, imp


def write_plot(
    path: Path,
    curves: Sequence[tuple[str, npt.NDArray[np.float64], npt.NDArray[np.float64]]],
) -> None:
    """ROC (TAR against FAR, log scale) and DET (FRR against FAR) for one or more embedders."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (roc, det) = plt.subplots(1, 2, figsize=(11, 4.5))
    for label, gen, imp in curves:
        thresholds = np.unique(np.concatenate([gen, imp]))[::-1]
        far = np.array([np.mean(imp > t) for t in thresholds])
        tar = np.array([np.mean(gen > t) for t in thresholds])
        # Rates of zero cannot sit on a log axis: draw them at half of one pair instead.
        roc.plot(np.maximum(far, 0.5 / len(imp)), tar, label=label)
        det.plot(np.maximum(far, 0.5 / len(imp)), np.maximum(1 - tar, 0.5 / len(gen)), label=label)
    for marked in FARS:
        roc.axvline(marked, color="grey", linewidth=0.5, linestyle=":")
    roc.set(xscale="log", xlabel="false accept rate", ylabel="true accept rate", title="ROC")
    # The interesting part of a face-verification ROC is its top: below 80 % is a broken model.
    roc.set_ylim(0.8, 1.001)
    det.set(
        xscale="log",
        yscale="log",
        xlabel="false accept rate",
        ylabel="false reject rate",
        title="DET",
    )
    for axis in (roc, det):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_eval(
    *,
    dataset: Path,
    pairs_csv: Path,
    embedder: Embedder,
    models_dir: Path,
    detector_range: DetectorRange,
    json_out: Path,
) -> EvalResult:
    pairs = read_pairs(pairs_csv)
    detector = FaceDetector(models_dir, detector_range)
    result, gen, imp = evaluate(dataset=dataset, pairs=pairs, embedder=embedder, detector=detector)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    write_plot(json_out.with_suffix(".png"), [(embedder.name, gen, imp)])
    return result
