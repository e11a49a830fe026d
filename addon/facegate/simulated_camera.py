"""Run `simulated_camera_server.py` as a local test camera: for the demo, the tests and the
benchmarks.

The server needs GStreamer's RTSP server through PyGObject, which Debian ships for its own
interpreter only, so it runs as a `/usr/bin/python3` subprocess rather than in-process.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from facegate.errors import FacegateError

__all__ = ["SERVER_SCRIPT", "SYSTEM_PYTHON", "RtspServer", "RtspServerError", "free_port"]

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).resolve().with_name("simulated_camera_server.py")
DEBIAN_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)
_EXIT_NO_GI = 3  # mirrors simulated_camera_server.EXIT_NO_GI, which cannot be imported from here


class RtspServerError(FacegateError):
    """The local RTSP test server could not be started."""


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _drain(stream: IO[str], tail: collections.deque[str]) -> None:
    # Keep reading after READY so a chatty GStreamer cannot fill the pipe and stall the
    # server; only the last lines are kept, for error messages.
    with contextlib.suppress(ValueError, OSError):
        for line in stream:
            tail.append(line.rstrip("\n"))


class RtspServer:
    """Serve `clip` (H.264 mp4) at rtsp://127.0.0.1:PORT/MOUNT from a subprocess.

    Each client gets the clip from its first frame, in real time; with `loop=True` the clip
    repeats forever, otherwise the client sees end of stream when it finishes.
    """

    def __init__(
        self,
        clip: Path,
        *,
        port: int | None = None,
        mount: str = "/door",
        loop: bool = False,
        ready_timeout_s: float = 15.0,
    ) -> None:
        self.clip = Path(clip)
        self.port = port
        self.mount = mount if mount.startswith("/") else "/" + mount
        self.loop = loop
        self.ready_timeout_s = ready_timeout_s
        self.startup_s: float | None = None  # how long the last start() waited for READY
        self._proc: subprocess.Popen[str] | None = None
        self._url: str | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        if self._url is None:
            raise RtspServerError("RTSP server is not running; call start() first")
        return self._url

    @property
    def pid(self) -> int:
        """The server process (benchmarks measure its CPU apart from the engine's)."""
        if self._proc is None:
            raise RtspServerError("RTSP server is not running; call start() first")
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        if self.running:
            return self
        if not SYSTEM_PYTHON.exists():
            raise RtspServerError(
                f"{SYSTEM_PYTHON} not found: the RTSP test server runs on Debian's python3 "
                f"with GStreamer bindings (apt-get install python3 {DEBIAN_PACKAGES})"
            )
        if not self.clip.is_file():
            raise RtspServerError(f"clip not found: {self.clip}")
        if self.port is None:
            self.port = free_port()
        cmd = [
            str(SYSTEM_PYTHON), str(SERVER_SCRIPT),
            "--file", str(self.clip), "--port", str(self.port), "--mount", self.mount,
        ]  # fmt: skip
        if self.loop:
            cmd.append("--loop")
        # The server's GStreamer must not inherit a debug level from the caller's shell.
        env = {k: v for k, v in os.environ.items() if not k.startswith("GST_DEBUG")}
        began = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._proc = proc
        self._stderr.clear()
        err_thread = threading.Thread(
            target=_drain, args=(proc.stderr, self._stderr), name="rtsp-stderr", daemon=True
        )
        err_thread.start()
        self._threads = [err_thread]
        try:
            url = self._wait_ready(proc, proc.stdout)
        except BaseException:
            self.stop()
            raise
        out_thread = threading.Thread(
            target=_drain,
            args=(proc.stdout, collections.deque(maxlen=1)),
            name="rtsp-stdout",
            daemon=True,
        )
        out_thread.start()
        self._threads.append(out_thread)
        self._url = url
        self.startup_s = time.monotonic() - began
        return self

    def _wait_ready(self, proc: subprocess.Popen[str], stdout: IO[str]) -> str:
        deadline = time.monotonic() + self.ready_timeout_s
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                if not sel.select(timeout=remaining):
                    continue
                # Text-mode readline may block on a partial line; the server always writes
                # whole, flushed lines, so this returns promptly.
                line = stdout.readline()
                if not line:  # EOF: the server exited
                    break
                if line.startswith("READY "):
                    return line.split(maxsplit=1)[1].strip()
        try:
            code = proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        # Give the stderr reader a moment to collect the server's last words.
        for thread in self._threads:
            thread.join(timeout=1.0)
        stderr = "\n".join(self._stderr) or "(no stderr)"
        if code == _EXIT_NO_GI:
            raise RtspServerError(
                f"{SYSTEM_PYTHON} lacks GStreamer's RTSP bindings; install the Debian packages "
                f"{DEBIAN_PACKAGES}\n{stderr}"
            )
        if code is None:
            raise RtspServerError(
                f"RTSP server gave no READY line within {self.ready_timeout_s:.0f} s\n{stderr}"
            )
        raise RtspServerError(f"RTSP server exited with code {code}\n{stderr}")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        self._url = None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=1.0)
        self._threads = []
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()

    def restart(self) -> Self:
        """Stop, then start again on the same port: a camera that reboots."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
