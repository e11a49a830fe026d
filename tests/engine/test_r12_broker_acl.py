"""`facegate mqtt acl` closes the broker (R12): a real mosquitto runs the files it writes, with
TLS, and a real engine opens a door through it. Once, on an open broker, any client read PINs
on `#`, replayed them (3 of 3 opened the door) and published UNLOCK to the lock (1 of 1)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from conftest_mqtt import Mosquitto, Subscriber, free_port, server_certificate
from facegate.cli import main
from facegate.config import load
from facegate.engine import Engine
from facegate.errors import FacegateError
from facegate.events import verify
from facegate.mqtt import MqttLink
from facegate.mqtt_acl import Accounts, Listener, acl_text, write_broker_files

pytest_plugins = ["conftest_mqtt"]

DOOR = "front_door"
LOCK = "zigbee2mqtt/front_lock/set"
KEYPAD = "zigbee2mqtt/front_keypad"
ACCESS = f"facegate/{DOOR}/access"
PIN = "482913"
QUIET_S = 0.7  # what a dropped message would have needed to arrive, on loopback


def _config(path: Path, models_dir: Path, port: int, **mqtt_extra: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "data_dir": str(path.parent / "data"),
                "models_dir": str(models_dir),
                "mqtt": {"host": "127.0.0.1", "port": port, "username": "facegate", **mqtt_extra},
                "doors": {
                    DOOR: {
                        "methods": ["pin"],
                        "lock": {"command_topic": LOCK, "payload_unlock": "UNLOCK"},
                        "credential_inputs": [
                            {"topic": KEYPAD, "kind": "pin", "json_key": "action_code"}
                        ],
                    }
                },
            }
        )
    )
    path.chmod(0o600)
    return path


def _connects(port: int, ca: Path | None, user: str | None, password: str | None) -> bool:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"stranger-{time.time()}")
    if ca is not None:
        client.tls_set(ca_certs=str(ca))
    if user is not None:
        client.username_pw_set(user, password)
    try:
        return client.connect("127.0.0.1", port, keepalive=5) == 0 and _acked(client)
    except OSError:
        return False
    finally:
        client.disconnect()


def _acked(client: mqtt.Client) -> bool:
    # connect() only sends CONNECT: the broker's answer comes through the loop.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not client.is_connected():
        client.loop(0.1)
    return client.is_connected()


def test_r12_the_generated_acl_lets_no_stranger_unlock_read_codes_or_spoof_the_engine(
    tmp_path: Path, models_dir: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    port = free_port()
    ca, cert, key = server_certificate(tmp_path)
    config_path = _config(tmp_path / "facegate.yaml", models_dir, port)
    broker_dir = tmp_path / "broker"
    args = ["mqtt", "acl", "--config", str(config_path), "--out", str(broker_dir)]
    args += ["--listen", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)]
    assert main(args) == 0
    accounts = dict(line.split() for line in (broker_dir / "accounts.txt").read_text().splitlines())
    assert sorted(accounts) == ["bridge", "facegate", "homeassistant"]
    assert (broker_dir / "accounts.txt").stat().st_mode & 0o077 == 0
    assert main(args) == 2  # a second run changes nothing: the passwords in use stay valid
    assert (
        dict(line.split() for line in (broker_dir / "accounts.txt").read_text().splitlines())
        == accounts
    )

    broker = Mosquitto(tmp_path, port=port)
    conf = (broker_dir / "mosquitto.conf").read_text()
    broker.conf.write_text(f"{conf}persistence false\nlog_dest file {broker.log}\nuser root\n")
    broker.start()
    config = load(
        _config(config_path, models_dir, port, password=accounts["facegate"], tls_ca=str(ca))
    )
    link = MqttLink(
        host="127.0.0.1",
        port=port,
        client_id="facegate-engine",
        username="facegate",
        password=accounts["facegate"],
        tls_ca=ca,
    )
    engine = Engine(config, link)
    engine.store.add_credential(engine.store.add_person("Wang Fang").id, "pin", PIN)

    def client(user: str, topic: str) -> Subscriber:
        sub = Subscriber(
            "127.0.0.1", port, topic, username=user, password=accounts[user], tls_ca=ca
        )
        assert sub.wait_ready(5), broker.log_text()
        return sub

    bridge = client("bridge", LOCK)  # the keypad's and the lock's bridge (zigbee2mqtt)
    home_assistant = client("homeassistant", "#")
    watcher = client("homeassistant", "facegate/#")  # a second HA client: sees what HA may
    try:
        link.start()
        assert link.wait_connected(5), broker.log_text()
        engine.start()
        time.sleep(0.5)  # the engine's subscription to the keypad is made
        # The allowed flows work: a code typed at the keypad opens the door.
        bridge.publish(KEYPAD, json.dumps({"action": "disarm", "action_code": PIN}))
        assert bridge.wait_for(lambda m: len(m) == 1, 5), "the lock never got UNLOCK"
        assert watcher.wait_for(lambda m: any(x.topic == ACCESS for x in m), 5)
        event = json.loads(watcher.on(ACCESS)[0].text)
        assert (event["result"], event["reason"]) == ("granted", "match")
        assert verify(event, engine.event_key)
        # Home Assistant saw the event and the engine's status, never the code on `#`.
        time.sleep(QUIET_S)
        seen = {m.topic for m in home_assistant.messages}
        assert ACCESS in seen and "facegate/status" in seen
        assert KEYPAD not in seen and LOCK not in seen
        assert all(PIN not in m.text for m in home_assistant.messages)

        # A client with an account, but not the engine's, cannot unlock, replay a code or
        # speak for the engine.
        watcher.clear()
        home_assistant.publish(LOCK, "UNLOCK")
        home_assistant.publish(KEYPAD, json.dumps({"action": "disarm", "action_code": PIN}))
        home_assistant.publish("facegate/status", "offline")
        home_assistant.publish(ACCESS, json.dumps({**event, "id": "forged"}))
        time.sleep(QUIET_S)
        assert len(bridge.messages) == 1  # still only the engine's UNLOCK
        assert watcher.messages == []  # no forged status or event, no second decision
        assert len([e for e in engine.store.audit_entries() if e.kind == "access"]) == 1

        # And a stranger gets no session at all: no account, a wrong password, no TLS.
        assert not _connects(port, ca, None, None)
        assert not _connects(port, ca, "homeassistant", "guess")
        assert not _connects(port, ca, "stranger", accounts["bridge"])
        assert not _connects(port, None, "bridge", accounts["bridge"])
        assert _connects(port, ca, "bridge", accounts["bridge"])  # the control
    finally:
        engine.stop()
        link.stop()
        for sub in (bridge, home_assistant, watcher):
            sub.close()
        broker.stop()


def test_r12_topics_that_cannot_go_into_an_acl_are_refused_before_anything_is_written(
    tmp_path: Path, models_dir: Path
) -> None:
    config = load(_config(tmp_path / "facegate.yaml", models_dir, 1883))
    assert "topic write zigbee2mqtt/front_lock/set" in acl_text(config, Accounts(engine="facegate"))
    broken = json.loads((tmp_path / "facegate.yaml").read_text())
    # A wildcard is refused when the configuration is read (config.Topic) ...
    broken["doors"][DOOR]["lock"]["command_topic"] = "zigbee2mqtt/front lock\ntopic write #"
    (tmp_path / "broken.yaml").write_text(json.dumps(broken))
    with pytest.raises(FacegateError, match="without the wildcards"):
        load(tmp_path / "broken.yaml")
    # ... and a line break that would add a line of its own to the ACL, when the ACL is written.
    broken["doors"][DOOR]["lock"]["command_topic"] = "zigbee2mqtt/front lock\ntopic write x"
    (tmp_path / "broken.yaml").write_text(json.dumps(broken))
    with pytest.raises(FacegateError, match="cannot go into a mosquitto ACL"):
        write_broker_files(
            load(tmp_path / "broken.yaml"), tmp_path / "out", Listener(host="::1", port=8883)
        )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
