#!/usr/bin/env bash
# Sets up a fresh machine for the demo and the tests: Debian packages (mosquitto, ffmpeg, the
# GStreamer RTSP server for Debian's own python3, Chromium and CJK fonts for the browser
# tests, buildah and debootstrap to build the add-on's image, AppArmor's parser to check its
# profile), a virtual environment with the engine, the
# pinned models (verified by SHA-256) and the demo's door-camera clip.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(mosquitto ffmpeg npm strace python3-gi gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  chromium fonts-noto-cjk  # the resident pages' tests drive Debian's Chromium (Playwright)
  buildah crun debootstrap apparmor)  # the add-on's image, built and run (tests/engine/addon_image.py)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  # npm may come from elsewhere (nodesource, nvm): only ask apt for it when the command is absent.
  if [ "$package" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
.venv/bin/python -m pip install --quiet -r requirements.txt 2> >(grep -v "^WARNING: Location" >&2)

.venv/bin/facegate models fetch
.venv/bin/facegate demo --prepare
echo "setup: done"
