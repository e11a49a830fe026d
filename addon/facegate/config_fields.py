"""The kinds of value a configuration file holds, each with the words its refusal uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo


class Settings(BaseModel):
    """A section of the configuration: strict (a number is not "5", true is not "yes"),
    closed (a misspelt key is refused, not ignored) and immutable once loaded."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def matching(pattern: str, message: str) -> AfterValidator:
    """A string that must match `pattern`, refused in the words of `message`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _from_base(value: Any, info: ValidationInfo) -> Any:
    """A relative path is taken from the configuration file's directory (the `base` the
    loader passes as context), so the engine finds the same files from any working directory."""
    if isinstance(value, str) and value:
        base = (info.context or {}).get("base") or Path.cwd()
        return (Path(base) / value).resolve()
    if isinstance(value, str):
        raise ValueError("must not be empty")
    return value


ResolvedPath = Annotated[Path, BeforeValidator(_from_base)]
Text = Annotated[str, Field(min_length=1)]
Port = Annotated[int, Field(ge=1, le=65535)]
DoorId = Annotated[str, matching(r"[a-z0-9_]{1,40}", "must be 1-40 lowercase letters, digits or _")]


def _channels(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (float(value),) * 3
    if isinstance(value, list) and len(value) == 3:
        return tuple(value)
    raise ValueError("must be a number or a list of three (one per colour channel)")


def _positive(values: tuple[float, float, float]) -> tuple[float, float, float]:
    if not all(v > 0 for v in values):
        raise ValueError("must be greater than 0 (pixels are divided by it)")
    return values


Channels = Annotated[tuple[float, float, float], BeforeValidator(_channels)]
PositiveChannels = Annotated[Channels, AfterValidator(_positive)]


def keyed(name_field: str, name_of: Callable[[str], str] | None = None) -> BeforeValidator:
    """A mapping of sections whose keys are their names: each section is given its key (and,
    with `name_of`, a display name made from it unless the file gives one)."""

    def inject(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        named: dict[Any, Any] = {}
        for key, section in value.items():
            if isinstance(section, dict) and isinstance(key, str):
                if name_field in section:
                    raise ValueError(
                        f"{key}.{name_field}: is not a setting (the key is its {name_field})"
                    )
                defaults = {name_field: key}
                if name_of is not None:
                    defaults["name"] = name_of(key)
                named[key] = {**defaults, **section}
            else:
                named[key] = section
        return named

    return BeforeValidator(inject)
