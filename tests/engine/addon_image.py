"""Builds and runs the add-on's image here, without a daemon: Debian's buildah as root with the
vfs storage driver and chroot isolation (a container shares this machine's loopback, which is
all these tests use).

Home Assistant's base image cannot be pulled from here, so a stand-in is built first: a Debian
bookworm root made with `debootstrap --variant=minbase` from this machine's own Debian mirror,
imported as `localhost/facegate-base-standin:bookworm` (kept between runs: it only changes
with Debian). The add-on's image is built from the repository's `addon/` at every test run
and removed afterwards. A build machine whose package mirrors need its own certificate
authorities mounts its bundle into the build (BUILD_CA_BUNDLE in the Dockerfile).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "addon"
STANDIN = "localhost/facegate-base-standin:bookworm"
IMAGE = "localhost/facegate-addon:test"
BUILDAH = ("buildah", "--storage-driver", "vfs")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_CA = "/opt/build-ca.crt"
BUILD_TIMEOUT_S = 1800


def missing() -> str | None:
    for tool in ("buildah", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: bash scripts/setup.sh installs it"
    return None


def buildah(*args: str, timeout: float = 600, check: bool = True) -> str:
    done = subprocess.run(
        [*BUILDAH, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"buildah {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def _has_image(name: str) -> bool:
    return bool(buildah("images", "--quiet", name, check=False))


def debian_mirror() -> str:
    """This machine's Debian mirror, from its apt sources (never a name written here)."""
    texts = [p.read_text() for p in Path("/etc/apt").glob("sources.list.d/*.sources")]
    texts += (
        [Path("/etc/apt/sources.list").read_text()]
        if Path("/etc/apt/sources.list").exists()
        else []
    )
    for text in texts:
        for url in re.findall(r"(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(https?://\S+)", text):
            if url.rstrip("/").endswith("/debian"):
                return str(url)
    raise RuntimeError("no Debian mirror in /etc/apt's sources")


def standin_base(workdir: Path) -> str:
    """The stand-in for Home Assistant's Debian base image, built once."""
    if _has_image(STANDIN):
        return STANDIN
    root = workdir / "standin"
    subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "debootstrap", "--variant=minbase",
         "bookworm", str(root), debian_mirror()],
        check=True, capture_output=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / cache).glob("*"):
            if item.is_file():
                item.unlink()
    archive = workdir / "standin.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(root, arcname=".")
    container = buildah("from", "scratch")
    try:
        buildah("add", container, str(archive), "/")
        buildah("commit", "--quiet", container, STANDIN)
    finally:
        buildah("rm", container, check=False)
    shutil.rmtree(root, ignore_errors=True)
    archive.unlink()
    return STANDIN


def build(base: str, log: Path) -> float:
    """The add-on's image from `addon/` on `base`; the seconds it took (the log in `log`)."""
    started = time.monotonic()
    args = ["bud", "--isolation", "chroot", "--layers=false", "--build-arg", f"BUILD_FROM={base}"]
    if HOST_CA.is_file():
        args += ["--build-arg", f"BUILD_CA_BUNDLE={BUILD_CA}", "-v", f"{HOST_CA}:{BUILD_CA}:ro"]
    with log.open("w") as output:
        done = subprocess.run(
            [*BUILDAH, *args, "-t", IMAGE, "-f", "Dockerfile", "."],
            cwd=ADDON,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"the add-on's image did not build:\n{tail}")
    return time.monotonic() - started


class Container:
    """A working container of the image; `run` starts a command in it (a subprocess)."""

    def __init__(self) -> None:
        self.name = buildah("from", IMAGE)

    def command(
        self, argv: Sequence[str], *, volumes: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> list[str]:
        args = [*BUILDAH, "run", "--isolation", "chroot"]
        for volume in volumes:
            args += ["-v", volume]
        for name, value in (env or {}).items():
            args += ["--env", f"{name}={value}"]
        return [*args, self.name, "--", *argv]

    def remove(self) -> None:
        buildah("rm", self.name, check=False)


def remove_image() -> None:
    buildah("rmi", "--force", IMAGE, check=False)


def labels() -> dict[str, str]:
    found = json.loads(buildah("inspect", "--type", "image", IMAGE))
    return dict(found["OCIv1"]["config"].get("Labels") or {})
