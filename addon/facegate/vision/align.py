"""Similarity alignment of a detected face onto the 112x112 ArcFace template.

MobileFaceNet and SFace were both trained on faces warped to this template (eyes, nose and
mouth at fixed places). BlazeFace gives the mouth centre rather than its corners, so the
template's two mouth corners are replaced by their midpoint.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from facegate.vision.types import Face, Image

TEMPLATE_SIZE = 112
# ArcFace's 112x112 landmarks: image-left eye, image-right eye, nose tip, mouth centre.
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [56.1396, 92.2848]],
    dtype=np.float64,
)


def similarity_transform(
    source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Least-squares rotation + uniform scale + translation mapping source onto target (Umeyama)."""
    src_mean, dst_mean = source.mean(0), target.mean(0)
    src, dst = source - src_mean, target - dst_mean
    covariance = dst.T @ src / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    variance = (src**2).sum() / len(source)
    scale = float((singular * np.diag(sign)).sum() / variance)
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align(image: Image, face: Face, size: int = TEMPLATE_SIZE) -> Image:
    """The face warped to the template at `size` pixels (BGR, uint8)."""
    source = face.keypoints[:4].astype(np.float64)
    matrix = similarity_transform(source, ARCFACE_TEMPLATE * (size / TEMPLATE_SIZE))
    warped = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(warped, dtype=np.uint8)
