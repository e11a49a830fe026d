"""The MiniFASNet pair ships inside the package: pinned, licensed, and equal to the originals."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from facegate.errors import ModelError
from facegate.models import BUNDLED_DIR, MODELS, model_path, sha256_of
from facegate.vision.liveness import MINIFASNET, LivenessNet, crop_box

FIXTURES = Path(__file__).parent / "fixtures" / "minifasnet"
STEMS = [file.removesuffix(".tflite") for file, _scale in MINIFASNET]


def test_pinned_models_are_present_and_verified(models_dir: Path) -> None:
    for name, spec in MODELS.items():
        assert sha256_of(model_path(models_dir, name)) == spec.sha256
    # The expo anti-spoofing model called 19 of 20 live frames a spoof: it is gone.
    assert "FaceAntiSpoofing.tflite" not in MODELS


def test_bundled_models_carry_their_licence_and_notice() -> None:
    bundled = {spec.name for spec in MODELS.values() if spec.registry == "bundled"}
    # What the engine runs, and the ONNX files it was converted from.
    assert bundled == {f"{stem}{suffix}" for stem in STEMS for suffix in (".tflite", ".onnx")}
    assert "Apache License" in (BUNDLED_DIR / "LICENSE").read_text()
    notice = (BUNDLED_DIR / "NOTICE").read_text()
    assert "converted" in notice and "b6d5f04ad78778917853b25c778acef6d5626d15" in notice
    for name in bundled:
        assert MODELS[name].sha256 in notice


@pytest.mark.parametrize("stem", STEMS)
def test_onnx_files_give_the_pytorch_originals_logits(models_dir: Path, stem: str) -> None:
    net = cv2.dnn.readNetFromONNX(str(model_path(models_dir, f"{stem}.onnx")))
    sample = np.load(FIXTURES / "input_2x3x80x80.npy")
    expected = np.load(FIXTURES / f"logits_{stem}.npy")
    for row, logits in zip(sample, expected, strict=True):
        net.setInput(row[None])
        assert np.max(np.abs(net.forward().reshape(-1) - logits)) < 1e-4


@pytest.mark.parametrize("stem", STEMS)
def test_tflite_files_the_engine_runs_give_the_pytorch_originals_logits(
    models_dir: Path, stem: str
) -> None:
    """The engine's own wrapper, fed the fixture's NCHW input as the NHWC crop it takes."""
    net = LivenessNet(model_path(models_dir, f"{stem}.tflite"))
    sample = np.load(FIXTURES / "input_2x3x80x80.npy")
    expected = np.load(FIXTURES / f"logits_{stem}.npy")
    for row, logits in zip(sample, expected, strict=True):
        crop = np.ascontiguousarray(row.transpose(1, 2, 0)[None], dtype=np.float32)
        assert np.max(np.abs(net.logits(crop) - logits)) < 1e-4


def test_a_bundled_model_that_was_altered_is_refused(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = MINIFASNET[0][0]
    copy = tmp_path / name
    copy.write_bytes((BUNDLED_DIR / name).read_bytes()[:-1] + b"\0")
    monkeypatch.setattr("facegate.models.BUNDLED_DIR", tmp_path)
    with pytest.raises(ModelError, match="altered or replaced"):
        model_path(models_dir, name)


def test_crop_follows_upstream_and_stays_inside_the_image() -> None:
    # A box near the top-left corner: the scaled box is shifted inside, not cut.
    assert crop_box(640, 480, (10.0, 10.0, 100.0, 100.0), 2.7) == (0, 0, 270, 270)
    # Too large a scale for the image: the scale shrinks to what fits.
    left, top, right, bottom = crop_box(200, 200, (50.0, 50.0, 100.0, 100.0), 4.0)
    assert (left, top) == (0, 0) and right <= 199 and bottom <= 199
