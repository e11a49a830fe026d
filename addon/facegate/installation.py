"""The installation's identity: one id per data directory, kept for as long as the data is.

Home Assistant uses it as the config entry's unique id, so the same engine found again (by
hand, by add-on discovery, after a restart or a new address) is recognised instead of being
added twice. It is not a secret, but it lives beside the keys with the same mode 0600.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from facegate.errors import FacegateError
from facegate.private_files import create_once, read_private

INSTALLATION_ID_NAME = "installation.id"
_ID = re.compile(r"^[0-9a-f]{32}$")


def installation_id_path(data_dir: Path) -> Path:
    return data_dir / INSTALLATION_ID_NAME


def load_or_create_installation_id(data_dir: Path) -> str:
    """The id in `<data_dir>/installation.id` (uuid4 hex), created on first use.

    Two processes starting at once agree on one id (see facegate.private_files).
    """
    path = installation_id_path(data_dir)
    create_once(path, (uuid.uuid4().hex + "\n").encode("ascii"))
    installation_id = read_private(path, "installation id file").decode("ascii", "replace").strip()
    if not _ID.match(installation_id):
        # Never replaced silently: a new id would make Home Assistant see a new engine.
        raise FacegateError(
            f"installation id file {path} does not hold an id (32 hex digits); restore it from "
            "a backup, or delete it to start as a new installation"
        )
    return installation_id
