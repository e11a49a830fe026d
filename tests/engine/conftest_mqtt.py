"""pytest plugin: a real mosquitto broker per test and a recording MQTT subscriber.

Load it with ``pytest_plugins = ["conftest_mqtt"]`` from the top conftest or from a test module
(as test_mqtt.py does); pytest puts tests/engine on sys.path for these rootdir-less modules.

- ``mosquitto`` (function): a fresh anonymous broker on 127.0.0.1:<free port>; ``stop()`` and
  ``start()`` restart it on the same port. ``Mosquitto(tmp_path, extra_conf)`` builds others
  (password file, TLS). Skips when mosquitto is not installed.
- ``mqtt_listener`` (function): a ``Subscriber`` on ``#`` of that broker, already subscribed.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

MOSQUITTO = "/usr/sbin/mosquitto"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.2):
            return True
    except OSError:
        return False


def mosquitto_path() -> str | None:
    if Path(MOSQUITTO).is_file():
        return MOSQUITTO
    return shutil.which("mosquitto")


class Mosquitto:
    """A mosquitto process on 127.0.0.1:``port`` that can be stopped and started again."""

    def __init__(self, workdir: Path, extra_conf: Sequence[str] = (), port: int = 0) -> None:
        binary = mosquitto_path()
        if binary is None:
            pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.host = LOOPBACK
        self.port = port or free_port()
        self.workdir = workdir
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        lines = [
            f"listener {self.port} {LOOPBACK}",
            "allow_anonymous true",
            "persistence false",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            # Bursts of held events arrive at once after an outage; mosquitto's default
            # per-client queue (1000) would silently drop part of them.
            "max_queued_messages 100000",
            # Running as root, mosquitto would otherwise switch to the "mosquitto" user and
            # lose access to the test's files (password file, certificates).
            "user root",
        ]
        # Later lines win for allow_anonymous, so callers can turn it off.
        self.conf.write_text("\n".join([*lines, *extra_conf]) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 5.0) -> None:
        if self.proc is not None:
            raise RuntimeError("mosquitto is already running")
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.proc = None
                raise RuntimeError(f"mosquitto exited at start: {err}{self.log_text()}")
            if port_accepts(self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto did not accept on port {self.port} within {timeout} s")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
        if proc.stderr:
            proc.stderr.close()

    def freeze(self) -> None:
        """SIGSTOP: connections stay open but nothing is read or acknowledged (a hung broker)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        """SIGKILL (works on a frozen broker too): whatever it had not processed is lost."""
        if self.proc is not None:
            self.proc.kill()
        self.stop()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


