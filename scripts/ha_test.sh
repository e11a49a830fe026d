#!/usr/bin/env bash
# Runs tests/integration against real Home Assistant core: `2025` the oldest supported release
# (.venvs/ha-2025.4), `2026` the current one (the forky chroot), `all` (default) both, each run
# even when the other fails. Further arguments go to pytest. scripts/ha_env.sh builds both.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
[ $# -eq 0 ] || shift
# Its own ini and rootdir: the root pyproject.toml and the engine's conftest are not for this suite.
args=(-c tests/integration/pytest.ini --rootdir tests/integration tests/integration "$@")

run_2025() {
  echo "ha_test: Home Assistant 2025.4 on Python 3.13 (.venvs/ha-2025.4)"
  .venvs/ha-2025.4/bin/python -m pytest "${args[@]}"
}

run_2026() {
  echo "ha_test: Home Assistant 2026.10 on Python 3.14 (.venvs/forky chroot)"
  bash scripts/ha_chroot.sh /opt/ha-venv/bin/python -m pytest "${args[@]}"
}

case $target in
  2025) run_2025 ;;
  2026) run_2026 ;;
  all)
    status=0
    run_2025 || status=$?
    run_2026 || status=$?
    exit "$status"
    ;;
  *)
    echo "usage: scripts/ha_test.sh [2025|2026|all] [pytest args]" >&2
    exit 2
    ;;
esac
