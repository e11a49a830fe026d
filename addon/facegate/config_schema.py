"""The schema a configuration file is checked against (voluptuous); defaults from config.py."""

from __future__ import annotations

import voluptuous as vol

from facegate.access.liveness import DEFAULT_LIVENESS, LIVENESS_MODES
from facegate.access.policy import DEFAULT_STRICTNESS, STRICTNESS
from facegate.access.vote import AGGREGATES
from facegate.config import (
    DEFAULT_AGGREGATE,
    DEFAULT_API_HOST,
    DEFAULT_API_PORT,
    DEFAULT_AUDIT_RETENTION_DAYS,
    DEFAULT_COOLDOWN_S,
    DEFAULT_EMBEDDER,
    DEFAULT_FAILURE_WINDOW_S,
    DEFAULT_LOCKOUT_S,
    DEFAULT_MAX_DECISION_AGE_S,
    DEFAULT_MAX_FAILURES,
    DEFAULT_MAX_PITCH,
    DEFAULT_MAX_YAW,
    DEFAULT_MIN_EYE_DISTANCE_PX,
    DEFAULT_MIN_SHARPNESS,
    DEFAULT_VOTES_REQUIRED,
    DEFAULT_VOTES_WINDOW,
    DEFAULT_WINDOW_S,
)
from facegate.rules import R4, face_alone, r4_methods_hint
from facegate.vocabulary import CREDENTIAL_KINDS, EMBEDDER_NAMES, METHODS

DOOR_ID = vol.Match(r"^[a-z0-9_]{1,40}$", msg="must be 1-40 lowercase letters, digits or _")


def _r4_not_face_only(methods: list[str]) -> list[str]:
    if face_alone(methods):
        raise vol.Invalid(f"{R4}; {r4_methods_hint()}")
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
            CREDENTIAL_KINDS, msg=f"must be one of {', '.join(CREDENTIAL_KINDS)}"
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
        vol.Optional("strictness", default=DEFAULT_STRICTNESS): vol.In(
            STRICTNESS, msg=f"must be one of {', '.join(STRICTNESS)}"
        ),
        vol.Optional("liveness", default=DEFAULT_LIVENESS): vol.In(
            LIVENESS_MODES, msg=f"must be one of {', '.join(LIVENESS_MODES)}"
        ),
    }
)


def _positive(values: tuple[float, ...]) -> tuple[float, ...]:
    if not all(v > 0 for v in values):
        raise vol.Invalid("must be greater than 0 (pixels are divided by it)")
    return values


_CHANNELS = vol.Any(
    vol.All(vol.Coerce(float), lambda v: (v, v, v)),
    vol.All([vol.Coerce(float)], vol.Length(min=3, max=3), tuple),
    msg="must be a number or a list of three (one per colour channel)",
)
_CUSTOM_MODEL = vol.Schema(
    {
        vol.Required("path"): vol.All(str, vol.Length(min=1)),
        vol.Required("sha256"): vol.All(
            str, vol.Lower, vol.Match(r"^[0-9a-f]{64}$", msg="must be 64 hexadecimal digits")
        ),
        vol.Optional("input_size", default=112): vol.All(int, vol.Range(min=32, max=512)),
        vol.Optional("colour_order", default="rgb"): vol.In(("rgb", "bgr")),
        vol.Optional("mean", default=127.5): _CHANNELS,
        vol.Optional("std", default=127.5): vol.All(_CHANNELS, _positive),
        vol.Required("licence_acknowledged"): vol.All(
            bool,
            vol.IsTrue(msg="must be true: confirm that this model's licence allows your use of it"),
        ),
        vol.Optional("licence", default=""): vol.All(str, vol.Length(max=200)),
        vol.Optional("calibration"): vol.All(str, vol.Length(min=1)),
    }
)

SCHEMA = vol.Schema(
    {
        vol.Required("data_dir"): str,
        vol.Optional("models_dir"): str,
        vol.Optional("embedder", default=DEFAULT_EMBEDDER): vol.In(EMBEDDER_NAMES),
        vol.Optional("custom_model"): _CUSTOM_MODEL,
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
            vol.Optional("min_eye_distance_px", default=DEFAULT_MIN_EYE_DISTANCE_PX): vol.All(
                vol.Coerce(float), vol.Range(min=8)
            ),
            vol.Optional("min_sharpness", default=DEFAULT_MIN_SHARPNESS): vol.All(
                vol.Coerce(float), vol.Range(min=0)
            ),
            vol.Optional("max_yaw", default=DEFAULT_MAX_YAW): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=1)
            ),
            vol.Optional("max_pitch", default=DEFAULT_MAX_PITCH): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=1)
            ),
        },
        vol.Optional("decision", default={}): {
            # A fixed threshold replaces the open-set policy's (health says so). Below 0.3 every
            # embedder here accepts about one impostor pair in 50 or more.
            vol.Optional("threshold"): vol.All(vol.Coerce(float), vol.Range(min=0.3, max=0.99)),
            vol.Optional("aggregate", default=DEFAULT_AGGREGATE): vol.In(
                AGGREGATES, msg=f"must be one of {', '.join(AGGREGATES)}"
            ),
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
