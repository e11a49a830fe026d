"""`facegate eval pairs`: the metrics are right on known scores, and the default embedder keeps its
measured accuracy on the project's verification set (the README quotes the same run)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from facegate.config import DEFAULT_EMBEDDER
from facegate.evaluate import equal_error_rate, read_pairs, tar_at_far


def _eval(dataset: Path, pairs: Path, embedder: str, out: Path) -> dict[str, object]:
    """`facegate eval pairs` as a user runs it; its JSON report."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "facegate.cli",
            "eval",
            "pairs",
            "--dataset",
            str(dataset),
            "--pairs",
            str(pairs),
            "--embedder",
            embedder,
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(out.read_text()))


def test_tar_at_far_counts_false_accepts_exactly():
    impostor = np.linspace(0.0, 0.999, 1000)  # one impostor score per 0.001
    genuine = np.array([0.5, 0.9985, 0.9995, 1.0])
    tar, threshold = tar_at_far(genuine, impostor, 1e-2)
    # 1% of 1000 impostors = 10 may score above the threshold, not 11.
    assert np.sum(impostor > threshold) == 10
    assert tar == 0.75
    tar, threshold = tar_at_far(genuine, impostor, 1e-4)  # below 1/n: no false accept at all
    assert threshold == impostor.max()
    assert tar == 0.5


def test_equal_error_rate_of_separable_and_identical_scores():
    assert equal_error_rate(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 0.0
    same = np.array([0.5, 0.5, 0.5])
    assert equal_error_rate(same, same) == pytest.approx(0.5)


def test_pair_list_must_have_the_documented_columns(tmp_path):
    bad = tmp_path / "pairs.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="img1,img2,same"):
        read_pairs(bad)


def test_eval_charges_undetected_faces_to_the_embedder(tmp_path, faces):
    dataset = tmp_path / "set"
    (dataset / "blank").mkdir(parents=True)
    blank = dataset / "blank" / "blank_0001.png"
    cv2.imwrite(str(blank), np.full((250, 250, 3), 127, dtype=np.uint8))
    real = sorted((faces / "verify_dev").glob("*/*.jpg"))[:3]
    for path in real:
        (dataset / path.parent.name).mkdir(exist_ok=True)
        (dataset / path.parent.name / path.name).write_bytes(path.read_bytes())
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["img1", "img2", "same"])
        rel = [f"{p.parent.name}/{p.name}" for p in real]
        writer.writerow([rel[0], "blank/blank_0001.png", 1])
        writer.writerow([rel[1], rel[2], 0])
    out = tmp_path / "eval.json"
    report = _eval(dataset, pairs, "mobilefacenet", out)
    assert report["failed_to_detect"] == 1
    assert report["tar_at_far_1e-2"] == 0.0  # the only genuine pair had no face: a reject
    assert out.with_suffix(".png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("embedder", ["mobilefacenet", DEFAULT_EMBEDDER])
def test_embedder_keeps_its_measured_accuracy_on_verify_dev(tmp_path, faces, embedder):
    out = tmp_path / f"{embedder}.json"
    pairs = faces / "pairs" / "verify_dev_generated_balanced.csv"
    report = _eval(faces / "verify_dev", pairs, embedder, out)
    assert report["pairs_genuine"] == 5123
    assert report["pairs_impostor"] == 5123
    assert report["failed_to_detect"] == 0
    assert report["tar_at_far_1e-3"] >= 0.97
    assert set(report) >= {
        "pairs_genuine",
        "pairs_impostor",
        "tar_at_far_1e-2",
        "tar_at_far_1e-3",
        "tar_at_far_1e-4",
        "eer",
        "threshold_at_far_1e-3",
        "ms_per_face",
        "failed_to_detect",
    }
