"""Sealed face templates (R8): added only under a live consent, loaded for the gallery,
never handed out as vectors beyond the engine."""

from __future__ import annotations

import json
import time
import uuid

from facegate.errors import ConsentError, TamperError
from facegate.identity.consent_records import ConsentRecords
from facegate.identity.records import StoredTemplate, TemplateLoad
from facegate.identity.row_seal import sound
from facegate.vision.types import Vector


class TemplateRecords(ConsentRecords):
    """Templates hang from consent records: they need them, and go with them."""

    # Templates -----------------------------------------------------------------------------

    def add_template(self, person_id: str, vector: Vector, *, embedder: str) -> str:
        consent = self.live_consent(person_id)
        if consent is None:
            raise ConsentError(
                f"person {person_id} has no live consent for face processing (R2): "
                "record the person's consent before enrolling a face"
            )
        person = self.person(person_id)
        template_id = uuid.uuid4().hex
        sealed = self._sealer.seal(
            vector, template_id=template_id, person_id=person_id, embedder=embedder
        )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                (template_id, person_id, consent.id, embedder, sealed, time.time()),
            )
            self.audit.append(
                db,
                "enrolment",
                subject=person.audit_ref,
                data={"template_id": template_id, "embedder": embedder, "consent_id": consent.id},
            )
        return template_id

    def template_count(self, person_id: str | None = None) -> int:
        if person_id is None:
            return int(self._query("SELECT count(*) FROM templates")[0][0])
        return int(
            self._query("SELECT count(*) FROM templates WHERE person_id = ?", (person_id,))[0][0]
        )

    def load_templates(
        self, embedder: str, now: float | None = None, *, person_id: str | None = None
    ) -> TemplateLoad:
        """Opens every template under a live consent (or one person's); tampered ones are
        refused and reported."""
        moment = time.time() if now is None else now
        rows = self._query(
            "SELECT t.id, t.person_id, t.sealed, p.name, p.disabled_methods, c.expires_at, "  # noqa: S608
            f"{sound('people', 'p')} AS person_sound, {sound('consents', 'c')} AS consent_sound "
            "FROM templates t JOIN people p ON p.id = t.person_id "
            "JOIN consents c ON c.id = t.consent_id WHERE t.embedder = ? "
            "AND c.withdrawn_at IS NULL AND c.needs_renewal = 0 AND c.expires_at > ? "
            "AND (? IS NULL OR t.person_id = ?)",
            (embedder, moment, person_id, person_id),
        )
        templates, refused = [], []
        for row in rows:
            if not (row["person_sound"] and row["consent_sound"]):
                # The person or the consent this template stands on was altered (R2, R8).
                refused.append(
                    TamperError(
                        f"template {row['id']} stands on a person or consent row that was "
                        "changed outside the engine; it is refused"
                    )
                )
                continue
            if "face" in json.loads(row["disabled_methods"]):
                continue
            try:
                vector = self._sealer.open(
                    row["sealed"],
                    template_id=row["id"],
                    person_id=row["person_id"],
                    embedder=embedder,
                )
            except TamperError as error:
                refused.append(error)
                continue
            templates.append(
                StoredTemplate(
                    id=row["id"],
                    person_id=row["person_id"],
                    person_name=row["name"],
                    vector=vector,
                    consent_expires_at=row["expires_at"],
                )
            )
        return TemplateLoad(templates=templates, refused=refused)

    def person_vectors(self, person_id: str, embedder: str) -> list[Vector]:
        """One person's templates under a live consent, opened (a new enrolment is checked
        against them)."""
        return [
            t.vector
            for t in self.load_templates(embedder, person_id=person_id).templates
            if t.person_id == person_id
        ]
