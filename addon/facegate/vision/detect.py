"""BlazeFace face detection (MediaPipe's short- and full-range models) run on LiteRT.

The anchor layout, box decoding and weighted non-maximum suppression follow MediaPipe's
`face_detection_{short,full}_range` graphs, so the models behave as they do inside MediaPipe
without shipping MediaPipe itself (it has no wheels for Home Assistant OS's musl base).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from ai_edge_litert.interpreter import Interpreter

from facegate.models import model_path
from facegate.vision.types import Face, Image

DetectorRange = Literal["short", "full"]


@dataclass(frozen=True)
class _Variant:
    model: str
    size: int
    strides: tuple[int, ...]
    anchors_per_stride_layer: int  # aspect ratio 1.0 plus, where used, the interpolated scale
    min_score: float


_VARIANTS: dict[DetectorRange, _Variant] = {
    # Faces within ~2 m that fill much of the frame (a doorbell close-up, an enrolment photo).
    "short": _Variant("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5),
    # Faces up to ~5 m away in a wide frame (a camera above the door).
    "full": _Variant("face_detection_full_range.tflite", 192, (4,), 1, 0.6),
}

_NMS_IOU = 0.3


def _anchors(variant: _Variant) -> npt.NDArray[np.float32]:
    centres: list[tuple[float, float]] = []
    layer = 0
    while layer < len(variant.strides):
        stride = variant.strides[layer]
        repeats = 0
        while layer < len(variant.strides) and variant.strides[layer] == stride:
            repeats += variant.anchors_per_stride_layer
            layer += 1
        cells = math.ceil(variant.size / stride)
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
    anchors: npt.NDArray[np.float32] = np.asarray(centres, dtype=np.float32)
    return anchors


def _iou(box: npt.NDArray[np.float32], others: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    ratio: npt.NDArray[np.float32] = (inter / np.maximum(area + areas - inter, 1e-9)).astype(
        np.float32
    )
    return ratio


def weighted_nms(
    corners: npt.NDArray[np.float32],
    keypoints: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    iou_threshold: float = _NMS_IOU,
) -> list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], float]]:
    """MediaPipe's WEIGHTED suppression: overlapping candidates are averaged by score."""
    order = np.argsort(-scores)
    remaining = order
    kept = []
    while remaining.size:
        top = remaining[0]
        overlap = _iou(corners[top], corners[remaining])
        group = remaining[overlap > iou_threshold]
        weights = scores[group][:, None]
        box = (corners[group] * weights).sum(0) / weights.sum()
        points = (keypoints[group] * weights[:, :, None]).sum(0) / weights.sum()
        kept.append((box.astype(np.float32), points.astype(np.float32), float(scores[top])))
        remaining = remaining[overlap <= iou_threshold]
    return kept


class FaceDetector:
    """Finds faces in a BGR image; returns them in image pixels, best first."""

    def __init__(self, models_dir: Path, detector_range: DetectorRange = "full") -> None:
        self._variant = _VARIANTS[detector_range]
        path = model_path(models_dir, self._variant.model)
        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        # Regressors have 16 values per anchor, classificators one.
        self._regressors = next(o["index"] for o in outputs if o["shape"][-1] == 16)
        self._classifiers = next(o["index"] for o in outputs if o["shape"][-1] == 1)
        self._anchors = _anchors(self._variant)
        # One engine shares this detector between its vision workers and enrolment: the
        # interpreter holds one call's tensors, so calls take turns (the rest runs in parallel).
        self._lock = threading.Lock()

    def detect(self, image: Image) -> list[Face]:
        size = self._variant.size
        height, width = image.shape[:2]
        # Letterbox to a square as MediaPipe does, so faces keep their proportions.
        scale = size / max(height, width)
        new_w, new_h = round(width * scale), round(height * scale)
        pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
        canvas = np.zeros((size, size, 3), dtype=np.uint8)
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.cvtColor(
            resized, cv2.COLOR_BGR2RGB
        )
        tensor = (canvas.astype(np.float32) / 127.5 - 1.0)[None]
        with self._lock:
            self._interpreter.set_tensor(self._input, tensor)
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._regressors)[0].copy()
            logits = self._interpreter.get_tensor(self._classifiers)[0, :, 0].copy()
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100.0, 100.0)))
        chosen = scores >= self._variant.min_score
        if not chosen.any():
            return []
        raw, scores, anchors = raw[chosen], scores[chosen].astype(np.float32), self._anchors[chosen]
        centre = raw[:, 0:2] / size + anchors
        half = raw[:, 2:4] / size / 2.0
        corners = np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)
        points = (raw[:, 4:16].reshape(-1, 6, 2) / size + anchors[:, None, :]).astype(np.float32)
        faces = []
        for box, kps, score in weighted_nms(corners, points, scores):
            # From the padded square's unit coordinates back to the original image's pixels.
            to_px = np.array([size, size], dtype=np.float32)
            offset = np.array([pad_x, pad_y], dtype=np.float32)
            x1, y1 = (box[:2] * to_px - offset) / scale
            x2, y2 = (box[2:] * to_px - offset) / scale
            kps_px = ((kps * to_px - offset) / scale).astype(np.float32)
            faces.append(
                Face(
                    box=(float(x1), float(y1), float(x2 - x1), float(y2 - y1)),
                    keypoints=kps_px,
                    score=score,
                )
            )
        return faces
