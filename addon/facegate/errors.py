"""Errors the engine raises on purpose; each carries a message a user can act on."""


class FacegateError(Exception):
    """Base class: anything the engine refuses with an explanation. `key` names the refusal
    where a page says it in the reader's own language (web/resident/words.py: REFUSALS), and
    `values` fill its blanks; the message is the English of it."""

    def __init__(self, message: str = "", *, key: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class ConfigError(FacegateError):
    """The configuration is invalid; the message names the key and, where one applies, the rule."""


class NotFoundError(FacegateError):
    """The person, credential or door named does not exist."""


class UnknownDoorError(NotFoundError):
    """A door that is not configured (a credential presented for it, its counters)."""


class ModelError(FacegateError):
    """A model file is missing or is not the pinned one."""


class ConsentError(FacegateError):
    """An operation needs a live consent record that the person does not have (R2)."""


class ConsentRecordError(ConsentError):
    """A consent that cannot be recorded as given: no signer, witness or guardian where one is
    needed, an unknown notice, a length out of bounds (R2, R3, R6)."""


class RuleError(FacegateError):
    """A change refused because it would break one of the rules (docs/rules.md), named in the
    message: a door left with the face as its only method (R4), for one. `key` names the rule
    for programs (Home Assistant translates it)."""

    def __init__(self, message: str, key: str = "rule") -> None:
        super().__init__(message, key=key)


class TamperError(FacegateError):
    """Stored data failed authentication: it was altered outside the engine (R8)."""


class EnrolmentError(FacegateError):
    """An enrolment image could not produce a usable template."""


class ImageError(EnrolmentError):
    """An image that cannot be read at all: too large, or not a JPEG or PNG."""


class CameraError(EnrolmentError):
    """The door camera gave no frame to enrol from."""


class CredentialInUseError(FacegateError):
    """The PIN, card, tag or phone is another credential's already (HTTP 409)."""


class TooManyChangesError(FacegateError):
    """Credential changes for this person are paused after too many refusals (HTTP 429)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message, key="too_many_changes", seconds=round(retry_after_s))
        self.retry_after_s = retry_after_s
