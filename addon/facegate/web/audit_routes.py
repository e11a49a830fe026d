"""The audit endpoints (R11): the entries page by page, and the chain's verdict."""

from __future__ import annotations

import time

from aiohttp import web

from facegate.identity.store import IdentityStore
from facegate.web import body
from facegate.web.replies import call, reply


class AuditRoutes:
    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    async def audit(self, request: web.Request) -> web.Response:
        after = body.query_int(request, "after", low=0, high=2**62, default=0)
        limit = body.query_int(request, "limit", low=1, high=1000, default=100)
        entries = await call(self.store.audit_entries, after=after, limit=limit)
        return reply(
            {
                "entries": [e.to_json() for e in entries],
                "next_after": entries[-1].seq if entries else after,
            }
        )

    async def audit_verify(self, _request: web.Request) -> web.Response:
        verdict = await call(self.store.verify_audit)
        return reply({**verdict.to_json(), "checked_at": time.time()})
