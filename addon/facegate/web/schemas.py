"""What the API answers, as pydantic models: the OpenAPI document's response schemas are
generated from these (web/routes.py), and the tests check real answers against them.

Answers may grow new fields; a client ignores what it does not know. Nothing here carries an
image, an embedding or a credential's value (R10).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from facegate.access.liveness import Verdict
from facegate.audit_records import AuditEntry  # the record is its own schema
from facegate.vocabulary import ConsentMethod, CredentialKind, Method, Reason, Result, Weekday

ConsentStatus = Literal["none", "live", "withdrawn", "expired", "needs_renewal"]


class Answer(BaseModel):
    """An answer's schema; the handlers build the JSON, these say what it holds."""


class Error(Answer):
    """`error` says what is wrong, for people; `key` names the kind of refusal, for programs
    (Home Assistant translates it): `r4_face_only`, `no_consent`, `credential_in_use`,
    `not_found`, `bad_request`, ..."""

    error: str
    key: str
    refusal: str | None = Field(
        default=None,
        description="where the engine names the refusal finer, its code (pin_weak, in_use, "
        "no_face, not_live, ...), for a program to say it in its own language",
    )
    values: dict[str, Any] | None = Field(default=None, description="the refusal's blanks")


class Consent(Answer):
    id: str
    notice_version: str
    method: ConsentMethod
    signer: str
    witness: str | None
    guardian: str | None
    entered_by: str | None
    given_at: float
    expires_at: float
    renewed_at: float | None
    withdrawn_at: float | None
    needs_renewal: bool


class ConsentState(Answer):
    status: ConsentStatus
    expires_at: float | None = None
    notice_version: str | None = None
    current_notice: bool | None = None


class Window(Answer):
    days: list[Weekday]
    start: str
    end: str


class ValidityState(Answer):
    """When this person or credential opens a door (wall-clock seconds; null: no limit)."""

    valid_from: float | None = None
    valid_until: float | None = None
    max_uses: int | None = None
    uses: int = 0
    schedule: list[Window] = []


class CredentialRef(ValidityState):
    """Kind, label and validity only: the value is never returned."""

    id: str
    kind: CredentialKind
    label: str


class PersonRecord(ValidityState):
    """A person as stored: a display name and what they chose, nothing that identifies them
    further (R4)."""

    id: str
    name: str
    created_at: float
    birth_year: int | None
    minor: bool
    leaves_on: str | None = Field(json_schema_extra={"format": "date"})
    disabled_methods: list[Method]
    visitor: bool = Field(description="Holds only time-limited codes: no face, no consent.")


class Person(PersonRecord):
    """A person with their consent state, template count, credentials and access groups."""

    groups: list[str] = Field(description="The ids of the access groups the person is in.")
    needs_guardian: bool
    consent: ConsentState
    templates: int
    credentials: list[CredentialRef]
    consents: list[Consent] = Field(
        default=[], description="The consent history (one person's answers only)."
    )


class People(Answer):
    people: list[Person]


class DoorCamera(Answer):
    name: str
    online: bool


class Door(Answer):
    id: str
    name: str
    methods: list[Method]
    enabled: list[Method]
    face_enabled: bool
    camera: DoorCamera | None
    lock: Literal["mqtt", "home_assistant"]
    lock_entity: str | None = Field(
        description="the Home Assistant lock the integration unlocks after a grant (null: MQTT)"
    )
    credential_attempts: dict[str, Any] | None = Field(
        description="PIN/card/tag counters and lockout state at this door"
    )


class Doors(Answer):
    doors: list[Door]


class EventPerson(Answer):
    id: str
    name: str


class Liveness(Answer):
    """For a face: the decision window's mean live score, the verdict (a spoof is denied with
    reason `spoof`) and, for a spoof, why."""

    score: float
    verdict: Verdict
    reason: str | None = None


class AccessEvent(Answer):
    """A signed access decision, as published over MQTT. No image, no embedding."""

    id: str
    ts: float
    door: str
    method: Method
    result: Result
    reason: Reason
    person: EventPerson | None
    score: float | None
    liveness: Liveness | None = Field(default=None, description="null for a credential")
    latency_ms: float
    sig: str


class DeletionReceipt(Answer):
    receipt_id: str
    reason: str
    erased_at: float
    deleted: dict[str, int]
    statement: str


class AuditPage(Answer):
    entries: list[AuditEntry]
    next_after: int


