"""What one section of the configuration cannot check alone: a door's camera, a reader's
method and topic, the decision window against liveness, the custom model's place."""

from __future__ import annotations

from collections.abc import Iterable

from facegate.config import Config, DoorConfig
from facegate.errors import ConfigError


def _refuse(key: str, message: str) -> ConfigError:
    return ConfigError(f"invalid configuration:\n  {key}: {message}")


def check_across(config: Config) -> None:
    for door_id, door in config.doors.items():
        if "face" in door.methods and door.camera is None:
            raise _refuse(f"doors.{door_id}.camera", "is required when the face method is enabled")
        if door.camera is not None and door.camera not in config.cameras:
            raise _refuse(
                f"doors.{door_id}.camera", f"no camera named {door.camera!r} under cameras"
            )
    check_credential_inputs(config.doors.values())
    decision = config.decision
    if decision.votes_required > decision.votes_window:
        raise _refuse("decision.votes_required", "cannot exceed decision.votes_window")
    if decision.votes_required < 2 and any(d.checks_liveness for d in config.doors.values()):
        # One frame cannot show whether the face moves like a living face or like a picture.
        raise _refuse(
            "decision.votes_required",
            "liveness needs at least 2 frames per decision (a face is told from a photo by "
            "how it moves between them)",
        )
    if config.embedder != "custom" and config.custom_model is not None:
        raise _refuse("custom_model", "is only used with embedder: custom")
    if config.embedder == "custom" and config.custom_model is None:
        raise _refuse(
            "custom_model",
            "is required with embedder: custom (path, sha256, licence_acknowledged: true; "
            "see README, Bring your own model)",
        )


def check_credential_inputs(doors: Iterable[DoorConfig]) -> None:
    """A reader feeds one door with one enabled method, on a topic of its own."""
    doors = list(doors)
    lock_topics = {d.lock.command_topic for d in doors}
    seen: dict[str, str] = {}
    for door in doors:
        for index, item in enumerate(door.credential_inputs):
            key = f"doors.{door.id}.credential_inputs.{index}"
            if item.kind not in door.methods:
                raise _refuse(
                    f"{key}.kind",
                    f"{item.kind!r} is not enabled at this door (its methods are "
                    f"{', '.join(sorted(door.methods))})",
                )
            if item.topic in lock_topics:
                raise _refuse(f"{key}.topic", f"{item.topic!r} is a lock command topic")
            if item.topic in seen:
                raise _refuse(
                    f"{key}.topic", f"{item.topic!r} is already used by {seen[item.topic]}"
                )
            seen[item.topic] = key
