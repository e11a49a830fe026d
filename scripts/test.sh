#!/usr/bin/env bash
# Every check the project makes: lint, format, strict typing, the engine's tests against real
# parts (with Home Assistant's real frontend, whose environment is built first), then the Home
# Assistant integration's tests on the oldest supported and the current Home Assistant release
# (each in its own environment, without the vision stack).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check addon tests benchmarks custom_components scripts
.venv/bin/ruff format --check addon tests benchmarks custom_components scripts
.venv/bin/mypy
bash scripts/ha_env.sh
.venv/bin/python -m pytest "$@"
bash scripts/ha_test.sh all
