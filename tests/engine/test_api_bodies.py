"""Every route that takes a JSON body, walked from the OpenAPI document: a field it does not
know, and each of its fields with a value of the wrong type, get a 4xx whose message names
the field — and nothing is written."""

from __future__ import annotations

from typing import Any

from conftest_api import Env
from facegate.web.openapi import build_spec

pytest_plugins = ["conftest_mqtt", "conftest_api"]

TEST_LIMIT_S = 120
WRONG: dict[str, Any] = {"string": 12345, "integer": "ten", "boolean": "yes", "array": "face"}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _good(env: Env, name: str, schema: dict[str, Any]) -> Any:
    """A value the route accepts for this field (so the field under test is the one at fault)."""
    if "enum" in schema:
        return schema["enum"][0] if name != "kind" else "pin"
    values: dict[str, Any] = {
        "name": "Li Wei",
        "birth_year": 1990,
        "minor": False,
        "leaves_on": "2031-01-01",
        "disabled_methods": [],
        "agree": True,
        "days": 30,
        "entered_by": "Zhao Min",
        "guardian": "Li Hua",
        "notice_version": env.notice,
        "signer": "Li Wei",
        "witness": "Zhao Min",
        "door": "lobby",
        "frames": 1,
        "label": "blue card",
        "value": "482916",
        "enabled": True,
        "groups": ["all-doors"],
        "valid_until": "2031-01-01T18:00",
        "valid_from": "2030-01-01",
        "max_uses": 1,
        "schedule": [],
        "doors": ["lobby"],
        "every_door": False,
    }
    return values[name]


def _type(schema: dict[str, Any]) -> str | None:
    """The JSON type a field takes, besides null (an optional field is anyOf [type, null])."""
    for option in schema.get("anyOf", [schema]):
        kind = option.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        if kind != "null":
            return str(kind) if kind else None
    return None


def _json_routes(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                routes.append(
                    (method.upper(), path, _resolve(spec, content["application/json"]["schema"]))
                )
    return routes


def test_every_json_route_names_the_field_that_is_wrong(env: Env) -> None:
    spec = build_spec()
    routes = _json_routes(spec)
    assert len(routes) >= 8
    person = env.person("Chen Jie")
    card = env.engine.store.add_credential(person, "card", "04:A2:B3:C4:D5:E6:81")
    group = env.engine.store.add_group("Lobby", ["lobby"], known=["lobby"])
    before = len(env.engine.store.audit_entries(limit=100_000))
    checked = 0
    for method, template, schema in routes:
        path = (
            template.replace("{person_id}", person)
            .replace("{door}", "lobby")
            .replace("{group_id}", group.id)
            .replace("{credential_id}", card.id)
        )
        properties = schema["properties"]
        good = {
            name: _good(env, name, _resolve(spec, field))
            for name, field in properties.items()
            if name in schema.get("required", [])
        }
        reply = env.api.request(method, path, {**good, "id_card_number": "110101"})
        assert 400 <= reply.status < 500 and "id_card_number" in reply.error, (path, reply)
        for name, field in properties.items():
            kind = _type(_resolve(spec, field))
            if kind not in WRONG:
                continue
            body = {**good, name: WRONG[kind]}
            reply = env.api.request(method, path, body)
            assert 400 <= reply.status < 500, (method, path, name, reply)
            assert name in reply.error, (method, path, name, reply.error)
            checked += 1
    assert checked >= 25
    # Every one was refused before anything was written: the audit log has no new entry.
    assert len(env.engine.store.audit_entries(limit=100_000)) == before
