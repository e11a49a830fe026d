#!/usr/bin/env bash
# Every check the project makes: lint, format, strict typing, then the tests against real parts.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check addon tests benchmarks
.venv/bin/ruff format --check addon tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