# A new P-256 key without a passphrase, for `openssl req`.
_NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed test CA, valid for a day: (its key, its certificate)."""
    key, crt = directory / f"{name}.key", directory / f"{name}.crt"
    _openssl(
        "req", "-x509", *_NEW_KEY, "-keyout", key, "-out", crt, "-days", "1", "-subj", f"/CN={name}"
    )
    return key, crt


def server_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for 127.0.0.1 that it signed: (CA cert, cert, key)."""
    ca_key, ca_crt = make_ca(directory, "test-ca")
    key, csr, crt = directory / "srv.key", directory / "srv.csr", directory / "srv.crt"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("req", *_NEW_KEY, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    _openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca_crt,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-out",
        crt,
        "-days",
        "1",
        "-extfile",
        ext,
    )
    return ca_crt, crt, key


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh anonymous broker per test (no retained state leaks between tests)."""
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


MosquittoFactory = Callable[..., Mosquitto]


@pytest.fixture
def make_mosquitto(tmp_path: Path) -> Iterator[MosquittoFactory]:
    """``make_mosquitto(extra_conf=(), start=True)``: more brokers (auth, TLS), each stopped
    at the end. Lines in ``extra_conf`` follow the listener line, so listener options (certfile,
    keyfile) apply to it and a later ``allow_anonymous false`` wins."""
    made: list[Mosquitto] = []

    def make(extra_conf: Sequence[str] = (), *, start: bool = True) -> Mosquitto:
        workdir = tmp_path / f"mosquitto-{len(made)}"
        workdir.mkdir()
        broker = Mosquitto(workdir, extra_conf)
        made.append(broker)
        if start:
            broker.start()
        return broker

    try:
        yield make
    finally:
        for broker in made:
            broker.stop()


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int
    at: float  # time.monotonic() when the subscriber got it

    @property
    def text(self) -> str:
        return self.payload.decode()


class Subscriber:
    """A separate paho client that records everything matching ``topic_filter``.

    It reconnects quickly (0.1 s) and resubscribes after a broker restart; ``wait_ready``
    blocks until that has happened, so a test can be sure it is listening again.
    """

    def __init__(
        self,
        host: str,
        port: int,
        topic_filter: str = "#",
        *,
        qos: int = 1,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tls_ca: Path | None = None,
    ) -> None:
        self.topic_filter = topic_filter
        self.qos = qos
        self._messages: list[Received] = []
        self._cond = threading.Condition()
        self._subscribed = False
        self._subscriptions_made = 0
        self._closed = False
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-sub-{id(self):x}",
            clean_session=True,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if tls_ca is not None:
            self._client.tls_set(ca_certs=str(tls_ca))
        # Floats work at run time; paho's annotation says int.
        self._client.reconnect_delay_set(0.1, 0.2)  # type: ignore[arg-type]
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect_async(host, port, keepalive=10)
        self._client.loop_start()

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        client.subscribe(self.topic_filter, qos=self.qos)

    def _on_disconnect(self, *_args: object) -> None:
        with self._cond:
            self._subscribed = False
            self._cond.notify_all()

    def _on_subscribe(self, *_args: object) -> None:
        with self._cond:
            self._subscribed = True
            self._subscriptions_made += 1
            self._cond.notify_all()

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        item = Received(
            message.topic,
            bytes(message.payload),
            bool(message.retain),
            message.qos,
            time.monotonic(),
        )
        with self._cond:
            self._messages.append(item)
            self._cond.notify_all()

    def mark(self) -> int:
        """A token for ``wait_ready(since=...)``: take it before stopping the broker."""
        with self._cond:
            return self._subscriptions_made

    def wait_ready(self, timeout: float = 5.0, *, since: int = 0) -> bool:
        """Block until connected and subscribed, by a subscription made after ``since``."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._subscribed and self._subscriptions_made > since, timeout
            )

    @property
    def messages(self) -> list[Received]:
        with self._cond:
            return list(self._messages)

    def on(self, topic: str) -> list[Received]:
        return [m for m in self.messages if m.topic == topic]

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float) -> bool:
        """Block until ``predicate(messages so far)`` is true; False after ``timeout`` s."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(list(self._messages)), timeout)

    def publish(self, topic: str, payload: str | bytes) -> None:
        """QoS 1 from this client; the broker acknowledges even what its ACL then drops."""
        info = self._client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


SubscriberFactory = Callable[..., Subscriber]


@pytest.fixture
def make_subscriber() -> Iterator[SubscriberFactory]:
    """``make_subscriber(host, port, topic_filter="#", **kw)``: already subscribed (fails the
    test otherwise); closed at the end, or earlier with ``close()`` / ``with``."""
    made: list[Subscriber] = []

    def make(host: str, port: int, topic_filter: str = "#", **kw: object) -> Subscriber:
        sub = Subscriber(host, port, topic_filter, **kw)  # type: ignore[arg-type]
        made.append(sub)
        if not sub.wait_ready(5.0):
            pytest.fail(f"test subscriber could not subscribe at {host}:{port}")
        return sub

    try:
        yield make
    finally:
        for sub in made:
            sub.close()


@pytest.fixture
def mqtt_listener(mosquitto: Mosquitto) -> Iterator[Subscriber]:
    """Everything published on the test broker, recorded from before the test acts."""
    sub = Subscriber(mosquitto.host, mosquitto.port, "#")
    try:
        if not sub.wait_ready(5.0):
            pytest.fail("test subscriber could not connect to mosquitto")
        yield sub
    finally:
        sub.close()
