"""Whether a camera's frame is worth analysing: no work on an empty doorway.

Detection is the dearest thing done to a frame nobody stands in, so each camera keeps a small
grey copy of the last frame that was analysed and compares the new one with it. A frame is
analysed when enough of the picture changed, while a face was in view moments ago (a person at
the door keeps the full frame rate however still they stand), and at a low rate however still
the scene is, so a person who walked up while frames were being skipped is never missed for
long. Skipping can only delay a decision, never make one: nothing here opens a door.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facegate.vision.types import Image

# Every 8th pixel of every 8th row: 160 x 90 for a 720p frame, about 0.1 ms to compare.
STRIDE = 8
# A pixel moved when its grey level changed by more than this (H.264 noise stays well below).
PIXEL_CHANGE = 18
# The share of the small copy that must change: a face the quality gate would accept (eyes
# 20 px apart, about 50 px wide at 720p) covers about 0.25 % of the frame.
CHANGED_SHARE = 0.002
# A still scene is still analysed this often.
STILL_RECHECK_S = 1.0
# After a face was seen, every frame is analysed for this long: a face in view is seen on every
# frame, so this only bridges a frame or two the detector missed, or a person who turned away.
FACE_HOLD_S = 0.5


@dataclass(kw_only=True)
class MotionGate:
    enabled: bool = True
    _reference: npt.NDArray[np.uint8] | None = None
    _analysed_at: float = float("-inf")
    _face_at: float = float("-inf")

    def wants(self, image: Image, arrived: float) -> bool:
        """Whether to analyse this frame; when it says yes, the frame becomes the reference."""
        if not self.enabled:
            return True  # no copy to make: nothing is ever compared
        small = _small_grey(image)
        if (
            self._reference is None
            or self._reference.shape != small.shape
            or arrived - self._face_at < FACE_HOLD_S
            or arrived - self._analysed_at >= STILL_RECHECK_S
            or _changed(self._reference, small)
        ):
            self._reference = small
            self._analysed_at = arrived
            return True
        return False

    def saw_face(self, arrived: float) -> None:
        self._face_at = arrived


def _small_grey(image: Image) -> npt.NDArray[np.uint8]:
    sample = np.ascontiguousarray(image[::STRIDE, ::STRIDE])
    return np.asarray(cv2.cvtColor(sample, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _changed(before: npt.NDArray[np.uint8], after: npt.NDArray[np.uint8]) -> bool:
    moved = int(np.count_nonzero(cv2.absdiff(before, after) > PIXEL_CHANGE))
    return moved >= max(1, round(CHANGED_SHARE * before.size))
