"""R9: nothing leaves the building. The whole demo pipeline runs with every outbound
connection to a non-loopback address refused and recorded, and none is attempted.

Two layers, both applied to `python -m facegate.cli demo --once` as a subprocess:

- a Python socket guard (`r9_net_guard.py`, installed as `sitecustomize` through PYTHONPATH)
  in every Python process of the run, including the RTSP test camera under /usr/bin/python3:
  non-loopback connects, sends and name lookups are refused before the kernel sees them and
  logged as JSON lines;
- where the machine allows it (root, `unshare`, `ip`), a new network namespace with only
  loopback up, which also refuses native code (OpenCV's FFmpeg, GStreamer, ffmpeg) that
  bypasses Python's sockets. When `strace` is present, every process of the run is traced
  for connect/sendto/sendmsg/sendmmsg, so native attempts are recorded too, and for openat,
  so the model files actually opened can be checked against the local models directory.

Models must load from local files only: HOME is an empty directory, FACEGATE_MODELS_DIR names
the verified models, the demo's cache is a fresh directory, and the environment carries
nothing else (no proxy settings, no XDG paths).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from facegate.demo import demo_config
from facegate.model_needs import required_models
from facegate.models import BUNDLED_DIR

GUARD = Path(__file__).with_name("r9_net_guard.py")
LOG_ENV = "FACEGATE_NET_GUARD_LOG"
MARKER = "R9 network guard refused"
SYSTEM_PYTHON = Path("/usr/bin/python3")
TEST_NET = "192.0.2.1"  # RFC 5737 TEST-NET-1: never routed, never needs to be reachable
TRACED = "connect,sendto,sendmsg,sendmmsg,openat"
MODEL_SUFFIXES = (".tflite", ".onnx", ".dat")
_INET = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
_SYSCALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(connect|sendto|sendmsg|sendmmsg|openat)\b")
_OPENAT = re.compile(r'openat\([^,]+, "([^"]+)"')


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address in {"::1", "::ffff:127.0.0.1"}


@dataclass
class Trace:
    """What strace saw: native and Python syscalls alike."""

    outbound: list[str] = field(default_factory=list)  # syscalls to a non-loopback address
    loopback: int = 0  # syscalls to a loopback address: proof the tracer was watching
    model_files: list[Path] = field(default_factory=list)  # model files opened successfully


def parse_trace(path: Path) -> Trace:
    trace = Trace()
    for line in path.read_text(errors="replace").splitlines():
        match = _SYSCALL.match(line)
        if match is None:
            continue
        if match.group(2) == "openat":
            opened = _OPENAT.search(line)
            if opened and opened.group(1).endswith(MODEL_SUFFIXES) and "= -1" not in line:
                trace.model_files.append(Path(opened.group(1)))
            continue
        for v4, v6 in _INET.findall(line):
            if _is_loopback(v4 or v6):
                trace.loopback += 1
            else:
                trace.outbound.append(line[:300])
    return trace


def strace_unavailable() -> str | None:
    binary = shutil.which("strace")
    if binary is None:
        return "strace is not installed (Debian: apt-get install strace)"
    probe = subprocess.run(
        [binary, "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "-o", os.devnull, "true"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.strip()[:200]}"
    return None


def netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "a new network namespace needs root (CI runs as root)"
    for tool, package in (("unshare", "util-linux"), ("ip", "iproute2")):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian package {package})"
    probe = subprocess.run(
        ["unshare", "--net", "sh", "-c", f"{shutil.which('ip')} link set lo up"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if probe.returncode != 0:
        return f"`unshare --net` is not permitted here: {probe.stderr.strip()[:200]}"
    return None


def kill_group(pgid: int) -> list[str]:
    """SIGKILLs the live (not zombie) processes of a process group; returns their commands."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = stat.with_name("cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(command.strip())
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signal.SIGKILL)
    return found


