"""Login throttling: failed sign-ins per key (a user name, a client id, a client address) in a sliding
window, kept in this server process's memory.

It slows guessing down; it is not the lockout (``podium.domain.account``), which is stored in the
database and so holds across every server process. With N server processes an address gets up to N
times the limit per window: the throttle is per process on purpose (no write per attempt, nothing
shared to clean up). An attempt is counted *before* the credentials are checked and given back when
they turn out good, so a burst of parallel guesses is held at the limit too, and good sign-ins never
use up anything.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence

Key = Hashable


class LoginThrottle:
    """Attempt times per key, each key limited to ``limit`` attempts in the last ``window`` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._attempts: dict[Key, deque[float]] = {}

    def take(self, limits: Sequence[tuple[Key, int]], window: float) -> int | None:
        """Counts one attempt against every key whose limit is not 0, or, when one of them already has
        ``limit`` attempts in the window, none: then the seconds until it may be tried again."""
        now = self.clock()
        wait = 0.0
        for key, limit in limits:
            if limit <= 0:
                continue
            times = self._recent(key, now, window)
            if times is not None and len(times) >= limit:
                wait = max(wait, times[-limit] + window - now)
        if wait > 0:
            return max(1, math.ceil(wait))
        if len(self._attempts) >= self.max_keys:
            self._forget_old(now, window)
        for key, limit in limits:
            if limit > 0:
                self._attempts.setdefault(key, deque()).append(now)
        return None

    def give_back(self, limits: Sequence[tuple[Key, int]]) -> None:
        """Uncounts the attempt :meth:`take` counted (the credentials were good)."""
        for key, limit in limits:
            times = self._attempts.get(key)
            if limit > 0 and times:
                times.pop()
                if not times:
                    del self._attempts[key]

    def _recent(self, key: Key, now: float, window: float) -> deque[float] | None:
        times = self._attempts.get(key)
        if times is None:
            return None
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self._attempts[key]
            return None
        return times

    def _forget_old(self, now: float, window: float) -> None:
        """Full: keys with no attempt in the window go; if that is not enough, the oldest half (a flood
        of made-up names must not grow memory without end)."""
        for key in [k for k, times in self._attempts.items() if times[-1] <= now - window]:
            del self._attempts[key]
        if len(self._attempts) >= self.max_keys:
            for key in list(self._attempts)[: len(self._attempts) // 2]:
                del self._attempts[key]
