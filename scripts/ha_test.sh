#!/usr/bin/env bash
# Runs tests/integration against real Home Assistant core: `2025` the oldest supported release
# (.venvs/ha-2025.4), `2026` the current one (the forky chroot), `all` (default) both, each run
# even when the other fails. Further arguments go to pytest. scripts/ha_env.sh builds both.
#
# The tests need the real engine (tests/integration/engine_harness.py), which runs from the
# engine's own venv, never from Home Assistant's. On 2025 the harness's fixture starts it. The
# 2026 chroot can see neither that venv nor the host's Python, so the engine is started here on
# the host first, with its directory inside the repository (the chroot sees that at the same
# path), and handed in as FACEGATE_TEST_* variables; the chroot shares the host's loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
[ $# -eq 0 ] || shift
# Its own ini and rootdir: the root pyproject.toml and the engine's conftest are not for this suite.
args=(-c tests/integration/pytest.ini --rootdir tests/integration tests/integration "$@")
# Coverage is enforced on each release: the integration as a whole and its config flow.
coverage=(--cov=custom_components.facegate --cov-report=term-missing:skip-covered
  --cov-fail-under=95)
flow_report=(-m coverage report --include=custom_components/facegate/config_flow.py
  --fail-under=100)

run_2025() {
  echo "ha_test: Home Assistant 2025.4 on Python 3.13 (.venvs/ha-2025.4)"
  mkdir -p .cache
  COVERAGE_FILE=.cache/coverage-2025 .venvs/ha-2025.4/bin/python -m pytest "${args[@]}" \
    "${coverage[@]}"
  COVERAGE_FILE=.cache/coverage-2025 .venvs/ha-2025.4/bin/python "${flow_report[@]}"
}

engine_python() {
  local python
  for python in "${FACEGATE_ENGINE_PYTHON:-}" .venv/bin/python /tmp/fgvenv/bin/python; do
    [ -n "$python" ] && [ -x "$python" ] && { echo "$python"; return; }
  done
  echo "ha_test: no engine venv (.venv): run scripts/setup.sh first" >&2
  return 1
}

run_2026() {
  echo "ha_test: Home Assistant 2026.10 on Python 3.14 (.venvs/forky chroot)"
  local python workdir harness status=0
  # Explicit checks: `run_2026 || status=$?` runs this function without errexit.
  python=$(engine_python) || return 1
  mkdir -p .cache
  workdir=$(mktemp -d "$PWD/.cache/ha-test-engine.XXXXXX") || return 1
  "$python" tests/integration/engine_harness.py serve \
    --workdir "$workdir" --env-file "$workdir/env" >"$workdir/harness.log" 2>&1 &
  harness=$!
  # Stop the engine however this function ends; the harness also stops by itself when this
  # script is gone, so a killed run leaves no engine behind.
  # (Under errexit a failing command would end the trap early: hence the `|| true`.)
  trap 'kill "$harness" 2>/dev/null || true; wait "$harness" 2>/dev/null || true
        rm -rf "$workdir"; trap - RETURN' RETURN
  local waited=0
  until [ -f "$workdir/env" ]; do
    if ! kill -0 "$harness" 2>/dev/null || [ $waited -ge 600 ]; then
      echo "ha_test: the engine harness ($python) did not start:" >&2
      cat "$workdir/harness.log" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  local handed_in
  mapfile -t handed_in <"$workdir/env"
  # The chroot starts from an empty environment: only the engine's variables are handed in.
  bash scripts/ha_chroot.sh /usr/bin/env "${handed_in[@]}" COVERAGE_FILE=.cache/coverage-2026 \
    /opt/ha-venv/bin/python -m pytest "${args[@]}" "${coverage[@]}" || status=$?
  bash scripts/ha_chroot.sh /usr/bin/env COVERAGE_FILE=.cache/coverage-2026 \
    /opt/ha-venv/bin/python "${flow_report[@]}" || status=$?
  return "$status"
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
