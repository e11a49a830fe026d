"""Detection and embedding on real photographs from the shared face data."""

import cv2
import numpy as np
import pytest
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.detect import FaceDetector
from facegate.vision.embed import create_embedder
from facegate.vision.quality import QualityLimits

LIMITS = QualityLimits(min_eye_distance_px=20, min_sharpness=30, max_yaw=0.35, max_pitch=0.35)


@pytest.fixture(scope="module")
def analyzer(models_dir):
    return FaceAnalyzer(
        FaceDetector(models_dir, "short"), create_embedder("mobilefacenet", models_dir), LIMITS
    )


def _vector(analyzer, path):
    analysis = analyzer.analyze(cv2.imread(str(path)))
    assert analysis.vector is not None, f"{path}: {analysis.quality}"
    return analysis.vector


def test_detector_finds_eyes_above_nose_above_mouth(models_dir, faces):
    image = cv2.imread(str(faces / "enroll/barack_obama/obama.jpg"))
    found = FaceDetector(models_dir, "short").detect(image)
    assert len(found) == 1
    right_eye, left_eye, nose, mouth = found[0].keypoints[:4]
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
    x, y, w, h = found[0].box
    assert x < nose[0] < x + w and y < nose[1] < y + h


def test_detector_finds_nothing_in_a_blank_frame(models_dir):
    blank = np.full((480, 640, 3), 128, dtype=np.uint8)
    assert FaceDetector(models_dir, "full").detect(blank) == []


def test_embeddings_are_unit_length_and_tell_people_apart(analyzer, faces):
    obama = [
        _vector(analyzer, faces / f"enroll/barack_obama/{n}")
        for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")
    ]
    biden = _vector(analyzer, faces / "enroll/joe_biden/biden.jpg")
    for vector in [*obama, biden]:
        assert vector.shape == (192,)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    same = min(float(a @ b) for i, a in enumerate(obama) for b in obama[i + 1 :])
    different = max(float(a @ biden) for a in obama)
    assert same > 0.5 > different


@pytest.mark.parametrize("name", ["sface", "fused"])
def test_other_embedders_share_the_interface(models_dir, faces, name):
    embedder = create_embedder(name, models_dir)
    analyzer = FaceAnalyzer(FaceDetector(models_dir, "short"), embedder, LIMITS)
    a = _vector(analyzer, faces / "enroll/barack_obama/obama.jpg")
    b = _vector(analyzer, faces / "enroll/barack_obama/obama2.jpg")
    c = _vector(analyzer, faces / "enroll/joe_biden/biden.jpg")
    assert a.shape == (embedder.dim,)
    assert float(a @ b) > float(a @ c)


def test_quality_gate_refuses_a_tiny_face(analyzer, faces):
    image = cv2.imread(str(faces / "enroll/barack_obama/obama.jpg"))
    small = cv2.resize(image, None, fx=0.12, fy=0.12, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 128, dtype=np.uint8)
    canvas[200 : 200 + small.shape[0], 300 : 300 + small.shape[1]] = small
    analysis = analyzer.analyze(canvas)
    if analysis.face is not None:
        assert analysis.quality is not None and analysis.quality.reason == "too_small"
        assert analysis.vector is None


def test_quality_gate_refuses_a_blurred_face(analyzer, faces):
    image = cv2.imread(str(faces / "enroll/barack_obama/obama.jpg"))
    blurred = cv2.GaussianBlur(image, (0, 0), sigmaX=12)
    analysis = analyzer.analyze(blurred)
    assert analysis.face is not None
    assert analysis.quality is not None and analysis.quality.reason == "blurry"
