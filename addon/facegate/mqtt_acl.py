"""`facegate mqtt acl`: a mosquitto configuration in which the broker is not open to anyone on
it (R12, deployment).

On an open broker any client read keypad PINs in clear on `#`, replayed them (3 of 3 opened
the door) and published UNLOCK straight to the lock (1 of 1). The files written here close
that: no anonymous clients; three accounts with their own passwords; and an ACL in which

- only the engine may publish to the doors' lock command topics, and to `<prefix>/#` (status,
  access events, alerts), so nobody else can unlock or spoof `facegate/status` or an event;
- only the engine and the keypad bridge (the client that carries keypads and card readers onto
  MQTT, and drives the locks: zigbee2mqtt, say) may read the keypad topics; the bridge alone
  publishes there and reads the lock commands;
- Home Assistant reads `<prefix>/#` and nothing else.

With TLS (a certificate and key for the broker) the listener takes only TLS connections, so
nothing, codes included, crosses the network in clear; the engine checks the broker against
`mqtt.tls_ca`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from facegate.config import Config
from facegate.errors import FacegateError
from facegate.private_files import create_once

# mosquitto 2's password hash ($7$): PBKDF2-SHA512, 101 iterations as mosquitto_passwd does.
_ITERATIONS = 101
_SALT_BYTES = 12
FILES = ("mosquitto.conf", "passwd", "acl", "accounts.txt")


@dataclass(frozen=True, kw_only=True)
class Accounts:
    engine: str
    bridge: str = "bridge"
    home_assistant: str = "homeassistant"

    def names(self) -> tuple[str, str, str]:
        return (self.engine, self.bridge, self.home_assistant)


@dataclass(frozen=True, kw_only=True)
class Listener:
    host: str
    port: int
    certfile: Path | None = None
    keyfile: Path | None = None


def password_hash(password: str, salt: bytes | None = None) -> str:
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return f"$7${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _topic(value: str, what: str) -> str:
    # mosquitto reads the rest of an ACL line as the topic: nothing that could end or bend it.
    if not value or any(c.isspace() or ord(c) < 32 for c in value):
        raise FacegateError(f"{what} {value!r} cannot go into a mosquitto ACL (spaces, controls)")
    return value


def acl_text(config: Config, accounts: Accounts) -> str:
    prefix = _topic(config.mqtt.prefix, "mqtt.prefix")
    locks = sorted(
        {
            _topic(door.lock.command_topic, f"doors.{door.id}.lock.command_topic")
            for door in config.doors.values()
            if door.lock.command_topic is not None
        }
    )
    keypads = sorted(
        {
            _topic(reader.topic, f"doors.{door.id}.credential_inputs.topic")
            for door in config.doors.values()
            for reader in door.credential_inputs
        }
    )
    lines = [
        "# Written by `facegate mqtt acl`. Anything not granted here is denied.",
        "",
        "# The engine: its own topics, the lock commands, the codes typed at the doors.",
        f"user {accounts.engine}",
        f"topic readwrite {prefix}/#",
        *(f"topic write {topic}" for topic in locks),
        *(f"topic read {topic}" for topic in keypads),
        "",
        "# The keypad bridge: publishes the codes, carries the lock commands to the locks.",
        f"user {accounts.bridge}",
        *(f"topic readwrite {topic}" for topic in keypads),
        *(f"topic read {topic}" for topic in locks),
        "",
        "# Home Assistant: reads the engine's status, access events and alerts; writes nothing.",
        f"user {accounts.home_assistant}",
        f"topic read {prefix}/#",
        "",
    ]
    return "\n".join(lines)


def broker_conf(out: Path, listener: Listener) -> str:
    lines = [
        "# Written by `facegate mqtt acl`: use as mosquitto's configuration, or copy these",
        "# lines into it. No anonymous clients; accounts and their rights beside this file.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {out / 'passwd'}",
        f"acl_file {out / 'acl'}",
        f"listener {listener.port} {listener.host}",
    ]
    if listener.certfile is not None and listener.keyfile is not None:
        lines += [
            f"certfile {listener.certfile}",
            f"keyfile {listener.keyfile}",
            "tls_version tlsv1.2",
        ]
    else:
        lines.append(
            "# No TLS: codes typed at the keypads cross the network in clear. Give the broker "
            "a certificate (facegate mqtt acl --tls-cert/--tls-key) unless it is on loopback."
        )
    return "\n".join(lines) + "\n"


def write_broker_files(
    config: Config, out: Path, listener: Listener, accounts: Accounts | None = None
) -> dict[str, str]:
    """Writes mosquitto.conf, passwd, acl and accounts.txt (the passwords in clear, 0600) into
    `out`; refuses to replace any of them. Returns each account's new password."""
    accounts = accounts or Accounts(engine=config.mqtt.username or "facegate")
    if len(set(accounts.names())) != 3 or any(":" in n or not n.strip() for n in accounts.names()):
        raise FacegateError("the engine, bridge and Home Assistant need three distinct user names")
    if (listener.certfile is None) != (listener.keyfile is None):
        raise FacegateError("TLS needs both the broker's certificate and its key")
    existing = [name for name in FILES if (out / name).exists()]
    if existing:
        raise FacegateError(
            f"{out} already holds {', '.join(existing)}: nothing was changed; move them away "
            "to write new accounts (their passwords would change)"
        )
    acl = acl_text(config, accounts)  # checks the topics before anything is written
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out = out.resolve()
    passwords = {name: secrets.token_urlsafe(24) for name in accounts.names()}
    create_once(out / "acl", acl.encode())
    create_once(
        out / "passwd",
        "".join(f"{n}:{password_hash(p)}\n" for n, p in passwords.items()).encode(),
    )
    create_once(
        out / "accounts.txt",
        "".join(f"{n} {p}\n" for n, p in passwords.items()).encode(),
    )
    create_once(out / "mosquitto.conf", broker_conf(out, listener).encode())
    return passwords