@dataclass
class GuardedRun:
    result: subprocess.CompletedProcess[str]
    loaded: list[dict[str, Any]]  # one per guarded Python process
    refused: list[dict[str, Any]]  # every refused attempt the guard logged
    trace: Trace | None  # None when strace is unavailable
    home: Path
    leftovers: list[str]  # processes of the run still alive after it exited (then killed)

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def guarded_run(
    tmp_path: Path,
    argv: list[str],
    *,
    netns: bool,
    env: dict[str, str] | None = None,
    timeout: float = 150,
) -> GuardedRun:
    """Runs argv with the guard in every Python process, an empty HOME, a minimal
    environment, under strace when it works, and in a loopback-only namespace if asked."""
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    shutil.copyfile(GUARD, guard_dir / "sitecustomize.py")
    home = tmp_path / "home"
    home.mkdir()
    log = tmp_path / "net-guard.jsonl"
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(guard_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        LOG_ENV: str(log),
        **(env or {}),
    }
    command = list(argv)
    if netns:
        ip = shutil.which("ip")
        command = ["unshare", "--net", "sh", "-c", f'{ip} link set lo up && exec "$@"', "r9"]
        command += argv
    trace_file = tmp_path / "strace.txt"
    traced = strace_unavailable() is None
    if traced:
        strace = ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "signal=none", "-s", "256"]
        command = [*strace, "-e", f"trace={TRACED}", "-o", str(trace_file), *command]
    # Output goes to files and the run gets its own process group, so a process it leaves
    # behind cannot hold a pipe open and is found (and killed) below.
    out_file, err_file = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_file.open("w") as out, err_file.open("w") as err:
        proc = subprocess.Popen(
            command, env=full_env, cwd=tmp_path, stdout=out, stderr=err, start_new_session=True
        )
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            proc.wait()
            raise
    result = subprocess.CompletedProcess(
        command, code, out_file.read_text(errors="replace"), err_file.read_text(errors="replace")
    )
    leftovers = kill_group(proc.pid)
    lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return GuardedRun(
        result=result,
        loaded=[entry for entry in lines if entry["kind"] == "guard_loaded"],
        refused=[entry for entry in lines if entry["kind"] != "guard_loaded"],
        trace=parse_trace(trace_file) if traced else None,
        home=home,
        leftovers=leftovers,
    )


def _demo_env(tmp_path: Path, faces: Path, models_dir: Path) -> dict[str, str]:
    return {
        "FACEGATE_MODELS_DIR": str(models_dir),
        "FACEGATE_DEMO_DIR": str(tmp_path / "demo-cache"),
        "FACEGATE_SHARED": str(faces.parent.parent),
    }


