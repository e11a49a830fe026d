"""API token: generated once, kept in the data directory readable by the service alone.

Every request carries `Authorization: Bearer <token>`; the comparison is constant-time, and a
missing or wrong token gets a 401 that says which of the two it was, never the token.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from facegate.errors import FacegateError

TOKEN_NAME = "api.token"  # noqa: S105 - the file name, not a secret
_TOKEN_BYTES = 32
_MIN_TOKEN_CHARS = 32


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_NAME


def load_or_create_token(data_dir: Path) -> str:
    """The installation's API token from `<data_dir>/api.token`, created (mode 0600) on first use.

    A token file that others may read is refused: whoever reads it controls every door.
    """
    path = token_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        # O_EXCL: two processes starting at once cannot both create (and disagree on) it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token(path)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token


def _read_token(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise FacegateError(
            f"API token file {path} has mode {mode:o}; it must be readable by the service alone "
            f"(chmod 600 {path})"
        )
    token = path.read_text(encoding="ascii", errors="replace").strip()
    if len(token) < _MIN_TOKEN_CHARS or not token.isprintable() or " " in token:
        raise FacegateError(
            f"API token file {path} does not hold a usable token (at least {_MIN_TOKEN_CHARS} "
            "printable characters); delete it and restart to generate a new one"
        )
    return token


def check_authorization(header: str | None, token: str) -> str | None:
    """None when `header` carries the token; otherwise what is wrong, for the 401 body."""
    if not header:
        return "missing Authorization header: send 'Authorization: Bearer <token>'"
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return "Authorization must use the Bearer scheme: 'Authorization: Bearer <token>'"
    # Bytes, so a non-ASCII header cannot make compare_digest raise instead of refusing.
    if not hmac.compare_digest(
        presented.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
    ):
        return "invalid API token"
    return None