class AuditVerdict(Answer):
    ok: bool
    entries: int
    first_seq: int | None
    last_seq: int | None
    problem: str | None
    at_seq: int | None
    checked_at: float | None = None


class Installation(Answer):
    installation_id: str = Field(
        pattern="^[0-9a-f]{32}$",
        description="Stable for the data directory's life: Home Assistant's unique id for this "
        "engine.",
    )
    version: str
    event_key: str = Field(
        pattern="^[0-9a-f]{64}$",
        description="Hex of the HMAC-SHA256 key that signs access events (`sig`), for the "
        "receiver to check them (R12).",
    )
    mqtt_prefix: str
    doors: list[str]


class Notice(Answer):
    version: str
    scope: str
    lang: str
    text: str
    languages: list[str]


class Enrolment(Answer):
    templates: list[str]
    template_count: int
    spread: float = Field(
        description="1 minus the cosine of the least typical image with the mean of the "
        "person's others (0 for a first single image)"
    )
    max_spread: float = Field(description="the most the embedder allows")


class Withdrawal(Answer):
    withdrawn: bool
    templates_deleted: int
    person: Person


class Removal(Answer):
    removed: str


class TemplateRecord(Answer):
    """A template's bookkeeping: never the vector."""

    id: str
    embedder: str
    consent_id: str
    created_at: float


class Export(Answer):
    """Everything held about the person (R11): never a secret or a vector."""

    exported_at: float
    person: PersonRecord
    consents: list[Consent]
    credentials: list[CredentialRef]
    groups: list[str]
    templates: list[TemplateRecord]
    audit: list[AuditEntry]


class CameraVision(Answer):
    """What the vision stage did with one camera's frames since the engine started."""

    frames_decoded: int
    frames_analysed: int
    frames_skipped_no_motion: int = Field(
        description="not analysed: nothing moved in a still, empty doorway"
    )
    frames_after_grant: int = Field(
        description="analysed up to detection only: the face its door had just let in"
    )
    frames_dropped: int = Field(
        description="replaced by a newer frame before a worker was free (never queued: R12)"
    )
    decision_p95_ms: float | None = Field(
        description="frame arrival to the door's decision on it, p95 of the latest frames"
    )


class Vision(Answer):
    workers: int
    motion_gate: bool
    cameras: dict[str, CameraVision]


class Health(Answer):
    status: Literal["ok", "degraded"] = Field(
        description="degraded when something needs a person: the audit chain, a camera, "
        "altered rows or templates, a guessing attack, the broker"
    )
    notice_version: str
    doors: int
    cameras: dict[str, dict[str, Any]] = Field(description="per camera, its reader's health")
    cameras_online: int
    cameras_total: int
    people: int
    templates: int
    templates_in_use: int
    refused_templates: int
    tampered_rows: dict[str, list[str]] = Field(
        description="per table, the ids of rows whose MAC no longer matches (R8)"
    )
    under_attack: dict[str, list[Method]] = Field(
        description="per door, the methods under a guessing attack (R12)"
    )
    decision_policy: dict[str, Any] = Field(
        description="the open-set policy as it stands: the embedder, the people enrolled, the "
        "template policy and frame aggregation, per door the strictness, its target rate of "
        "strangers let in per attempt, the threshold, margin and predicted rate, and the "
        "calibration behind them"
    )
    vision: Vision
    mqtt_connected: bool | None
    liveness_off: list[str] = Field(
        description="face doors that do not check liveness: a photo or a screen can open them"
    )
    audit_ok: bool
    audit_problem: str | None
    event_clients: int


class OpenApiDocument(Answer):
    """This document."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


class AccessGroup(Answer):
    """A named set of doors; its members open those doors (and no others)."""

    id: str
    name: str
    doors: list[str]
    every_door: bool = Field(description="Every door, those configured later too.")
    created_at: float
    members: int


class Groups(Answer):
    groups: list[AccessGroup]


class VisitorPass(Answer):
    """The visitor, their code (shown this once, never stored in clear) and a message the host
    can forward, in English and Simplified Chinese."""

    person: Person
    credential: CredentialRef
    code: str
    message: dict[str, str]


class InvitationLink(Answer):
    """A link to the resident pages for one person, shown once, and its QR code (SVG)."""

    url: str
    expires_at: float
    qr_svg: str  # to put inside an HTML page
    qr_data_uri: str  # the same code for an <img> or a Markdown image (data: URI)


class InvitationsRevoked(Answer):
    revoked: int
