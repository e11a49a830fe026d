"""The request bodies the API takes, as pydantic models: the model that checks a body is the
one the OpenAPI document describes (web/routes.py), so the two cannot drift apart.

Strict: a JSON true is not "true" or 1, a number is not "365", and a field the model does not
know is refused by name (R2: consent is never bundled with other terms; R4: no ID card, phone
number or title deed has a place here). What depends on the engine's state (the notice in
force, a door's camera, a person's consent) is checked by the handlers and the store.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from facegate.enrol import MAX_ENROLMENT_IMAGES
from facegate.identity.records import (
    DEFAULT_CONSENT_DAYS,
    MAX_CONSENT_DAYS,
    NAME_MAX_LENGTH,
    birth_years,
)
from facegate.identity.validity import MAX_USES, Validity, Window, moment
from facegate.plain_text import text_problem
from facegate.vocabulary import ConsentMethod, CredentialKind, Method

# Three frames of the door camera make an enrolment whose spread the engine can judge.
DEFAULT_CAMERA_FRAMES = 3
SIGNATURE_MAX_LENGTH = 80  # a typed name: the signer, a witness, a guardian
LABEL_MAX_LENGTH = 60
VALUE_MAX_LENGTH = 256  # a presented code: longer than any PIN, card or tag id


def _plain(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _blank_is_none(value: str | None) -> str | None:
    return value if value is None or value.strip() else None


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("must be a date written YYYY-MM-DD") from None


def _birth_year(value: int | None) -> int | None:
    # The range moves with the calendar, so it is checked here rather than declared.
    low, high = birth_years()
    if value is not None and not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value


def _text(max_length: int) -> object:
    return StringConstraints(max_length=max_length)


Name = Annotated[str, _text(NAME_MAX_LENGTH), AfterValidator(_plain), AfterValidator(_not_blank)]
Signature = Annotated[
    str, _text(SIGNATURE_MAX_LENGTH), AfterValidator(_plain), AfterValidator(_not_blank)
]
# Optional typed names: blank reads as absent.
OptionalSignature = Annotated[
    str | None,
    Field(max_length=SIGNATURE_MAX_LENGTH),
    AfterValidator(lambda v: _plain(v) if v is not None else v),
    AfterValidator(_blank_is_none),
]
IsoDate = Annotated[
    str | None,
    Field(max_length=10, json_schema_extra={"format": "date"}),
    AfterValidator(_iso_date),
]
ConsentDays = Annotated[int, Field(ge=1, le=MAX_CONSENT_DAYS)]
NoticeVersion = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_not_blank),
    Field(description="The version of the notice the person was shown; must be the current one."),
]


def _true(value: bool) -> bool:
    if value is not True:
        raise ValueError("is false")
    return value


# A bool that must be true, not Literal[True]: a literal compares by equality, so 1 and 1.0
# would pass for the person's agreement.
Agree = Annotated[
    bool,
    AfterValidator(_true),
    Field(
        json_schema_extra={"const": True},
        description="The person's explicit agreement to this step alone; anything but the JSON "
        "value true is refused (R2).",
    ),
]
DoorId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
GroupId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _moment(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "must be a date or a date and time, e.g. 2026-12-24 or 2026-12-24T18:00 (an offset "
            "such as +08:00 may follow; without one, the installation's time zone is meant)"
        ) from None
    return value


Moment = Annotated[
    str | None,
    Field(max_length=40, json_schema_extra={"format": "date-time"}),
    AfterValidator(_moment),
]


class Body(BaseModel):
    """A request body: strict, closed, immutable once read."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    # Why a field outside the model has no place in this body (added to the refusal).
    refuses_extra_because: ClassVar[str] = ""
    # A sentence added to the refusal of a field, where the bare rule would not help.
    hints: ClassVar[dict[str, str]] = {}


class DoorMethodBody(Body):
    method: Method
    enabled: bool


