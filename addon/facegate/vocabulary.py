"""The words the engine, its API, its CLI and Home Assistant share, each declared here once.

A `Literal` for the type checker and a tuple, made from it, for whatever checks or lists the
values at run time (configuration, request bodies, the OpenAPI document).
"""

from __future__ import annotations

from typing import Literal, get_args

# How a door can be opened (R4: never by the face alone).
Method = Literal["face", "pin", "card", "tag", "phone"]
METHODS: tuple[Method, ...] = get_args(Method)

# What a person can hold instead of, or beside, a face: every one is also a method.
CredentialKind = Literal["pin", "card", "tag", "phone"]
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = get_args(CredentialKind)
NON_BIOMETRIC: frozenset[str] = frozenset(CREDENTIAL_KINDS)

# How a consent was given (R2): the person's own signed name or ticked box, or a paper form an
# administrator entered with a witness.
ConsentMethod = Literal["signed_name", "checkbox", "paper"]
CONSENT_METHODS: tuple[ConsentMethod, ...] = get_args(ConsentMethod)

# Why a person's data was erased (R7).
EraseReason = Literal["request", "withdrawal", "expiry", "move_out"]

# A decision and its reason, as the access event carries them (docs/design.md).
Result = Literal["granted", "denied"]
Reason = Literal[
    "match",
    "unknown",
    "no_consent",
    "consent_expired",
    "spoof",
    "rate_limited",
    "door_disabled",
    "lock_offline",
    "stale",  # a grant too old to act on by the time it was decided
    "method_disabled",  # a valid credential whose holder has that method turned off
    "ambiguous",  # a face that two residents explain almost equally well (access/policy.py)
    "tampered",  # the credential's or its holder's row was altered outside the engine (R8)
    "not_allowed",  # the person's access groups do not cover this door
    "outside_schedule",  # before the person's or credential's valid-from, or outside its hours
    "expired",  # past the person's or credential's valid-until
    "used_up",  # the person's or credential's last allowed use was made
    "not_local",  # a phone key from outside the local network, at a door that wants it local
]
REASONS: tuple[Reason, ...] = get_args(Reason)

# The face embedders the engine can run (vision/embed.py).
EmbedderName = Literal["mobilefacenet", "sface", "dlib", "fused", "custom"]
EMBEDDER_NAMES: tuple[EmbedderName, ...] = get_args(EmbedderName)

# The days of a weekly schedule, Monday first (Python's weekday() order).
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
