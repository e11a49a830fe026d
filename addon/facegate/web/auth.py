"""API token: generated once, kept in the data directory readable by the service alone.

Every request carries `Authorization: Bearer <token>`; the comparison is constant-time, and a
missing or wrong token gets a 401 that says which of the two it was, never the token.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from facegate.errors import FacegateError
from facegate.private_files import create_once, read_private

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
    create_once(path, (secrets.token_urlsafe(_TOKEN_BYTES) + "\n").encode("ascii"))
    token = read_private(path, "API token file").decode("ascii", errors="replace").strip()
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
