"""One table from the errors the engine raises on purpose to the HTTP status that answers
them; every handler goes through it (the middleware in app.py), none picks a status itself.

The first row whose type the error is wins, so the more specific types come first. The
message is the error's own: it says what is wrong and, where one applies, the rule.
"""

from __future__ import annotations

import math

from aiohttp import web

from facegate.errors import (
    CameraError,
    ConsentError,
    ConsentRecordError,
    CredentialInUseError,
    EnrolmentError,
    FacegateError,
    ImageError,
    NotFoundError,
    RuleError,
    TamperError,
    TooManyChangesError,
)
from facegate.identity.credentials import CredentialError
from facegate.web.replies import error_reply

ERROR_STATUS: tuple[tuple[type[FacegateError], int, str], ...] = (
    (NotFoundError, 404, "not_found"),  # a person, credential or door that does not exist
    (TooManyChangesError, 429, "too_many_changes"),  # credential changes paused (Retry-After)
    (ConsentRecordError, 400, "consent_record"),  # cannot be recorded as given (R2, R3, R6)
    (ImageError, 400, "image"),  # not an image we can read
    (CameraError, 503, "camera"),  # the door camera gave no frame
    (CredentialError, 400, "credential"),  # a PIN, card or tag value that cannot be accepted
    (CredentialInUseError, 409, "credential_in_use"),  # the value is someone else's
    (ConsentError, 409, "no_consent"),  # the person has no live consent for this (R2)
    (TamperError, 409, "tampered"),  # stored data failed its integrity check (R8, R11)
    (RuleError, 409, "rule"),  # the change would break a rule; the error may name it (R4, ...)
    (EnrolmentError, 422, "enrolment"),  # an image without a usable face
    (FacegateError, 400, "refused"),  # anything else the engine refuses, with its reason
)


def status_of(error: FacegateError) -> tuple[int, str]:
    """The status and the key that answer `error`: the table's, or the rule a RuleError
    names. (Other errors' own keys are finer, for the resident pages' words: the API's keys
    stay the kinds of this table.)"""
    status, key = next((s, k) for kind, s, k in ERROR_STATUS if isinstance(error, kind))
    return status, (error.key if isinstance(error, RuleError) and error.key else key)


def error_response(error: FacegateError) -> web.Response:
    message = str(error)
    headers = None
    if isinstance(error, TamperError):
        message = f"stored data failed its integrity check: {message}"
    if isinstance(error, TooManyChangesError):
        headers = {"Retry-After": str(math.ceil(error.retry_after_s))}
    status, key = status_of(error)
    refusal = None
    if error.key is not None and not isinstance(error, RuleError):
        refusal = (error.key, {k: v for k, v in error.values.items() if k != "label"})
    return error_reply(status, message, headers, key=key, refusal=refusal)
