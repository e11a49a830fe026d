"""Access events as published on `<prefix>/<door>/access`, signed for the integration (R12).

An event carries a pseudonymous person id and display name, never an image or an embedding
(R10). `sig` is an HMAC-SHA256 over the canonical JSON of every other field, keyed by the
installation key shared with the Home Assistant integration at setup.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from facegate.vocabulary import Method, Reason, Result

__all__ = ["AccessEvent", "Method", "Reason", "Result", "canonical", "sign", "verify"]


@dataclass(frozen=True, kw_only=True)
class AccessEvent:
    door: str
    method: Method
    result: Result
    reason: Reason
    person_id: str | None
    person_name: str | None
    score: float | None
    liveness: Mapping[str, object] | None  # {"score", "verdict"} for a face; None otherwise
    latency_ms: float
    id: str = ""
    ts: float = 0.0

    def payload(self) -> dict[str, object]:
        return {
            "id": self.id or uuid.uuid4().hex,
            "ts": round(self.ts or time.time(), 3),
            "door": self.door,
            "method": self.method,
            "result": self.result,
            "reason": self.reason,
            "person": None
            if self.person_id is None
            else {"id": self.person_id, "name": self.person_name},
            "score": None if self.score is None else round(self.score, 4),
            "liveness": None if self.liveness is None else dict(self.liveness),
            "latency_ms": round(self.latency_ms, 1),
        }


def canonical(fields: Mapping[str, object]) -> bytes:
    return json.dumps(
        {k: v for k, v in fields.items() if k != "sig"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def sign(fields: Mapping[str, object], key: bytes) -> dict[str, object]:
    signed = dict(fields)
    signed["sig"] = hmac.new(key, canonical(fields), hashlib.sha256).hexdigest()
    return signed


def verify(fields: Mapping[str, object], key: bytes) -> bool:
    sig = fields.get("sig")
    if not isinstance(sig, str):
        return False
    expected = hmac.new(key, canonical(fields), hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, expected)
