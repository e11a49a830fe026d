"""The OpenAPI 3.1 description of the HTTP API, served at GET /api/openapi.json.

Written out by hand rather than generated from the routes, so that it says what each endpoint
accepts and refuses; a test checks that it names exactly the routes the app serves.
"""

from __future__ import annotations

from typing import Any

import facegate
from facegate.web.openapi_people import person_paths
from facegate.web.openapi_schemas import (
    DATE,
    KIND,
    METHOD,
    Schema,
    body,
    errors,
    object_schema,
    ok,
    op,
    path_param,
    query_param,
    ref,
    schemas,
)


def _paths() -> dict[str, Schema]:
    person_ref = ref("Person")
    paths: dict[str, Schema] = {}
    paths["/api/health"] = {
        "get": op(
            "health",
            "Engine status: cameras online, template count, audit chain intact, decision policy",
            ok("status", ref("Health")) | errors(),
            description="`decision_policy` holds the open-set policy as it stands: the embedder, "
            "the people enrolled, the template policy and frame aggregation, per door the "
            "strictness, its target rate of strangers let in per attempt, the threshold, margin "
            "and predicted rate, and the calibration behind them (its fitted stranger tails). "
            "`tampered_rows` lists, per table, the person, consent and credential rows whose "
            "keyed MAC no longer matches (altered outside the engine, refused where used); any "
            "makes the status `degraded`. `under_attack` lists the doors, and their credential "
            "methods, locked out twice or more in a row within a day (a guessing attack); any "
            "makes the status `degraded` too.",
        )
    }
    paths["/api/installation"] = {
        "get": op(
            "installation",
            "This installation's id, version, event signing key, MQTT prefix and door ids",
            ok("the installation", ref("Installation")) | errors(),
            description="For the Home Assistant integration at setup: the id becomes the config "
            "entry's unique id, and the key checks the `sig` of every access event before a "
            "Home Assistant lock is driven (R12).",
        )
    }
    paths["/api/openapi.json"] = {
        "get": op("openapi", "This document", ok("OpenAPI 3.1", {"type": "object"}) | errors())
    }
    paths["/api/events"] = {
        "get": op(
            "events",
            "WebSocket stream of decisions and state changes",
            {"101": {"description": "switching to WebSocket"}} | errors(503),
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
        "get": op(
            "notice",
            "The current processing notice (R1); recorded as shown in the audit log",
            ok(
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
            | errors(400, 404),
            parameters=[
                query_param("lang", {"type": "string", "enum": ["en", "zh-Hans"]}, "default en"),
                query_param("person", {"type": "string"}, "the person being shown the notice"),
            ],
        )
    }
    paths["/api/doors"] = {
        "get": op(
            "listDoors",
            "Doors with their configured and enabled methods",
            ok(
                "doors",
                {
                    "type": "object",
                    "properties": {"doors": {"type": "array", "items": ref("Door")}},
                },
            )
            | errors(),
        )
    }
    paths["/api/doors/{door}/methods"] = {
        "post": op(
            "setDoorMethod",
            "Enable or disable one of a door's configured methods",
            ok("the door", ref("Door")) | errors(400, 404, 409),
            description="Refused with 409 when the door would be left with the face as its "
            "only enabled method (R4).",
            parameters=[path_param("door", "a door id")],
            request_body=body(
                object_schema(
                    {"method": METHOD, "enabled": {"type": "boolean"}}, ["method", "enabled"]
                )
            ),
        )
    }
    paths["/api/people"] = {
        "get": op(
            "listPeople",
            "Everyone, with consent state, template count and credentials (kind/label)",
            ok(
                "people",
                {
                    "type": "object",
                    "properties": {"people": {"type": "array", "items": person_ref}},
                },
            )
            | errors(),
        ),
        "post": op(
            "createPerson",
            "Add a person: a display name and nothing that identifies them further",
            ok("the person", person_ref, "201") | errors(400),
            description="Any other field (id_card, phone_number, title_deed, ...) is refused "
            "with 400 (R4).",
            request_body=body(
                object_schema(
                    {
                        "name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "birth_year": {"type": ["integer", "null"]},
                        "minor": {"type": "boolean"},
                        "leaves_on": DATE,
                    },
                    ["name"],
                )
            ),
        ),
    }
    paths |= person_paths()
    paths["/api/access/credential"] = {
        "post": op(
            "presentCredential",
            "Present a PIN, card, tag or phone at a door: the same decision path as a face (R5)",
            ok("the signed decision", ref("AccessEvent")) | errors(400, 404, 409),
            request_body=body(
                object_schema(
                    {"door": {"type": "string"}, "kind": KIND, "value": {"type": "string"}},
                    ["door", "kind", "value"],
                )
            ),
        )
    }
    paths["/api/audit"] = {
        "get": op(
            "listAudit",
            "Audit log entries after a sequence number (R11)",
            ok(
                "entries",
                {
                    "type": "object",
                    "properties": {
                        "entries": {"type": "array", "items": ref("AuditEntry")},
                        "next_after": {"type": "integer"},
                    },
                },
            )
            | errors(400),
            parameters=[
                query_param("after", {"type": "integer", "minimum": 0}, "default 0"),
                query_param(
                    "limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "default 100"
                ),
            ],
        )
    }
    paths["/api/audit/verify"] = {
        "get": op(
            "verifyAudit",
            "Verify the audit hash chain; says where it is broken (R11)",
            ok("the verdict", ref("AuditVerdict")) | errors(),
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
            "schemas": schemas(),
        },
        "paths": _paths(),
    }
