"""The OpenAPI 3.1 description of the HTTP API, served at GET /api/openapi.json.

Written out by hand rather than generated from the routes, so that it says what each endpoint
accepts and refuses; a test checks that it names exactly the routes the app serves.
"""

from __future__ import annotations

from typing import Any

import facegate
from facegate.access.liveness import SPOOF_REASONS

Schema = dict[str, Any]

_NULLABLE_STRING: Schema = {"type": ["string", "null"]}
_DATE: Schema = {"type": ["string", "null"], "format": "date"}
_METHOD: Schema = {"type": "string", "enum": ["face", "pin", "card", "tag", "phone"]}
_KIND: Schema = {"type": "string", "enum": ["pin", "card", "tag", "phone"]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: Schema, status: str = "200") -> dict[str, Schema]:
    return {status: {"description": description, "content": _json(schema)}}


def _errors(*codes: int) -> dict[str, Schema]:
    text = {
        400: "bad input: the message says what is wrong",
        401: "missing or wrong API token",
        404: "no such person, door or credential",
        409: "conflicts with the current state (notice changed, no live consent, rule R4, ...)",
        413: "body too large",
        415: "unsupported content type",
        422: "the image holds no usable face",
        429: "too many refused changes: wait the Retry-After seconds",
        503: "the camera gave no frame",
    }
    return {
        str(code): {"description": text[code], "content": _json(_ref("Error"))}
        for code in (401, *codes)
    }


