"""The rules (docs/rules.md) that more than one layer applies, each written once here: the
configuration, the store and the API all ask the same question and give the same answer."""

from __future__ import annotations

from collections.abc import Collection

from facegate.vocabulary import NON_BIOMETRIC

R4 = "R4: the face must never be the only way in"


def face_alone(methods: Collection[str]) -> bool:
    """R4: a door whose methods would leave the face as the only way in (or no way at all)."""
    return not set(methods) & NON_BIOMETRIC


def r4_methods_hint() -> str:
    return f"enable at least one of {', '.join(sorted(NON_BIOMETRIC))} for this door"
