"""The route table: every endpoint once, with the model that checks its body and the model of
its answer. The app serves it (web/app.py) and the OpenAPI document is generated from it
(web/openapi.py), so what is documented is what is served and checked.
"""

from __future__ import annotations

from facegate.notice import LANGUAGES
from facegate.web import bodies, schemas
from facegate.web.access_routes import ACCESS_ROUTES
from facegate.web.invitation_routes import INVITATION_ROUTES
from facegate.web.route_table import Query, Route, Schema

_PERSON = "/api/people/{person_id}"
_IMAGE_BODY: Schema = {
    "required": True,
    "content": {
        "image/jpeg": {"schema": {"type": "string", "contentMediaType": "image/jpeg"}},
        "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "image": {
                        "type": "array",
                        "items": {"type": "string", "contentMediaType": "image/*"},
                        "minItems": 1,
                        "maxItems": 5,
                    }
                },
                "required": ["image"],
            }
        },
    },
}

ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/health",
        handler="health",
        operation_id="health",
        summary="Engine status: cameras online, template count, audit chain intact, decision "
        "policy",
        answer=schemas.Health,
        answer_says="status",
        description="`tampered_rows` lists, per table, the person, consent and credential rows "
        "whose keyed MAC no longer matches (altered outside the engine, refused where used); "
        "any makes the status `degraded`. `under_attack` lists the doors, and their credential "
        "methods, locked out twice or more in a row within a day (a guessing attack); any "
        "makes the status `degraded` too.",
    ),
    Route(
        method="GET",
        path="/api/installation",
        handler="installation",
        operation_id="installation",
        summary="This installation's id, version, event signing key, MQTT prefix and door ids",
        answer=schemas.Installation,
        answer_says="the installation",
        description="For the Home Assistant integration at setup: the id becomes the config "
        "entry's unique id, and the key checks the `sig` of every access event before a Home "
        "Assistant lock is driven (R12).",
    ),
    Route(
        method="GET",
        path="/api/openapi.json",
        handler="openapi",
        operation_id="openapi",
        summary="This document",
        answer=schemas.OpenApiDocument,
        answer_says="OpenAPI 3.1",
    ),
    Route(
        method="GET",
        path="/api/events",
        handler="events",
        operation_id="events",
        summary="WebSocket stream of decisions and state changes",
        answer=None,
        answer_says="switching to WebSocket",
        status=101,
        errors=(503,),
        description='Upgrade to a WebSocket. The first message is {"type": "state", "change": '
        '"snapshot", "notice_version", "doors", "people"}; then {"type": "decision", "event": '
        'AccessEvent} for every access decision and {"type": "state", "change": '
        '"person_created|person_updated|person_erased|consent_given|consent_renewed|'
        'consent_withdrawn|templates|credentials|door|groups", ...} for every change, and {"type": '
        '"camera", "camera", "online"} when a camera goes offline or comes back, {"type": "mqtt", '
        '"connected"} when the link to the MQTT broker drops or returns. A client that falls too '
        "far behind is closed with code 1013.",
    ),
    Route(
        method="GET",
        path="/api/notice",
        handler="notice",
        operation_id="notice",
        summary="The current processing notice (R1); recorded as shown in the audit log",
        answer=schemas.Notice,
        answer_says="the notice",
        errors=(400, 404),
        query=(
            Query(
                name="lang",
                schema={"type": "string", "enum": list(LANGUAGES)},
                description="default en",
            ),
            Query(
                name="person",
                schema={"type": "string"},
                description="the person being shown the notice",
            ),
        ),
    ),
    Route(
        method="GET",
        path="/api/doors",
        handler="doors",
        operation_id="listDoors",
        summary="Doors with their configured and enabled methods",
        answer=schemas.Doors,
        answer_says="doors",
    ),
    Route(
        method="POST",
        path="/api/doors/{door}/methods",
        handler="door_method",
        operation_id="setDoorMethod",
        summary="Enable or disable one of a door's configured methods",
        answer=schemas.Door,
        answer_says="the door",
        errors=(400, 404, 409),
        body=bodies.DoorMethodBody,
        description="Refused with 409 when the door would be left with the face as its only "
        "enabled method (R4, key `r4_face_only`) or with no method at all (`no_method_left`).",
    ),
    Route(
        method="GET",
        path="/api/people",
        handler="people.people",
        operation_id="listPeople",
        summary="Everyone, with consent state, template count and credentials (kind/label)",
        answer=schemas.People,
        answer_says="people",
    ),
    Route(
        method="POST",
        path="/api/people",
        handler="people.create_person",
        operation_id="createPerson",
        summary="Add a person: a display name and nothing that identifies them further",
        answer=schemas.Person,
        answer_says="the person",
        status=201,
        errors=(400,),
        body=bodies.PersonBody,
        description="Any other field (id_card, phone_number, title_deed, ...) is refused with "
        "400 (R4).",
    ),
    Route(
        method="GET",
        path=_PERSON,
        handler="people.person",
        operation_id="getPerson",
        summary="A person with consent history, template count and credentials",
        answer=schemas.Person,
        answer_says="the person",
        errors=(404,),
    ),
    Route(
        method="PATCH",
        path=_PERSON,
        handler="people.update_person",
        operation_id="updatePerson",
        summary="Set the move-out date (null clears it) or the methods disabled for this person",
        answer=schemas.Person,
        answer_says="the person",
        errors=(400, 404),
        body=bodies.PersonChangeBody,
    ),
    Route(
        method="DELETE",
        path=_PERSON,
        handler="people.erase_person",
        operation_id="erasePerson",
        summary="Erase the person, their templates, credentials and consents (R7)",
        answer=schemas.DeletionReceipt,
        answer_says="the deletion receipt",
        errors=(404,),
    ),
    Route(
        method="GET",
        path=_PERSON + "/export",
        handler="people.export",
        operation_id="exportPerson",
        summary="Everything held about the person, in one document (R11): no secret, no vector",
        answer=schemas.Export,
        answer_says="the export",
        errors=(404,),
    ),
    Route(
        method="POST",
        path=_PERSON + "/consent",
        handler="consent.give_consent",
        operation_id="giveConsent",
        summary="Record the person's consent to face processing: the only way to give it (R2)",
        answer=schemas.Consent,
        answer_says="the consent record",
        status=201,
        errors=(400, 404, 409),
        body=bodies.ConsentBody,
        description='Needs "agree": true exactly and the current notice version (409 when the '
        "notice changed). Any other field is refused: consent is never bundled with other "
        "terms. Under 14, a guardian's name is required (R3). A paper consent needs a witness.",
    ),
    Route(
        method="POST",
        path=_PERSON + "/consent/renew",
        handler="consent.renew_consent",
        operation_id="renewConsent",
        summary="Extend the latest consent under the current notice (R6)",
        answer=schemas.Consent,
        answer_says="the consent record",
        errors=(400, 404, 409),
        body=bodies.ConsentRenewalBody,
    ),
    Route(
        method="POST",
        path=_PERSON + "/consent/withdraw",
        handler="consent.withdraw_consent",
        operation_id="withdrawConsent",
        summary="Withdraw consent in one step: templates are deleted at once (R6, R7)",
        answer=schemas.Withdrawal,
        answer_says="withdrawn",
        errors=(404,),
        description="No body is needed; any body is ignored.",
    ),
    Route(
        method="POST",
        path=_PERSON + "/faces",
        handler="faces.upload",
        operation_id="enrolUpload",
        summary="Enrol a face from an uploaded photo (decoded in memory, never stored: R10)",
        answer=schemas.Enrolment,
        answer_says="templates added",
        status=201,
        errors=(400, 404, 409, 413, 415, 422),
        raw_body=_IMAGE_BODY,
        description="One photo (at most 10 MiB), or up to 5 as multipart fields named 'image', "
        "enrolled together: 422 names a photo that does not look like the others or the "
        "person's earlier ones (spread), and nothing is stored. 409 without a live consent (R2).",
    ),
    Route(
        method="POST",
        path=_PERSON + "/faces/snapshot",
        handler="faces.snapshot",
        operation_id="enrolSnapshot",
        summary="Enrol a face from frames of the door camera (kept in memory only: R10)",
        answer=schemas.Enrolment,
        answer_says="templates added",
        status=201,
        errors=(400, 404, 409, 422, 503),
        body=bodies.SnapshotBody,
        description="Takes `frames` usable frames at least 0.3 s apart within 10 s, each "
        "through the quality gate, and enrols them together.",
    ),
    Route(
        method="POST",
        path=_PERSON + "/credentials",
        handler="credentials.add_credential",
        operation_id="addCredential",
        summary="Give the person a PIN, card, tag or phone credential (no face, no documents: R4)",
        answer=schemas.CredentialRef,
        answer_says="the credential (never its value)",
        status=201,
        errors=(400, 404, 409, 429),
        body=bodies.CredentialBody,
        description="A PIN that is easy to guess (a run, a repeat, a keypad shape, a date, a "
        "common choice) is refused (400). A value that is another credential's is refused "
        "(409); such refusals count like failed door attempts, and past the door's limit the "
        "person's changes pause (429).",
    ),
    Route(
        method="DELETE",
        path=_PERSON + "/credentials/{credential_id}",
        handler="credentials.remove_credential",
        operation_id="removeCredential",
        summary="Remove one of the person's credentials",
        answer=schemas.Removal,
        answer_says="removed",
        errors=(404,),
    ),
    Route(
        method="POST",
        path="/api/access/credential",
        handler="credentials.access_credential",
        operation_id="presentCredential",
        summary="Present a PIN, card, tag or phone at a door: the same decision path as a face "
        "(R5)",
        answer=schemas.AccessEvent,
        answer_says="the signed decision",
        errors=(400, 404, 409),
        body=bodies.PresentedCredentialBody,
    ),
    Route(
        method="GET",
        path="/api/audit",
        handler="audit.audit",
        operation_id="listAudit",
        summary="Audit log entries after a sequence number (R11)",
        answer=schemas.AuditPage,
        answer_says="entries",
        errors=(400,),
        query=(
            Query(name="after", schema={"type": "integer", "minimum": 0}, description="default 0"),
            Query(
                name="limit",
                schema={"type": "integer", "minimum": 1, "maximum": 1000},
                description="default 100",
            ),
        ),
    ),
    Route(
        method="GET",
        path="/api/audit/verify",
        handler="audit.audit_verify",
        operation_id="verifyAudit",
        summary="Verify the audit hash chain; says where it is broken (R11)",
        answer=schemas.AuditVerdict,
        answer_says="the verdict",
    ),
    *ACCESS_ROUTES,
    *INVITATION_ROUTES,
)
