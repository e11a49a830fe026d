"""Did the face move like a living face between two frames, or like a picture?

A print, a cut-out or a photo on a screen is flat and rigid: however it is held, moved or
tilted, every point of the face moves by one projective map (a homography) from one frame to
the next. A living face does not: it blinks, talks, breathes, and its nose moves against its
cheeks as the head turns. So the door tracks corner points of the face from the window's first
frame to its last (pyramidal Lucas-Kanade, checked forwards and backwards), fits one homography
to them and measures what it cannot explain: the 80th percentile of the points' distances from
it, in pixels of a face scaled to `PATCH` pixels.

Measured on the synthetic set of benchmarks/liveness.py (2026-12-03, frames 0.4 s apart at
10 fps in every other clip): of hand-held prints 5 % reached 0.6 px, of cut-outs none; of
photos on a phone or a monitor 35 % (glare and moiré do not move with the picture), of live
clips 62 %. When the check came in, over whole 1.5 s attempts with the models and cues,
cut-out prints passing as live went from 22 of 60 to 1 and photos on a monitor from 10 of 60
to 0, and no live attempt the models accepted was refused. A live face that stays perfectly
still looks rigid too; the door then measures it against an earlier frame of the same face
(access/vote.py), and refuses it only if it has not moved at all for a second, the price of
refusing a photo held perfectly still. A video replayed on a screen moves like a face and is
left to the other evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facegate.vision.types import Face, Image

PATCH = 128  # the face region is tracked at this width, whatever the face's size
# Half the tracked region's width, in face widths: the face box and a little around it.
_HALF = 0.55
# Below this (px at PATCH) the window's motion is what one homography explains: a picture.
NON_RIGID_MIN_PX = 0.6
_POINTS = 80  # corners tracked: enough for a steady 80th percentile, cheap to track
_MIN_POINTS = 12
_ROUND_TRIP_PX = 0.5  # a point tracked forwards and back must land this close to where it began
# Pyramid levels above the patch itself: each patch is cut at its own face box, so the face
# moves little within it, and one level tracks a third faster than two (1.0 ms against 1.5).
_LEVELS = 1
_INLIER_PX = 1.0  # a point this close to a candidate homography counts for it
# Enough to find the face's plane among the points when half do not lie on it (99.8 %),
# and a bound on the time: unbounded, a live face's RANSAC fit took 21 ms at the 95th percentile.
_FIT_ITERATIONS = 100
# The fit is RHO (PROSAC sampling with early exits), not RANSAC: inside the door, on a live
# face, RANSAC ran to its bound and took 1.6 ms p50 of a 4 ms check; RHO takes about 0.1 ms.
# RHO and one pyramid level, against RANSAC and two (2026-12-03, `facegate eval liveness` on
# the sets of benchmarks/liveness.py): the same verdict for all 460 synthetic and 52 real items,
# so the same APCER and BPCER (two live attempts had a window refused for no motion before
# another let them in); on the synthetic face pairs 0.4 s apart, 112 of 180 live pairs moved
# like a face against 117 of 178, and attacks 237 of 649 against 236.
_FIT_METHOD = cv2.RHO


@dataclass(frozen=True, kw_only=True)
class FaceMotion:
    non_rigid_px: float  # 80th percentile distance from the best homography, px at PATCH
    moved_px: float  # median distance the tracked points moved, px at PATCH
    points: int

    @property
    def live(self) -> bool:
        return self.non_rigid_px >= NON_RIGID_MIN_PX


def face_patch(image: Image, face: Face) -> Image:
    """The face's region in grey, scaled so that the face is PATCH pixels wide. Each frame is
    cut at its own face box: measured against cutting both frames of a check at the first
    frame's box, this refused 2 fewer of 49 live attempts and let no more attacks through."""
    x, y, w, h = face.box
    centre_x, centre_y, half = x + w / 2, y + h / 2, _HALF * w
    scale = PATCH / (2 * half)
    warp = np.array(
        [[scale, 0, -(centre_x - half) * scale], [0, scale, -(centre_y - half) * scale]],
        dtype=np.float32,
    )
    region = cv2.warpAffine(image, warp, (PATCH, PATCH), flags=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def face_motion(first: Image, last: Image) -> FaceMotion | None:
    """How the face moved from `first` to `last` (two face_patch results); None when too few
    points could be tracked to tell (a blank or blurred face)."""
    start = cv2.goodFeaturesToTrack(first, maxCorners=_POINTS, qualityLevel=0.01, minDistance=5)
    if start is None or len(start) < _MIN_POINTS:
        return None
    window = (15, 15)
    moved, found, _ = cv2.calcOpticalFlowPyrLK(
        first, last, start, np.empty_like(start), winSize=window, maxLevel=_LEVELS
    )
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(
        last, first, moved, np.empty_like(start), winSize=window, maxLevel=_LEVELS
    )
    round_trip = np.linalg.norm((back - start).reshape(-1, 2), axis=1)
    kept = (found.ravel() == 1) & (found_back.ravel() == 1) & (round_trip < _ROUND_TRIP_PX)
    before, after = start.reshape(-1, 2)[kept], moved.reshape(-1, 2)[kept]
    if len(before) < _MIN_POINTS:
        return None
    homography, _ = cv2.findHomography(
        before, after, _FIT_METHOD, _INLIER_PX, maxIters=_FIT_ITERATIONS
    )
    if homography is None:
        return None
    predicted = cv2.perspectiveTransform(before[None], homography)[0]
    return FaceMotion(
        non_rigid_px=float(np.percentile(np.linalg.norm(predicted - after, axis=1), 80)),
        moved_px=float(np.median(np.linalg.norm(after - before, axis=1))),
        points=len(before),
    )
