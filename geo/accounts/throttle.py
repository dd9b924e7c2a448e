"""Sign-in throttling: failed attempts per account and per client address, and a cap on the
password hashes computed at once.

Each Argon2 check costs its memory (64 MiB by default), so a flood of wrong passwords is a
denial of service as much as a guessing attack. Failures are counted in a sliding window,
and attempts still being checked count as failures until they succeed, so a burst of
concurrent guesses cannot slip past the limit before the first of them is judged. Past the
limit an account (or an address) waits, told how long. A success clears the account's
count. Counters live in the process: behind N server workers an attacker gets at most N
times the limit, still far from a guessing attack, and nothing is written to the database
for a request nobody is signed in for.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from geo.core.errors import TooManyAttempts


@dataclass
class Attempt:
    """Set ``ok`` when the password matched an active account."""

    ok: bool = False


@dataclass
class LoginThrottle:
    """Limits over a window of ``window_s`` seconds; ``clock`` is injectable for tests."""

    per_account: int = 5
    per_address: int = 30
    window_s: float = 900.0
    concurrent: int = max(1, (os.cpu_count() or 2) // 2)
    """Hashes at once: half the cores, so signing in never starves the rest of the API."""
    wait_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _pending: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrent)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _admit(self, keys: dict[str, int]) -> None:
        now = self.clock()
        with self._lock:
            for key, limit in keys.items():
                times = self._recent(key, now)
                if len(times) + self._pending[key] >= limit:
                    oldest = times[max(0, len(times) - limit)] if times else now
                    raise TooManyAttempts(max(1, int(oldest + self.window_s - now) + 1))
            self._pending.update(keys.keys())

    def _settle(self, keys: dict[str, int], account_key: str, ok: bool) -> None:
        now = self.clock()
        with self._lock:
            self._pending.subtract(keys.keys())
            if ok:
                self._failures.pop(account_key, None)
            else:
                for key in keys:
                    self._recent(key, now).append(now)

    @contextmanager
    def attempt(self, *, account: str, address: str) -> Iterator[Attempt]:
        """Admit one sign-in (or refuse it before any hashing), hold one of the hashing
        slots while it is checked, and count it as a failure unless it ends ``ok``."""
        keys = {f"a:{account}": self.per_account, f"ip:{address}": self.per_address}
        self._admit(keys)
        outcome = Attempt()
        try:
            if not self._slots.acquire(timeout=self.wait_s):
                raise TooManyAttempts(max(1, int(self.wait_s)))
            try:
                yield outcome
            finally:
                self._slots.release()
        finally:
            self._settle(keys, f"a:{account}", outcome.ok)
