"""Whether a recognised person, or the holder of a presented code, may pass this door now:
their access groups, the validity of the person and of the credential (from / until, uses,
weekly hours). One check for the face and for every credential (R5), at decision time, so a
code that expired while the engine ran is refused without a restart.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from facegate.errors import TamperError
from facegate.identity.store import IdentityStore
from facegate.vocabulary import Reason

_LOGGER = logging.getLogger("facegate.access")


class Admission:
    def __init__(
        self,
        store: IdentityStore,
        zone: dt.tzinfo | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._zone = zone
        self._clock = clock

    def refusal(
        self, person_id: str, door_id: str, credential_id: str | None = None
    ) -> Reason | None:
        """Why not (a denial's reason), or None: then one use was taken, to be given back
        with `give_back` if the door does not open after all."""
        try:
            return self._store.admit(
                person_id,
                door_id,
                credential_id=credential_id,
                now=self._clock(),
                zone=self._zone,
            )
        except TamperError as error:
            _LOGGER.error("door %s: %s", door_id, error)
            return "tampered"

    def settle(self, granted: bool, person_id: str, credential_id: str | None = None) -> None:
        """After the lock was told (or not): a grant that did not open the door (stale, lock
        offline) gives its use back."""
        if not granted:
            self._store.give_back(person_id, credential_id)
