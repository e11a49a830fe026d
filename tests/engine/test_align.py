"""Alignment: keypoints land on the ArcFace template, whatever the face's place, size and roll."""

import numpy as np
from facegate.vision.align import ARCFACE_TEMPLATE, align, similarity_transform
from facegate.vision.types import Face


def _transform(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]):
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]])
    return points @ (scale * rotation).T + np.array(shift)


def test_similarity_transform_recovers_rotation_scale_and_shift():
    source = _transform(ARCFACE_TEMPLATE, angle=0.4, scale=2.5, shift=(300.0, 120.0))
    matrix = similarity_transform(source, ARCFACE_TEMPLATE)
    mapped = source @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, ARCFACE_TEMPLATE, atol=1e-6)


def test_similarity_transform_never_mirrors():
    # Mirrored input (eyes swapped) must not be fixed by a reflection: that would align a
    # flipped face as if it were the real one.
    mirrored = ARCFACE_TEMPLATE * np.array([-1.0, 1.0]) + np.array([112.0, 0.0])
    matrix = similarity_transform(mirrored, ARCFACE_TEMPLATE)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_align_moves_marked_keypoints_onto_the_template():
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    keypoints = _transform(ARCFACE_TEMPLATE, angle=-0.3, scale=1.8, shift=(250.0, 140.0))
    for x, y in keypoints:
        image[round(y) - 1 : round(y) + 2, round(x) - 1 : round(x) + 2] = 255
    points = np.vstack([keypoints, [[0, 0], [0, 0]]]).astype(np.float32)
    face = Face(box=(200.0, 100.0, 250.0, 250.0), keypoints=points, score=0.9)
    aligned = align(image, face)
    assert aligned.shape == (112, 112, 3)
    for x, y in ARCFACE_TEMPLATE:
        patch = aligned[round(y) - 2 : round(y) + 3, round(x) - 2 : round(x) + 3]
        assert patch.max() > 100, f"no bright mark near template point ({x:.0f}, {y:.0f})"
