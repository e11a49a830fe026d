"""Non-biometric credentials (R4, R5): PIN, card/NFC tag UID, phone.

Nothing is stored in clear. A PIN becomes a scrypt hash salted with the installation's secret
(kept in a key file outside the database); card, tag and phone identifiers become an HMAC
under the same secret. One scrypt per attempt, with no per-credential salt, is what lets a
keypad code be looked up as fast as a face is matched, instead of trying every resident's hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

from facegate.errors import FacegateError

CredentialKind = Literal["pin", "card", "tag", "phone"]
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = ("pin", "card", "tag", "phone")
PIN_MIN_LENGTH = 6
PIN_MAX_LENGTH = 12
# scrypt cost: about 70 ms and 16 MiB per attempt here, so a stolen database costs an attacker
# that much per guess (together with the secret, which is not in the database).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 2**20, "dklen": 32}
_UID = re.compile(r"^[A-Za-z0-9:_\-\.]{4,128}$")


class CredentialError(FacegateError):
    """A credential value that cannot be accepted, with the reason."""


def normalise(kind: CredentialKind, value: str) -> str:
    value = value.strip()
    if kind == "pin":
        if not value.isdigit() or not PIN_MIN_LENGTH <= len(value) <= PIN_MAX_LENGTH:
            raise CredentialError(f"a PIN must be {PIN_MIN_LENGTH}-{PIN_MAX_LENGTH} digits")
        if len(set(value)) == 1 or value in "0123456789012" or value in "9876543210987":
            raise CredentialError("a PIN must not be one repeated digit or a plain run")
        return value
    if not _UID.match(value):
        raise CredentialError(f"a {kind} identifier must be 4-128 letters, digits or : _ - .")
    # Card readers differ in case and separators for the same UID.
    return value.upper().replace(":", "").replace("-", "") if kind != "phone" else value


def lookup_key(secret: bytes, kind: CredentialKind, value: str) -> str:
    """The stored, searchable form of a credential value; the value itself is never kept."""
    normal = normalise(kind, value)
    if kind == "pin":
        return "scrypt:" + hashlib.scrypt(normal.encode(), salt=secret, **_SCRYPT).hex()
    mac = hmac.new(secret, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()
    return f"hmac:{mac}"
