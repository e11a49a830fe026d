"""One typed configuration, declared once as pydantic models, loaded and validated once,
then handed to each part.

The models are the file's schema and the engine's settings at once: their defaults are the
defaults, their types the checks. Errors name the key path and what is wrong; a door that
could only be opened by a face is refused under rule R4 (the face must never be the only way
in). What spans sections (a door's camera, a reader's topic) is checked by config_checks.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import AfterValidator, Field, ValidationError, model_validator

from facegate.access.liveness import DEFAULT_LIVENESS, LivenessMode
from facegate.access.policy import DEFAULT_STRICTNESS, Strictness
from facegate.access.vote import Aggregate
from facegate.config_fields import (
    Channels,
    DoorId,
    Port,
    PositiveChannels,
    ResolvedPath,
    Settings,
    Text,
    keyed,
    matching,
)
from facegate.errors import ConfigError, FacegateError
from facegate.identity.invitation_records import DEFAULT_INVITATION_HOURS, DEFAULT_SESSION_DAYS
from facegate.identity.validity import time_zone
from facegate.models import default_models_dir
from facegate.rules import R4, face_alone, r4_methods_hint
from facegate.validation import problems, says, where
from facegate.vision.custom import ColourOrder, CustomModel
from facegate.vision.detect import DetectorRange
from facegate.vocabulary import CredentialKind, EmbedderName, Method

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
# Home Assistant's Supervisor proxies ingress from this address (its hassio network).
SUPERVISOR_INGRESS_PROXY = "172.30.32.2"
DEFAULT_RESIDENTS_PORT = 8766


class MqttConfig(Settings):
    host: Text
    port: Port = 1883
    prefix: Annotated[str, matching(r"[^#+/][^#+]*", "must not contain # or + or start with /")] = (
        "facegate"
    )
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    tls_ca: ResolvedPath | None = None


class CameraConfig(Settings):
    name: str  # the key it is listed under
    source: Text
    detector: DetectorRange = "full"


# One MQTT topic to publish on or read from: wildcards would publish nowhere, or read everyone.
Topic = Annotated[
    str,
    Field(min_length=1, max_length=256),
    matching(r"[^#+\x00]+", "must be one topic, without the wildcards + or #"),
]


class LockConfig(Settings):
    command_topic: Topic | None = None
    payload_unlock: str = "UNLOCK"
    # A Home Assistant lock, driven by the integration.
    entity_id: Annotated[str, matching(r"lock\.[a-z0-9_]+", "must be a lock entity")] | None = None

    @model_validator(mode="after")
    def _drivable(self) -> Self:
        if self.command_topic is None and self.entity_id is None:
            raise ValueError(
                "needs command_topic (an MQTT lock) or entity_id (a Home Assistant lock)"
            )
        return self


class CredentialInputConfig(Settings):
    """A keypad or card reader publishing codes on an MQTT topic (raw, or JSON under json_key)."""

    topic: Topic
    kind: CredentialKind
    json_key: Annotated[str, Field(min_length=1, max_length=64)] | None = None


def _not_face_alone(methods: frozenset[Method]) -> frozenset[Method]:
    if face_alone(methods):
        raise ValueError(f"{R4}; {r4_methods_hint()}")
    return methods


class DoorConfig(Settings):
    id: str  # the key it is listed under
    name: Annotated[str, Field(min_length=1, max_length=80)]
    camera: str | None = None
    # A list in the file; lax so that the list is taken (and a wrong entry named by its index).
    methods: Annotated[
        frozenset[Method], Field(strict=False, min_length=1), AfterValidator(_not_face_alone)
    ]
    lock: LockConfig
    credential_inputs: tuple[CredentialInputConfig, ...] = Field(default=(), strict=False)
    strictness: Strictness = DEFAULT_STRICTNESS
    # A face decision needs the window's frames to be judged alive (R12); "off" accepts a
    # photo held up to the camera, and the engine says so at every start.
    liveness: LivenessMode = DEFAULT_LIVENESS
    # A phone key opens this door only from the local network (a private or loopback address)
    # unless this is on: a stolen unlocked phone far away should not open the front door.
    phone_anywhere: bool = False

    @property
    def checks_liveness(self) -> bool:
        return "face" in self.methods and self.liveness == "required"


class QualityConfig(Settings):
    min_eye_distance_px: Annotated[float, Field(ge=8)] = DEFAULT_MIN_EYE_DISTANCE_PX
    min_sharpness: Annotated[float, Field(ge=0)] = DEFAULT_MIN_SHARPNESS
    max_yaw: Annotated[float, Field(ge=0, le=1)] = DEFAULT_MAX_YAW
    max_pitch: Annotated[float, Field(ge=0, le=1)] = DEFAULT_MAX_PITCH


class DecisionConfig(Settings):
    # An administrator's fixed threshold instead of the policy's (health says so). Below 0.3
    # every embedder here accepts about one impostor pair in 50 or more.
    threshold: Annotated[float, Field(ge=0.3, le=0.99)] | None = None
    aggregate: Aggregate = DEFAULT_AGGREGATE
    votes_required: Annotated[int, Field(ge=1, le=30)] = DEFAULT_VOTES_REQUIRED
    votes_window: Annotated[int, Field(ge=1, le=60)] = DEFAULT_VOTES_WINDOW
    window_s: Annotated[float, Field(ge=0.1, le=10)] = DEFAULT_WINDOW_S
    max_decision_age_s: Annotated[float, Field(ge=0.1, le=10)] = DEFAULT_MAX_DECISION_AGE_S
    cooldown_s: Annotated[float, Field(ge=0, le=600)] = DEFAULT_COOLDOWN_S


class CredentialsConfig(Settings):
    max_failures: Annotated[int, Field(ge=1, le=100)] = DEFAULT_MAX_FAILURES
    window_s: Annotated[float, Field(ge=1, le=86400)] = DEFAULT_FAILURE_WINDOW_S
    lockout_s: Annotated[float, Field(ge=1, le=86400)] = DEFAULT_LOCKOUT_S


class ApiConfig(Settings):
    """Where the HTTP API listens (token auth; loopback unless the operator says otherwise)."""

    host: Text = DEFAULT_API_HOST
    port: Port = DEFAULT_API_PORT
    # The administrator pages (web/admin/) take Home Assistant's ingress headers as the
    # administrator's login only from this address; from any other they ask for the API token.
    ingress_proxy: Text = SUPERVISOR_INGRESS_PROXY


class ResidentsConfig(Settings):
    """The residents' own pages (web/resident/): a listener of their own, apart from the
    administrator API. Loopback unless the operator opens it to the local network."""

    host: Text = DEFAULT_API_HOST
    port: Port = DEFAULT_RESIDENTS_PORT
    # How phones reach the pages (invitation links and QR codes), e.g.
    # https://door.home.arpa:8766; unset: http://<host>:<port>.
    base_url: (
        Annotated[str, matching(r"https?://[^/?#\s]+", "must be http(s)://host[:port]")] | None
    ) = None
    invitation_hours: Annotated[float, Field(gt=0, le=720)] = DEFAULT_INVITATION_HOURS
    session_days: Annotated[float, Field(gt=0, le=365)] = DEFAULT_SESSION_DAYS
    # HTTPS with this certificate and key (e.g. the one Home Assistant uses): phone keys need
    # a secure context and a host name (WebAuthn refuses IP addresses).
    tls_cert: ResolvedPath | None = None
    tls_key: ResolvedPath | None = None

    @model_validator(mode="after")
    def _certificate_and_key(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both, or neither")
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls_cert is not None else "http"
        return self.base_url or f"{scheme}://{host}:{self.port}"


class VisionConfig(Settings):
    """The vision stage every camera shares (vision_stage.py)."""

    # 0: one worker per core, at most four.
    workers: Annotated[int, Field(ge=0, le=16)] = 0
    # Frames of a still, empty doorway are not analysed (a still scene is re-checked every
    # second; a face in view keeps every frame): motion_gate.py.
    motion_gate: bool = True


class AuditConfig(Settings):
    # Access decisions older than this leave the log; a signed checkpoint keeps the rest
    # verifiable (R11). Two years covers a dispute about any door event a resident remembers.
    retention_days: Annotated[int, Field(ge=30, le=3650)] = DEFAULT_AUDIT_RETENTION_DAYS


def _acknowledged(value: bool) -> bool:
    if not value:
        raise ValueError("must be true: confirm that this model's licence allows your use of it")
    return value


class CustomModelConfig(Settings):
    """An embedder the administrator brings (README, "Bring your own model")."""

    path: ResolvedPath
    sha256: Annotated[
        str,
        AfterValidator(str.lower),
        matching(r"[0-9a-f]{64}", "must be 64 hexadecimal digits"),
    ]
    input_size: Annotated[int, Field(ge=32, le=512)] = 112
    colour_order: ColourOrder = "rgb"
    mean: Channels = (127.5, 127.5, 127.5)
    std: PositiveChannels = (127.5, 127.5, 127.5)
    licence_acknowledged: Annotated[bool, AfterValidator(_acknowledged)]
    licence: Annotated[str, Field(max_length=200)] = ""
    # Where its calibration is read from (`facegate calibrate` writes it); by default the data
    # directory, named after the model's hash.
    calibration: ResolvedPath | None = None

    @property
    def model(self) -> CustomModel:
        # What the embedder needs; the acknowledgement and the calibration's place are ours.
        return CustomModel(**self.model_dump(exclude={"licence_acknowledged", "calibration"}))


def _time_zone(name: str) -> str:
    try:
        time_zone(name)
    except FacegateError as error:
        raise ValueError(str(error)) from None
    return name


def _door_name(key: str) -> str:
    return key.replace("_", " ").capitalize()


class Config(Settings):
    data_dir: ResolvedPath
    models_dir: ResolvedPath = Field(default_factory=default_models_dir)
    embedder: EmbedderName = DEFAULT_EMBEDDER
    custom_model: CustomModelConfig | None = None
    mqtt: MqttConfig
    cameras: Annotated[dict[DoorId, CameraConfig], keyed("name")] = Field(default_factory=dict)
    doors: Annotated[dict[DoorId, DoorConfig], keyed("id", _door_name), Field(min_length=1)]
    quality: QualityConfig = Field(default_factory=QualityConfig)
    decision: DecisionConfig = Field(default_factory=DecisionConfig)
    credentials: CredentialsConfig = Field(default_factory=CredentialsConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    residents: ResidentsConfig = Field(default_factory=ResidentsConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    vision: VisionConfig = Field(default_factory=VisionConfig)
    # Schedules are read on this zone's wall clock (an IANA name); unset: the machine's own.
    timezone: Annotated[str, AfterValidator(_time_zone)] | None = None

    @property
    def zone(self) -> dt.tzinfo | None:
        """The time zone schedules are read in (None: the machine's local time)."""
        return time_zone(self.timezone)

    @property
    def custom_embedder(self) -> CustomModel | None:
        """The custom model the embedder loads, when `embedder: custom`."""
        return self.custom_model.model if self.custom_model is not None else None

    @property
    def calibration_file(self) -> Path | None:
        """Where the custom model's calibration is read from (`facegate calibrate` writes it)."""
        if self.custom_model is None:
            return None
        default = self.data_dir / f"calibration-{self.custom_model.sha256[:12]}.json"
        return self.custom_model.calibration or default


def explain_config(error: ValidationError) -> str:
    lines = {f"{where(p) or '(top level)'}: {says(p)}" for p in problems(error)}
    return "invalid configuration:\n  " + "\n  ".join(sorted(lines))


def parse(raw: Any, *, base: Path | None = None) -> Config:
    """Validate a configuration mapping; relative paths are taken from `base`."""
    # Checks that span sections; imported here, where the models it reads are complete.
    from facegate.config_checks import check_across

    if not isinstance(raw, dict):
        raise ConfigError("invalid configuration: the file must hold a mapping of settings")
    try:
        config = Config.model_validate(raw, context={"base": base or Path.cwd()})
    except ValidationError as error:
        raise ConfigError(explain_config(error)) from None
    check_across(config)
    return config


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
