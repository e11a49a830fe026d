"""A throwaway MQTT broker for ``facegate demo`` when no broker is configured.

amqtt runs on its own asyncio loop in a daemon thread, bound to the loopback interface only:
anonymous access is acceptable there because nothing off this machine can reach it (R9, R12).
amqtt is imported inside ``start()`` so that the engine proper never needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from typing import Any

from facegate.errors import FacegateError

_log = logging.getLogger("facegate.demo_broker")

LOOPBACK = "127.0.0.1"
_PORT_ATTEMPTS = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int, timeout: float) -> bool:
    # A full MQTT handshake rather than a bare TCP connect: amqtt logs an error (and leaks
    # the socket) for a connection that closes without a CONNECT packet.
    client_id = b"facegate-probe"
    body = b"\x00\x04MQTT\x04\x02\x00\x0a" + len(client_id).to_bytes(2, "big") + client_id
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as conn:
            conn.sendall(bytes([0x10, len(body)]) + body)
            connack = conn.recv(4)
            conn.sendall(b"\xe0\x00")
    except OSError:
        return False
    return connack == b"\x20\x02\x00\x00"


class EmbeddedBroker:
    """amqtt on 127.0.0.1:``port`` (0 picks a free port), started and stopped from any thread."""

    def __init__(self, port: int = 0, *, start_timeout: float = 10.0) -> None:
        self._requested_port = port
        self._port = port
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def host(self) -> str:
        return LOOPBACK

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> None:
        """Start the broker; returns once it accepts connections, raises FacegateError if not."""
        if self._thread is not None:
            raise FacegateError("EmbeddedBroker.start() was already called")
        try:
            from amqtt.broker import Broker
        except ImportError as exc:
            raise FacegateError(
                "the embedded MQTT broker needs the amqtt package; install it or point the "
                "demo at a broker with --mqtt-host"
            ) from exc
        # amqtt logs every connection at INFO; keep the demo's output readable unless the
        # user configured these loggers themselves.
        for name in ("amqtt", "transitions"):
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)

        attempts = 1 if self._requested_port else _PORT_ATTEMPTS
        for attempt in range(attempts):
            # A free port picked here could be taken before amqtt binds it; try another.
            port = self._requested_port or _free_port()
            try:
                self._launch(Broker, port)
            except FacegateError:
                if attempt + 1 == attempts:
                    raise
                continue
            self._port = port
            _log.info("embedded MQTT broker listening on %s:%d", LOOPBACK, port)
            return

    def _launch(self, broker_class: Any, port: int) -> None:
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{port}"}},
            # Only anonymous auth: no $SYS publisher and no packet logger, which the defaults add.
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> Any:
            broker = broker_class(config, loop=loop)
            await broker.start()
            return broker

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._broker = loop.run_until_complete(boot())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        thread = threading.Thread(target=run, name=f"amqtt-{port}", daemon=True)
        thread.start()
        if not ready.wait(self._start_timeout):
            loop.call_soon_threadsafe(loop.stop)
            raise FacegateError(
                f"embedded MQTT broker did not start within {self._start_timeout} s"
            )
        if failure:
            thread.join(self._start_timeout)
            raise FacegateError(
                f"embedded MQTT broker could not listen on {LOOPBACK}:{port}: {failure[0]}"
            ) from failure[0]
        self._loop, self._thread = loop, thread
        if not _accepts(port, self._start_timeout):
            self.stop()
            raise FacegateError(f"embedded MQTT broker on {LOOPBACK}:{port} accepts no connections")

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the broker down (bounded by ``timeout`` per step); safe to call twice."""
        loop, thread, broker = self._loop, self._thread, self._broker
        self._loop = self._thread = self._broker = None
        if loop is None or thread is None:
            return
        if broker is not None and not loop.is_closed():
            done = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
            try:
                done.result(timeout)
            except Exception as exc:
                _log.warning("embedded MQTT broker did not shut down cleanly: %s", exc)
        with contextlib.suppress(RuntimeError):  # the loop may already be closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if thread.is_alive():
            _log.warning("embedded MQTT broker thread did not stop within %.0f s", timeout)
