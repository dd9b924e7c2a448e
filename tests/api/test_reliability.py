"""The sync contract against a real server process: concurrent senders, and a crash mid-batch.

The server is ``uvicorn`` in its own process, on loopback, talking to the test database; the
test kills it with SIGKILL while a batch is inside its INSERT, restarts it, and retries.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import psycopg
import pytest

from geo.core.db import libpq_url
from tests.conftest import OWNER_URL, World
from tests.gps import app_fix, on_shift, stored_fixes
from tests.server import Server


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    running.stop()


def _post(server: Server, world: World, fixes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = httpx2.post(
        f"{server.url}/v1/me/sync", json={"fixes": fixes}, headers=world.auth("agent"), timeout=60
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["fixes"])


def test_two_connections_interleaving_overlapping_batches(server: Server, world: World) -> None:
    fixes = [app_fix(on_shift(minute=m % 400), lat=4.6 + m * 1e-5) for m in range(2000)]
    mine, theirs = random.Random(1).sample(fixes, 2000), random.Random(2).sample(fixes, 2000)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def send(order: list[dict[str, Any]], size: int) -> None:
        for k in range(0, len(order), size):
            results = _post(server, world, order[k : k + size])
            with lock:
                statuses.update(r["status"] for r in results)

    senders = [
        threading.Thread(target=send, args=(mine, 250)),
        threading.Thread(target=send, args=(theirs, 400)),
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert statuses == {"stored": 2000, "duplicate": 2000}
    stored = stored_fixes(world.tenant_id)
    assert len(stored) == 2000
    assert {str(f["id"]) for f in stored} == {f["id"] for f in fixes}


def _backend_waiting_on_our_lock(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'campo_app' "
        "AND query LIKE '%INSERT INTO gps_fixes%' AND wait_event_type = 'Lock'"
    ).fetchone()
    return bool(row and row[0])


def test_server_killed_mid_batch_then_retried(server: Server, world: World) -> None:
    first = [app_fix(on_shift(minute=m % 400), lon=-74.1 + m * 1e-5) for m in range(2500)]
    second = [app_fix(on_shift(days_ago=2, minute=m % 400)) for m in range(2500)]
    assert {r["status"] for r in _post(server, world, first)} == {"stored"}

    # Hold one key of the second batch in an open transaction, so the server's INSERT is
    # provably in flight (waiting on it) when the process dies.
    blocker = psycopg.connect(libpq_url(OWNER_URL))
    held = second[1234]
    blocker.execute(
        "INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point) "
        "VALUES (%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(-74, 4.6), 4326))",
        (world.tenant_id, world.agent_id, held["id"], held["recorded_at"]),
    )
    failure: list[BaseException] = []

    def doomed() -> None:
        try:
            _post(server, world, second)
        except BaseException as exc:
            failure.append(exc)

    sender = threading.Thread(target=doomed)
    sender.start()
    with psycopg.connect(libpq_url(OWNER_URL), autocommit=True) as watcher:
        deadline = time.monotonic() + 30
        while not _backend_waiting_on_our_lock(watcher):
            assert time.monotonic() < deadline, "the batch never reached its INSERT"
            time.sleep(0.02)
    server.kill()
    sender.join(timeout=30)
    assert failure
    assert isinstance(failure[0], httpx2.TransportError)
    blocker.rollback()
    blocker.close()
    assert len(stored_fixes(world.tenant_id)) == 2500  # the killed batch left nothing behind

    server.start()
    retry = _post(server, world, first + second)  # the phone resends everything it holds
    assert Counter(r["status"] for r in retry) == {"duplicate": 2500, "stored": 2500}
    stored = stored_fixes(world.tenant_id)
    assert len(stored) == 5000
    assert len({f["id"] for f in stored}) == 5000
