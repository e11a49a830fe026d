"""One typed configuration, loaded and validated once, then handed to each part.

Errors name the key path and what is wrong; a door that could only be opened by a face is
refused under rule R4 (the face must never be the only way in). The defaults live here, the
schema that checks a file in config_schema.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from facegate.access.liveness import DEFAULT_LIVENESS, LivenessMode
from facegate.access.policy import DEFAULT_STRICTNESS, Strictness
from facegate.access.vote import Aggregate
from facegate.errors import ConfigError
from facegate.vision.custom import CustomModel
from facegate.vision.detect import DetectorRange
from facegate.vocabulary import EmbedderName

# Chosen from benchmarks/accuracy.py; README.md ("Choosing the embedder") gives the figures.
DEFAULT_EMBEDDER: EmbedderName = "fused"

# Decision defaults. The threshold is not a setting by default: the open-set policy
# (access/policy.py) derives it from the door's strictness and the number of people enrolled.
# A door decides once 3 of the last 5 frames, within 1.5 s, have had their say: at 10 fps a
# resident standing still is recognised ~200 ms after the first good frame, while a single
# lucky impostor frame cannot open the door. The frames' embeddings are averaged into one
# track-level vector ("track"), which `facegate eval door` measured better than per-frame votes
# (README, "Open-set decisions").
DEFAULT_VOTES_REQUIRED = 3
DEFAULT_VOTES_WINDOW = 5
DEFAULT_WINDOW_S = 1.5
DEFAULT_AGGREGATE: Aggregate = "track"
# Quality gates. A face turned by more than about 40 degrees (nose offset over half the eye
# distance) does not count; 0.35 (about 30 degrees) turned away four times as many resident
# frames in the door simulation (7.1 % against 1.6 % on east_asian_dev) and kept out no further
# stranger (benchmarks/open_set.py).
DEFAULT_MIN_EYE_DISTANCE_PX = 20.0
DEFAULT_MIN_SHARPNESS = 30.0
DEFAULT_MAX_YAW = 0.5
DEFAULT_MAX_PITCH = 0.35
# A decision whose newest frame is older than this is dropped, never acted on (R12).
DEFAULT_MAX_DECISION_AGE_S = 2.0
DEFAULT_COOLDOWN_S = 5.0
DEFAULT_AUDIT_RETENTION_DAYS = 730
# Credential rate limit (R12): this many wrong codes at a door within the window lock every
# credential at that door out for the lockout. At the defaults a keypad takes at most about
# 5 guesses a minute (7,200 a day) out of the 10^6 six-digit PINs.
DEFAULT_MAX_FAILURES = 5
DEFAULT_FAILURE_WINDOW_S = 60.0
DEFAULT_LOCKOUT_S = 60.0
DEFAULT_API_HOST = "127.0.0.1"
DEFAULT_API_PORT = 8765


@dataclass(frozen=True, kw_only=True)
class MqttConfig:
    host: str
    port: int = 1883
    prefix: str = "facegate"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_ca: Path | None = None


@dataclass(frozen=True, kw_only=True)
class CameraConfig:
    name: str
    source: str
    detector: DetectorRange = "full"


@dataclass(frozen=True, kw_only=True)
class LockConfig:
    command_topic: str | None = None
    payload_unlock: str = "UNLOCK"
    entity_id: str | None = None  # a Home Assistant lock, driven by the integration


@dataclass(frozen=True, kw_only=True)
class CredentialInputConfig:
    """A keypad or card reader publishing codes on an MQTT topic (raw, or JSON under json_key)."""

    topic: str
    kind: str
    json_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class DoorConfig:
    id: str
    name: str
    camera: str | None
    methods: frozenset[str]
    lock: LockConfig
    credential_inputs: tuple[CredentialInputConfig, ...] = ()
    strictness: Strictness = DEFAULT_STRICTNESS
    # A face decision needs the window's frames to be judged alive (R12); "off" accepts a
    # photo held up to the camera, and the engine says so at every start.
    liveness: LivenessMode = DEFAULT_LIVENESS

    @property
    def checks_liveness(self) -> bool:
        return "face" in self.methods and self.liveness == "required"


@dataclass(frozen=True, kw_only=True)
class QualityConfig:
    min_eye_distance_px: float = DEFAULT_MIN_EYE_DISTANCE_PX
    min_sharpness: float = DEFAULT_MIN_SHARPNESS
    max_yaw: float = DEFAULT_MAX_YAW
    max_pitch: float = DEFAULT_MAX_PITCH


@dataclass(frozen=True, kw_only=True)
class DecisionConfig:
    threshold: float | None = None  # an administrator's fixed threshold instead of the policy's
    aggregate: Aggregate = DEFAULT_AGGREGATE
    votes_required: int = DEFAULT_VOTES_REQUIRED
    votes_window: int = DEFAULT_VOTES_WINDOW
    window_s: float = DEFAULT_WINDOW_S
    max_decision_age_s: float = DEFAULT_MAX_DECISION_AGE_S
    cooldown_s: float = DEFAULT_COOLDOWN_S


@dataclass(frozen=True, kw_only=True)
class CredentialsConfig:
    max_failures: int = DEFAULT_MAX_FAILURES
    window_s: float = DEFAULT_FAILURE_WINDOW_S
    lockout_s: float = DEFAULT_LOCKOUT_S


@dataclass(frozen=True, kw_only=True)
class ApiConfig:
    """Where the HTTP API listens (token auth; loopback unless the operator says otherwise)."""

    host: str = DEFAULT_API_HOST
    port: int = DEFAULT_API_PORT


@dataclass(frozen=True, kw_only=True)
class AuditConfig:
    # Access decisions older than this leave the log; a signed checkpoint keeps the rest
    # verifiable (R11). Two years covers a dispute about any door event a resident remembers.
    retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS


@dataclass(frozen=True, kw_only=True)
class Config:
    data_dir: Path
    models_dir: Path
    embedder: EmbedderName
    mqtt: MqttConfig
    cameras: dict[str, CameraConfig]
    doors: dict[str, DoorConfig]
    quality: QualityConfig
    decision: DecisionConfig
    custom_model: CustomModel | None = None
    # Where the custom model's calibration is read from (`facegate calibrate` writes it).
    calibration_file: Path | None = None
    credentials: CredentialsConfig = field(default_factory=CredentialsConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)


def _path_of(error: vol.Invalid) -> str:
    return ".".join(str(p) for p in error.path) or "(top level)"


def _explain(error: vol.MultipleInvalid) -> str:
    lines = []
    for item in error.errors:
        message = item.msg
        if message == "extra keys not allowed":
            message = "is not a known setting"
        elif message == "required key not provided":
            message = "is required"
        lines.append(f"{_path_of(item)}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(sorted(set(lines)))


def parse(raw: Any, *, base: Path | None = None) -> Config:
    """Validate a configuration mapping; relative paths are taken from `base`."""
    # The schema reads this module's defaults: imported here, where both are complete.
    from facegate.config_schema import SCHEMA
    from facegate.models import default_models_dir

    if not isinstance(raw, dict):
        raise ConfigError("invalid configuration: the file must hold a mapping of settings")
    try:
        data = SCHEMA(raw)
    except vol.MultipleInvalid as error:
        raise ConfigError(_explain(error)) from None
    root = base or Path.cwd()
    cameras = {
        name: CameraConfig(name=name, source=cam["source"], detector=cam["detector"])
        for name, cam in data["cameras"].items()
    }
    doors = {}
    for door_id, door in data["doors"].items():
        camera = door.get("camera")
        if "face" in door["methods"] and camera is None:
            raise ConfigError(
                f"invalid configuration:\n  doors.{door_id}.camera: "
                "is required when the face method is enabled"
            )
        if camera is not None and camera not in cameras:
            raise ConfigError(
                f"invalid configuration:\n  doors.{door_id}.camera: "
                f"no camera named {camera!r} under cameras"
            )
        doors[door_id] = DoorConfig(
            id=door_id,
            name=door.get("name", door_id.replace("_", " ").capitalize()),
            camera=camera,
            methods=frozenset(door["methods"]),
            lock=LockConfig(**door["lock"]),
            credential_inputs=tuple(CredentialInputConfig(**i) for i in door["credential_inputs"]),
            strictness=door["strictness"],
            liveness=door["liveness"],
        )
    _check_credential_inputs(doors)
    decision = DecisionConfig(**data["decision"])
    if decision.votes_required > decision.votes_window:
        raise ConfigError(
            "invalid configuration:\n  decision.votes_required: cannot exceed decision.votes_window"
        )
    if decision.votes_required < 2 and any(d.checks_liveness for d in doors.values()):
        # One frame cannot show whether the face moves like a living face or like a picture.
        raise ConfigError(
            "invalid configuration:\n  decision.votes_required: liveness needs at least 2 frames "
            "per decision (a face is told from a photo by how it moves between them)"
        )
    data_dir = (root / data["data_dir"]).resolve()
    custom_model, calibration_file = _custom_model(data, root, data_dir)
    mqtt = data["mqtt"]
    return Config(
        data_dir=data_dir,
        models_dir=(root / data["models_dir"]).resolve()
        if "models_dir" in data
        else default_models_dir(),
        embedder=data["embedder"],
        mqtt=MqttConfig(
            host=mqtt["host"],
            port=mqtt["port"],
            prefix=mqtt["prefix"],
            username=mqtt.get("username"),
            password=mqtt.get("password"),
            tls_ca=(root / mqtt["tls_ca"]).resolve() if "tls_ca" in mqtt else None,
        ),
        cameras=cameras,
        doors=doors,
        quality=QualityConfig(**data["quality"]),
        decision=decision,
        custom_model=custom_model,
        calibration_file=calibration_file,
        credentials=CredentialsConfig(**data["credentials"]),
        api=ApiConfig(**data["api"]),
        audit=AuditConfig(**data["audit"]),
    )


def _custom_model(
    data: dict[str, Any], root: Path, data_dir: Path
) -> tuple[CustomModel | None, Path | None]:
    raw = data.get("custom_model")
    if data["embedder"] != "custom":
        if raw is not None:
            raise ConfigError(
                "invalid configuration:\n  custom_model: is only used with embedder: custom"
            )
        return None, None
    if raw is None:
        raise ConfigError(
            "invalid configuration:\n  custom_model: is required with embedder: custom "
            "(path, sha256, licence_acknowledged: true; see README, Bring your own model)"
        )
    model = CustomModel(
        path=(root / raw["path"]).resolve(),
        sha256=raw["sha256"],
        input_size=raw["input_size"],
        colour_order=raw["colour_order"],
        mean=raw["mean"],
        std=raw["std"],
        licence=raw["licence"],
    )
    default = data_dir / f"calibration-{model.sha256[:12]}.json"
    calibration = (root / raw["calibration"]).resolve() if "calibration" in raw else default
    return model, calibration


def _check_credential_inputs(doors: dict[str, DoorConfig]) -> None:
    """A reader feeds one door with one enabled method, on a topic of its own."""
    lock_topics = {d.lock.command_topic for d in doors.values()}
    seen: dict[str, str] = {}
    for door in doors.values():
        for index, item in enumerate(door.credential_inputs):
            key = f"doors.{door.id}.credential_inputs.{index}"
            if item.kind not in door.methods:
                raise ConfigError(
                    f"invalid configuration:\n  {key}.kind: {item.kind!r} is not enabled at "
                    f"this door (its methods are {', '.join(sorted(door.methods))})"
                )
            if item.topic in lock_topics:
                raise ConfigError(
                    f"invalid configuration:\n  {key}.topic: {item.topic!r} is a lock command topic"
                )
            if item.topic in seen:
                raise ConfigError(
                    f"invalid configuration:\n  {key}.topic: {item.topic!r} is already used by "
                    f"{seen[item.topic]}"
                )
            seen[item.topic] = key


def load(path: Path) -> Config:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"configuration file {path} is not valid YAML: {error}") from None
    config = parse(raw, base=path.resolve().parent)
    if config.mqtt.password is not None and path.stat().st_mode & 0o077:
        # The broker's password opens the locks' topics: it is the building's key.
        raise ConfigError(
            f"configuration file {path} holds the MQTT password but others can read it: "
            f"run `chmod 600 {path}`"
        )
    return config
