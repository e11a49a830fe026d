"""The OpenAPI 3.1 description of the HTTP API, served at GET /api/openapi.json: generated
from the route table (web/routes.py) and the models of the bodies and answers, so it cannot
say something else than what the app serves and checks."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import facegate
from facegate.web import schemas
from facegate.web.route_table import PATH_PARAMETERS, Route, Schema
from facegate.web.routes import ROUTES

_ERRORS = {
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
_REF = "#/components/schemas/{model}"


def _ref(model: type[BaseModel]) -> Schema:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _components() -> dict[str, Schema]:
    """Every body and answer model, and what they refer to, under its class name."""
    models: list[tuple[type[BaseModel], Any]] = [(schemas.Error, "serialization")]
    for route in ROUTES:
        if route.body is not None:
            models.append((route.body, "validation"))
        if route.answer is not None:
            models.append((route.answer, "serialization"))
    unique = list(dict.fromkeys(models))
    _, document = models_json_schema(unique, ref_template=_REF)
    components: dict[str, Schema] = document.get("$defs", {})
    return components


def _operation(route: Route) -> Schema:
    responses: dict[str, Schema] = {}
    if route.answer is None:
        responses[str(route.status)] = {"description": route.answer_says}
    else:
        responses[str(route.status)] = {
            "description": route.answer_says,
            "content": _json(_ref(route.answer)),
        }
    for code in (401, *route.errors):
        responses[str(code)] = {"description": _ERRORS[code], "content": _json(_ref(schemas.Error))}
    operation: Schema = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "responses": responses,
    }
    if route.description:
        operation["description"] = route.description
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": PATH_PARAMETERS[name],
            "schema": {"type": "string"},
        }
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "description": q.description,
            "schema": q.schema,
        }
        for q in route.query
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(route.body))}
    elif route.raw_body is not None:
        operation["requestBody"] = route.raw_body
    return operation


def build_spec() -> dict[str, Any]:
    paths: dict[str, Schema] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "facegate engine API",
            "version": facegate.__version__,
            "description": "Consent-first face unlock. Every endpoint needs "
            "'Authorization: Bearer <token>' (the token is in api.token in the data "
            'directory). Errors are {"error": "<what is wrong>", "key": "<its kind>"}.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _components(),
        },
        "paths": paths,
    }
