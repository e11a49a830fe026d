"""The OpenAPI paths of one person's records: the person, consent, faces and credentials."""

from __future__ import annotations

from facegate.vocabulary import CONSENT_METHODS
from facegate.web.openapi_schemas import (
    AGREE,
    DATE,
    KIND,
    METHOD,
    NOTICE_VERSION,
    NULLABLE_STRING,
    PERSON,
    Schema,
    body,
    errors,
    object_schema,
    ok,
    op,
    path_param,
    ref,
)


def person_paths() -> dict[str, Schema]:
    person_ref = ref("Person")
    consent_ref = ref("Consent")
    paths: dict[str, Schema] = {}
    person = "/api/people/{person_id}"
    paths[person] = {
        "get": op(
            "getPerson",
            "A person with consent history, template count and credentials",
            ok("the person", person_ref) | errors(404),
            parameters=[PERSON],
        ),
        "patch": op(
            "updatePerson",
            "Set the move-out date (null clears it) or the methods disabled for this person",
            ok("the person", person_ref) | errors(400, 404),
            parameters=[PERSON],
            request_body=body(
                object_schema(
                    {
                        "leaves_on": DATE,
                        "disabled_methods": {"type": "array", "items": METHOD},
                    }
                )
            ),
        ),
        "delete": op(
            "erasePerson",
            "Erase the person, their templates, credentials and consents (R7)",
            ok("the deletion receipt", ref("DeletionReceipt")) | errors(404),
            parameters=[PERSON],
        ),
    }
    paths[person + "/export"] = {
        "get": op(
            "exportPerson",
            "Everything held about the person, in one document (R11): no secret, no vector",
            ok("the export", ref("Export")) | errors(404),
            parameters=[PERSON],
        )
    }
    paths[person + "/consent"] = {
        "post": op(
            "giveConsent",
            "Record the person's consent to face processing: the only way to give it (R2)",
            ok("the consent record", consent_ref, "201") | errors(400, 404, 409),
            description='Needs "agree": true exactly and the current notice version (409 when '
            "the notice changed). Any other field is refused: consent is never bundled with "
            "other terms. Under 14, a guardian's name is required (R3). A paper consent needs "
            "a witness.",
            parameters=[PERSON],
            request_body=body(
                object_schema(
                    {
                        "agree": AGREE,
                        "notice_version": NOTICE_VERSION,
                        "signer": {"type": "string", "maxLength": 80},
                        "method": {"type": "string", "enum": list(CONSENT_METHODS)},
                        "witness": NULLABLE_STRING,
                        "guardian": NULLABLE_STRING,
                        "entered_by": NULLABLE_STRING,
                        "days": {"type": "integer", "minimum": 1, "maximum": 1095, "default": 365},
                    },
                    ["agree", "notice_version", "signer", "method"],
                )
            ),
        )
    }
    paths[person + "/consent/renew"] = {
        "post": op(
            "renewConsent",
            "Extend the latest consent under the current notice (R6)",
            ok("the consent record", consent_ref) | errors(400, 404, 409),
            parameters=[PERSON],
            request_body=body(
                object_schema(
                    {
                        "agree": AGREE,
                        "notice_version": NOTICE_VERSION,
                        "days": {"type": "integer", "minimum": 1, "maximum": 1095},
                    },
                    ["agree", "notice_version"],
                )
            ),
        )
    }
    paths[person + "/consent/withdraw"] = {
        "post": op(
            "withdrawConsent",
            "Withdraw consent in one step: templates are deleted at once (R6, R7)",
            ok(
                "withdrawn",
                {
                    "type": "object",
                    "properties": {
                        "withdrawn": {"type": "boolean"},
                        "templates_deleted": {"type": "integer"},
                        "person": person_ref,
                    },
                },
            )
            | errors(404),
            description="No body is needed; any body is ignored.",
            parameters=[PERSON],
        )
    }
    paths[person + "/faces"] = {
        "post": op(
            "enrolUpload",
            "Enrol a face from an uploaded photo (decoded in memory, never stored: R10)",
            ok("templates added", ref("Enrolment"), "201") | errors(400, 404, 409, 413, 415, 422),
            description="One photo (at most 10 MiB), or up to 5 as multipart fields named "
            "'image', enrolled together: 422 names a photo that does not look like the others "
            "or the person's earlier ones (spread), and nothing is stored. 409 without a live "
            "consent (R2).",
            parameters=[PERSON],
            request_body={
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
            },
        )
    }
    paths[person + "/faces/snapshot"] = {
        "post": op(
            "enrolSnapshot",
            "Enrol a face from frames of the door camera (kept in memory only: R10)",
            ok("templates added", ref("Enrolment"), "201") | errors(400, 404, 409, 422, 503),
            description="Takes `frames` usable frames (default 3) at least 0.3 s apart within "
            "10 s, each through the quality gate, and enrols them together.",
            parameters=[PERSON],
            request_body=body(
                object_schema(
                    {
                        "door": {"type": "string"},
                        "frames": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3},
                    },
                    ["door"],
                )
            ),
        )
    }
    paths[person + "/credentials"] = {
        "post": op(
            "addCredential",
            "Give the person a PIN, card, tag or phone credential (no face, no documents: R4)",
            ok("the credential (never its value)", ref("CredentialRef"), "201")
            | errors(400, 404, 409, 429),
            description="A PIN that is easy to guess (a run, a repeat, a keypad shape, a date, "
            "a common choice) is refused (400). A value that is another credential's is "
            "refused (409); such refusals count like failed door attempts, and past the "
            "door's limit the person's changes pause (429).",
            parameters=[PERSON],
            request_body=body(
                object_schema(
                    {
                        "kind": KIND,
                        "value": {
                            "type": "string",
                            "description": "a PIN is 6-12 digits, not easy to guess",
                        },
                        "label": {"type": "string", "maxLength": 60},
                    },
                    ["kind", "value"],
                )
            ),
        )
    }
    paths[person + "/credentials/{credential_id}"] = {
        "delete": op(
            "removeCredential",
            "Remove one of the person's credentials",
            ok("removed", {"type": "object", "properties": {"removed": {"type": "string"}}})
            | errors(404),
            parameters=[PERSON, path_param("credential_id", "a credential id")],
        )
    }
    return paths
