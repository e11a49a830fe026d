"""A small typed client for the facegate engine's HTTP API (docs/api.md).

Every failure becomes one of three exceptions: the engine could not be reached
(FacegateConnectionError), the token was refused (FacegateAuthError), or the engine refused the
request and said why (FacegateRequestError, carrying the engine's message).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .const import REQUEST_TIMEOUT_S


class FacegateError(Exception):
    """Base class for everything the client raises."""


class FacegateConnectionError(FacegateError):
    """The engine could not be reached, or answered with a server error."""


class FacegateAuthError(FacegateError):
    """The engine refused the token."""


class FacegateRequestError(FacegateError):
    """The engine refused the request (4xx) and said why."""

    def __init__(
        self,
        status: int,
        message: str,
        key: str | None = None,
        refusal: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key  # the kind of refusal, as the engine names it (r4_face_only, not_found, ...)
        self.refusal = refusal  # finer, where the engine names it (pin_weak, no_face, ...)
        self.values = values or {}


@dataclass(frozen=True, kw_only=True)
class Installation:
    """What the engine says about itself (GET /api/installation)."""

    installation_id: str
    version: str
    event_key: str
    mqtt_prefix: str
    doors: list[str] = field(default_factory=list)


class FacegateClient:
    """The engine's REST API and event stream, over Home Assistant's aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, token: str) -> None:
        self._session = session
        self.base_url = f"http://{host}:{port}/api"
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                response = await self._session.request(
                    method, f"{self.base_url}{path}", headers=self._headers, json=body
                )
                async with response:
                    if response.status == 401:
                        raise FacegateAuthError("the engine refused the token")
                    if response.status >= 500:
                        raise FacegateConnectionError(f"the engine answered {response.status}")
                    data = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            raise FacegateConnectionError(
                f"cannot talk to the engine: {error or type(error).__name__}"
            ) from error
        if response.status >= 400:
            said = data if isinstance(data, dict) else {}
            key, refusal, values = said.get("key"), said.get("refusal"), said.get("values")
            raise FacegateRequestError(
                response.status,
                str(said.get("error") or response.reason),
                key if isinstance(key, str) else None,
                refusal if isinstance(refusal, str) else None,
                values if isinstance(values, dict) else None,
            )
        return data

    async def installation(self) -> Installation:
        data = await self._request("GET", "/installation")
        try:
            return Installation(
                installation_id=str(data["installation_id"]),
                version=str(data.get("version", "")),
                event_key=str(data["event_key"]),
                mqtt_prefix=str(data.get("mqtt_prefix", "facegate")),
                doors=[str(door) for door in data.get("doors") or []],
            )
        except (KeyError, TypeError) as error:
            raise FacegateConnectionError(f"unexpected installation answer: {error!r}") from error

    async def health(self) -> dict[str, Any]:
        data: dict[str, Any] = await self._request("GET", "/health")
        return data

    async def doors(self) -> list[dict[str, Any]]:
        data = await self._request("GET", "/doors")
        doors: list[dict[str, Any]] = data["doors"]
        return doors

    async def people(self) -> list[dict[str, Any]]:
        data = await self._request("GET", "/people")
        people: list[dict[str, Any]] = data["people"]
        return people

    async def notice_version(self) -> str:
        data = await self._request("GET", "/notice")
        return str(data["version"])

    async def set_door_method(self, door: str, method: str, enabled: bool) -> dict[str, Any]:
        body = {"method": method, "enabled": enabled}
        data: dict[str, Any] = await self._request("POST", f"/doors/{door}/methods", body)
        return data

    async def create_person(self, name: str, *, minor: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "minor": minor}
        data: dict[str, Any] = await self._request("POST", "/people", body)
        return data

    async def invite(self, person_id: str) -> dict[str, Any]:
        """A single-use link to the person's own pages: url, expires_at, qr_data_uri."""
        data: dict[str, Any] = await self._request("POST", f"/people/{person_id}/invitation")
        return data

    async def renew_consent(self, person_id: str, notice_version: str, days: int) -> None:
        body = {"agree": True, "notice_version": notice_version, "days": days}
        await self._request("POST", f"/people/{person_id}/consent/renew", body)

    async def withdraw_consent(self, person_id: str) -> None:
        await self._request("POST", f"/people/{person_id}/consent/withdraw")

    async def erase_person(self, person_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._request("DELETE", f"/people/{person_id}")
        return data

    async def export_person(self, person_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._request("GET", f"/people/{person_id}/export")
        return data

    async def add_credential(
        self,
        person_id: str,
        kind: str,
        value: str,
        label: str,
        validity: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`validity`: valid_from, valid_until (ISO 8601), max_uses, as the engine reads them."""
        body = {"kind": kind, "value": value, "label": label, **(validity or {})}
        data: dict[str, Any] = await self._request("POST", f"/people/{person_id}/credentials", body)
        return data

    async def add_visitor(
        self, name: str, groups: list[str], valid_until: str, label: str = ""
    ) -> dict[str, Any]:
        """A visitor with a generated code that ends: person, credential, code, message."""
        body = {"name": name, "groups": groups, "valid_until": valid_until, "label": label}
        data: dict[str, Any] = await self._request("POST", "/visitors", body)
        return data

    async def remove_credential(self, person_id: str, credential_id: str) -> None:
        await self._request("DELETE", f"/people/{person_id}/credentials/{credential_id}")

    async def enrol_from_camera(self, person_id: str, door: str) -> dict[str, Any]:
        body = {"door": door}
        data: dict[str, Any] = await self._request(
            "POST", f"/people/{person_id}/faces/snapshot", body
        )
        return data

    async def present_credential(self, door: str, kind: str, value: str) -> dict[str, Any]:
        body = {"door": door, "kind": kind, "value": value}
        data: dict[str, Any] = await self._request("POST", "/access/credential", body)
        return data

    async def events(self) -> AsyncGenerator[dict[str, Any]]:
        """The event stream's messages until it closes (then FacegateConnectionError)."""
        try:
            async with self._session.ws_connect(
                f"{self.base_url}/events", headers=self._headers, heartbeat=30
            ) as socket:
                async for message in socket:
                    if message.type is aiohttp.WSMsgType.TEXT:
                        data = message.json()
                        if isinstance(data, dict):
                            yield data
        except aiohttp.WSServerHandshakeError as error:
            if error.status == 401:
                raise FacegateAuthError("the engine refused the token") from error
            raise FacegateConnectionError(f"event stream refused: {error.status}") from error
        except (aiohttp.ClientError, ValueError) as error:
            raise FacegateConnectionError(f"event stream failed: {error!r}") from error
        raise FacegateConnectionError("the event stream closed")
