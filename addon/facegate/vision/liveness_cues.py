"""Cheap cues that can only deny: what a live face never has on or around it.

`frame_around` looks for the straight edges of a phone, tablet, monitor or sheet of paper on all
four sides of the face: a screen or a print held up shows its border within a few face widths,
while a doorway or a wall behind a person lies further out or does not enclose the face on
every side. It looks up to four face widths to the sides and five face heights up and down
(`_REACH` 2.5): a phone showing a whole scene has its bezel that far out. Measured on the
synthetic attacks and live clips of benchmarks/liveness.py: it fired on 2 of 635 live frames
(none of the real ones) and on 302 of 379 phone-replay frames (46 with `_REACH` 1.4); three
sides already fired on 15 % of the live clips (columns and flags behind a speaker), so all
four are required.

`moire` looks for the screen in the face itself: a display's pixel grid, re-sampled by the
camera, leaves sharp periodic peaks in the spectrum of the skin, which is smooth in a live face.
The cue is the highest peak in the mid-to-high band over the band's median, on a 64x64 patch at
the face's centre, high-passed and windowed. Measured: live frames at most 23 (real, pad_real_dev)
and 33 (the synthetic set's live clips); real phone replays 9 to 41 (caught by MiniFASNet
anyway); synthetic monitors mostly far above. It fires from 40, above every live frame seen.
"""

from __future__ import annotations

import cv2
import numpy as np

from facegate.vision.types import Face, Image

FRAME_EDGES = "frame_edges"
MOIRE = "screen_moire"
MOIRE_LIMIT = 40.0
_PATCH = 64
# How far from the face's centre a border may lie, in face widths (sideways) or heights.
_REACH = 2.5
_MIN_LINE = 1.0  # a border line is at least one face width long
_ANGLE_SLACK = 25.0  # degrees a held-up medium may be turned


_FACE_PX = 60  # the region is looked at with the face this wide: the cue costs the same always
# The moiré patch's window and spectral band are the same for every frame: made once.
_WINDOW = np.outer(np.hanning(_PATCH), np.hanning(_PATCH)).astype(np.float32)
_RADIUS = np.hypot(*np.mgrid[-_PATCH // 2 : _PATCH // 2, -_PATCH // 2 : _PATCH // 2])
_BAND = (_RADIUS > 0.12 * _PATCH) & (_RADIUS < 0.48 * _PATCH)


def frame_around(image: Image, face: Face) -> bool:
    """True when straight edges enclose the face on all four sides, close to it."""
    x, y, w, h = face.box
    cx, cy = x + w / 2, y + h / 2
    height, width = image.shape[:2]
    left, top = max(0, int(cx - 2 * _REACH * w)), max(0, int(cy - 2 * _REACH * h))
    right, bottom = min(width, int(cx + 2 * _REACH * w)), min(height, int(cy + 2 * _REACH * h))
    region = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_BGR2GRAY)
    scale = min(1.0, _FACE_PX / w)
    if scale < 1.0:
        region = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        cx, cy, w, h = (cx - left) * scale + left, (cy - top) * scale + top, w * scale, h * scale
    edges = cv2.Canny(cv2.GaussianBlur(region, (5, 5), 0), 40, 120)
    lines = cv2.HoughLinesP(
        edges,
        1,
        np.pi / 180,
        threshold=max(10, int(0.6 * w)),
        minLineLength=int(_MIN_LINE * w),
        maxLineGap=max(1, int(0.08 * w)),
    )
    if lines is None:
        return False
    # All the lines at once: a busy scene gives a few hundred, too many for a Python loop.
    x1, y1, x2, y2 = lines.reshape(-1, 4).astype(np.float64).T
    angle = np.abs(np.degrees(np.arctan2(y2 - y1, x2 - x1))) % 180
    dx, dy = (x1 + x2) / 2 - (cx - left), (y1 + y2) / 2 - (cy - top)  # from the face's centre
    level = (angle < _ANGLE_SLACK) | (angle > 180 - _ANGLE_SLACK)
    upright = np.abs(angle - 90) < _ANGLE_SLACK
    above_below = level & (0.6 * h < np.abs(dy)) & (np.abs(dy) < 2 * _REACH * h)
    beside = upright & (0.6 * w < np.abs(dx)) & (np.abs(dx) < 1.6 * _REACH * w)
    return bool(
        (above_below & (dy < 0)).any()
        and (above_below & (dy >= 0)).any()
        and (beside & (dx < 0)).any()
        and (beside & (dx >= 0)).any()
    )


def moire(image: Image, face: Face) -> float:
    """The spectral peak ratio of the face's centre (0 when the patch does not fit)."""
    x, y, w, h = face.box
    cx, cy, half = int(x + w / 2), int(y + h / 2), _PATCH // 2
    if cx < half or cy < half or cx + half > image.shape[1] or cy + half > image.shape[0]:
        return 0.0
    patch = cv2.cvtColor(image[cy - half : cy + half, cx - half : cx + half], cv2.COLOR_BGR2GRAY)
    detail = patch.astype(np.float32) - cv2.GaussianBlur(patch.astype(np.float32), (0, 0), 2.0)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(detail * _WINDOW)))
    band = spectrum[_BAND]
    return float(band.max() / (np.median(band) + 1e-6))
