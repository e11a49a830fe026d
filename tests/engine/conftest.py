"""Fixtures shared by the engine tests: the pinned models and the project's face data."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from facegate.models import default_models_dir, verify_all

# The fixture plugins are also imported directly by tests that use their classes; registering
# them here first keeps pytest's assertion rewriting on for them.
pytest.register_assert_rewrite(
    "conftest_mqtt",
    "conftest_rtsp",
    "conftest_door",
    "conftest_keypad",
    "conftest_api",
    "conftest_browser",
    "conftest_supervisor",
)


def shared_dir() -> Path:
    """`../shared` beside the checkout (CI puts it there), or $FACEGATE_SHARED."""
    configured = os.environ.get("FACEGATE_SHARED")
    if configured is not None:  # set but empty: no shared data, as on a newcomer's machine
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    # Not skipped when missing: CI fetches the models, so their absence is a real failure.
    directory = default_models_dir()
    verify_all(directory)
    return directory


@pytest.fixture(scope="session")
def faces() -> Path:
    directory = shared_dir() / "data" / "faces"
    if not directory.is_dir():
        pytest.skip(f"face test data not found at {directory} (set FACEGATE_SHARED)")
    return directory


# Every test is bounded: a module may set a tighter TEST_LIMIT_S; the default allows for the
# slow accuracy runs over the whole verification set.
DEFAULT_TEST_LIMIT_S = 900


@pytest.fixture(autouse=True)
def _bounded(request: pytest.FixtureRequest) -> Iterator[None]:
    limit = int(getattr(request.module, "TEST_LIMIT_S", DEFAULT_TEST_LIMIT_S))

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError(f"test took longer than {limit} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
