"""Face templates sealed with AES-256-GCM (R8).

The associated data binds each ciphertext to its template id, its person and its embedder, so
a sealed blob copied onto another person's row fails authentication instead of letting one
resident's face open the door as someone else.
"""

from __future__ import annotations

import os

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facegate.errors import TamperError
from facegate.vision.types import Vector

NONCE_BYTES = 12
FORMAT = b"fg1"


def _associated(template_id: str, person_id: str, embedder: str) -> bytes:
    return b"|".join([FORMAT, template_id.encode(), person_id.encode(), embedder.encode()])


class TemplateSealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, vector: Vector, *, template_id: str, person_id: str, embedder: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plain = np.asarray(vector, dtype="<f4").tobytes()
        aad = _associated(template_id, person_id, embedder)
        return FORMAT + nonce + self._aead.encrypt(nonce, plain, aad)

    def open(self, blob: bytes, *, template_id: str, person_id: str, embedder: str) -> Vector:
        if not blob.startswith(FORMAT) or len(blob) < len(FORMAT) + NONCE_BYTES + 16:
            raise TamperError(f"template {template_id} is not a sealed template")
        nonce = blob[len(FORMAT) : len(FORMAT) + NONCE_BYTES]
        try:
            plain = self._aead.decrypt(
                nonce,
                blob[len(FORMAT) + NONCE_BYTES :],
                _associated(template_id, person_id, embedder),
            )
        except InvalidTag:
            raise TamperError(
                f"template {template_id} failed authentication: it was altered, moved to another "
                "person, or sealed with another key; it is refused"
            ) from None
        return np.frombuffer(plain, dtype="<f4").astype(np.float32)