def _body(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": _json(schema)}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _op(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    *,
    description: str | None = None,
    request_body: Schema | None = None,
    parameters: list[Schema] | None = None,
) -> Schema:
    operation: Schema = {"operationId": operation_id, "summary": summary, "responses": responses}
    if description:
        operation["description"] = description
    if request_body is not None:
        operation["requestBody"] = request_body
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path_param(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_PERSON = _path_param("person_id", "a person's id")
_AGREE: Schema = {
    "const": True,
    "description": "The person's explicit agreement to this step alone; anything but the JSON "
    "value true is refused (R2).",
}
_NOTICE_VERSION: Schema = {
    "type": "string",
    "description": "The version of the notice the person was shown; must be the current one.",
}


def _schemas() -> dict[str, Schema]:
    consent_state: Schema = {
        "type": "object",
        "properties": {
            "status": {
                "type": "string",
                "enum": ["none", "live", "withdrawn", "expired", "needs_renewal"],
            },
            "expires_at": {"type": "number"},
            "notice_version": {"type": "string"},
            "current_notice": {"type": "boolean"},
        },
        "required": ["status"],
    }
    return {
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}},
            "required": ["error"],
        },
        "Consent": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "notice_version": {"type": "string"},
                "method": {"type": "string", "enum": ["signed_name", "checkbox", "paper"]},
                "signer": {"type": "string"},
                "witness": _NULLABLE_STRING,
                "guardian": _NULLABLE_STRING,
                "entered_by": _NULLABLE_STRING,
                "given_at": {"type": "number"},
                "expires_at": {"type": "number"},
                "renewed_at": {"type": ["number", "null"]},
                "withdrawn_at": {"type": ["number", "null"]},
                "needs_renewal": {"type": "boolean"},
            },
        },
        "ConsentState": consent_state,
        "CredentialRef": {
            "type": "object",
            "description": "Kind and label only: the value is never returned.",
            "properties": {
                "id": {"type": "string"},
                "kind": _KIND,
                "label": {"type": "string"},
            },
            "required": ["id", "kind", "label"],
        },
        "Person": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "created_at": {"type": "number"},
                "birth_year": {"type": ["integer", "null"]},
                "minor": {"type": "boolean"},
                "leaves_on": _DATE,
                "disabled_methods": {"type": "array", "items": _METHOD},
                "needs_guardian": {"type": "boolean"},
                "consent": _ref("ConsentState"),
                "templates": {"type": "integer"},
                "credentials": {"type": "array", "items": _ref("CredentialRef")},
                "consents": {
                    "type": "array",
                    "items": _ref("Consent"),
                    "description": "The consent history (single person only).",
                },
            },
        },
        "Door": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "methods": {"type": "array", "items": _METHOD},
                "enabled": {"type": "array", "items": _METHOD},
                "face_enabled": {"type": "boolean"},
                "camera": {
                    "type": ["object", "null"],
                    "properties": {"name": {"type": "string"}, "online": {"type": "boolean"}},
                },
                "lock": {"type": "string", "enum": ["mqtt", "home_assistant"]},
                "credential_attempts": {
                    "type": ["object", "null"],
                    "description": "PIN/card/tag counters and lockout state at this door",
                },
            },
        },
        "AccessEvent": {
            "type": "object",
            "description": "A signed access decision, as published over MQTT. No image, no "
            "embedding.",
            "properties": {
                "id": {"type": "string"},
                "ts": {"type": "number"},
                "door": {"type": "string"},
                "method": _METHOD,
                "result": {"type": "string", "enum": ["granted", "denied"]},
                "reason": {"type": "string"},
                "person": {
                    "type": ["object", "null"],
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
                "score": {"type": ["number", "null"]},
                "liveness": {
                    "type": ["object", "null"],
                    "description": "for a face: the decision window's mean live score, the "
                    "verdict (a spoof is denied with reason `spoof`) and, for a spoof, why; "
                    "null for a credential",
                    "properties": {
                        "score": {"type": "number"},
                        "verdict": {"type": "string", "enum": ["live", "spoof"]},
                        "reason": {"type": "string", "enum": list(SPOOF_REASONS)},
                    },
                },
                "latency_ms": {"type": "number"},
                "sig": {"type": "string"},
            },
        },
        "DeletionReceipt": {
            "type": "object",
            "properties": {
                "receipt_id": {"type": "string"},
                "reason": {"type": "string"},
                "erased_at": {"type": "number"},
                "deleted": {"type": "object", "additionalProperties": {"type": "integer"}},
                "statement": {"type": "string"},
            },
        },
        "AuditEntry": {
            "type": "object",
            "properties": {
                "seq": {"type": "integer"},
                "ts": {"type": "number"},
                "kind": {"type": "string"},
                "subject": _NULLABLE_STRING,
                "door": _NULLABLE_STRING,
                "data": {"type": "object"},
                "prev": {"type": "string"},
                "hash": {"type": "string"},
            },
        },
        "AuditVerdict": {
            "type": "object",
            "properties": {
                "ok": {"type": "boolean"},
                "entries": {"type": "integer"},
                "first_seq": {"type": ["integer", "null"]},
                "last_seq": {"type": ["integer", "null"]},
                "problem": _NULLABLE_STRING,
                "at_seq": {"type": ["integer", "null"]},
                "checked_at": {"type": "number"},
            },
        },
        "Installation": {
            "type": "object",
            "properties": {
                "installation_id": {
                    "type": "string",
                    "pattern": "^[0-9a-f]{32}$",
                    "description": "Stable for the data directory's life: Home Assistant's "
                    "unique id for this engine.",
                },
                "version": {"type": "string"},
                "event_key": {
                    "type": "string",
                    "pattern": "^[0-9a-f]{64}$",
                    "description": "Hex of the HMAC-SHA256 key that signs access events "
                    "(`sig`), for the receiver to check them (R12).",
                },
                "mqtt_prefix": {"type": "string"},
                "doors": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["installation_id", "version", "event_key", "mqtt_prefix", "doors"],
        },
        "Enrolment": {
            "type": "object",
            "properties": {
                "templates": {"type": "array", "items": {"type": "string"}},
                "template_count": {"type": "integer"},
                "spread": {
                    "type": "number",
                    "description": "1 minus the cosine of the least typical image with the mean "
                    "of the person's others (0 for a first single image)",
                },
                "max_spread": {"type": "number", "description": "the most the embedder allows"},
            },
            "required": ["templates", "template_count", "spread", "max_spread"],
        },
    }


def _paths() -> dict[str, Schema]:
    person_ref = _ref("Person")
    consent_ref = _ref("Consent")
    paths: dict[str, Schema] = {}
    paths["/api/health"] = {
        "get": _op(
            "health",
            "Engine status: cameras online, template count, audit chain intact, decision policy",
            _ok("status", {"type": "object"}) | _errors(),
            description="`decision_policy` holds the open-set policy as it stands: the embedder, "
            "the people enrolled, the template policy and frame aggregation, per door the "
            "strictness, its target rate of strangers let in per attempt, the threshold, margin "
            "and predicted rate, and the calibration behind them (its fitted stranger tails).",
        )
    }
    paths["/api/installation"] = {
        "get": _op(
            "installation",
            "This installation's id, version, event signing key, MQTT prefix and door ids",
            _ok("the installation", _ref("Installation")) | _errors(),
            description="For the Home Assistant integration at setup: the id becomes the config "
            "entry's unique id, and the key checks the `sig` of every access event before a "
            "Home Assistant lock is driven (R12).",
        )
    }
    paths["/api/openapi.json"] = {
        "get": _op("openapi", "This document", _ok("OpenAPI 3.1", {"type": "object"}) | _errors())
    }
    paths["/api/events"] = {
        "get": _op(
            "events",
            "WebSocket stream of decisions and state changes",
            {"101": {"description": "switching to WebSocket"}} | _errors(503),
            description='Upgrade to a WebSocket. The first message is {"type": "state", '
            '"change": "snapshot", "notice_version", "doors", "people"}; then '
            '{"type": "decision", "event": AccessEvent} for every access decision and '
            '{"type": "state", "change": "person_created|person_updated|person_erased|'
            'consent_given|consent_renewed|consent_withdrawn|templates|credentials|door", ...} '
            'for every change, and {"type": "camera", "camera", "online"} when a camera goes '
            "offline or comes back. A client that falls too far behind is closed with code "
            "1013.",
        )
    }
    paths["/api/notice"] = {
        "get": _op(
            "notice",
            "The current processing notice (R1); recorded as shown in the audit log",
            _ok(
                "the notice",
                {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string"},
                        "scope": {"type": "string"},
                        "lang": {"type": "string"},
                        "text": {"type": "string"},
                        "languages": {"type": "array", "items": {"type": "string"}},
                    },
                },
            )
            | _errors(400, 404),
            parameters=[
                _query("lang", {"type": "string", "enum": ["en", "zh-Hans"]}, "default en"),
                _query("person", {"type": "string"}, "the person being shown the notice"),
            ],
        )
    }
    paths["/api/doors"] = {
        "get": _op(
            "listDoors",
            "Doors with their configured and enabled methods",
            _ok(
                "doors",
                {
                    "type": "object",
                    "properties": {"doors": {"type": "array", "items": _ref("Door")}},
                },
            )
            | _errors(),
        )
    }
    paths["/api/doors/{door}/methods"] = {
        "post": _op(
            "setDoorMethod",
            "Enable or disable one of a door's configured methods",
            _ok("the door", _ref("Door")) | _errors(400, 404, 409),
            description="Refused with 409 when the door would be left with the face as its "
            "only enabled method (R4).",
            parameters=[_path_param("door", "a door id")],
            request_body=_body(
                _object({"method": _METHOD, "enabled": {"type": "boolean"}}, ["method", "enabled"])
            ),
        )
    }
    paths["/api/people"] = {
        "get": _op(
            "listPeople",
            "Everyone, with consent state, template count and credentials (kind/label)",
            _ok(
                "people",
                {
                    "type": "object",
                    "properties": {"people": {"type": "array", "items": person_ref}},
                },
            )
            | _errors(),
        ),
        "post": _op(
            "createPerson",
            "Add a person: a display name and nothing that identifies them further",
            _ok("the person", person_ref, "201") | _errors(400),
            description="Any other field (id_card, phone_number, title_deed, ...) is refused "
            "with 400 (R4).",
            request_body=_body(
                _object(
                    {
                        "name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "birth_year": {"type": ["integer", "null"]},
                        "minor": {"type": "boolean"},
                        "leaves_on": _DATE,
                    },
                    ["name"],
                )
            ),
        ),
    }
    person = "/api/people/{person_id}"
    paths[person] = {
        "get": _op(
            "getPerson",
            "A person with consent history, template count and credentials",
            _ok("the person", person_ref) | _errors(404),
            parameters=[_PERSON],
        ),
        "patch": _op(
            "updatePerson",
            "Set the move-out date (null clears it) or the methods disabled for this person",
            _ok("the person", person_ref) | _errors(400, 404),
            parameters=[_PERSON],
            request_body=_body(
                _object(
                    {
                        "leaves_on": _DATE,
                        "disabled_methods": {"type": "array", "items": _METHOD},
                    }
                )
            ),
        ),
        "delete": _op(
            "erasePerson",
            "Erase the person, their templates, credentials and consents (R7)",
            _ok("the deletion receipt", _ref("DeletionReceipt")) | _errors(404),
            parameters=[_PERSON],
        ),
    }
    paths[person + "/export"] = {
        "get": _op(
            "exportPerson",
            "Everything held about the person, in one document (R11): no secret, no vector",
            _ok("the export", {"type": "object"}) | _errors(404),
            parameters=[_PERSON],
        )
    }
    paths[person + "/consent"] = {
        "post": _op(
            "giveConsent",
            "Record the person's consent to face processing: the only way to give it (R2)",
            _ok("the consent record", consent_ref, "201") | _errors(400, 404, 409),
            description='Needs "agree": true exactly and the current notice version (409 when '
            "the notice changed). Any other field is refused: consent is never bundled with "
            "other terms. Under 14, a guardian's name is required (R3). A paper consent needs "
            "a witness.",
            parameters=[_PERSON],
            request_body=_body(
                _object(
                    {
                        "agree": _AGREE,
                        "notice_version": _NOTICE_VERSION,
                        "signer": {"type": "string", "maxLength": 80},
                        "method": {"type": "string", "enum": ["signed_name", "checkbox", "paper"]},
                        "witness": _NULLABLE_STRING,
                        "guardian": _NULLABLE_STRING,
                        "entered_by": _NULLABLE_STRING,
                        "days": {"type": "integer", "minimum": 1, "maximum": 1095, "default": 365},
                    },
                    ["agree", "notice_version", "signer", "method"],
                )
            ),
        )
    }
    paths[person + "/consent/renew"] = {
        "post": _op(
            "renewConsent",
            "Extend the latest consent under the current notice (R6)",
            _ok("the consent record", consent_ref) | _errors(400, 404, 409),
            parameters=[_PERSON],
            request_body=_body(
                _object(
                    {
                        "agree": _AGREE,
                        "notice_version": _NOTICE_VERSION,
                        "days": {"type": "integer", "minimum": 1, "maximum": 1095},
                    },
                    ["agree", "notice_version"],
                )
            ),
        )
    }
    paths[person + "/consent/withdraw"] = {
        "post": _op(
            "withdrawConsent",
            "Withdraw consent in one step: templates are deleted at once (R6, R7)",
            _ok(
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
            | _errors(404),
            description="No body is needed; any body is ignored.",
            parameters=[_PERSON],
        )
    }
    paths[person + "/faces"] = {
        "post": _op(
            "enrolUpload",
            "Enrol a face from an uploaded photo (decoded in memory, never stored: R10)",
            _ok("templates added", _ref("Enrolment"), "201")
            | _errors(400, 404, 409, 413, 415, 422),
            description="One photo (at most 10 MiB), or up to 5 as multipart fields named "
            "'image', enrolled together: 422 names a photo that does not look like the others "
            "or the person's earlier ones (spread), and nothing is stored. 409 without a live "
            "consent (R2).",
            parameters=[_PERSON],
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
        "post": _op(
            "enrolSnapshot",
            "Enrol a face from frames of the door camera (kept in memory only: R10)",
            _ok("templates added", _ref("Enrolment"), "201") | _errors(400, 404, 409, 422, 503),
            description="Takes `frames` usable frames (default 3) at least 0.3 s apart within "
            "10 s, each through the quality gate, and enrols them together.",
            parameters=[_PERSON],
            request_body=_body(
                _object(
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
        "post": _op(
            "addCredential",
            "Give the person a PIN, card, tag or phone credential (no face, no documents: R4)",
            _ok("the credential (never its value)", _ref("CredentialRef"), "201")
            | _errors(400, 404, 409, 429),
            description="A PIN that is easy to guess (a run, a repeat, a keypad shape, a date, "
            "a common choice) is refused (400). A value that is another credential's is "
            "refused (409); such refusals count like failed door attempts, and past the "
            "door's limit the person's changes pause (429).",
            parameters=[_PERSON],
            request_body=_body(
                _object(
                    {
                        "kind": _KIND,
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
        "delete": _op(
            "removeCredential",
            "Remove one of the person's credentials",
            _ok("removed", {"type": "object", "properties": {"removed": {"type": "string"}}})
            | _errors(404),
            parameters=[_PERSON, _path_param("credential_id", "a credential id")],
        )
    }
    paths["/api/access/credential"] = {
        "post": _op(
            "presentCredential",
            "Present a PIN, card, tag or phone at a door: the same decision path as a face (R5)",
            _ok("the signed decision", _ref("AccessEvent")) | _errors(400, 404, 409),
            request_body=_body(
                _object(
                    {"door": {"type": "string"}, "kind": _KIND, "value": {"type": "string"}},
                    ["door", "kind", "value"],
                )
            ),
        )
    }
    paths["/api/audit"] = {
        "get": _op(
            "listAudit",
            "Audit log entries after a sequence number (R11)",
            _ok(
                "entries",
                {
                    "type": "object",
                    "properties": {
                        "entries": {"type": "array", "items": _ref("AuditEntry")},
                        "next_after": {"type": "integer"},
                    },
                },
            )
            | _errors(400),
            parameters=[
                _query("after", {"type": "integer", "minimum": 0}, "default 0"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "default 100"),
            ],
        )
    }
    paths["/api/audit/verify"] = {
        "get": _op(
            "verifyAudit",
            "Verify the audit hash chain; says where it is broken (R11)",
            _ok("the verdict", _ref("AuditVerdict")) | _errors(),
        )
    }
    return paths


def build_spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "facegate engine API",
            "version": facegate.__version__,
            "description": "Consent-first face unlock. Every endpoint needs "
            "'Authorization: Bearer <token>' (the token is in api.token in the data "
            'directory). Errors are {"error": "<what is wrong>"}.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }
