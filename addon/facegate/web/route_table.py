"""What a route of the HTTP API is: its method and path, the handler that answers, the models of
its body and answer. The route tables (web/routes.py, web/access_routes.py) are made of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from facegate.web import bodies

Schema = dict[str, Any]

PATH_PARAMETERS = {
    "person_id": "a person's id",
    "door": "a door id",
    "credential_id": "a credential id",
    "group_id": "an access group's id",
}


@dataclass(frozen=True, kw_only=True)
class Query:
    name: str
    schema: Schema
    description: str


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str
    handler: str  # the attribute of the API object that answers, e.g. "people.create_person"
    operation_id: str
    summary: str
    answer: type[BaseModel] | None  # None: no JSON answer (the WebSocket upgrade)
    answer_says: str
    status: int = 200
    errors: tuple[int, ...] = ()
    body: type[bodies.Body] | None = None
    # A body that is not JSON (photos), described as OpenAPI content by hand.
    raw_body: Schema | None = None
    description: str | None = None
    query: tuple[Query, ...] = ()
