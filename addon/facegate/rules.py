"""The rules (docs/rules.md) that more than one layer applies, each written once here: the
configuration, the store and the API all ask the same question and give the same answer."""

from __future__ import annotations

from collections.abc import Collection

from facegate.identity.records import GUARDIAN_AGE, MAX_CONSENT_DAYS, Person
from facegate.plain_text import text_problem
from facegate.vocabulary import NON_BIOMETRIC, ConsentMethod

R4 = "R4: the face must never be the only way in"
# The keys a refusal under a rule carries (RuleError.key), for programs to translate.
R4_KEY = "r4_face_only"
NO_METHOD_LEFT_KEY = "no_method_left"
RULE_KEYS = frozenset({R4_KEY, NO_METHOD_LEFT_KEY})


def face_alone(methods: Collection[str]) -> bool:
    """R4: a door whose methods would leave the face as the only way in (or no way at all)."""
    return not set(methods) & NON_BIOMETRIC


def r4_methods_hint() -> str:
    return f"enable at least one of {', '.join(sorted(NON_BIOMETRIC))} for this door"


def consent_length_refusal(days: int) -> str | None:
    """R6: no grant is perpetual; a consent lasts 1 to MAX_CONSENT_DAYS days."""
    if not 1 <= days <= MAX_CONSENT_DAYS:
        return f"R6: consent must last 1-{MAX_CONSENT_DAYS} days, never unlimited"
    return None


def consent_refusal(
    person: Person,
    *,
    method: ConsentMethod,
    signer: str,
    witness: str | None,
    guardian: str | None,
    days: int,
) -> str | None:
    """Why this consent cannot be recorded (R2, R3, R6), or None.

    R2: it is someone's own act, so it names who signed; a paper form an administrator enters
    names a witness. R3: under GUARDIAN_AGE a parent or guardian gives it, by name. R6: it ends.
    """
    if (problem := consent_length_refusal(days)) is not None:
        return problem
    if person.visitor:
        return (
            f"{person.name} is a visitor: a visitor holds only time-limited codes, never a face; "
            "create them as a resident to offer face unlock"
        )
    if not signer.strip():
        return "R2: consent needs the name of the person who signed it"
    for role, signed in (("signer", signer), ("witness", witness), ("guardian", guardian)):
        if signed is not None and (problem := text_problem(signed)) is not None:
            return f"the {role}'s name {problem}"
    if method == "paper" and not (witness and witness.strip()):
        return "R2: a paper consent entered by an administrator needs a witness name"
    if person.needs_guardian() and not (guardian and guardian.strip()):
        return (
            f"R3: {person.name} is under {GUARDIAN_AGE}; a parent or guardian must give the "
            "consent, and their name is recorded"
        )
    return None
