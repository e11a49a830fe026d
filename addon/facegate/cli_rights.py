"""`facegate audit|person|notice`: a resident's rights from the command line (R1, R6, R7, R11).

Each command opens the identity store in the configuration's data directory directly, so an
administrator can answer a request with or without the engine running. They are the command
line twins of the HTTP API: `GET /api/audit/verify`, `GET /api/people/{id}/export`,
`DELETE /api/people/{id}`, `POST /api/people/{id}/consent/withdraw`, `GET /api/notice`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from facegate.audit_records import Verdict
from facegate.config import Config, load
from facegate.errors import FacegateError
from facegate.identity.store import DB_NAME, IdentityStore
from facegate.notice import LANGUAGES, build_notice, publish_notice


@contextlib.contextmanager
def opened_store(
    config_path: str, *, create: bool = False
) -> Iterator[tuple[Config, IdentityStore]]:
    config = load(Path(config_path))
    database = config.data_dir / DB_NAME
    if not create and not database.is_file():
        # Opening would create an empty store, and "verified: 0 entries" would mislead.
        raise FacegateError(f"no facegate database at {database}: check data_dir in {config_path}")
    store = IdentityStore(config.data_dir)
    try:
        yield config, store
    finally:
        store.close()


def describe(verdict: Verdict) -> str:
    """One line saying whether the audit chain holds, and where it breaks if not."""
    if verdict.ok:
        if not verdict.entries:
            return "audit log intact: no entries yet"
        return (
            f"audit log intact: {verdict.entries} entries (seq {verdict.first_seq} to "
            f"{verdict.last_seq}); every hash links to the one before and the signed head matches"
        )
    where = f"at entry {verdict.at_seq}" if verdict.at_seq is not None else "at the signed head"
    return f"audit log BROKEN {where}: {verdict.problem}"


def _running_engine_note() -> None:
    print(
        "note: a running engine drops the person's templates from memory within a second "
        "(it watches the database for changes made by other processes)",
        file=sys.stderr,
    )


def _audit_verify(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        verdict = store.verify_audit()
    print(json.dumps(verdict.to_json()) if args.json else describe(verdict))
    return 0 if verdict.ok else 1


def _audit_purge(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        before = store.verify_audit()
        if not before.ok:
            # A purge writes a signed checkpoint over what it removes: on a broken chain it
            # would launder the tampering. Keep the evidence instead.
            print(
                f"facegate: refusing to purge: {describe(before)}. Purging would hide where "
                "the log was altered; keep it and investigate",
                file=sys.stderr,
            )
            return 1
        removed = store.purge_audit(args.older_than_days)
        after = store.verify_audit()
    print(
        f"purged {removed} audit entries older than {args.older_than_days} days; a signed "
        "checkpoint of the last purged hash keeps the rest verifiable"
    )
    print(describe(after))
    return 0 if after.ok else 1


def _person_export(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        document = store.export_person(args.person)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    # Personal data: readable by whoever ran the command, nobody else.
    descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(
        f"exported everything held about {document['person']['name']} to {args.out}: "
        f"{len(document['consents'])} consent record(s), "
        f"{len(document['credentials'])} credential(s), "
        f"{len(document['templates'])} face template(s) (metadata, never the vector), "
        f"{len(document['audit'])} audit entries",
        file=sys.stderr,
    )
    return 0


def _person_erase(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        receipt = store.erase_person(args.person, "request")
    print(json.dumps(receipt.to_json(), indent=2, ensure_ascii=False))
    _running_engine_note()
    return 0


def _person_withdraw(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        person = store.person(args.person)
        deleted = store.withdraw_consent(args.person)
    print(
        f"consent withdrawn for {person.name} ({person.id}): {deleted} face template(s) "
        "deleted; their PIN, card, tag or phone still opens the same doors"
    )
    _running_engine_note()
    return 0


def _person_invite(args: argparse.Namespace) -> int:
    from facegate.invitations import invite

    with opened_store(args.config) as (config, store):
        link = invite(store, config, args.person)
    until = time.strftime("%Y-%m-%d %H:%M", time.localtime(link.expires_at))
    print(f"invitation for {args.person}, valid once until {until}:\n{link.url}")
    if not args.no_qr:
        link.qr().terminal(compact=True)
    return 0


def _notice(args: argparse.Namespace) -> int:
    with opened_store(args.config, create=True) as (config, store):
        notice = build_notice(config, store.groups())
        renewals = publish_notice(store, notice)
        store.note_notice_shown(notice.version, args.person)
    if renewals:
        print(
            f"note: the notice's purpose or scope changed: {renewals} consent(s) must be "
            "renewed before those faces open anything",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(notice.to_json(args.lang), ensure_ascii=False))
        return 0
    footer = (
        f"版本 {notice.version}（范围 {notice.scope}）"  # noqa: RUF001 - Chinese punctuation
        if args.lang == "zh-Hans"
        else f"notice version {notice.version} (scope {notice.scope})"
    )
    print(f"{notice.text[args.lang]}\n\n{footer}")
    return 0


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if days < 0:
        raise argparse.ArgumentTypeError("the number of days must be 0 or more")
    return days


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Adds `audit verify|purge`, `person export|erase|withdraw` and `notice`; returns the
    `person` actions, for cli_access.py to add its own."""
    audit = commands.add_parser("audit", help="verify or purge the hash-chained audit log (R11)")
    audit_actions = audit.add_subparsers(dest="audit_action", required=True)
    verify = audit_actions.add_parser(
        "verify", help="check every entry's hash and the signed head; exit 1 if broken"
    )
    verify.add_argument("--config", required=True)
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")
    verify.set_defaults(handler=_audit_verify)
    purge = audit_actions.add_parser(
        "purge", help="delete entries older than N days, keeping the chain verifiable"
    )
    purge.add_argument("--config", required=True)
    purge.add_argument("--older-than-days", type=_days, required=True, metavar="N")
    purge.set_defaults(handler=_audit_purge)

    person = commands.add_parser("person", help="a resident's data: export, erase, withdraw")
    person_actions = person.add_subparsers(dest="person_action", required=True)
    for name, handler, text in (
        ("export", _person_export, "everything held about the person, as JSON (R11)"),
        ("erase", _person_erase, "delete the person and all their data; prints a receipt (R7)"),
        ("withdraw", _person_withdraw, "withdraw face consent; templates deleted at once (R6)"),
        ("invite", _person_invite, "a single-use link (and QR code) to the resident pages"),
    ):
        action = person_actions.add_parser(name, help=text)
        action.add_argument("--config", required=True)
        action.add_argument("--person", required=True, help="the person's id")
        if name == "export":
            action.add_argument("--out", help="write to this file (mode 0600), not stdout")
        if name == "invite":
            action.add_argument("--no-qr", action="store_true", help="the link only")
        action.set_defaults(handler=handler)

    notice = commands.add_parser("notice", help="the processing notice people are shown (R1)")
    notice.add_argument("--config", required=True)
    notice.add_argument("--lang", choices=list(LANGUAGES), default="en")
    notice.add_argument("--person", help="record that this person was shown it")
    notice.add_argument("--json", action="store_true", help="version, scope and text as JSON")
    notice.set_defaults(handler=_notice)
    return person_actions
