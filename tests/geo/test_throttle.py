"""The sign-in throttle as a pure object, with a clock the test moves."""

from __future__ import annotations

import threading

import pytest

from geo.accounts.throttle import LoginThrottle
from geo.core.errors import TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(throttle: LoginThrottle, account: str, address: str = "ip") -> None:
    with throttle.attempt(account=account, address=address):
        pass


def test_an_account_waits_out_the_window_and_a_success_clears_it() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_account=3, per_address=100, window_s=60, clock=clock)
    for _ in range(3):
        _fail(throttle, "a")
        clock.now += 1
    with pytest.raises(TooManyAttempts) as refused:
        _fail(throttle, "a")
    assert 57 <= refused.value.retry_after_s <= 59
    _fail(throttle, "b")  # other accounts are not locked
    clock.now += 60
    with throttle.attempt(account="a", address="ip") as attempt:
        attempt.ok = True
    for _ in range(2):
        _fail(throttle, "a")
    _fail(throttle, "a")  # two failures since the success: still under three


def test_an_address_spraying_many_accounts_is_stopped() -> None:
    throttle = LoginThrottle(per_account=100, per_address=10, window_s=60, clock=Clock())
    for k in range(10):
        _fail(throttle, f"user{k}", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        _fail(throttle, "user99", "10.9.9.9")
    _fail(throttle, "user99", "10.9.9.10")


def test_concurrent_guesses_count_before_they_are_judged_and_hashes_are_bounded() -> None:
    throttle = LoginThrottle(per_account=100, per_address=2, concurrent=2, wait_s=0.05)
    inside, release = threading.Barrier(3), threading.Event()

    def hold(k: int) -> None:
        with throttle.attempt(account=f"u{k}", address="ip"):
            inside.wait()
            release.wait()

    holders = [threading.Thread(target=hold, args=(k,)) for k in range(2)]
    for holder in holders:
        holder.start()
    inside.wait()
    with pytest.raises(TooManyAttempts):  # two in flight already fill the address's limit
        _fail(throttle, "u8", "ip")
    with pytest.raises(TooManyAttempts) as busy:  # another address: both hashing slots taken
        _fail(throttle, "u9", "other-ip")
    assert busy.value.retry_after_s >= 1
    release.set()
    for holder in holders:
        holder.join()
    with pytest.raises(TooManyAttempts):  # the two judged as failures: still over
        _fail(throttle, "u7", "ip")
