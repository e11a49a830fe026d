"""Bring your own model: an ONNX file pinned by SHA-256, its licence acknowledged, and no start
before `facegate calibrate` has fitted its open-set policy.

The pinned SFace ONNX file stands in for a user's model: OpenCV's FaceRecognizerSF feeds it RGB
pixels unscaled, so `colour_order: rgb, mean: 0, std: 1` must reproduce the built-in vectors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest_door import NoLink
from facegate.config import parse
from facegate.engine import Engine
from facegate.enrol import read_image
from facegate.errors import ConfigError, ModelError
from facegate.models import sha256_of
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.custom import CustomEmbedder
from facegate.vision.detect import FaceDetector
from facegate.vision.quality import QualityLimits
from facegate.vision.sface import SFace

TEST_LIMIT_S = 300
SFACE = "face_recognition_sface_2021dec.onnx"


def _raw(tmp_path: Path, models_dir: Path, **model: Any) -> dict[str, Any]:
    path = models_dir / SFACE
    return {
        "data_dir": str(tmp_path / "data"),
        "models_dir": str(models_dir),
        "mqtt": {"host": "127.0.0.1"},
        "embedder": "custom",
        "custom_model": {
            "path": str(path),
            "sha256": sha256_of(path),
            "colour_order": "rgb",
            "mean": 0,
            "std": 1,
            "licence_acknowledged": True,
            "licence": "Apache-2.0 (OpenCV Zoo); standing in for a user's model",
            **model,
        },
        "cameras": {"cam": {"source": "rtsp://127.0.0.1:1/door"}},
        "doors": {
            "front": {"camera": "cam", "methods": ["face", "pin"], "lock": {"command_topic": "l"}}
        },
    }


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "facegate.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _facegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_custom_model_with_a_wrong_sha256_refuses_to_start(tmp_path, models_dir) -> None:
    raw = _raw(tmp_path, models_dir, sha256="0" * 64)
    with pytest.raises(ModelError, match=r"custom_model\.sha256"):
        Engine(parse(raw), NoLink())
    result = _facegate("run", "--config", str(_write(tmp_path, raw)))
    assert result.returncode == 2
    assert "has SHA-256" in result.stderr and "0" * 64 in result.stderr
    assert "Traceback" not in result.stderr


def test_uncalibrated_custom_model_refuses_to_start_saying_how_to_calibrate(
    tmp_path, models_dir
) -> None:
    config = _write(tmp_path, _raw(tmp_path, models_dir))
    result = _facegate("run", "--config", str(config))
    assert result.returncode == 2
    assert "is not calibrated" in result.stderr
    assert f"facegate calibrate --config {config} --dataset DIR" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"licence_acknowledged": False}, "custom_model.licence_acknowledged: must be true"),
        ({"sha256": "abc"}, "custom_model.sha256: must be 64 hexadecimal digits"),
        ({"std": 0}, "custom_model.std: must be greater than 0"),
        ({"colour_order": "yuv"}, "custom_model.colour_order"),
    ],
)
def test_custom_model_settings_are_checked(tmp_path, models_dir, change, message) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse(_raw(tmp_path, models_dir, **change))


def test_custom_model_settings_need_the_custom_embedder(tmp_path, models_dir) -> None:
    raw = _raw(tmp_path, models_dir)
    raw["embedder"] = "fused"
    with pytest.raises(ConfigError, match="only used with embedder: custom"):
        parse(raw)
    del raw["custom_model"]
    raw["embedder"] = "custom"
    with pytest.raises(ConfigError, match="custom_model: is required"):
        parse(raw)


def test_a_calibrated_custom_model_runs_like_the_built_in_one(tmp_path, models_dir, faces) -> None:
    config = parse(_raw(tmp_path, models_dir))
    assert config.custom_model is not None
    analyzer = FaceAnalyzer(
        FaceDetector(models_dir, "short"),
        CustomEmbedder(config.custom_model.model),
        QualityLimits(**config.quality.model_dump()),
    )
    sface = SFace(models_dir)
    for photo in sorted((faces / "enroll" / "barack_obama").glob("*.jpg"))[:2]:
        analysis = analyzer.analyze(read_image(photo))
        assert analysis.vector is not None and analysis.face is not None
        reference = sface.embed(read_image(photo), analysis.face)
        assert float(analysis.vector @ reference) > 0.999

    path = _write(tmp_path, _raw(tmp_path, models_dir))
    dataset = faces / "east_asian_dev" / "eastasian_celeb_v1"
    result = _facegate("calibrate", "--config", str(path), "--dataset", str(dataset))
    assert result.returncode == 0, result.stderr
    assert config.calibration_file is not None and config.calibration_file.is_file()
    calibration = json.loads(config.calibration_file.read_text())
    assert calibration["model_sha256"] == config.custom_model.sha256
    assert calibration["embedder"] == "custom"
    engine = Engine(config, NoLink())
    try:
        policy = engine.decision_policy()
        assert policy["embedder"] == "custom"
        assert policy["calibration"]["tails"][0]["comparisons"] > 30_000
    finally:
        engine.stop()

    # A calibration of another model is not this model's.
    calibration["model_sha256"] = "f" * 64
    config.calibration_file.write_text(json.dumps(calibration))
    result = _facegate("run", "--config", str(path))
    assert result.returncode == 2
    assert "belongs to another model" in result.stderr
