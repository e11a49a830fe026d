"""Secret keys kept as files beside the database, readable by the service alone (R8)."""

from __future__ import annotations

import secrets
from pathlib import Path

from facegate.errors import TamperError
from facegate.private_files import create_once, read_private

KEY_BYTES = 32


def load_or_create_key(path: Path) -> bytes:
    """A 256-bit key from `path`, created with mode 0600 on first use.

    A key file that others may read is refused rather than silently trusted: whoever can read
    it can decrypt every template.
    """
    create_once(path, secrets.token_bytes(KEY_BYTES))
    key = read_private(path, "key file")
    if len(key) != KEY_BYTES:
        raise TamperError(f"key file {path} holds {len(key)} bytes, expected {KEY_BYTES}")
    return key
