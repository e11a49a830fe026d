"""Is the face in front of the camera alive? One frame's evidence, from the MiniFASNet pair.

MiniFASNetV2 looks at the face's surroundings 2.7 times the face box, MiniFASNetV1SE at 4.0
times: a phone's bezel, a sheet's edge, moiré and the flat light of a screen show there. Each
crop is resized to 80x80 and fed as upstream feeds it (BGR, 0-255, no normalisation); each
network gives three classes (print, live, replay), and the two softmaxes are averaged. They run
on LiteRT, on one thread as the detector and the embedder do, from TFLite files converted from
the shipped ONNX ones (NOTICE; the parity test holds both to PyTorch's logits): inside the
engine, OpenCV's DNN module running the ONNX files made the stage 1 to 2.5 ms slower at p50
(2026-12-03, benchmarks/latency.py, runs interleaved).

A face too small to show that evidence, or so close that it fills the view, gives none: it is
"no evidence", never "live". Cheap
cues that can only deny ride along (liveness_cues.py), and a small grey copy of the face's region
goes with the evidence so that the decision window can tell how the face moved between its
frames (liveness_motion.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
from ai_edge_litert.interpreter import Interpreter

from facegate.models import model_path
from facegate.vision.liveness_cues import FRAME_EDGES, MOIRE, MOIRE_LIMIT, frame_around, moire
from facegate.vision.liveness_motion import face_patch
from facegate.vision.types import Face, Image

# (model file, how many times the face box its crop spans)
MINIFASNET = (("2.7_80x80_MiniFASNetV2.tflite", 2.7), ("4_0_0_80x80_MiniFASNetV1SE.tflite", 4.0))
INPUT_SIZE = 80
# Below this face width the 80x80 crops are upscaled noise: no evidence either way.
MIN_FACE_WIDTH_PX = 60.0
# A face that fills the camera's view (the picture less than this many face boxes wide or
# high) shows none of the surroundings the models look at: no evidence either. A door camera
# sees a person whole; a phone pressed to the lens would hide its bezel this way. Every door-
# camera and webcam frame measured had at least 1.45, the tight face crops of pad_real_dev 0.9.
MIN_CONTEXT = 1.2


@dataclass(frozen=True, kw_only=True)
class LivenessEvidence:
    """One frame's say on liveness: the pair's averaged class probabilities, the name of a
    deny-only cue if one fired (the frame of a screen or a sheet around the face), and the
    face's region in grey for the window's motion check (held in memory only, never stored)."""

    live: float
    print: float
    replay: float
    cue: str | None = None
    patch: Image | None = field(default=None, compare=False, repr=False)


class LivenessModel(Protocol):
    name: str

    def assess(self, image: Image, face: Face) -> LivenessEvidence | None:
        """The frame's evidence, or None when the face is too small to give any."""
        ...


def crop_box(
    width: int, height: int, box: tuple[float, float, float, float], scale: float
) -> tuple[int, int, int, int]:
    """Upstream's CropImage._get_new_box: the box scaled around its centre (less when the image
    is too small), shifted back inside the image rather than cut."""
    x, y, box_w, box_h = box
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    centre_x, centre_y = x + box_w / 2, y + box_h / 2
    left, top = centre_x - new_w / 2, centre_y - new_h / 2
    right, bottom = centre_x + new_w / 2, centre_y + new_h / 2
    if left < 0:
        right, left = right - left, 0.0
    if top < 0:
        bottom, top = bottom - top, 0.0
    if right > width - 1:
        left, right = left - (right - width + 1), width - 1.0
    if bottom > height - 1:
        top, bottom = top - (bottom - height + 1), height - 1.0
    return int(left), int(top), int(right), int(bottom)


def _softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    shifted = np.exp(logits.astype(np.float64) - logits.max())
    result: npt.NDArray[np.float64] = shifted / shifted.sum()
    return result


def _cue(image: Image, face: Face) -> str | None:
    if moire(image, face) >= MOIRE_LIMIT:
        return MOIRE
    return FRAME_EDGES if frame_around(image, face) else None


def _cue_and_patch(image: Image, face: Face) -> tuple[str | None, Image]:
    return _cue(image, face), face_patch(image, face)


class LivenessNet:
    """One MiniFASNet on LiteRT: a 1x80x80x3 crop (NHWC) in, the three classes' logits out."""

    def __init__(self, path: Path) -> None:
        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

    def logits(self, crop: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        self._interpreter.set_tensor(self._input, crop)
        self._interpreter.invoke()
        return np.array(self._interpreter.get_tensor(self._output), dtype=np.float32).reshape(-1)


class MiniFASNet:
    name = "minifasnet"

    def __init__(self, models_dir: Path, min_face_width_px: float = MIN_FACE_WIDTH_PX) -> None:
        self._nets = [
            (LivenessNet(model_path(models_dir, file)), scale) for file, scale in MINIFASNET
        ]
        self._min_width = min_face_width_px
        self._lock = threading.Lock()  # shared by the engine's threads: one call at a time
        self._beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liveness-cues")

    def assess(self, image: Image, face: Face) -> LivenessEvidence | None:
        height, width = image.shape[:2]
        if face.width < self._min_width or min(height / face.box[3], width / face.box[2]) < (
            MIN_CONTEXT
        ):
            return None
        # The cues and the face's grey region need nothing from the models: they are worked out
        # on the second core while the pair runs on this one (OpenCV and LiteRT let go of
        # Python's lock while they compute). Same evidence, bit for bit; in benchmarks/latency.py
        # (2026-12-03, five runs interleaved with the stage in sequence) the stage's p50 fell from
        # 5.8-6.3 ms to 3.5-3.8, and its p95 with the motion check from 8.1-10.4 to 6.8-9.2.
        beside = self._beside.submit(_cue_and_patch, image, face)
        probabilities = np.zeros(3)
        for net, scale in self._nets:
            left, top, right, bottom = crop_box(width, height, face.box, scale)
            patch = cv2.resize(image[top : bottom + 1, left : right + 1], (INPUT_SIZE, INPUT_SIZE))
            with self._lock:
                output = net.logits(patch.astype(np.float32)[None])
            probabilities += _softmax(output)
        probabilities /= len(self._nets)
        cue, region = beside.result()
        return LivenessEvidence(
            print=float(probabilities[0]),
            live=float(probabilities[1]),
            replay=float(probabilities[2]),
            cue=cue,
            patch=region,
        )
