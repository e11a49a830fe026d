"""Constants for the facegate integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "facegate"
LOGGER = logging.getLogger(__package__)

DEFAULT_PORT: Final = 8765

CONF_EVENT_KEY: Final = "event_key"
CONF_INSTALLATION_ID: Final = "installation_id"

# Options: per door, the Home Assistant lock entity to unlock, and the tag ids and tag-reading
# devices whose `tag_scanned` events are presented to that door.
CONF_LOCKS: Final = "locks"
CONF_LOCK: Final = "lock"  # one door's, in the options flow and the missing lock's fix
CONF_TAGS: Final = "tags"
CONF_TAG_DEVICES: Final = "tag_devices"

# The engine's words (its vocabulary.py), copied because the integration ships without the
# engine; tests/engine/test_vocabulary.py keeps the copy equal.
METHODS: Final = ("face", "pin", "card", "tag", "phone")
CREDENTIAL_KINDS: Final = ("pin", "card", "tag", "phone")
RESULTS: Final = ("granted", "denied")

# R12: a decision older than this, or seen before, never unlocks a door.
MAX_DECISION_AGE_S: Final = 5.0
SEEN_DECISIONS: Final = 1024

RECONNECT_MIN_S: Final = 1.0
RECONNECT_MAX_S: Final = 60.0
REQUEST_TIMEOUT_S: Final = 10.0
# The engine's health (audit chain, broker, cameras, tampering, liveness) is read again this
# often, and at once after the event stream comes back; its problems become repair issues.
HEALTH_POLL_S: Final = 60.0

# A person's exported data stays this long under <config>/facegate_exports, then is deleted.
EXPORT_KEEP_S: Final = 86400.0
EXPORT_SWEEP_S: Final = 3600.0

# Each verified decision, on the bus for the logbook (logbook.py): ids only, never a name.
EVENT_ACCESS: Final = "facegate_access"

# The engine's `key`s for refusals under a rule that have a translation here (translations/):
# R4, a door never left with the face as its only method; a door never left with no method.
ENGINE_RULE_KEYS: Final = frozenset({"r4_face_only", "no_method_left"})
# The engine's finer refusals (its errors' `key`s) that have a translation here, as
# `refusal_<code>`: what the person entered or showed, said in the user's language.
ENGINE_REFUSALS: Final = frozenset(
    {
        "pin_length", "pin_weak", "in_use", "too_many_changes", "no_face", "not_live",
        "too_small_for_liveness", "quality_blurry", "quality_turned_away", "quality_too_small",
        "spread", "not_an_image", "image_too_large",
    }
)  # fmt: skip
