"""Files that only the service may read: keys, the API token, the installation id (R8).

Each is created once, whole, with mode 0600: written under a temporary name and linked into
place, so two processes starting at once agree on one value and neither can read a half-written
file. A file that others may read is refused rather than trusted.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from facegate.errors import TamperError


def create_once(path: Path, content: bytes) -> None:
    """Writes `content` to `path` unless it exists; the first writer wins."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it with mode 0600
            handle.write(content)
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process won the race; its value is the one
    finally:
        Path(temporary).unlink()


def read_private(path: Path, what: str) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise TamperError(
            f"{what} {path} has mode {mode:o}; it must be readable by the service alone "
            f"(chmod 600 {path})"
        )
    return path.read_bytes()
