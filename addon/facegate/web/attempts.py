"""Failed attempts from one source, counted over a sliding window: past the limit the source is
refused until its oldest failure leaves the window. Held in memory: a restart forgives, which
costs an attacker a restart they cannot cause from a page."""

from __future__ import annotations

import time
from collections import deque


class Attempts:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}

    def failed(self, source: str) -> None:
        self._seen.setdefault(source, deque(maxlen=self.limit)).append(time.monotonic())

    def refused(self, source: str) -> bool:
        """Whether `source` has used up its attempts for now."""
        seen = self._seen.get(source)
        if seen is None:
            return False
        if len(seen) == self.limit and time.monotonic() - seen[0] < self.window_s:
            return True
        while seen and time.monotonic() - seen[0] >= self.window_s:
            seen.popleft()
        if not seen:
            del self._seen[source]
        return False

    def forgive(self, source: str) -> None:
        self._seen.pop(source, None)
