"""Sign-in throttling: failed attempts per account and per client address, and a cap on the
password hashes computed at once.

Each Argon2 check costs its memory (64 MiB by default), so a flood of wrong passwords is a
denial of service as much as a guessing attack. Failures are counted in a sliding window;
past the limit an account (or an address) waits, told how long, before it may try again. A
success clears the account's count. Counters live in the process: behind N server workers an
attacker gets at most N times the limit, still far from a guessing attack, and nothing is
written to the database for a request nobody is signed in for.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from geo.core.errors import TooManyAttempts


@dataclass
class LoginThrottle:
    """Limits over a window of ``window_s`` seconds; ``clock`` is injectable for tests."""

    per_account: int = 5
    per_address: int = 30
    window_s: float = 900.0
    concurrent: int = 4
    wait_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrent)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def check(self, *, account: str, address: str) -> None:
        """Refuse before any hashing when the account or the address is over its limit."""
        now = self.clock()
        with self._lock:
            for key, limit in (
                (f"a:{account}", self.per_account),
                (f"ip:{address}", self.per_address),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = times[len(times) - limit] + self.window_s - now
                    raise TooManyAttempts(max(1, int(wait) + 1))

    def failed(self, *, account: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"a:{account}", f"ip:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, *, account: str) -> None:
        with self._lock:
            self._failures.pop(f"a:{account}", None)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """One of ``concurrent`` slots for a password check, or a refusal to come back soon."""
        if not self._slots.acquire(timeout=self.wait_s):
            raise TooManyAttempts(int(self.wait_s))
        try:
            yield
        finally:
            self._slots.release()
