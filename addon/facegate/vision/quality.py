"""Quality gates: a frame votes only if its face is big, sharp and frontal enough.

Poor frames are skipped rather than scored, because a blurred or turned face scores low against
its owner and, worse, less predictably against everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from facegate.vision.types import Face, Image

QualityReason = Literal["too_small", "blurry", "turned_away"]
# Nose-to-eyes over mouth-to-eyes on the ArcFace template: where a frontal face sits.
_FRONTAL_PITCH_RATIO = (71.7366 - 51.6) / (92.2848 - 51.6)


@dataclass(frozen=True, kw_only=True)
class QualityLimits:
    min_eye_distance_px: float
    min_sharpness: float
    max_yaw: float
    max_pitch: float


@dataclass(frozen=True, kw_only=True)
class QualityVerdict:
    reason: QualityReason | None
    eye_distance: float
    sharpness: float
    yaw: float
    pitch: float

    @property
    def ok(self) -> bool:
        return self.reason is None


def pose(face: Face) -> tuple[float, float]:
    """(yaw, pitch) as unitless offsets of the nose: 0 for a face looking straight in."""
    right_eye, left_eye, nose, mouth = face.keypoints[:4].astype(np.float64)
    eyes_mid = (right_eye + left_eye) / 2
    eye_axis = left_eye - right_eye
    eye_distance = float(np.linalg.norm(eye_axis))
    if eye_distance < 1e-6:
        return 1.0, 1.0
    unit = eye_axis / eye_distance
    normal = np.array([-unit[1], unit[0]])
    yaw = float(np.dot(nose - eyes_mid, unit) / eye_distance)
    mouth_depth = float(np.dot(mouth - eyes_mid, normal))
    if abs(mouth_depth) < 1e-6:
        return abs(yaw), 1.0
    pitch = float(np.dot(nose - eyes_mid, normal) / mouth_depth) - _FRONTAL_PITCH_RATIO
    return abs(yaw), abs(pitch)


def sharpness(aligned: Image) -> float:
    """Variance of the Laplacian of the aligned face: low when blurred or out of focus."""
    gray = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def judge(face: Face, aligned: Image, limits: QualityLimits) -> QualityVerdict:
    yaw, pitch = pose(face)
    sharp = sharpness(aligned)
    reason: QualityReason | None = None
    if face.eye_distance < limits.min_eye_distance_px:
        reason = "too_small"
    elif yaw > limits.max_yaw or pitch > limits.max_pitch:
        reason = "turned_away"
    elif sharp < limits.min_sharpness:
        reason = "blurry"
    return QualityVerdict(
        reason=reason, eye_distance=face.eye_distance, sharpness=sharp, yaw=yaw, pitch=pitch
    )
