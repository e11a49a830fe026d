"""mypy in strict mode over the integration, against each supported Home Assistant release."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

from homeassistant.const import MAJOR_VERSION

REPO = Path(__file__).resolve().parents[2]


def test_the_integration_is_strictly_typed() -> None:
    # scripts/ha_env.sh installs mypy beside both releases: missing is a failure.
    assert importlib.util.find_spec("mypy") is not None, "run scripts/ha_env.sh"
    cache = Path(tempfile.gettempdir()) / f"facegate-mypy-cache-{MAJOR_VERSION}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            "/dev/null",
            "--strict",
            "--warn-unreachable",
            "--cache-dir",
            str(cache),
            "-p",
            "custom_components.facegate",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
