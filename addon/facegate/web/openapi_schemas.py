"""The parts the OpenAPI document is built from: schema helpers, shared fields, and the
components (the bodies the API sends and takes). The paths are in openapi.py."""

from __future__ import annotations

from typing import Any, get_args

from facegate.access.liveness import SPOOF_REASONS
from facegate.vocabulary import CONSENT_METHODS, CREDENTIAL_KINDS, METHODS, REASONS, Result

Schema = dict[str, Any]

NULLABLE_STRING: Schema = {"type": ["string", "null"]}
DATE: Schema = {"type": ["string", "null"], "format": "date"}
METHOD: Schema = {"type": "string", "enum": list(METHODS)}
KIND: Schema = {"type": "string", "enum": list(CREDENTIAL_KINDS)}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def ok(description: str, schema: Schema, status: str = "200") -> dict[str, Schema]:
    return {status: {"description": description, "content": json_content(schema)}}


def errors(*codes: int) -> dict[str, Schema]:
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
        str(code): {"description": text[code], "content": json_content(ref("Error"))}
        for code in (401, *codes)
    }


def body(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": json_content(schema)}


def object_schema(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def op(
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


def path_param(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def query_param(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PERSON = path_param("person_id", "a person's id")
AGREE: Schema = {
    "const": True,
    "description": "The person's explicit agreement to this step alone; anything but the JSON "
    "value true is refused (R2).",
}
NOTICE_VERSION: Schema = {
    "type": "string",
    "description": "The version of the notice the person was shown; must be the current one.",
}


def schemas() -> dict[str, Schema]:
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
            "description": "`error` says what is wrong, for people; `key` names the kind of "
            "refusal, for programs (Home Assistant translates it): `r4_face_only`, "
            "`no_consent`, `credential_in_use`, `not_found`, `bad_request`, ...",
            "properties": {"error": {"type": "string"}, "key": {"type": "string"}},
            "required": ["error", "key"],
        },
        "Consent": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "notice_version": {"type": "string"},
                "method": {"type": "string", "enum": list(CONSENT_METHODS)},
                "signer": {"type": "string"},
                "witness": NULLABLE_STRING,
                "guardian": NULLABLE_STRING,
                "entered_by": NULLABLE_STRING,
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
                "kind": KIND,
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
                "leaves_on": DATE,
                "disabled_methods": {"type": "array", "items": METHOD},
                "needs_guardian": {"type": "boolean"},
                "consent": ref("ConsentState"),
                "templates": {"type": "integer"},
                "credentials": {"type": "array", "items": ref("CredentialRef")},
                "consents": {
                    "type": "array",
                    "items": ref("Consent"),
                    "description": "The consent history (single person only).",
                },
            },
        },
        "Door": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "methods": {"type": "array", "items": METHOD},
                "enabled": {"type": "array", "items": METHOD},
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
                "method": METHOD,
                "result": {"type": "string", "enum": list(get_args(Result))},
                "reason": {"type": "string", "enum": list(REASONS)},
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
                "subject": NULLABLE_STRING,
                "door": NULLABLE_STRING,
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
                "problem": NULLABLE_STRING,
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
        "Health": {
            "type": "object",
            "properties": {
                "status": {
                    "type": "string",
                    "enum": ["ok", "degraded"],
                    "description": "degraded when something needs a person: the audit chain, "
                    "a camera, altered rows or templates, a guessing attack, the broker",
                },
                "notice_version": {"type": "string"},
                "doors": {"type": "integer"},
                "cameras": {"type": "object", "additionalProperties": {"type": "object"}},
                "cameras_online": {"type": "integer"},
                "cameras_total": {"type": "integer"},
                "people": {"type": "integer"},
                "templates": {"type": "integer"},
                "templates_in_use": {"type": "integer"},
                "refused_templates": {"type": "integer"},
                "tampered_rows": {
                    "type": "object",
                    "description": "per table, the ids of rows whose MAC no longer matches (R8)",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "under_attack": {
                    "type": "object",
                    "description": "per door, the methods under a guessing attack (R12)",
                    "additionalProperties": {"type": "array", "items": METHOD},
                },
                "decision_policy": {"type": "object"},
                "mqtt_connected": {"type": ["boolean", "null"]},
                "audit_ok": {"type": "boolean"},
                "audit_problem": NULLABLE_STRING,
                "event_clients": {"type": "integer"},
            },
            "required": ["status", "tampered_rows", "under_attack", "audit_ok"],
        },
        "Export": {
            "type": "object",
            "description": "Everything held about the person (R11): never a secret or a vector.",
            "properties": {
                "exported_at": {"type": "number"},
                "person": ref("Person"),
                "consents": {"type": "array", "items": ref("Consent")},
                "credentials": {"type": "array", "items": ref("CredentialRef")},
                "templates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "embedder": {"type": "string"},
                            "consent_id": {"type": "string"},
                            "created_at": {"type": "number"},
                        },
                        "additionalProperties": False,
                    },
                },
                "audit": {"type": "array", "items": ref("AuditEntry")},
            },
            "required": ["exported_at", "person", "consents", "credentials", "templates", "audit"],
        },
    }
