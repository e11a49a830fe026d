"""A resident's own way in to their pages (R2: consent is the person's own act): a single-use
invitation link bound to one person, and the sessions it starts.

An invitation's token is 256 random bits, shown once (as a link and a QR code) and kept only
as a keyed hash; it expires (72 h by default), is used once, and a new invitation revokes the
person's earlier ones. Opening it starts a session (its own random token in an HttpOnly
cookie, and a CSRF token for every form) that expires. Erasing the person removes both, so
their link is dead at once. Every step is audited (R11).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass

from facegate.errors import FacegateError
from facegate.identity.store_core import StoreCore

DEFAULT_INVITATION_HOURS = 72
DEFAULT_SESSION_DAYS = 30


class InvitationError(FacegateError):
    """An invitation link that cannot be used; the message says why, for the page."""


@dataclass(frozen=True, kw_only=True)
class Invitation:
    id: str
    person_id: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, kw_only=True)
class ResidentSession:
    person_id: str
    csrf: str
    expires_at: float


class InvitationRecords(StoreCore):
    def _token_hash(self, kind: str, token: str) -> str:
        return hmac.new(
            self._credential_secret, f"{kind}:{token}".encode(), hashlib.sha256
        ).hexdigest()

    def invite(
        self, person_id: str, *, hours: float = DEFAULT_INVITATION_HOURS
    ) -> tuple[Invitation, str]:
        """A new invitation for the person and its token (shown once); earlier ones that were
        not used are revoked: re-inviting replaces the old link."""
        person = self.person(person_id)
        if not 0 < hours <= 24 * 30:
            raise FacegateError("an invitation lasts between a moment and 30 days")
        token = secrets.token_urlsafe(32)
        now = time.time()
        invitation = Invitation(
            id=uuid.uuid4().hex, person_id=person_id, created_at=now, expires_at=now + hours * 3600
        )
        with self._transaction() as db:
            revoked = db.execute(
                "UPDATE invitations SET revoked_at = ? WHERE person_id = ? AND used_at IS NULL "
                "AND revoked_at IS NULL",
                (now, person_id),
            ).rowcount
            db.execute(
                "INSERT INTO invitations (id, person_id, token_hash, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    invitation.id,
                    person_id,
                    self._token_hash("invitation", token),
                    now,
                    invitation.expires_at,
                ),
            )
            self.audit.append(
                db,
                "invitation_created",
                subject=person.audit_ref,
                data={
                    "invitation_id": invitation.id,
                    "expires_at": round(invitation.expires_at, 3),
                    "replaced": revoked,
                },
            )
        return invitation, token

    def revoke_invitations(self, person_id: str) -> int:
        person = self.person(person_id, checked=False)
        with self._transaction() as db:
            revoked = db.execute(
                "UPDATE invitations SET revoked_at = ? WHERE person_id = ? AND used_at IS NULL "
                "AND revoked_at IS NULL",
                (time.time(), person_id),
            ).rowcount
            if revoked:
                self.audit.append(
                    db, "invitation_revoked", subject=person.audit_ref, data={"revoked": revoked}
                )
        return int(revoked)

    def _usable(self, db: sqlite3.Connection, token: str, now: float) -> sqlite3.Row:
        row: sqlite3.Row | None = db.execute(
            "SELECT i.*, p.audit_ref, p.name FROM invitations i JOIN people p "
            "ON p.id = i.person_id WHERE i.token_hash = ?",
            (self._token_hash("invitation", token),),
        ).fetchone()
        if row is None:
            raise InvitationError("this invitation link is not valid", key="link_invalid")
        if row["used_at"] is not None:
            raise InvitationError("this invitation link was already used", key="link_used")
        if row["revoked_at"] is not None:
            raise InvitationError(
                "this invitation link was replaced or withdrawn", key="link_replaced"
            )
        if now >= row["expires_at"]:
            raise InvitationError("this invitation link has expired", key="link_expired")
        return row

    def invited(self, token: str) -> str:
        """Whose invitation this is (the name, for the page before it is used), without using
        it: a link preview fetched by a chat app must not spend a single-use link."""
        with self._reading() as db:
            return str(self._usable(db, token, time.time())["name"])

    def redeem(
        self, token: str, *, session_days: float = DEFAULT_SESSION_DAYS
    ) -> tuple[ResidentSession, str]:
        """Uses the invitation once and starts the person's session: the session and its token
        (for the cookie). InvitationError says why a link cannot be used."""
        now = time.time()
        with self._transaction() as db:
            row = self._usable(db, token, now)
            db.execute("UPDATE invitations SET used_at = ? WHERE id = ?", (now, row["id"]))
            session_token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            session = ResidentSession(
                person_id=row["person_id"], csrf=csrf, expires_at=now + session_days * 86400
            )
            db.execute(
                "INSERT INTO resident_sessions VALUES (?, ?, ?, ?, ?)",
                (
                    self._token_hash("session", session_token),
                    session.person_id,
                    csrf,
                    now,
                    session.expires_at,
                ),
            )
            self.audit.append(
                db,
                "invitation_used",
                subject=row["audit_ref"],
                data={"invitation_id": row["id"], "session_until": round(session.expires_at, 3)},
            )
        return session, session_token

    def resident_session(self, token: str) -> ResidentSession | None:
        """The live session this cookie names, or None (unknown, expired, person erased)."""
        rows = self._query(
            "SELECT * FROM resident_sessions WHERE token_hash = ? AND expires_at > ?",
            (self._token_hash("session", token), time.time()),
        )
        if not rows:
            return None
        row = rows[0]
        return ResidentSession(
            person_id=row["person_id"], csrf=row["csrf"], expires_at=row["expires_at"]
        )

    def end_session(self, token: str) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM resident_sessions WHERE token_hash = ? OR expires_at <= ?",
                (self._token_hash("session", token), time.time()),
            )

    def note_consent_declined(self, person_id: str) -> None:
        """The resident chose no face (R2: their choice is on record as theirs, too)."""
        person = self.person(person_id)
        with self._transaction() as db:
            self.audit.append(db, "consent_declined", subject=person.audit_ref)
