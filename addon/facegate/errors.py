"""Errors the engine raises on purpose; each carries a message a user can act on."""


class FacegateError(Exception):
    """Base class: anything the engine refuses with an explanation."""


class ConfigError(FacegateError):
    """The configuration is invalid; the message names the key and, where one applies, the rule."""


class NotFoundError(FacegateError):
    """The person, credential or door named does not exist."""


class ModelError(FacegateError):
    """A model file is missing or is not the pinned one."""


class ConsentError(FacegateError):
    """An operation needs a live consent record that the person does not have (R2)."""


class TamperError(FacegateError):
    """Stored data failed authentication: it was altered outside the engine (R8)."""


class EnrolmentError(FacegateError):
    """An enrolment image could not produce a usable template."""


class CredentialInUseError(FacegateError):
    """The PIN, card, tag or phone is another credential's already (HTTP 409)."""


class TooManyChangesError(FacegateError):
    """Credential changes for this person are paused after too many refusals (HTTP 429)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
