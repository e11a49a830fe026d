"""Synthetic presentation attacks: a face photo or clip turned into what a door camera would see
when somebody holds it up — a print, a cut-out, a phone or a monitor showing it.

For the liveness benchmark and tests only. Synthetic attacks are easier than real ones (a real
print has real paper, real ink, real light): figures on them are quoted apart from real ones.
Every renderer is deterministic for a given `random.Random`, and frames stay in memory.

The stages, each with its parameters drawn per attempt:
- the medium: print (ink colour loss, paper texture and white margin, optionally cut out along
  the head), or a screen (display gamma, a subpixel grid that beats with the camera's pixels
  into moiré, glare, a black bezel for a phone, none for a monitor filling the view);
- the hand: perspective tilt, and a shake and drift from frame to frame;
- the room: a background, a lighting gradient across the medium;
- the camera: defocus blur, sensor noise, JPEG.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from facegate.vision.types import Image

AttackKind = Literal["print", "cutout", "phone", "monitor"]
ATTACK_KINDS: tuple[AttackKind, ...] = ("print", "cutout", "phone", "monitor")
# What each rendering presents, as the liveness benchmark counts it.
ATTACK_LABEL: dict[AttackKind, Literal["print", "replay"]] = {
    "print": "print",
    "cutout": "print",
    "phone": "replay",
    "monitor": "replay",
}
Float = npt.NDArray[np.float32]


@dataclass(frozen=True, kw_only=True)
class Hand:
    """How the medium is held: where, how big, tilted how, shaking how much."""

    centre: tuple[float, float]  # in frame fractions
    height: float  # the medium's height as a share of the frame height
    tilt: tuple[float, float, float]  # yaw, pitch, roll in degrees
    shake_px: float
    drift_px: tuple[float, float]  # per frame


def _room(size: tuple[int, int], rng: random.Random) -> Float:
    """A plausible indoor background: two colours in a soft gradient, with blurred blobs."""
    width, height = size
    colours = [np.array([rng.uniform(40, 220) for _ in range(3)], np.float32) for _ in range(2)]
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    gradient = colours[0] * (1 - ramp) + colours[1] * ramp
    room = np.ascontiguousarray(np.broadcast_to(gradient, (height, width, 3)), dtype=np.float32)
    for _ in range(rng.randint(2, 6)):
        centre = (rng.randint(0, width), rng.randint(0, height))
        axes = (rng.randint(width // 10, width // 3), rng.randint(height // 10, height // 3))
        colour = tuple(rng.uniform(20, 235) for _ in range(3))
        cv2.ellipse(room, centre, axes, rng.uniform(0, 180), 0, 360, colour, -1)
    return np.asarray(cv2.GaussianBlur(room, (0, 0), sigmaX=width / 40), np.float32)


def _ink(photo: Float, rng: random.Random) -> Float:
    """A print: paler blacks, duller colours, a warm or cool paper, a little grain."""
    grey = photo.mean(axis=2, keepdims=True)
    saturation = rng.uniform(0.55, 0.85)
    inked = grey + (photo - grey) * saturation
    black, white = rng.uniform(25, 60), rng.uniform(215, 245)
    inked = black + inked * (white - black) / 255.0
    tint = np.array([rng.uniform(0.95, 1.0), 1.0, rng.uniform(0.97, 1.03)], np.float32)
    grain = np.asarray(np.random.default_rng(rng.randrange(2**32)).normal(0, 4, photo.shape[:2]))
    result: Float = (inked * tint + grain[:, :, None]).astype(np.float32)
    return result


def _screen(photo: Float, rng: random.Random) -> Float:
    """A display: its gamma and a subpixel grid (RGB stripes) that re-capture turns to moiré."""
    gamma = rng.uniform(0.8, 1.25)
    shown = np.asarray(
        255.0 * (np.clip(photo, 0, 255) / 255.0) ** gamma * rng.uniform(0.85, 1.1), np.float32
    )
    width = shown.shape[1]
    pitch = rng.choice([3, 3, 4])
    columns = np.arange(width) % pitch
    grid = np.full((width, 3), 0.35, np.float32)
    for channel, column in ((2, 0), (1, 1), (0, 2)):  # BGR: red, green, blue stripes
        grid[columns == column, channel] = 1.0
    result: Float = (shown * grid[None, :, :] * 1.6).astype(np.float32)
    return result


def _margin(photo: Float, rng: random.Random) -> Float:
    """A sheet of paper around the photo."""
    height, width = photo.shape[:2]
    pad = round(rng.uniform(0.04, 0.15) * max(height, width))
    paper = np.array([rng.uniform(225, 250)] * 3, np.float32)
    sheet = np.empty((height + 2 * pad, width + 2 * pad, 3), np.float32)
    sheet[:] = paper
    sheet[pad : pad + height, pad : pad + width] = photo
    return sheet


def _bezel(screen: Float, rng: random.Random) -> Float:
    """A phone around its screen: a black bezel, wider at the ends."""
    height, width = screen.shape[:2]
    side = round(rng.uniform(0.03, 0.07) * width)
    end = round(rng.uniform(0.08, 0.16) * height)
    body = np.full((height + 2 * end, width + 2 * side, 3), rng.uniform(5, 30), np.float32)
    body[end : end + height, side : side + width] = screen
    return body


def _cutout_mask(shape: tuple[int, ...], rng: random.Random) -> npt.NDArray[np.float32]:
    """A head-shaped cut: an ellipse around the face, a neck below, ragged by the scissors."""
    height, width = shape[:2]
    mask = np.zeros((height, width), np.float32)
    centre = (width // 2, round(height * rng.uniform(0.4, 0.47)))
    axes = (round(width * rng.uniform(0.3, 0.42)), round(height * rng.uniform(0.38, 0.46)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    neck_w = round(width * rng.uniform(0.12, 0.2))
    cv2.rectangle(mask, (width // 2 - neck_w, centre[1]), (width // 2 + neck_w, height), 1.0, -1)
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), 1.2), np.float32)


def _place(
    medium: Float,
    alpha: npt.NDArray[np.float32] | None,
    room: Float,
    hand: Hand,
    offset: tuple[float, float],
) -> Float:
    """The medium warped into the frame by the hand's perspective, over the room."""
    height, width = room.shape[:2]
    mh, mw = medium.shape[:2]
    scale = hand.height * height / mh
    cx, cy = hand.centre[0] * width + offset[0], hand.centre[1] * height + offset[1]
    yaw, pitch, roll = np.radians(hand.tilt)
    half = np.array([[-mw / 2, -mh / 2], [mw / 2, -mh / 2], [mw / 2, mh / 2], [-mw / 2, mh / 2]])
    # A tilt foreshortens the far side: the corners move in depth and shrink by perspective.
    depth = half[:, 0] * np.sin(yaw) + half[:, 1] * np.sin(pitch)
    perspective = 1.0 / (1.0 + depth / (3.0 * max(mw, mh)))
    rotation = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    corners = (half * perspective[:, None]) @ rotation.T * scale + np.array([cx, cy])
    source = np.array([[0, 0], [mw, 0], [mw, mh], [0, mh]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners.astype(np.float32))
    warped = cv2.warpPerspective(medium, matrix, (width, height), flags=cv2.INTER_LINEAR)
    cover = np.ones((mh, mw), np.float32) if alpha is None else alpha
    weight = cv2.warpPerspective(cover, matrix, (width, height), flags=cv2.INTER_LINEAR)[:, :, None]
    placed: Float = room * (1 - weight) + warped * weight
    return placed


def _camera(frame: Float, rng: random.Random, blur: float, noise: float, quality: int) -> Image:
    """The door camera's own look: defocus, sensor noise, compression."""
    if blur > 0.3:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), blur), np.float32)
    grain = np.random.default_rng(rng.randrange(2**32)).normal(0, noise, frame.shape)
    pixels = np.clip(frame + grain, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else pixels
    return np.asarray(decoded, dtype=np.uint8)


def _light(size: tuple[int, int], rng: random.Random, glare: bool) -> Float:
    """A gradient of light across the view, and for a screen a glare spot."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / width + np.sin(angle) * ys / height) * rng.uniform(0.1, 0.35)
    light = (1.0 - rng.uniform(0, 0.15)) + ramp - ramp.mean()
    if glare:
        gx, gy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        spread = rng.uniform(0.08, 0.2) * width
        light = light + rng.uniform(0.2, 0.6) * np.exp(
            -((xs - gx) ** 2 + (ys - gy) ** 2) / spread**2
        )
    result: Float = light[:, :, None].astype(np.float32)
    return result


def _at_most(image: Image, pixels: int) -> Image:
    """A large photo shrunk first: a print or a screen shows no more detail than the camera
    can take in, and rendering it full size would only cost time."""
    scale = pixels / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def render_attack(
    kind: AttackKind,
    source: Sequence[Image],
    rng: random.Random,
    *,
    frames: int,
    size: tuple[int, int] = (640, 480),
) -> Iterator[Image]:
    """`frames` camera frames of `source` (one photo, or a clip's frames) presented as `kind`."""
    room = _room(size, rng)
    fills = kind == "monitor"
    hand = Hand(
        centre=(rng.uniform(0.4, 0.6), rng.uniform(0.42, 0.55)),
        height=rng.uniform(1.1, 1.5) if fills else rng.uniform(0.55, 0.95),
        tilt=(rng.uniform(-25, 25), rng.uniform(-20, 20), rng.uniform(-10, 10)),
        shake_px=rng.uniform(0.5, 4.0),
        drift_px=(rng.uniform(-1.5, 1.5), rng.uniform(-1.0, 1.0)),
    )
    blur, noise, quality = rng.uniform(0.0, 1.6), rng.uniform(1.5, 6.0), rng.randint(60, 92)
    light = _light(size, rng, glare=kind in ("phone", "monitor"))
    # The medium is the same sheet or screen in every frame: its draws repeat from one seed.
    medium_seed = rng.randrange(2**32)
    for index in range(frames):
        photo = _at_most(source[index % len(source)], 960).astype(np.float32)
        same = random.Random(medium_seed)  # noqa: S311 (a reproducible rendering, not a secret)
        alpha = None
        if kind in ("print", "cutout"):
            medium = _ink(photo, same)
            if kind == "print":
                medium = _margin(medium, same)
            else:
                alpha = _cutout_mask(medium.shape, same)
        else:
            medium = _screen(photo, same)
            if kind == "phone":
                medium = _bezel(medium, same)
        offset = (
            hand.drift_px[0] * index + rng.gauss(0, hand.shake_px),
            hand.drift_px[1] * index + rng.gauss(0, hand.shake_px),
        )
        frame = np.asarray(_place(medium, alpha, room, hand, offset) * light, np.float32)
        yield _camera(frame, rng, blur, noise, quality)


def portrait(image: Image, box: tuple[float, float, float, float], rng: random.Random) -> Image:
    """Head and shoulders around a face box, as somebody would print or show it: the face
    takes a third to a half of the picture's width."""
    x, y, w, h = box
    width = w * rng.uniform(2.0, 3.0)
    height = width * rng.uniform(1.15, 1.4)
    cx, cy = x + w / 2, y + h / 2 + 0.25 * h
    left, top = max(0, round(cx - width / 2)), max(0, round(cy - height * 0.45))
    right = min(image.shape[1], round(cx + width / 2))
    bottom = min(image.shape[0], round(cy + height * 0.55))
    return np.ascontiguousarray(image[top:bottom, left:right])


def recapture(frames: Sequence[Image], rng: random.Random) -> Iterator[Image]:
    """Live frames through the same camera stage as the attacks (blur, noise, JPEG), so that
    compression is no tell between them."""
    blur, noise, quality = rng.uniform(0.0, 1.6), rng.uniform(1.5, 6.0), rng.randint(60, 92)
    for frame in frames:
        yield _camera(frame.astype(np.float32), rng, blur, noise, quality)


def door_view(
    frames: Sequence[Image],
    box: tuple[float, float, float, float],
    rng: random.Random,
    size: tuple[int, int] = (640, 480),
) -> list[Image]:
    """A clip framed as a door camera frames a person in front of it: one window around where
    the face is in the first frame, the face about a fifth of the width, for every frame."""
    x, y, w, h = box
    width = w * rng.uniform(3.8, 5.5)
    height = width * size[1] / size[0]
    cx, cy = x + w / 2, y + h / 2 + 0.2 * h
    frame_h, frame_w = frames[0].shape[:2]
    left = int(np.clip(cx - width / 2, 0, max(0, frame_w - width)))
    top = int(np.clip(cy - height / 2, 0, max(0, frame_h - height)))
    right, bottom = min(frame_w, round(left + width)), min(frame_h, round(top + height))
    return [np.asarray(cv2.resize(f[top:bottom, left:right], size), np.uint8) for f in frames]
