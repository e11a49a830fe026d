"""One typed configuration, loaded and validated once, then handed to each part.

Errors name the key path and what is wrong; a door that could only be opened by a face is
refused under rule R4 (the face must never be the only way in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from facegate.errors import ConfigError
from facegate.vision.detect import DetectorRange
from facegate.vision.embed import EMBEDDER_NAMES, EmbedderName

METHODS = ("face", "pin", "card", "tag", "phone")
# Chosen from benchmarks/accuracy.py; README.md ("Choosing the embedder") gives the figures.
DEFAULT_EMBEDDER: EmbedderName = "fused"
NON_BIOMETRIC = frozenset(METHODS) - {"face"}
DOOR_ID = vol.Match(r"^[a-z0-9_]{1,40}$", msg="must be 1-40 lowercase letters, digits or _")

# Decision defaults. Each embedder's threshold is its cosine at FAR 1e-4 on the 5,123 impostor
# pairs of verify_dev (benchmarks/accuracy.py), rounded up: no impostor pair there scores above
# it. That is stricter than the FAR 1e-3 point on purpose, because LFW overstates accuracy on
# East-Asian faces. Templates are per embedder, so changing embedder means enrolling again.
THRESHOLDS: dict[EmbedderName, float] = {
    "mobilefacenet": 0.51,  # highest impostor 0.506; TAR 0.956 at this point
    "sface": 0.47,  # highest impostor 0.464; TAR 0.957
    "fused": 0.45,  # highest impostor 0.441; TAR 0.981
    "dlib": 0.94,  # highest impostor 0.938; TAR 0.826
}
# The k-of-n vote then needs 3 of the last 5 frames, within 1.5 s, to name the same person: at
# 10 fps a resident standing still is recognised ~200 ms after the first good frame, while a
# single lucky impostor frame cannot open the door.
DEFAULT_VOTES_REQUIRED = 3
DEFAULT_VOTES_WINDOW = 5
DEFAULT_WINDOW_S = 1.5
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
CREDENTIAL_METHODS = ("pin", "card", "tag", "phone")
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


@dataclass(frozen=True, kw_only=True)
class QualityConfig:
    min_eye_distance_px: float = 20.0
    min_sharpness: float = 30.0
    max_yaw: float = 0.35
    max_pitch: float = 0.35


@dataclass(frozen=True, kw_only=True)
class DecisionConfig:
    threshold: float
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
    credentials: CredentialsConfig = field(default_factory=CredentialsConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)


def _r4_not_face_only(methods: list[str]) -> list[str]:
    if not set(methods) & NON_BIOMETRIC:
        raise vol.Invalid(
            "R4: the face must never be the only way in; enable at least one of "
            f"{', '.join(sorted(NON_BIOMETRIC))} for this door"
        )
    return methods


_LOCK = vol.All(
    {
        vol.Optional("command_topic"): vol.All(str, vol.Length(min=1)),
        vol.Optional("payload_unlock", default="UNLOCK"): str,
        vol.Optional("entity_id"): vol.Match(r"^lock\.[a-z0-9_]+$", msg="must be a lock entity"),
    },
    vol.Msg(
        vol.Any(
            vol.Schema({vol.Required("command_topic"): object}, extra=vol.ALLOW_EXTRA),
            vol.Schema({vol.Required("entity_id"): object}, extra=vol.ALLOW_EXTRA),
        ),
        "needs command_topic (an MQTT lock) or entity_id (a Home Assistant lock)",
    ),
)

_CREDENTIAL_INPUT = vol.Schema(
    {
        vol.Required("topic"): vol.All(
            str,
            vol.Length(min=1, max=256),
            vol.Match(r"^[^#+\x00]+$", msg="must be one topic, without the wildcards + or #"),
        ),
        vol.Required("kind"): vol.In(
            CREDENTIAL_METHODS, msg=f"must be one of {', '.join(CREDENTIAL_METHODS)}"
        ),
        vol.Optional("json_key"): vol.All(str, vol.Length(min=1, max=64)),
    }
)

_DOOR = vol.Schema(
    {
        vol.Optional("name"): vol.All(str, vol.Length(min=1, max=80)),
        vol.Optional("camera"): str,
        vol.Required("methods"): vol.All(
            [vol.In(METHODS, msg=f"must be one of {', '.join(METHODS)}")],
            vol.Length(min=1),
            _r4_not_face_only,
        ),
        vol.Required("lock"): _LOCK,
        vol.Optional("credential_inputs", default=[]): [_CREDENTIAL_INPUT],
    }
)

SCHEMA = vol.Schema(
    {
        vol.Required("data_dir"): str,
        vol.Optional("models_dir"): str,
        vol.Optional("embedder", default=DEFAULT_EMBEDDER): vol.In(EMBEDDER_NAMES),
        vol.Required("mqtt"): {
            vol.Required("host"): vol.All(str, vol.Length(min=1)),
            vol.Optional("port", default=1883): vol.All(int, vol.Range(min=1, max=65535)),
            vol.Optional("prefix", default="facegate"): vol.Match(
                r"^[^#+/][^#+]*$", msg="must not contain # or + or start with /"
            ),
            vol.Optional("username"): str,
            vol.Optional("password"): str,
            vol.Optional("tls_ca"): str,
        },
        vol.Optional("cameras", default={}): {
            DOOR_ID: {
                vol.Required("source"): vol.All(str, vol.Length(min=1)),
                vol.Optional("detector", default="full"): vol.In(("short", "full")),
            }
        },
        vol.Required("doors"): vol.All({DOOR_ID: _DOOR}, vol.Length(min=1)),
        vol.Optional("quality", default={}): {
            vol.Optional("min_eye_distance_px", default=20.0): vol.All(
                vol.Coerce(float), vol.Range(min=8)
            ),
            vol.Optional("min_sharpness", default=30.0): vol.All(
                vol.Coerce(float), vol.Range(min=0)
            ),
            vol.Optional("max_yaw", default=0.35): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=1)
            ),
            vol.Optional("max_pitch", default=0.35): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=1)
            ),
        },
        vol.Optional("decision", default={}): {
            # Below 0.3 every embedder here accepts about one impostor pair in 50 or more.
            vol.Optional("threshold"): vol.All(vol.Coerce(float), vol.Range(min=0.3, max=0.99)),
            vol.Optional("votes_required", default=DEFAULT_VOTES_REQUIRED): vol.All(
                int, vol.Range(min=1, max=30)
            ),
            vol.Optional("votes_window", default=DEFAULT_VOTES_WINDOW): vol.All(
                int, vol.Range(min=1, max=60)
            ),
            vol.Optional("window_s", default=DEFAULT_WINDOW_S): vol.All(
                vol.Coerce(float), vol.Range(min=0.1, max=10)
            ),
            vol.Optional("max_decision_age_s", default=DEFAULT_MAX_DECISION_AGE_S): vol.All(
                vol.Coerce(float), vol.Range(min=0.1, max=10)
            ),
            vol.Optional("cooldown_s", default=DEFAULT_COOLDOWN_S): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=600)
            ),
        },
        vol.Optional("credentials", default={}): {
            vol.Optional("max_failures", default=DEFAULT_MAX_FAILURES): vol.All(
                int, vol.Range(min=1, max=100)
            ),
            vol.Optional("window_s", default=DEFAULT_FAILURE_WINDOW_S): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=86400)
            ),
            vol.Optional("lockout_s", default=DEFAULT_LOCKOUT_S): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=86400)
            ),
        },
        vol.Optional("audit", default={}): {
            vol.Optional("retention_days", default=DEFAULT_AUDIT_RETENTION_DAYS): vol.All(
                int, vol.Range(min=30, max=3650)
            ),
        },
        vol.Optional("api", default={}): {
            vol.Optional("host", default=DEFAULT_API_HOST): vol.All(str, vol.Length(min=1)),
            vol.Optional("port", default=DEFAULT_API_PORT): vol.All(
                int, vol.Range(min=1, max=65535)
            ),
        },
    }
)


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
        )
    _check_credential_inputs(doors)
    decision = DecisionConfig(
        **{"threshold": THRESHOLDS[data["embedder"]], **data["decision"]},
    )
    if decision.votes_required > decision.votes_window:
        raise ConfigError(
            "invalid configuration:\n  decision.votes_required: cannot exceed decision.votes_window"
        )
    mqtt = data["mqtt"]
    return Config(
        data_dir=(root / data["data_dir"]).resolve(),
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
        credentials=CredentialsConfig(**data["credentials"]),
        api=ApiConfig(**data["api"]),
        audit=AuditConfig(**data["audit"]),
    )


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
    return parse(raw, base=path.resolve().parent)