class ValidityFields(Body):
    """When a person or a credential opens a door; nothing sent: always, without limit."""

    valid_from: Moment = None
    valid_until: Moment = None
    max_uses: Annotated[int, Field(ge=1, le=MAX_USES)] | None = None
    schedule: Annotated[
        list[Window],
        Field(
            max_length=28,
            description="Weekly windows in the installation's time zone; empty: any time.",
        ),
    ] = []

    def validity(self, zone: dt.tzinfo | None) -> Validity:
        """The limits sent, the moments read in the installation's time zone `zone`."""
        return Validity(
            valid_from=None if self.valid_from is None else moment(self.valid_from, zone),
            valid_until=None
            if self.valid_until is None
            else moment(self.valid_until, zone, end=True),
            max_uses=self.max_uses,
            schedule=tuple(self.schedule),
        )


_NO_DOCUMENTS = (
    "R4: a person needs no ID-card number, title deed or phone number to get in, and "
    "facegate has no place to store one"
)
_GROUPS = Field(
    max_length=64,
    description='Access groups (ids); not sent: the "All doors" group while it exists; '
    "empty: no door at all.",
)


class PersonBody(ValidityFields):
    refuses_extra_because = _NO_DOCUMENTS
    name: Name
    birth_year: Annotated[int | None, AfterValidator(_birth_year)] = None
    minor: bool = False
    leaves_on: IsoDate = None
    groups: Annotated[list[GroupId] | None, _GROUPS] = None


class VisitorBody(ValidityFields):
    """A visitor: a name, the groups of doors they may open and a code that ends."""

    refuses_extra_because = _NO_DOCUMENTS
    name: Name
    groups: Annotated[list[GroupId], Field(min_length=1, max_length=64)]
    valid_until: Annotated[
        str,
        Field(max_length=40, json_schema_extra={"format": "date-time"}),
        AfterValidator(_moment),
    ]
    label: Annotated[
        str, StringConstraints(max_length=LABEL_MAX_LENGTH), AfterValidator(_plain)
    ] = ""


class PersonGroupsBody(Body):
    groups: Annotated[list[GroupId], Field(max_length=64)]


class GroupBody(Body):
    name: Name
    doors: Annotated[list[DoorId], Field(max_length=1000)] = []
    every_door: bool = False


class GroupChangeBody(Body):
    """Only what is sent changes."""

    name: Name | None = None
    doors: Annotated[list[DoorId], Field(max_length=1000)] | None = None
    every_door: bool | None = None


class PersonChangeBody(Body):
    """Only what is sent changes; a null move-out date clears it."""

    leaves_on: IsoDate = None
    disabled_methods: list[Method] | None = None


class _Agreement(Body):
    refuses_extra_because = (
        "R2: consent to face processing is its own step and is never bundled with other terms"
    )
    hints = {
        "agree": 'R2: consent needs "agree": true (the JSON value), given by the person for this '
        "step alone; it is never pre-ticked or assumed",
    }
    agree: Agree
    notice_version: NoticeVersion


class ConsentBody(_Agreement):
    hints = {
        **_Agreement.hints,
        "signer": "the name of the person who gave consent",
    }
    signer: Signature
    method: ConsentMethod
    witness: OptionalSignature = None
    guardian: OptionalSignature = None
    entered_by: OptionalSignature = None
    days: ConsentDays = DEFAULT_CONSENT_DAYS


class ConsentRenewalBody(_Agreement):
    days: ConsentDays = DEFAULT_CONSENT_DAYS


_VALUE_HINT = 'send a PIN as a string ("123456"), so leading zeros are kept'


class CredentialBody(ValidityFields):
    hints = {"value": _VALUE_HINT}
    kind: CredentialKind
    value: Annotated[
        str,
        StringConstraints(min_length=1, max_length=VALUE_MAX_LENGTH),
        Field(description="a PIN is 6-12 digits, not easy to guess"),
    ]
    label: Annotated[
        str, StringConstraints(max_length=LABEL_MAX_LENGTH), AfterValidator(_plain)
    ] = ""


class PresentedCredentialBody(Body):
    hints = {"value": _VALUE_HINT}
    door: DoorId
    kind: CredentialKind
    value: Annotated[str, StringConstraints(min_length=1, max_length=VALUE_MAX_LENGTH)]


class SnapshotBody(Body):
    door: DoorId
    frames: Annotated[int, Field(ge=1, le=MAX_ENROLMENT_IMAGES)] = DEFAULT_CAMERA_FRAMES
