"""`facegate group|visitor` and `facegate person groups|validity`: who may open which door, and
when, from the command line — the twins of `/api/groups`, `/api/visitors` and
`PUT /api/people/{id}/groups|validity`. They open the store directly; a running engine sees
the change within a second (it watches the database), its doors' galleries and notice too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from facegate.cli_rights import opened_store
from facegate.errors import FacegateError
from facegate.identity.credentials import generate_pin
from facegate.identity.validity import Validity, Window, moment
from facegate.visitors import doors_opened, visitor_message


def _validity(args: argparse.Namespace, zone: dt.tzinfo | None) -> Validity:
    validity = Validity(
        valid_from=moment(args.valid_from, zone) if args.valid_from else None,
        valid_until=moment(args.valid_until, zone, end=True) if args.valid_until else None,
        max_uses=args.uses,
        schedule=tuple(Window.parse(text) for text in args.schedule or ()),
    )
    validity.check()
    return validity


def _describe(validity: Validity, zone: dt.tzinfo | None) -> str:
    def when(value: float | None) -> str:
        return "-" if value is None else dt.datetime.fromtimestamp(value, tz=zone).isoformat()

    hours = "; ".join(w.text() for w in validity.schedule) or "any time"
    uses = "no limit" if validity.max_uses is None else f"{validity.uses} of {validity.max_uses}"
    return (
        f"from {when(validity.valid_from)} until {when(validity.valid_until)}, {hours}, uses {uses}"
    )


def _groups(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (config, store):
        if args.action == "add":
            group = store.add_group(
                args.name, args.door or [], every_door=args.every_door, known=config.doors
            )
            print(f"group {group.id} added: {group.name}")
        elif args.action == "change":
            group = store.change_group(
                args.group,
                name=args.name,
                doors=args.door,
                every_door=args.every_door,
                known=config.doors,
            )
            print(f"group {group.id} changed: {group.name}")
        elif args.action == "remove":
            store.remove_group(args.group)
            print(f"group {args.group} removed; its members keep their other groups")
        groups = store.groups()
    if args.json:
        print(json.dumps([g.to_json() for g in groups], ensure_ascii=False, indent=2))
        return 0
    for group in groups:
        names = [config.doors[d].name for d in group.doors if d in config.doors]
        doors = "every door" if group.every_door else ", ".join(names) or "no door"
        print(f"{group.id:14}  {group.name:24}  {group.members:4} member(s)  {doors}")
    return 0


def _person_groups(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        groups = store.set_groups(args.person, args.group or [])
    print(f"person {args.person} is in: {', '.join(groups) or 'no group (opens nothing)'}")
    return 0


def _person_validity(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (config, store):
        validity = _validity(args, config.zone)
        store.set_validity(args.person, validity, credential_id=args.credential)
    holder = f"credential {args.credential}" if args.credential else f"person {args.person}"
    print(f"{holder}: {_describe(validity, config.zone)}")
    return 0


def _visitor(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (config, store):
        validity = _validity(args, config.zone)
        visitor = store.add_person(args.name, groups=args.group, visitor=True)
        code = generate_pin()
        try:
            store.add_credential(visitor.id, "pin", code, args.label, validity)
        except FacegateError:
            store.erase_person(visitor.id, "request")  # no visitor without their code
            raise
        doors = doors_opened(store.groups(), args.group, config)
    message = visitor_message(args.name, code, validity, doors, config.zone)
    result: dict[str, Any] = {"person": visitor.id, "code": code, "message": message}
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else message[args.lang])
    return 0


def _limits(parser: argparse.ArgumentParser, *, until_required: bool = False) -> None:
    parser.add_argument("--from", dest="valid_from", help="2026-12-24 or 2026-12-24T08:00")
    parser.add_argument(
        "--until", dest="valid_until", required=until_required, help="when it ends (same forms)"
    )
    parser.add_argument("--uses", type=int, help="how many times it opens a door (1: once)")
    parser.add_argument(
        "--schedule",
        action="append",
        metavar="WINDOW",
        help='weekly hours, e.g. "mon-fri 08:00-18:00" (repeatable; in the configured timezone)',
    )


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    person_actions: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Adds `group list|add|change|remove`, `visitor add`, `person groups|validity`."""
    group = commands.add_parser("group", help="access groups: which doors a person may open")
    actions = group.add_subparsers(dest="action", required=True)
    for name, text in (
        ("list", "every group, its doors and member count"),
        ("add", "a new group of doors"),
        ("change", "rename a group or change its doors"),
        ("remove", "remove a group (its members keep their other groups)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--config", required=True)
        action.add_argument("--json", action="store_true")
        if name in {"change", "remove"}:
            action.add_argument("--group", required=True, help="the group's id")
        if name in {"add", "change"}:
            action.add_argument("--name", required=name == "add")
            action.add_argument("--door", action="append", help="a door id (repeatable)")
            action.add_argument(
                "--every-door",
                action=argparse.BooleanOptionalAction,
                default=False if name == "add" else None,
                help="every door, those configured later too",
            )
        action.set_defaults(handler=_groups)

    visitor = commands.add_parser("visitor", help="a visitor with a generated code that ends")
    visitor_actions = visitor.add_subparsers(dest="action", required=True)
    add = visitor_actions.add_parser("add", help="create a visitor and print their code once")
    add.add_argument("--config", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--group", action="append", required=True, help="a group id (repeatable)")
    add.add_argument("--label", default="", help="a note on the code, e.g. the host's name")
    add.add_argument("--lang", choices=["en", "zh-Hans"], default="en")
    add.add_argument("--json", action="store_true")
    _limits(add, until_required=True)
    add.set_defaults(handler=_visitor)

    groups = person_actions.add_parser("groups", help="set the person's access groups")
    groups.add_argument("--config", required=True)
    groups.add_argument("--person", required=True, help="the person's id")
    groups.add_argument("--group", action="append", help="a group id (repeatable; none: none)")
    groups.set_defaults(handler=_person_groups)
    validity = person_actions.add_parser(
        "validity", help="when the person (or one credential) opens doors"
    )
    validity.add_argument("--config", required=True)
    validity.add_argument("--person", required=True, help="the person's id")
    validity.add_argument("--credential", help="limit this credential instead of the person")
    _limits(validity)
    validity.set_defaults(handler=_person_validity)
