"""Secret keys kept as files beside the database, readable by the service alone (R8)."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from facegate.errors import TamperError

KEY_BYTES = 32


def _read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise TamperError(
            f"key file {path} has mode {mode:o}; it must be readable by the service alone "
            f"(chmod 600 {path})"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise TamperError(f"key file {path} holds {len(key)} bytes, expected {KEY_BYTES}")
    return key


def load_or_create_key(path: Path) -> bytes:
    """A 256-bit key from `path`, created with mode 0600 on first use.

    A key file that others may read is refused rather than silently trusted: whoever can read
    it can decrypt every template.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both create (and disagree on) the key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key
