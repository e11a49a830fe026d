"""R9 network guard, installed as `sitecustomize` in every Python process of a test run.

The R9 tests copy this file to `<tmp>/sitecustomize.py` and put `<tmp>` first on PYTHONPATH,
so every Python interpreter started during the run imports it at start-up: the engine under
the venv's python, and the RTSP test camera under Debian's /usr/bin/python3. It must therefore
run on any Python 3.11 with the standard library alone (no facegate, no third-party imports).

Loopback destinations (127.0.0.0/8, ::1, "localhost") and AF_UNIX sockets pass. Every other
destination of connect/connect_ex/sendto/sendmsg/create_connection, and every lookup of a name
other than localhost through getaddrinfo/gethostbyname(_ex)/gethostbyaddr/getnameinfo, is
refused *before* the kernel sees it and appended as one JSON line to the file named by
$FACEGATE_NET_GUARD_LOG. Each process also writes one `guard_loaded` line, so a test can tell
which processes were guarded. Native code (FFmpeg, GStreamer) does not go through Python's
socket module; the network-namespace layer of the R9 test catches that.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys
import time
from typing import Any

LOG_ENV = "FACEGATE_NET_GUARD_LOG"
MARKER = "R9 network guard refused"
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_WILDCARDS = frozenset({"0.0.0.0", "::"})  # resolved for bind(), never a destination

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto
_real_sendmsg = socket.socket.sendmsg
_real_getaddrinfo = socket.getaddrinfo
_real_gethostbyname = socket.gethostbyname
_real_gethostbyname_ex = socket.gethostbyname_ex
_real_gethostbyaddr = socket.gethostbyaddr
_real_getnameinfo = socket.getnameinfo
_real_create_connection = socket.create_connection


def _cmdline() -> list[str]:
    try:
        with open("/proc/self/cmdline", "rb") as handle:  # noqa: PTH123 - no pathlib at start-up
            raw = handle.read()
    except OSError:
        return list(getattr(sys, "orig_argv", []))
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _record(kind: str, **fields: Any) -> None:
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    line = {"kind": kind, "pid": os.getpid(), "exe": sys.executable, "ts": time.time()}
    line.update(fields)
    if kind != "guard_loaded":
        line["cmdline"] = _cmdline()
    data = (json.dumps(line, default=repr) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, data)  # one O_APPEND write per line: lines never interleave
    finally:
        os.close(descriptor)


def _host_is_local(host: object, *, wildcard_ok: bool = False) -> bool:
    if host is None:
        return True  # getaddrinfo(None, ...) means the loopback or wildcard address
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode(errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if name == "":
        return wildcard_ok
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    if wildcard_ok and name in _WILDCARDS:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # a name that would have to be resolved: refused
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _address_is_local(family: int, address: object) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and address:
        return _host_is_local(address[0])
    return False  # AF_PACKET, AF_NETLINK, ...: not needed by the pipeline, so refused


def _describe(family: int, address: object) -> dict[str, Any]:
    try:
        family_name = socket.AddressFamily(family).name
    except ValueError:
        family_name = str(family)
    if isinstance(address, tuple) and len(address) >= 2:
        destination = f"{address[0]}:{address[1]}"
    else:
        destination = repr(address)
    return {"family": family_name, "destination": destination}


def _refuse(op: str, **details: Any) -> ConnectionRefusedError:
    _record("refused", op=op, **details)
    where = details.get("destination", details.get("host"))
    return ConnectionRefusedError(errno.ECONNREFUSED, f"{MARKER} {op} to {where}")


def _refuse_lookup(op: str, host: object) -> socket.gaierror:
    _record("refused", op=op, host=repr(host) if not isinstance(host, str) else host)
    return socket.gaierror(socket.EAI_NONAME, f"{MARKER} {op} of {host!r}")


def connect(self: socket.socket, address: Any) -> None:
    if not _address_is_local(self.family, address):
        raise _refuse("connect", **_describe(self.family, address))
    _real_connect(self, address)


def connect_ex(self: socket.socket, address: Any) -> int:
    if not _address_is_local(self.family, address):
        _refuse("connect_ex", **_describe(self.family, address))
        return errno.ECONNREFUSED  # connect_ex reports failures by its return value
    return int(_real_connect_ex(self, address))


def sendto(self: socket.socket, data: Any, *args: Any) -> int:
    address = args[-1] if args else None
    if not _address_is_local(self.family, address):
        raise _refuse("sendto", bytes=len(data), **_describe(self.family, address))
    return int(_real_sendto(self, data, *args))


def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
    address = args[2] if len(args) >= 3 else None
    # Without an address the message goes to the peer this socket connected to, which
    # connect() above has already vetted.
    if address is not None and not _address_is_local(self.family, address):
        raise _refuse("sendmsg", **_describe(self.family, address))
    return int(_real_sendmsg(self, buffers, *args))


def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _host_is_local(host, wildcard_ok=True):
        raise _refuse_lookup("getaddrinfo", host)
    return _real_getaddrinfo(host, *args, **kwargs)


def gethostbyname(host: str) -> str:
    if not _host_is_local(host):
        raise _refuse_lookup("gethostbyname", host)
    return _real_gethostbyname(host)


def gethostbyname_ex(host: str) -> Any:
    if not _host_is_local(host):
        raise _refuse_lookup("gethostbyname_ex", host)
    return _real_gethostbyname_ex(host)


def gethostbyaddr(host: str) -> Any:
    if not _host_is_local(host):
        raise _refuse_lookup("gethostbyaddr", host)
    return _real_gethostbyaddr(host)


def getnameinfo(sockaddr: Any, flags: int) -> Any:
    host = sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else sockaddr
    if not _host_is_local(host):
        raise _refuse_lookup("getnameinfo", host)
    return _real_getnameinfo(sockaddr, flags)


def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    host = address[0] if isinstance(address, tuple) and address else address
    if not _host_is_local(host):
        port = address[1] if isinstance(address, tuple) and len(address) > 1 else None
        raise _refuse("create_connection", host=host, destination=f"{host}:{port}")
    return _real_create_connection(address, *args, **kwargs)


def install() -> None:
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[assignment]
    socket.socket.sendmsg = sendmsg  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.gethostbyaddr = gethostbyaddr
    socket.getnameinfo = getnameinfo
    socket.create_connection = create_connection
    _record("guard_loaded", cmdline=_cmdline())


def _chain_shadowed_sitecustomize() -> None:
    """Runs the sitecustomize this file shadows (Debian's apport hook, a venv's own)."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))  # noqa: PTH100, PTH120
    others = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]  # noqa: PTH100
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is None or spec.loader is None or spec.origin == os.path.abspath(__file__):  # noqa: PTH100
        return
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a broken hook must not break the process under test
        print(f"r9 net guard: shadowed sitecustomize failed: {error}", file=sys.stderr)


if __name__ == "sitecustomize":  # imported by a test for its constants, it installs nothing
    install()
    _chain_shadowed_sitecustomize()
