#!/usr/bin/env bash
# Runs one command, from the repository's root, inside the Debian forky chroot (.venvs/forky)
# that carries the current Home Assistant release; scripts/ha_env.sh builds it.
#
# /proc, /dev and the repository are mounted in a private mount namespace: the mounts exist only
# for this command and vanish with it, even when it is killed or two runs overlap, so nothing is
# ever left mounted on the host. The trap is a second line of defence for the same rule.
#
# The command starts from an empty environment: the host's PIP_* and SSL_* settings point at
# files and local indexes the chroot does not have. TLS to the package registries is re-signed
# on this network by a CA that only the host's bundle holds, so that bundle is copied in.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root="$repo/.venvs/forky"
if [ ! -x "$root/usr/bin/python3.14" ]; then
  echo "ha_chroot: no chroot at $root: run scripts/ha_env.sh first" >&2
  exit 1
fi
[ $# -gt 0 ] || { echo "usage: scripts/ha_chroot.sh COMMAND [ARG...]" >&2; exit 2; }

cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/host-ca-certificates.crt"
cp --remove-destination /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root$repo"

# shellcheck disable=SC2016  # expanded by the inner shell
exec unshare --mount --propagation private -- bash -c '
  set -euo pipefail
  root=$1 repo=$2; shift 2
  trap "umount -R \"$root$repo\" \"$root/dev\" \"$root/proc\" 2>/dev/null || true" EXIT
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --bind "$repo" "$root$repo"
  cert=/etc/ssl/host-ca-certificates.crt
  chroot "$root" /usr/bin/env -i PATH=/opt/ha-venv/bin:/usr/local/bin:/usr/bin:/bin HOME=/root \
    LANG=C.UTF-8 PIP_CERT=$cert SSL_CERT_FILE=$cert REQUESTS_CA_BUNDLE=$cert \
    PIP_DISABLE_PIP_VERSION_CHECK=1 ${CI:+CI=$CI} \
    /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$repo" "$@"
' ha_chroot "$root" "$repo" "$@"