def _describe(run: GuardedRun) -> str:
    return (
        f"exit {run.result.returncode}\n--- stdout\n{run.result.stdout[-3000:]}\n"
        f"--- stderr\n{run.result.stderr[-3000:]}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["python-guard", "netns"])
def test_r9_demo_pipeline_makes_no_outbound_connection(
    layer: str, tmp_path: Path, faces: Path, models_dir: Path
) -> None:
    if layer == "netns" and (reason := netns_unavailable()):
        pytest.skip(f"network-namespace layer skipped: {reason}")
    run = guarded_run(
        tmp_path,
        [sys.executable, "-m", "facegate.cli", "demo", "--once"],
        netns=layer == "netns",
        env=_demo_env(tmp_path, faces, models_dir),
    )

    # Nothing was attempted: not by Python code (the guard) nor by native code (strace).
    destinations = [f"{e['op']} {e.get('destination', e.get('host'))}" for e in run.refused]
    assert run.refused == [], f"outbound attempts refused by the guard: {destinations}"
    if run.trace is not None:
        assert run.trace.outbound == [], "\n".join(run.trace.outbound)

    # ... and the door still opened, on the real clip.
    assert run.result.returncode == 0, _describe(run)
    assert "granted" in run.result.stdout, _describe(run)
    summary = json.loads(run.result.stdout.strip().splitlines()[-1])
    assert summary["granted"] >= 1
    assert summary["lock_commands"] >= 1
    assert "short_hamilton_clip.mp4 from the shared test data" in run.result.stdout
    assert MARKER not in run.output

    assert run.leftovers == [], "the demo left processes running"

    # The guard was really there, in the engine and in the RTSP camera's system python.
    commands = [" ".join(entry["cmdline"]) for entry in run.loaded]
    assert any("facegate.cli demo" in c for c in commands), commands
    assert any("simulated_camera_server.py" in c for c in commands), commands

    # Models came from the local models directory (the liveness pair from the package itself)
    # only, and nothing was fetched into HOME
    # (the RTSP camera's GStreamer leaves its plugin registry cache there, nothing else).
    if run.trace is not None:
        opened = {path.name for path in run.trace.model_files}
        config = demo_config(
            data_dir=tmp_path, models_dir=models_dir, rtsp_url="rtsp://127.0.0.1/x",
            mqtt_host="127.0.0.1", mqtt_port=1883,
        )  # fmt: skip
        assert set(required_models(config)) <= opened
        local = {models_dir.resolve(), BUNDLED_DIR.resolve()}
        assert all(p.parent.resolve() in local for p in run.trace.model_files), (
            run.trace.model_files
        )
    left = sorted(str(p.relative_to(run.home)) for p in run.home.rglob("*") if p.is_file())
    assert all(re.fullmatch(r"\.cache/gstreamer-1\.0/registry\.[\w-]+\.bin", p) for p in left), left


def test_r9_missing_model_is_never_downloaded_at_run_time(tmp_path: Path, faces: Path) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    run = guarded_run(
        tmp_path,
        [sys.executable, "-m", "facegate.cli", "demo", "--once"],
        netns=False,
        env=_demo_env(tmp_path, faces, empty),
        timeout=60,
    )
    assert run.result.returncode == 2, _describe(run)
    assert "facegate models fetch" in run.result.stderr
    assert run.leftovers == [], "a failed start left processes running"
    assert run.refused == []
    if run.trace is not None:
        assert run.trace.outbound == []
        assert run.trace.loopback > 0
    assert list(empty.iterdir()) == []


PROBE = textwrap.dedent(
    f"""
    import errno, json, socket, time
    out = {{}}

    def attempt(name, action):
        started = time.monotonic()
        try:
            value = action()
            out[name] = {{"ok": True, "value": repr(value)}}
        except OSError as error:
            out[name] = {{"ok": False, "error": str(error), "errno": error.errno}}
        out[name]["s"] = time.monotonic() - started

    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.settimeout(5)
    attempt("connect", lambda: tcp.connect(("{TEST_NET}", 80)))
    attempt("peer_after_connect", tcp.getpeername)
    attempt("connect_ex", lambda: tcp.connect_ex(("{TEST_NET}", 80)))
    attempt("create_connection", lambda: socket.create_connection(("{TEST_NET}", 80), 5))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    attempt("sendto", lambda: udp.sendto(b"x", ("{TEST_NET}", 9)))
    attempt("sendmsg", lambda: udp.sendmsg([b"x"], [], 0, ("{TEST_NET}", 9)))
    attempt("getaddrinfo", lambda: socket.getaddrinfo("example.com", 443))
    attempt("gethostbyname", lambda: socket.gethostbyname("example.com"))
    # What the pipeline needs keeps working: loopback TCP and UDP, localhost, AF_UNIX.
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    attempt("loopback_tcp", lambda: socket.create_connection(("127.0.0.1", port), 5).close())
    attempt("localhost", lambda: socket.getaddrinfo("localhost", port)[0][4][0])
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    attempt("loopback_udp", lambda: udp.sendto(b"x", sink.getsockname()))
    left, right = socket.socketpair()
    attempt("unix", lambda: left.send(b"x"))
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("python", ["venv", "system"])
def test_r9_guard_refuses_and_records_an_outbound_connection(python: str, tmp_path: Path) -> None:
    """The guard the R9 run relies on really refuses and records, before anything is sent,
    under both interpreters of the pipeline: the R9 test cannot pass vacuously."""
    if python == "system" and not SYSTEM_PYTHON.exists():
        pytest.skip(f"{SYSTEM_PYTHON} (the RTSP camera's interpreter) is not installed")
    interpreter = sys.executable if python == "venv" else str(SYSTEM_PYTHON)
    run = guarded_run(tmp_path, [interpreter, "-c", PROBE], netns=False, timeout=60)
    assert run.result.returncode == 0, _describe(run)
    out = json.loads(run.result.stdout)

    for name in ("connect", "create_connection", "sendto", "sendmsg"):
        assert out[name]["ok"] is False, out[name]
        assert MARKER in out[name]["error"], out[name]
        assert out[name]["errno"] == 111  # ECONNREFUSED, at once
        assert out[name]["s"] < 1.0
    assert out["peer_after_connect"]["errno"] == 107  # ENOTCONN: the socket never connected
    assert out["connect_ex"] == {"ok": True, "value": "111", "s": out["connect_ex"]["s"]}
    for name in ("getaddrinfo", "gethostbyname"):
        assert out[name]["ok"] is False and MARKER in out[name]["error"], out[name]
    for name in ("loopback_tcp", "localhost", "loopback_udp", "unix"):
        assert out[name]["ok"] is True, out[name]
    assert out["localhost"]["value"] in {"'127.0.0.1'", "'::1'"}

    recorded = sorted((e["op"], e.get("destination", e.get("host"))) for e in run.refused)
    assert recorded == sorted(
        [
            ("connect", f"{TEST_NET}:80"),
            ("connect_ex", f"{TEST_NET}:80"),
            ("create_connection", f"{TEST_NET}:80"),
            ("sendto", f"{TEST_NET}:9"),
            ("sendmsg", f"{TEST_NET}:9"),
            ("getaddrinfo", "example.com"),
            ("gethostbyname", "example.com"),
        ]
    )
    assert [e["exe"] for e in run.loaded] == [interpreter]
    # Refused before the kernel: strace saw no syscall towards TEST-NET at all (and the
    # loopback traffic above, so it was watching).
    if run.trace is not None:
        assert run.trace.outbound == []
        assert run.trace.loopback > 0
