"""`facegate eval door`: a door simulated with the engine's own enrolment and decision code, as
a user runs it; and on the whole East-Asian set, the figures the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from facegate.access.calibrations import BUILT_IN
from facegate.doorsim.simulate import upper_95

TEST_LIMIT_S = 600
EAST_ASIAN = Path("east_asian_dev") / "eastasian_celeb_v1"


def _facegate(*args: str) -> str:
    """The `facegate` command as a user runs it; its output, once it has succeeded."""
    result = subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args],
        capture_output=True,
        text=True,
        timeout=TEST_LIMIT_S - 60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _door(dataset: Path, out: Path, *args: str) -> dict[str, Any]:
    output = _facegate("eval", "door", "--dataset", str(dataset), "--json", str(out), *args)
    assert "strangers let in" in output
    return dict(json.loads(out.read_text()))


def test_upper_bound_of_a_rate_seen_zero_times_is_not_zero() -> None:
    assert upper_95(0, 126) == pytest.approx(1 - 0.05 ** (1 / 126), rel=1e-6)
    assert upper_95(3, 1000) == pytest.approx(0.00775, abs=1e-4)
    assert upper_95(5, 5) == 1.0


def test_eval_door_reports_frames_attempts_and_the_policy(tmp_path: Path, faces: Path) -> None:
    subset = tmp_path / "thirty"
    subset.mkdir()
    folders = sorted((faces / EAST_ASIAN).iterdir())[:30]
    for folder in folders:
        (subset / folder.name).symlink_to(folder)
    images = {f.name: len(list(f.glob("*.jpg"))) for f in folders}
    out = tmp_path / "door.json"
    report = _door(subset, out, "--attempts-per-person", "2")
    assert report["people"] == 30
    assert report["enrol_images"] == 3
    assert report["probes"] == sum(max(0, n - 3) for n in images.values())
    assert report["people_enrolled"] + report["enrolment"]["people_not_enrolled"] == 30
    frame, attempt, policy = report["frame"], report["attempt"], report["policy"]
    for rates in (frame, attempt):
        assert rates["correct"] + rates["wrong_person"] + rates["rejected"] == pytest.approx(1)
        assert 0 <= rates["stranger_let_in"] <= rates["stranger_let_in_upper_95"] <= 1
    assert frame["trials"] == report["probes"]  # every probe of an enrolled person
    assert attempt["trials"] == 2 * sum(1 for n in images.values() if n > 3)
    assert {"threshold", "margin", "people", "target_far_per_attempt", "aggregate"} <= set(policy)
    assert policy["people"] == report["people_enrolled"]
    assert policy["calibration"]["tails"]
    assert len(report["by_threshold"]) > 20
    assert {row["people"] for row in report["by_gallery_size"]} == {10, 30}
    assert set(report["impostors"]) == {"neighbours", "hard", "random"}
    # Each person's most similar identities score higher than randomly drawn ones.
    assert report["impostors"]["hard"]["mean"] > report["impostors"]["random"]["mean"]
    assert out.with_suffix(".png").stat().st_size > 20_000

    # Per-door galleries: the same people split into groups of one door each (1 = one for all).
    groups = report["by_groups"]
    assert [row["groups"] for row in groups] == [1, 2, 4][: len(groups)] and len(groups) >= 2
    one, split = groups[0], groups[-1]
    assert one["residents_let_in"] == one["residents_let_in_checked"]  # nothing else to check
    assert one["residents_let_in"]["rate"] == pytest.approx(frame["correct"])
    assert split["threshold"] < one["threshold"]  # a smaller door, a lower threshold
    for row in groups:
        # The check against everyone never lets in more than the door's gallery alone.
        assert row["strangers_let_in_checked"]["count"] <= row["strangers_let_in"]["count"]
        assert row["residents_taken_for_another_checked"]["count"] == 0
        if row["groups"] > 1:
            checked, alone = row["other_group_let_in_checked"], row["other_group_let_in"]
            assert checked["count"] <= alone["count"]
            assert checked["trials"] == frame["trials"]

    smaller = _door(subset, tmp_path / "ten.json", "--gallery", "10", "--attempts-per-person", "1")
    assert smaller["people_enrolled"] == 10
    assert smaller["policy"]["threshold"] < policy["threshold"]


@pytest.mark.slow
def test_default_policy_on_east_asian_faces_keeps_strangers_out(
    tmp_path: Path, faces: Path
) -> None:
    report = _door(faces / EAST_ASIAN, tmp_path / "east_asian.json")
    assert (report["people"], report["probes"]) == (93, 126)
    for kind in ("frame", "attempt"):
        assert report[kind]["stranger_let_in"] == 0
        assert report[kind]["wrong_person"] == 0
    # The README's figures (measured 2026-12-02): 90.5 % of resident frames and 92.4 % of
    # attempts at the strict policy; the 97 % attempt target is not reached (README says why).
    assert report["frame"]["correct"] >= 0.90
    assert report["attempt"]["correct"] >= 0.92


@pytest.mark.slow
def test_built_in_calibration_is_what_calibrate_fits(tmp_path: Path, faces: Path) -> None:
    out = tmp_path / "calibration.json"
    dataset = str(faces / EAST_ASIAN)
    output = _facegate("calibrate", "--embedder", "fused", "--dataset", dataset, "--json", str(out))
    assert "strict door with  100 people" in output
    fitted = json.loads(out.read_text())["tails"][0]
    shipped = asdict(BUILT_IN["fused"].tails[0])
    assert fitted["comparisons"] == shipped["comparisons"]
    for key in ("onset", "scale", "fitted_shape", "highest"):
        assert fitted[key] == pytest.approx(shipped[key], abs=2e-3), key
