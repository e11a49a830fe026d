#!/usr/bin/env bash
# Builds the two Home Assistant cores that tests/integration runs against (scripts/ha_test.sh):
#   .venvs/ha-2025.4  the oldest supported release, HA 2025.4.1, on pyenv's Python 3.13.0
#   .venvs/forky      the current release, HA 2026.10.x, which needs Python >= 3.14.2: no such
#                     Python is packaged for this host, so a Debian forky chroot supplies it
# Each environment holds Home Assistant and its test harness only, never the engine's vision
# stack: the integration must work without it. Idempotent (a stamp per finished step); prints one
# timing line per step and the full log only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

OLD_PIN="pytest-homeassistant-custom-component==0.13.233"  # pins homeassistant==2025.4.1
NEW_PIN="pytest-homeassistant-custom-component==0.13.375"  # pins homeassistant==2026.10.4
# The integration is type-checked (strict) against the current release, in that environment.
MYPY_PIN=mypy==2.4.1
# The real frontend of 2025.4.1 (its own pin), for the screenshots tests/engine/test_ha_frontend.py
# takes of the integration in a browser; the other release's tests need no frontend.
FRONTEND_PIN=home-assistant-frontend==20250404.0
OLD_VENV=.venvs/ha-2025.4
ROOT=.venvs/forky
VISION='^(opencv|ai-edge-litert|tflite|mediapipe|dlib|face-recognition|onnxruntime|torch)'

quietly() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "ha_env: failed: $*" >&2
    return 1
  fi
  rm -f "$log"
}

timed() {
  local what=$1 started=$SECONDS
  shift
  quietly "$@"
  echo "ha_env: $what: $((SECONDS - started)) s"
}

# Fails when the engine's heavy libraries crept into a Home Assistant environment.
check_light() {
  local name=$1 found
  shift
  found=$("$@" -m pip list --format=freeze 2>/dev/null | grep -iE "$VISION" || true)
  if [ -n "$found" ]; then
    echo "ha_env: $name holds vision libraries it must not: $found" >&2
    return 1
  fi
}

# The host's own Debian mirror, read from its apt sources so that no host name lives here.
debian_mirror() {
  {
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs://p' | tr ' ' '\n'
    sed -n 's/\[[^]]*\]//; s/^deb[[:space:]]\+\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list 2>/dev/null
  } | grep -m1 -E '^https?://.*/debian/?$' || true
}

# --- a. Home Assistant 2025.4 on Python 3.13.0 ------------------------------------------------
python313="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/3.13.0/bin/python3.13"
if [ ! -x "$python313" ]; then
  echo "ha_env: Python 3.13.0 not found at $python313 (pyenv install 3.13.0)" >&2
  exit 1
fi
if [ "$(cat "$OLD_VENV/.stamp" 2>/dev/null)" != "$OLD_PIN $MYPY_PIN $FRONTEND_PIN" ]; then
  [ -f "$OLD_VENV/pyvenv.cfg" ] || quietly "$python313" -m venv "$OLD_VENV"
  timed "ha-2025.4 install" "$OLD_VENV/bin/python" -m pip install "$OLD_PIN" "$MYPY_PIN" \
    "$FRONTEND_PIN"
  echo "$OLD_PIN $MYPY_PIN $FRONTEND_PIN" >"$OLD_VENV/.stamp"
fi
check_light ha-2025.4 "$OLD_VENV/bin/python"

# --- b. Home Assistant 2026.10 on Python 3.14 in a Debian forky chroot ------------------------
if [ ! -f "$ROOT/.stamp" ]; then
  command -v debootstrap >/dev/null || {
    quietly apt-get update -qq
    quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap debian-archive-keyring
  }
  mirror=$(debian_mirror)
  if [ -z "$mirror" ]; then
    echo "ha_env: no Debian mirror in /etc/apt/sources.list{,.d/*.sources}" >&2
    exit 1
  fi
  rm -rf "$ROOT"  # a half-built chroot from an interrupted run is not worth repairing
  # bookworm's debootstrap has no forky script; sid's is the same recipe. It runs in its own
  # mount namespace so that its /proc and /sys mounts cannot outlive a failure.
  timed "forky chroot (debootstrap from $mirror)" unshare --mount --propagation private \
    debootstrap --variant=minbase --include=python3.14,python3.14-venv,ca-certificates \
    forky "$ROOT" "$mirror" /usr/share/debootstrap/scripts/sid
  # The downloaded .debs and package lists are not needed again (~100 MB).
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/lib/apt/lists/*
  touch "$ROOT/.stamp"
fi
# Home Assistant 2026.10 refuses Python < 3.14.2; a stale mirror snapshot would only show it later.
too_old='import sys; print(sys.version.split()[0]); sys.exit(sys.version_info < (3, 14, 2))'
if ! found=$(bash scripts/ha_chroot.sh python3.14 -c "$too_old"); then
  echo "ha_env: the chroot's python3.14 is '$found', older than 3.14.2: rebuild from a newer mirror" >&2
  exit 1
fi
if [ "$(cat "$ROOT/opt/ha-venv/.stamp" 2>/dev/null)" != "$NEW_PIN $MYPY_PIN" ]; then
  [ -f "$ROOT/opt/ha-venv/pyvenv.cfg" ] || quietly bash scripts/ha_chroot.sh python3.14 -m venv /opt/ha-venv
  timed "ha-2026.10 install (in chroot)" bash scripts/ha_chroot.sh \
    /opt/ha-venv/bin/python -m pip install "$NEW_PIN" "$MYPY_PIN"
  echo "$NEW_PIN $MYPY_PIN" >"$ROOT/opt/ha-venv/.stamp"
fi
check_light ha-2026.10 bash scripts/ha_chroot.sh /opt/ha-venv/bin/python

version='import sys, homeassistant.const as c; print(c.__version__, "on Python", sys.version.split()[0])'
echo "ha_env: $OLD_VENV: Home Assistant $("$OLD_VENV/bin/python" -c "$version")"
echo "ha_env: $ROOT: Home Assistant $(bash scripts/ha_chroot.sh /opt/ha-venv/bin/python -c "$version"),\
 chroot $(du -sh "$ROOT" | cut -f1)"
