"""The Home Assistant Supervisor's rules for an add-on's options, as its own validator applies
them (supervisor/addons/options.py and validate.py): the grammar of a schema element, options
checked against the schema (required keys, types, ranges, patterns, lists of choices, nested
lists of settings), and translations that name only options the schema has. Written here
because the Supervisor cannot be installed from a registry; kept to what the add-on uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# The Supervisor's RE_SCHEMA_ELEMENT.
SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>\d+)?,(?P<i_max>\d+)?\))?"
    r"|float(?:\((?P<f_min>[\d\.]+)?,(?P<f_max>[\d\.]+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


class RefusedBySupervisorError(AssertionError):
    """What the Supervisor would say instead of starting the add-on."""


def check_schema(schema: Mapping[str, Any], where: str = "") -> None:
    for key, element in schema.items():
        path = f"{where}{key}"
        if isinstance(element, list):
            if len(element) != 1:
                raise RefusedBySupervisorError(f"{path}: a list schema has exactly one item")
            item = element[0]
            check_schema(item, f"{path}.") if isinstance(item, dict) else _element(path, item)
        elif isinstance(element, dict):
            check_schema(element, f"{path}.")
        else:
            _element(path, element)


def _element(path: str, element: Any) -> re.Match[str]:
    found = SCHEMA_ELEMENT.match(str(element)) if isinstance(element, str) else None
    if found is None:
        raise RefusedBySupervisorError(f"{path}: {element!r} is not a schema element")
    if found.group("match") is not None:
        re.compile(found.group("match"))
    return found


def check_options(schema: Mapping[str, Any], options: Mapping[str, Any], where: str = "") -> None:
    """Options as the Supervisor validates them before starting the add-on."""
    for key in options:
        if key not in schema:
            raise RefusedBySupervisorError(f"{where}{key}: not in the schema")
    for key, element in schema.items():
        path = f"{where}{key}"
        optional = isinstance(element, str) and element.endswith("?")
        if key not in options:
            if not optional and not isinstance(element, list | dict):
                raise RefusedBySupervisorError(f"{path}: missing (required)")
        elif isinstance(element, list):
            _check_list(path, element[0], options[key])
        elif isinstance(element, dict):
            check_options(element, options[key], f"{path}.")
        else:
            _value(path, element, options[key])


def _check_list(path: str, item_schema: Any, value: Any) -> None:
    if not isinstance(value, list):
        raise RefusedBySupervisorError(f"{path}: must be a list")
    for index, item in enumerate(value):
        if not isinstance(item_schema, dict):
            _value(f"{path}.{index}", item_schema, item)
        elif isinstance(item, dict):
            check_options(item_schema, item, f"{path}.{index}.")
        else:
            raise RefusedBySupervisorError(f"{path}.{index}: must be a mapping")


def _value(path: str, element: str, value: Any) -> None:
    found = _element(path, element)
    kind = element.rstrip("?").split("(")[0]
    ok: bool
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("str", "password"):
        low, high = (
            (found.group("s_min"), found.group("s_max"))
            if kind == "str"
            else (
                found.group("p_min"),
                found.group("p_max"),
            )
        )
        ok = isinstance(value, str) and _within(len(value), low, high)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and _within(value, found.group("i_min"), found.group("i_max"))
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and _within(float(value), found.group("f_min"), found.group("f_max"))
    elif kind == "port":
        ok = isinstance(value, int) and 1 <= value <= 65535
    elif kind == "url":
        ok = isinstance(value, str) and URL.match(value) is not None
    elif kind == "email":
        ok = isinstance(value, str) and "@" in value
    elif kind == "match":
        ok = isinstance(value, str) and re.match(found.group("match"), value) is not None
    elif kind == "list":
        ok = str(value) in found.group("list").split("|")
    else:  # device
        ok = isinstance(value, str)
    if not ok:
        raise RefusedBySupervisorError(f"{path}: {value!r} does not fit {element}")


def _within(value: float, low: str | None, high: str | None) -> bool:
    return (low is None or value >= float(low)) and (high is None or value <= float(high))


def check_translations(
    schema: Mapping[str, Any], translations: Mapping[str, Any], ports: Mapping[str, Any]
) -> None:
    """Every option named, with a name; nothing named that the schema does not have."""
    _translated(schema, translations.get("configuration") or {}, "")
    network = translations.get("network") or {}
    if set(network) - set(ports):
        raise RefusedBySupervisorError(
            f"network: {sorted(set(network) - set(ports))} are not ports"
        )


def _translated(schema: Mapping[str, Any], said: Mapping[str, Any], where: str) -> None:
    if set(said) - set(schema):
        raise RefusedBySupervisorError(
            f"{where}: translated but not options: {set(said) - set(schema)}"
        )
    for key, element in schema.items():
        path = f"{where}{key}"
        entry = said.get(key)
        if not isinstance(entry, dict) or not entry.get("name"):
            raise RefusedBySupervisorError(f"{path}: has no translated name")
        nested = element[0] if isinstance(element, list) else element
        if isinstance(nested, dict):
            _translated(nested, entry.get("fields") or {}, f"{path}.")
