"""Who may open which door, and when: access groups, memberships, validity and visitors.

A group is a named set of doors ("Building 3", "Main gate"), or every door; a person opens the
doors of the groups they belong to and nothing else. Validity limits a person or a credential
in time and in uses. Groups, memberships and the validity columns are sealed rows (R8): a
membership slipped in, a door added to a group or a use count reset outside the engine is
refused, never obeyed. Every change is audited (R11).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from facegate.errors import FacegateError, NotFoundError, TamperError
from facegate.identity.records import NAME_MAX_LENGTH, credential_of_row, person_of_row
from facegate.identity.store_core import StoreCore
from facegate.identity.validity import Validity
from facegate.plain_text import text_problem
from facegate.vocabulary import Reason


@dataclass(frozen=True, kw_only=True)
class AccessGroup:
    id: str
    name: str
    doors: tuple[str, ...]  # ignored when every_door
    every_door: bool
    created_at: float
    members: int = 0

    def covers(self, door_id: str) -> bool:
        return self.every_door or door_id in self.doors

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "doors": list(self.doors),
            "every_door": self.every_door,
            "created_at": self.created_at,
            "members": self.members,
        }


def _group_of_row(row: sqlite3.Row, members: int = 0) -> AccessGroup:
    return AccessGroup(
        id=row["id"],
        name=row["name"],
        doors=tuple(json.loads(row["doors"])),
        every_door=bool(row["every_door"]),
        created_at=row["created_at"],
        members=members,
    )


def _group_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX_LENGTH:
        raise FacegateError(f"a group's name must be 1-{NAME_MAX_LENGTH} characters")
    if (problem := text_problem(name)) is not None:
        raise FacegateError(f"a group's name {problem}")
    return name


def _doors(doors: Iterable[str], known: Collection[str]) -> list[str]:
    chosen = sorted(set(doors))
    unknown = [door for door in chosen if door not in known]
    if unknown:
        raise FacegateError(
            f"no door with id {', '.join(unknown)} (doors: {', '.join(sorted(known))})"
        )
    return chosen


class AccessRecords(StoreCore):
    # Groups --------------------------------------------------------------------------------

    def groups(self) -> list[AccessGroup]:
        """Every intact group with its member count; altered rows are left out (R8)."""
        with self._reading() as db:
            rows = db.execute("SELECT * FROM access_groups ORDER BY created_at, name").fetchall()
            members = db.execute("SELECT * FROM memberships").fetchall()
        counts: dict[str, int] = {}
        for row in self._sound("memberships", members):
            counts[row["group_id"]] = counts.get(row["group_id"], 0) + 1
        return [
            _group_of_row(r, counts.get(r["id"], 0)) for r in self._sound("access_groups", rows)
        ]

    def group(self, group_id: str) -> AccessGroup:
        for group in self.groups():
            if group.id == group_id:
                return group
        if self._query("SELECT 1 FROM access_groups WHERE id = ?", (group_id,)):
            raise TamperError(f"access group {group_id} was changed outside the engine (R8)")
        raise NotFoundError(f"no access group with id {group_id}")

    def add_group(
        self, name: str, doors: Iterable[str], *, every_door: bool = False, known: Collection[str]
    ) -> AccessGroup:
        group = AccessGroup(
            id=uuid.uuid4().hex[:12],
            name=_group_name(name),
            doors=tuple(_doors(doors, known)),
            every_door=every_door,
            created_at=time.time(),
        )
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO access_groups (id, name, doors, every_door, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        group.id,
                        group.name,
                        json.dumps(group.doors),
                        int(every_door),
                        group.created_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise FacegateError(f"there is already a group named {group.name!r}") from None
            self.audit.append(db, "group_created", data=self._group_audit(group))
        return group

    def change_group(
        self,
        group_id: str,
        *,
        name: str | None = None,
        doors: Iterable[str] | None = None,
        every_door: bool | None = None,
        known: Collection[str],
    ) -> AccessGroup:
        group = self.group(group_id)
        fields: dict[str, Any] = {}
        if name is not None:
            fields["name"] = _group_name(name)
        if doors is not None:
            fields["doors"] = json.dumps(_doors(doors, known))
        if every_door is not None:
            fields["every_door"] = int(every_door)
        if fields:
            with self._transaction() as db:
                assignments = ", ".join(f"{key} = ?" for key in fields)
                try:
                    db.execute(
                        f"UPDATE access_groups SET {assignments} WHERE id = ?",  # noqa: S608
                        (*fields.values(), group_id),
                    )
                except sqlite3.IntegrityError:
                    raise FacegateError(f"there is already a group named {name!r}") from None
                changed = _group_of_row(
                    db.execute("SELECT * FROM access_groups WHERE id = ?", (group_id,)).fetchone()
                )
                self.audit.append(db, "group_changed", data=self._group_audit(changed))
        return self.group(group.id)

    def remove_group(self, group_id: str) -> None:
        """The group and its memberships; its members keep their other groups."""
        if not self._query("SELECT 1 FROM access_groups WHERE id = ?", (group_id,)):
            raise NotFoundError(f"no access group with id {group_id}")
        with self._transaction() as db:
            db.execute("DELETE FROM access_groups WHERE id = ?", (group_id,))  # cascades
            self.audit.append(db, "group_removed", data={"group_id": group_id})

    @staticmethod
    def _group_audit(group: AccessGroup) -> dict[str, Any]:
        return {
            "group_id": group.id,
            "name": group.name,
            "doors": list(group.doors),
            "every_door": group.every_door,
        }

    # Memberships ---------------------------------------------------------------------------

    def person_groups(self, person_id: str) -> list[str]:
        """The ids of the intact groups the person belongs to."""
        rows = self._query("SELECT * FROM memberships WHERE person_id = ?", (person_id,))
        groups = {g.id for g in self.groups()}
        return sorted(
            r["group_id"] for r in self._sound("memberships", rows) if r["group_id"] in groups
        )

    def set_groups(self, person_id: str, group_ids: Iterable[str]) -> list[str]:
        """The person belongs to exactly these groups from now on (none: opens nothing)."""
        person = self.person(person_id)
        wanted = sorted(set(group_ids))
        known = {g.id for g in self.groups()}
        unknown = [g for g in wanted if g not in known]
        if unknown:
            raise NotFoundError(f"no access group with id {', '.join(unknown)}")
        with self._transaction() as db:
            self._write_groups(db, person_id, wanted)
            self.audit.append(
                db, "groups_changed", subject=person.audit_ref, data={"groups": wanted}
            )
        return wanted

    @staticmethod
    def _write_groups(db: sqlite3.Connection, person_id: str, group_ids: list[str]) -> None:
        db.execute("DELETE FROM memberships WHERE person_id = ?", (person_id,))
        now = time.time()
        db.executemany(
            "INSERT INTO memberships (id, group_id, person_id, created_at) VALUES (?, ?, ?, ?)",
            [(f"{g}/{person_id}", g, person_id, now) for g in group_ids],
        )

    def door_people(self, doors: Iterable[str]) -> dict[str, set[str]]:
        """For each door, the people whose groups cover it (a door's face gallery)."""
        groups = {g.id: g for g in self.groups()}
        rows = self._sound("memberships", self._query("SELECT * FROM memberships"))
        allowed: dict[str, set[str]] = {door: set() for door in doors}
        for row in rows:
            group = groups.get(row["group_id"])
            if group is None:
                continue
            for door, people in allowed.items():
                if group.covers(door):
                    people.add(row["person_id"])
        return allowed

    # Validity ------------------------------------------------------------------------------

    def set_validity(
        self, person_id: str, validity: Validity, *, credential_id: str | None = None
    ) -> None:
        """Limits on the person, or on one of their credentials (uses so far are kept)."""
        validity.check()
        person = self.person(person_id)
        table, where, args = (
            ("people", "id = ?", (person_id,))
            if credential_id is None
            else ("credentials", "id = ? AND person_id = ?", (credential_id, person_id))
        )
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE {table} SET valid_from = ?, valid_until = ?, max_uses = ?, "  # noqa: S608
                f"schedule = ? WHERE {where}",  # names from this function, never from input
                (*validity.columns(), *args),
            ).rowcount
            if not changed:
                raise NotFoundError(f"person {person_id} has no credential {credential_id}")
            self.audit.append(
                db,
                "validity_changed",
                subject=person.audit_ref,
                data={"credential_id": credential_id, "validity": validity.to_json()},
            )

    # The decision ----------------------------------------------------------------------------

    def admit(
        self,
        person_id: str,
        door_id: str,
        *,
        credential_id: str | None = None,
        now: float,
        zone: dt.tzinfo | None,
    ) -> Reason | None:
        """Why this person (with this credential) may not pass this door now, or None, in
        which case one use is taken from whatever counts uses: in one transaction, so two doors
        cannot both let in a one-time code. TamperError for an altered row (R8)."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM people WHERE id = ?", (person_id,)).fetchone()
            if row is None:
                return "unknown"  # erased while deciding
            self._rows.check("people", row)
            holders: list[tuple[str, str, Validity]] = [
                ("people", person_id, person_of_row(row).validity)
            ]
            if credential_id is not None:
                found = db.execute(
                    "SELECT * FROM credentials WHERE id = ?", (credential_id,)
                ).fetchone()
                if found is None:
                    return "unknown"
                self._rows.check("credentials", found)
                holders.insert(0, ("credentials", credential_id, credential_of_row(found).validity))
            groups = {
                r["id"]: _group_of_row(r)
                for r in self._sound(
                    "access_groups", db.execute("SELECT * FROM access_groups").fetchall()
                )
            }
            memberships = self._sound(
                "memberships",
                db.execute(
                    "SELECT * FROM memberships WHERE person_id = ?", (person_id,)
                ).fetchall(),
            )
            if not any(
                r["group_id"] in groups and groups[r["group_id"]].covers(door_id)
                for r in memberships
            ):
                return "not_allowed"
            for _table, _id, validity in holders:
                reason = validity.refusal(now, zone)
                if reason is not None:
                    return reason
            for table, row_id, validity in holders:
                if validity.max_uses is not None:
                    db.execute(
                        f"UPDATE {table} SET uses = uses + 1 WHERE id = ?",  # noqa: S608
                        (row_id,),
                    )
        return None

    def give_back(self, person_id: str, credential_id: str | None = None) -> None:
        """Returns the use `admit` took when the door did not open after all (a stale grant,
        a lock offline): a one-time code is not lost to a broker outage."""
        with self._transaction() as db:
            for table, row_id in (("people", person_id), ("credentials", credential_id)):
                if row_id is not None:
                    db.execute(
                        f"UPDATE {table} SET uses = uses - 1 "  # noqa: S608
                        "WHERE id = ? AND max_uses IS NOT NULL AND uses > 0",
                        (row_id,),
                    )
