"""The engine: starts the parts in a fixed order and stops them in reverse.

Models are verified before anything else starts, so a missing or altered model stops the
engine with a message saying how to fetch it, instead of a door that silently never opens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial

from facegate import allocator
from facegate.access import calibrations
from facegate.access.actuator import DecisionListener, DoorActuator, DoorLink
from facegate.access.admission import Admission
from facegate.access.change_gate import CredentialChangeGate
from facegate.access.credential_gate import CredentialGate
from facegate.access.gallery import Gallery
from facegate.access.policy import DecisionPolicy
from facegate.capture import CameraHealth, CameraReader
from facegate.config import Config
from facegate.credential_input import CredentialInputs, Subscribable
from facegate.door import DoorWorker, FrameReport, warn_liveness_off
from facegate.errors import FacegateError, RuleError, TamperError, UnknownDoorError
from facegate.galleries import Galleries, describe_policy
from facegate.identity.credentials import CredentialKind
from facegate.identity.keys import load_or_create_key
from facegate.identity.records import Credential
from facegate.identity.store import IdentityStore
from facegate.identity.validity import Validity
from facegate.model_needs import required_models
from facegate.models import verify_all
from facegate.notice import build_notice, publish_notice
from facegate.vision.analyzer import FaceAnalyzer
from facegate.vision.custom import verified_path
from facegate.vision.detect import DetectorRange
from facegate.vision.model_set import ModelSet
from facegate.vision.quality import QualityLimits
from facegate.vision_stage import VisionStage, auto_workers, camera_lanes

_LOGGER = logging.getLogger("facegate.engine")
EVENT_KEY_NAME = "event.key"
# Expiry and move-out are enforced this often (decisions also re-check expiry), and templates
# are re-read, even without an API call.
GALLERY_REFRESH_S = 60.0
CHANGE_POLL_S = 1.0


class Engine:
    def __init__(
        self,
        config: Config,
        link: DoorLink,
        *,
        stop_at_end: bool = False,
        listeners: list[DecisionListener] | None = None,
        on_frame: Callable[[FrameReport], None] | None = None,
        config_path: str = "FILE",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` is the wall clock access decisions are read against (validity, schedules)."""
        self.config = config
        self.link = link
        self._stop_at_end = stop_at_end
        self._door_watchers: list[Callable[[str], None]] = []
        self._attacked: dict[str, list[str]] = {}  # doors under a guessing attack, last seen
        # Every decision reaches the audit log first, then whoever else listens.
        self._listeners: list[DecisionListener] = [self._audit_decision, *(listeners or [])]
        self._on_frame = on_frame
        allocator.tune()  # before the cameras' threads start: frames are freed straight back
        verify_all(config.models_dir, required_models(config))
        if config.custom_model is not None:
            verified_path(config.custom_model.model)
        # An uncalibrated custom model stops here, saying how to calibrate it: its scores mean
        # nothing to the open-set policy until they have been measured.
        self.calibration = calibrations.configured(config, config_path)
        self.policies = {
            door.id: DecisionPolicy(
                calibration=self.calibration,
                strictness=door.strictness,
                fixed_threshold=config.decision.threshold,
            )
            for door in config.doors.values()
            if "face" in door.methods
        }
        self.store = IdentityStore(config.data_dir)
        self.credential_changes = CredentialChangeGate(config.credentials, self.store)
        # The password is not part of the repr, so it never reaches the digest or the log.
        self.store.note_configuration(hashlib.sha256(repr(config).encode()).hexdigest()[:16])
        self.notice = build_notice(config, self.store.groups())
        marked = publish_notice(self.store, self.notice)
        if marked:
            _LOGGER.warning("notice scope changed: %d consent(s) must be renewed", marked)
        self.event_key = load_or_create_key(config.data_dir / EVENT_KEY_NAME)
        face_doors = [d.id for d in config.doors.values() if "face" in d.methods]
        self.galleries = Galleries(self.store, config.embedder, face_doors)
        self.admission = Admission(self.store, config.zone, clock)
        self.limits = QualityLimits(**config.quality.model_dump())
        self.models = ModelSet(
            config.models_dir, config.embedder, self.limits, config.custom_embedder
        )
        self.vision: VisionStage | None = None
        self.readers: dict[str, CameraReader] = {}
        self.doors: dict[str, DoorWorker] = {}
        self.actuators: dict[str, DoorActuator] = {}
        self.credential_gate: CredentialGate | None = None
        self.credential_inputs: CredentialInputs | None = None
        self._stopped = threading.Event()
        self._last_purge = float("-inf")
        self._refresher: threading.Thread | None = None

    def analyzer(
        self, detector_range: DetectorRange = "short", *, liveness: bool | None = None
    ) -> FaceAnalyzer:
        """An analyzer over the engine's one set of models (thread-safe: each model takes one
        call at a time). Liveness is checked, by default, when any door needs it: an
        enrolment from a photo of a photo must not pass where the door would not (R12)."""
        checks = self.checks_liveness if liveness is None else liveness
        return self.models.analyzer(detector_range, liveness=checks)

    @property
    def checks_liveness(self) -> bool:
        return any(door.checks_liveness for door in self.config.doors.values())

    @property
    def max_spread(self) -> float:
        """How far an enrolment image may lie from the person's others (enrol.spread)."""
        return self.calibration.max_spread

    def decision_policy(self) -> dict[str, object]:
        """The open-set policy as it stands, with its inputs and numbers (health, diagnostics)."""
        return describe_policy(self.config, self.calibration, self.policies, self.galleries)

    def gallery(self) -> Gallery:
        """Every enrolled person's templates (each face door matches its own share)."""
        return self.galleries.everyone()

    @property
    def refused_templates(self) -> int:
        return self.galleries.refused

    def add_listener(self, listener: DecisionListener) -> None:
        self._listeners.append(listener)

    def watch_doors(self, watcher: Callable[[str], None]) -> None:
        """`watcher(door_id)` runs (on an engine thread) when a door's state changes without
        an API call: a method locked out, a guessing attack seen or over."""
        self._door_watchers.append(watcher)

    def _door_changed(self, door_id: str) -> None:
        if self.credential_gate is not None:  # what housekeeping compares with, later
            self._attacked = self.credential_gate.under_attack()
        for watcher in self._door_watchers:
            try:
                watcher(door_id)
            except Exception:  # a watcher must not take the keypad's decision down with it
                _LOGGER.exception("door %s: a state watcher failed", door_id)

    def _audit_decision(self, event: Mapping[str, object]) -> None:
        try:
            self.store.record_access(dict(event))
        except TamperError as error:
            # The decision stands (the lock was already told); the broken log is not extended
            # and /api/health says so (R11).
            _LOGGER.error("door %s: decision not audited: %s", event.get("door"), error)

    def housekeeping(self, *, now: float | None = None, today: dt.date | None = None) -> None:
        """Consents that expired lose their templates; people who moved out are erased (R6, R7)."""
        expired = self.store.expire_consents(now)
        if self.credential_gate is not None:
            self.credential_gate.summarise()
            attacked = self.credential_gate.under_attack()
            for door_id in set(attacked) ^ set(self._attacked):  # an attack over (or missed)
                self._door_changed(door_id)
            self._attacked = attacked
        moment = time.time() if now is None else now
        if moment - self._last_purge >= 86400:
            self._last_purge = moment
            try:
                purged = self.store.purge_audit(self.config.audit.retention_days)
            except TamperError as error:
                # The doors keep working; the broken chain stays as it is, for inspection.
                _LOGGER.error("audit log is broken, nothing purged: %s", error)
                purged = 0
            if purged:
                _LOGGER.info("audit retention: %d old entries purged, checkpoint signed", purged)
        for person in self.store.people_moving_out(today):
            receipt = self.store.erase_person(person.id, reason="move_out")
            _LOGGER.info("erased a resident who moved out (receipt %s)", receipt.receipt_id)
        if expired:
            _LOGGER.info("consent expiry deleted %d template(s)", expired)
        self.identity_changed()

    def identity_changed(self) -> None:
        """Called after any change to people, consent, templates or access groups: the doors
        see it at once, and the notice lists which doors each group opens (R1)."""
        notice = build_notice(self.config, self.store.groups())
        if notice.version != self.notice.version:
            publish_notice(self.store, notice)
            self.notice = notice
        self.reload_gallery()

    def reload_gallery(self) -> Gallery:
        return self.galleries.reload()

    def start(self) -> None:
        self.housekeeping()
        for door in self.config.doors.values():
            self.actuators[door.id] = DoorActuator(
                door=door,
                link=self.link,
                event_key=self.event_key,
                max_decision_age_s=self.config.decision.max_decision_age_s,
                listeners=self._listeners,
            )
            if door.camera is None or "face" not in door.methods:
                continue
            self.doors[door.id] = DoorWorker(
                actuator=self.actuators[door.id],
                gallery=partial(self.galleries.door, door.id),
                everyone=self.galleries.everyone,
                admission=self.admission,
                policy=self.policies[door.id],
                decision=self.config.decision,
                on_frame=self._on_frame,
            )
        lanes = camera_lanes(self.config, self.doors, self.analyzer, stop_at_end=self._stop_at_end)
        self.readers = {lane.camera: lane.reader for lane in lanes}
        self.vision = VisionStage(lanes, workers=self.config.vision.workers or auto_workers())
        warn_liveness_off(self.config.doors.values())
        # An administrator's earlier switch of a door's face unlock outlives restarts.
        overrides = self.store.door_method_overrides()
        for door_id, worker in self.doors.items():
            worker.face_enabled = overrides.get((door_id, "face"), True)
        # PIN, card, tag and phone decide through the same actuators as the face (R5).
        self.credential_gate = CredentialGate(
            actuators=self.actuators,
            store=self.store,
            limits=self.config.credentials,
            admission=self.admission,
            on_lockout=self._door_changed,
        )
        if isinstance(self.link, Subscribable):
            self.credential_inputs = CredentialInputs(
                self.config.doors.values(), self.present_credential
            )
            self.credential_inputs.start(self.link)
        for reader in self.readers.values():
            reader.start()
        self.vision.start()
        self._refresher = threading.Thread(target=self._refresh, name="gallery", daemon=True)
        self._refresher.start()
        _LOGGER.info(
            "engine started: %d door(s), %d camera(s), %d template(s)",
            len(self.config.doors),
            len(self.readers),
            len(self.gallery()),
        )

    def vision_stats(self) -> dict[str, object]:
        """Per camera: frames decoded, analysed, skipped by the motion gate, dropped, and the
        frame-to-decision p95 (health, Home Assistant's diagnostics, benchmarks/scale.py)."""
        stage = self.vision
        return {
            "workers": stage.workers if stage is not None else 0,
            "motion_gate": self.config.vision.motion_gate,
            "cameras": stage.stats() if stage is not None else {},
        }

    def _refresh(self) -> None:
        last_housekeeping = time.monotonic()
        seen = self.store.data_version()
        while not self._stopped.wait(CHANGE_POLL_S):
            try:
                if time.monotonic() - last_housekeeping >= GALLERY_REFRESH_S:
                    last_housekeeping = time.monotonic()
                    self.housekeeping()
                # Another process (the `facegate person` commands) changed the database:
                # a withdrawal or an erasure there must stop the face within a second too.
                version = self.store.data_version()
                if version != seen:
                    seen = version
                    self.identity_changed()
            except Exception:
                _LOGGER.exception("housekeeping failed; retrying")

    def set_door_method(self, door_id: str, method: str, enabled: bool) -> None:
        """An administrator switches one of a door's configured methods on or off; never one
        the configuration does not give it, never leaving the face alone (R4, in the store)."""
        door = self.config.doors.get(door_id)
        if door is None:
            raise UnknownDoorError(f"no door with id {door_id}")
        if method not in door.methods:
            raise RuleError(
                f"door {door_id} is not configured for {method} (configured: "
                f"{', '.join(sorted(door.methods))}); add it to the door's methods in the "
                "configuration"
            )
        self.store.set_door_method(door_id, method, enabled, configured=door.methods)
        worker = self.doors.get(door_id)
        if method == "face" and worker is not None:
            worker.face_enabled = enabled

    def present_credential(
        self,
        door_id: str,
        kind: str,
        value: str,
        *,
        arrived: float | None = None,
        passkey_verified: bool = False,
    ) -> Mapping[str, object]:
        """One PIN, card, tag or phone id presented at a door (MQTT reader, API or Home
        Assistant); returns the signed access event. Unknown door or kind: FacegateError."""
        if self.credential_gate is None:
            raise FacegateError("the engine is not started")
        return self.credential_gate.present(
            door_id, kind, value, arrived=arrived, passkey_verified=passkey_verified
        )

    def add_credential(
        self,
        person_id: str,
        kind: CredentialKind,
        value: str,
        label: str = "",
        validity: Validity | None = None,
    ) -> Credential:
        """A new PIN, card, tag or phone for a person; refusals that reveal another person's
        credential ("already in use") are counted and, past the limit, pause the person's
        changes (TooManyChangesError)."""
        return self.credential_changes.change(
            person_id, lambda: self.store.add_credential(person_id, kind, value, label, validity)
        )

    def camera_health(self) -> dict[str, CameraHealth]:
        return {name: reader.health() for name, reader in self.readers.items()}

    def door_state(
        self, door_id: str, overrides: Mapping[tuple[str, str], bool] | None = None
    ) -> dict[str, object]:
        """What the API and Home Assistant show of a door beside its configuration: its
        camera online, face unlock on, and the keypad's counters (never a value or who).
        `overrides` are the store's method switches when the caller has read them already."""
        door = self.config.doors[door_id]
        reader = self.readers.get(door.camera) if door.camera is not None else None
        worker = self.doors.get(door_id)
        if worker is not None:
            face_enabled = worker.face_enabled
        else:  # not started, or no camera: what the configuration and the overrides say
            if overrides is None:
                overrides = self.store.door_method_overrides()
            face_enabled = "face" in door.methods and overrides.get((door_id, "face"), True)
        gate = self.credential_gate
        return {
            "camera_online": reader.health().online if reader is not None else False,
            "face_enabled": face_enabled,
            "credential_attempts": gate.stats(door_id) if gate is not None else None,
        }

    def door_camera(self, door_id: str) -> CameraReader | None:
        """The camera a face door reads (enrolment takes frames from it); None without one."""
        camera = self.config.doors[door_id].camera if door_id in self.doors else None
        return self.readers.get(camera) if camera is not None else None

    def under_attack(self) -> dict[str, list[str]]:
        """The doors, and their methods, under a guessing attack now (health, R12)."""
        return self.credential_gate.under_attack() if self.credential_gate is not None else {}

    def wait_for_end(self, timeout: float | None = None) -> bool:
        """With stop_at_end: waits until every door has seen its camera's stream end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.vision is not None and not self.vision.finished():
            if self._stopped.is_set() or (deadline is not None and time.monotonic() > deadline):
                return False
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        self._stopped.set()
        if self.credential_inputs is not None:
            self.credential_inputs.stop()
        if self.vision is not None:
            self.vision.stop()
        for reader in self.readers.values():
            reader.stop()
        if self.credential_gate is not None:
            self.credential_gate.summarise(ending=True)
        self.store.close()
