"""Consent records (R2, R3, R6): given for one notice, by the person or a guardian,
renewed, withdrawn in one step, expiring; a template exists only under a live one."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from facegate.errors import ConsentError, ConsentRecordError
from facegate.identity.records import DEFAULT_CONSENT_DAYS, Consent, Person, consent_of_row
from facegate.identity.store_core import StoreCore
from facegate.rules import consent_length_refusal, consent_refusal
from facegate.vocabulary import ConsentMethod


class ConsentRecords(StoreCore):
    # Consent -------------------------------------------------------------------------------

    def give_consent(
        self,
        person_id: str,
        *,
        notice_version: str,
        method: ConsentMethod,
        signer: str,
        witness: str | None = None,
        guardian: str | None = None,
        entered_by: str | None = None,
        days: int = DEFAULT_CONSENT_DAYS,
        now: float | None = None,
    ) -> Consent:
        person = self.person(person_id)
        refusal = consent_refusal(
            person, method=method, signer=signer, witness=witness, guardian=guardian, days=days
        )
        if refusal is not None:
            raise ConsentRecordError(refusal)
        if self.notice_scope(notice_version) is None:
            raise ConsentRecordError(
                f"notice version {notice_version} is unknown: consent must "
                "name the notice the person was shown"
            )
        given = time.time() if now is None else now
        consent = Consent(
            id=uuid.uuid4().hex,
            person_id=person_id,
            notice_version=notice_version,
            method=method,
            signer=signer.strip(),
            witness=witness,
            guardian=guardian,
            entered_by=entered_by,
            given_at=given,
            expires_at=given + days * 86400.0,
            withdrawn_at=None,
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO consents (id, person_id, notice_version, method, signer, witness, "
                "guardian, entered_by, given_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    consent.id,
                    person_id,
                    notice_version,
                    method,
                    consent.signer,
                    witness,
                    guardian,
                    entered_by,
                    given,
                    consent.expires_at,
                ),
            )
            self.audit.append(
                db,
                "consent_given",
                subject=person.audit_ref,
                now=given,
                data={
                    "consent_id": consent.id,
                    "notice_version": notice_version,
                    "method": method,
                    "guardian": guardian is not None,
                    "expires_at": consent.expires_at,
                },
            )
        return consent

    def consents(self, person_id: str) -> list[Consent]:
        rows = self._query(
            "SELECT * FROM consents WHERE person_id = ? ORDER BY given_at", (person_id,)
        )
        return [consent_of_row(r) for r in self._sound("consents", rows)]

    def live_consent(self, person_id: str, now: float | None = None) -> Consent | None:
        moment = time.time() if now is None else now
        rows = self._query(
            "SELECT * FROM consents WHERE person_id = ? AND withdrawn_at IS NULL "
            "AND needs_renewal = 0 AND expires_at > ? ORDER BY expires_at DESC",
            (person_id, moment),
        )
        # An altered consent is no consent (R2, R8): the next intact one, if any, stands.
        sound = self._sound("consents", rows)
        return consent_of_row(sound[0]) if sound else None

    def renew_consent(
        self,
        person_id: str,
        *,
        notice_version: str,
        days: int = DEFAULT_CONSENT_DAYS,
        now: float | None = None,
    ) -> Consent:
        """Extends the latest unwithdrawn consent under the notice shown now (R6)."""
        if (refusal := consent_length_refusal(days)) is not None:
            raise ConsentRecordError(refusal)
        if self.notice_scope(notice_version) is None:
            raise ConsentRecordError(f"notice version {notice_version} is unknown")
        person = self.person(person_id)
        moment = time.time() if now is None else now
        rows = self._query(
            "SELECT * FROM consents WHERE person_id = ? AND withdrawn_at IS NULL "
            "AND expires_at > ? ORDER BY given_at DESC LIMIT 1",
            (person_id, moment),
        )
        if not rows:
            raise ConsentError("there is no consent to renew; give a new consent instead")
        self._rows.check("consents", rows[0])
        consent_id = rows[0]["id"]
        expires = moment + days * 86400.0
        with self._transaction() as db:
            db.execute(
                "UPDATE consents SET expires_at = ?, renewed_at = ?, notice_version = ?, "
                "needs_renewal = 0 WHERE id = ?",
                (expires, moment, notice_version, consent_id),
            )
            self.audit.append(
                db,
                "consent_renewed",
                subject=person.audit_ref,
                now=moment,
                data={
                    "consent_id": consent_id,
                    "notice_version": notice_version,
                    "expires_at": expires,
                },
            )
        return consent_of_row(self._query("SELECT * FROM consents WHERE id = ?", (consent_id,))[0])

    def withdraw_consent(self, person_id: str, now: float | None = None) -> int:
        """Withdraws every live consent and deletes the person's templates at once (R6, R7)."""
        person = self.person(person_id)
        moment = time.time() if now is None else now
        with self._transaction() as db:
            withdrawn = db.execute(
                "UPDATE consents SET withdrawn_at = ? WHERE person_id = ? AND withdrawn_at IS NULL",
                (moment, person_id),
            ).rowcount
            deleted = db.execute("DELETE FROM templates WHERE person_id = ?", (person_id,)).rowcount
            self.audit.append(
                db,
                "consent_withdrawn",
                subject=person.audit_ref,
                now=moment,
                data={"consents": withdrawn, "templates_deleted": deleted},
            )
        self._compact()
        return int(deleted)

    def expire_consents(self, now: float | None = None) -> int:
        """Deletes the templates of every expired consent; run by the scheduler (R6, R7)."""
        moment = time.time() if now is None else now
        with self._transaction() as db:
            rows = db.execute(
                "SELECT DISTINCT t.consent_id, p.audit_ref FROM templates t "
                "JOIN consents c ON c.id = t.consent_id JOIN people p ON p.id = t.person_id "
                "WHERE c.expires_at <= ?",
                (moment,),
            ).fetchall()
            deleted = 0
            for row in rows:
                count = db.execute(
                    "DELETE FROM templates WHERE consent_id = ?", (row["consent_id"],)
                ).rowcount
                deleted += count
                self.audit.append(
                    db,
                    "consent_expired",
                    subject=row["audit_ref"],
                    now=moment,
                    data={"consent_id": row["consent_id"], "templates_deleted": count},
                )
        if deleted:
            self._compact()
        return deleted

    def people_moving_out(self, today: dt.date | None = None) -> list[Person]:
        day = (today or dt.date.today()).isoformat()
        return self._sound_people(
            "SELECT * FROM people WHERE leaves_on IS NOT NULL AND leaves_on <= ?", (day,)
        )
