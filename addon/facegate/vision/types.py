"""Values passed between the vision stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # H x W x 3, BGR as OpenCV decodes it
Vector = npt.NDArray[np.float32]  # L2-normalised embedding


@dataclass(frozen=True, kw_only=True)
class Face:
    """One detected face in image pixel coordinates.

    Keypoints follow BlazeFace's order: the subject's right eye, left eye, nose tip, mouth
    centre, right ear tragion, left ear tragion (the subject's right eye is on the image's left).
    """

    box: tuple[float, float, float, float]  # x, y, width, height
    keypoints: npt.NDArray[np.float32]  # 6 x 2
    score: float

    @property
    def width(self) -> float:
        return self.box[2]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.keypoints[1] - self.keypoints[0]))
