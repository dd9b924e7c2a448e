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


def test_an_account_waits_out_the_window_and_a_success_clears_it() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_account=3, per_address=100, window_s=60, clock=clock)
    for _ in range(3):
        throttle.check(account="a", address="ip")
        throttle.failed(account="a", address="ip")
        clock.now += 1
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check(account="a", address="ip")
    assert 57 <= refused.value.retry_after_s <= 59
    throttle.check(account="b", address="ip")  # other accounts are not locked
    clock.now += 60
    throttle.check(account="a", address="ip")
    throttle.failed(account="a", address="ip")
    throttle.succeeded(account="a")
    for _ in range(2):
        throttle.failed(account="a", address="ip")
    throttle.check(account="a", address="ip")


def test_an_address_spraying_many_accounts_is_stopped() -> None:
    throttle = LoginThrottle(per_account=100, per_address=10, window_s=60, clock=Clock())
    for k in range(10):
        throttle.failed(account=f"user{k}", address="10.9.9.9")
    with pytest.raises(TooManyAttempts):
        throttle.check(account="user99", address="10.9.9.9")
    throttle.check(account="user99", address="10.9.9.10")


def test_hashes_at_once_are_bounded() -> None:
    throttle = LoginThrottle(concurrent=2, wait_s=0.05)
    inside, release = threading.Barrier(3), threading.Event()

    def hold() -> None:
        with throttle.hashing():
            inside.wait()
            release.wait()

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for holder in holders:
        holder.start()
    inside.wait()
    with pytest.raises(TooManyAttempts), throttle.hashing():
        pass
    release.set()
    for holder in holders:
        holder.join()
    with throttle.hashing():
        pass
