"""Runs the API beside the engine: aiohttp on its own thread with its own event loop.

`start()` returns once the socket is listening (or raises why it could not listen); `stop()`
closes the event stream's clients, the listener and the thread within a bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from facegate.config import DEFAULT_API_HOST, DEFAULT_API_PORT
from facegate.engine import Engine
from facegate.errors import FacegateError
from facegate.web.app import create_app
from facegate.web.auth import load_or_create_token, token_path
from facegate.web.deadline import HeaderDeadline

_LOGGER = logging.getLogger("facegate.web")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class ApiServer:
    what = "the API"
    needs_token = True  # the administrator API; the resident pages have sessions instead

    def __init__(
        self,
        engine: Engine,
        host: str = DEFAULT_API_HOST,
        port: int = DEFAULT_API_PORT,
        *,
        token: str | None = None,
    ) -> None:
        self.engine = engine
        self.host = host
        self.port = port  # 0 picks a free port; the real one is here after start()
        if token is None and self.needs_token:
            token = load_or_create_token(engine.config.data_dir)
        self.token = token or ""
        self.token_path: Path = token_path(engine.config.data_dir)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.app: web.Application | None = None  # the running application, for inspection

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _make_app(self) -> web.Application:
        return create_app(self.engine, self.token)

    def _tls(self) -> ssl.SSLContext | None:
        return None  # the API: loopback, or behind Home Assistant's ingress

    def start(self) -> None:
        if self._thread is not None:
            raise FacegateError(f"{self.what} is already running")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="api", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self.stop()
            raise FacegateError(f"{self.what} did not start within {START_TIMEOUT_S:.0f} s")
        error = self._take_error()
        if error is not None:
            self._thread.join(STOP_TIMEOUT_S)
            self._thread = None
            raise FacegateError(
                f"{self.what} cannot listen on {self.host}:{self.port}: {error}"
            ) from error
        _LOGGER.info("%s listening on %s", self.what, self.url)

    def _take_error(self) -> BaseException | None:
        error, self._error = self._error, None
        return error

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        loop, stop = self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(stop.set)
        thread.join(STOP_TIMEOUT_S + 2.0)
        if thread.is_alive():
            _LOGGER.warning("API thread did not stop in time")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start(); the thread ends quietly
            self._error = error
            self._ready.set()
        finally:
            # Bounded: a store call still running in the executor must not hold the stop up.
            with contextlib.suppress(TimeoutError):
                loop.run_until_complete(
                    asyncio.wait_for(loop.shutdown_default_executor(), STOP_TIMEOUT_S)
                )
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = self.app = self._make_app()
        runner = web.AppRunner(app, shutdown_timeout=STOP_TIMEOUT_S, access_log=None)
        await runner.setup()
        listener: asyncio.Server | None = None
        try:
            # aiohttp's own site, but each connection held to a deadline for its headers.
            handler = runner.server
            assert handler is not None
            listener = await asyncio.get_running_loop().create_server(
                lambda: HeaderDeadline(handler()),
                self.host,
                self.port,
                reuse_address=True,
                ssl=self._tls(),
            )
            if self.port == 0:  # the bound socket tells which port was picked
                self.port = int(listener.sockets[0].getsockname()[1])
            self._ready.set()
            await self._stop.wait()
        finally:
            if listener is not None:
                listener.close()
            await asyncio.wait_for(runner.cleanup(), STOP_TIMEOUT_S + 1.0)


class ResidentServer(ApiServer):
    """The residents' pages on their own listener (web/resident/), apart from the API."""

    what = "the resident pages"
    needs_token = False

    def __init__(
        self,
        engine: Engine,
        host: str,
        port: int,
        changed: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(engine, host, port)
        self._changed = changed

    def _make_app(self) -> web.Application:
        from facegate.web.resident.pages import create_resident_app

        return create_resident_app(self.engine, self._changed)

    def _tls(self) -> ssl.SSLContext | None:
        residents = self.engine.config.residents
        if residents.tls_cert is None or residents.tls_key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(residents.tls_cert, residents.tls_key)
        return context

    @property
    def url(self) -> str:
        scheme = "https" if self._tls_on else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def _tls_on(self) -> bool:
        return self.engine.config.residents.tls_cert is not None
