"""Non-biometric credentials (R4, R5): PIN, card/NFC tag UID, phone.

Nothing is stored in clear. A PIN becomes a scrypt hash salted with the installation's secret
(kept in a key file outside the database); card, tag and phone identifiers become an HMAC
under the same secret. One scrypt per attempt, with no per-credential salt, is what lets a
keypad code be looked up as fast as a face is matched, instead of trying every resident's hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from functools import cache

from facegate.errors import FacegateError
from facegate.vocabulary import CREDENTIAL_KINDS, CredentialKind

__all__ = ["CREDENTIAL_KINDS", "CredentialError", "CredentialKind", "lookup_key", "normalise"]

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
            raise CredentialError(
                f"a PIN must be {PIN_MIN_LENGTH}-{PIN_MAX_LENGTH} digits",
                key="pin_length",
                low=PIN_MIN_LENGTH,
                high=PIN_MAX_LENGTH,
            )
        if (weakness := pin_weakness(value)) is not None:
            raise CredentialError(
                f"a PIN must not be easy to guess: this one is {weakness}",
                key="pin_weak",
                weakness=weakness,
            )
        return value
    if not _UID.match(value):
        raise CredentialError(f"a {kind} identifier must be 4-128 letters, digits or : _ - .")
    # Card readers differ in case and separators for the same UID.
    return value.upper().replace(":", "").replace("-", "") if kind != "phone" else value


# Lines on a phone keypad (rows, columns, diagonals, the middle column through 0), both ways:
# 147258 or 159753 is a shape, not a secret.
_KEYPAD_LINES = frozenset(
    line
    for forward in ("123", "456", "789", "147", "258", "369", "159", "357", "2580")
    for line in (forward, forward[::-1])
)
# PINs people choose for their meaning, which a guesser tries first: Chinese number puns
# (520 "I love you", 1314 "for a lifetime"), lucky numbers, palindromic runs.
_COMMON = frozenset(
    {
        "520520", "521521", "520131", "131452", "201314", "131420", "5201314", "1314520",
        "168168", "518518", "666888", "888666", "123321", "654456", "112358", "159357",
    }
)  # fmt: skip


def _is_date(digits: str) -> bool:
    """DDMMYY, MMDDYY, YYMMDD (6 digits) or YYYYMMDD, DDMMYYYY, MMDDYYYY (8): a birthday."""
    if len(digits) == 6:
        orders = ((4, 2, 0), (4, 0, 2), (0, 2, 4))  # where the year, month and day start
        candidates = [
            (digits[y : y + 2], digits[m : m + 2], digits[d : d + 2]) for y, m, d in orders
        ]
        years = [(("19" if int(y) > 30 else "20") + y, m, d) for y, m, d in candidates]
    elif len(digits) == 8:
        years = [
            (digits[0:4], digits[4:6], digits[6:8]),
            (digits[4:8], digits[2:4], digits[0:2]),
            (digits[4:8], digits[0:2], digits[2:4]),
        ]
    else:
        return False
    for year, month, day in years:
        try:
            if 1900 <= int(year) <= 2099:
                dt.date(int(year), int(month), int(day))
                return True
        except ValueError:
            continue
    return False


@cache
def _keypad_shape(digits: str) -> bool:
    """True when the PIN is one keypad line after another (at least two)."""
    if not digits:
        return True
    return any(
        digits.startswith(line) and _keypad_shape(digits[len(line) :]) for line in _KEYPAD_LINES
    )


def pin_weakness(pin: str) -> str | None:
    """Why a PIN is too easy to guess, or None. The rules cover what guessers try first: runs,
    repeats, keypad shapes, dates and a short list of PINs chosen for their meaning."""
    if len(set(pin)) == 1 or pin in "0123456789012" or pin in "9876543210987":
        return "one repeated digit or a plain run"
    for size in range(1, len(pin) // 2 + 1):
        if len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size):
            return "a group of digits repeated"
    if len(pin) % 2 == 0 and pin[::2] == pin[1::2]:
        return "doubled digits"
    if len(set(pin)) <= 2:
        return "two digits only"
    if _keypad_shape(pin):
        return "a shape on the keypad"
    if _is_date(pin):
        return "a date"
    if pin in _COMMON:
        return "a common choice"
    return None


def lookup_key(secret: bytes, kind: CredentialKind, value: str) -> str:
    """The stored, searchable form of a credential value; the value itself is never kept."""
    normal = normalise(kind, value)
    if kind == "pin":
        return "scrypt:" + hashlib.scrypt(normal.encode(), salt=secret, **_SCRYPT).hex()
    mac = hmac.new(secret, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()
    return f"hmac:{mac}"


VISITOR_PIN_LENGTH = 8


def generate_pin(length: int = VISITOR_PIN_LENGTH) -> str:
    """A random PIN that meets the PIN rules (a visitor's code): drawn again until no rule
    finds it easy to guess."""
    while True:
        pin = "".join(str(secrets.randbelow(10)) for _ in range(length))
        if pin_weakness(pin) is None:
            return pin
