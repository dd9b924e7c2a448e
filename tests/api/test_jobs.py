"""Plans on the job queue: a worker killed in the middle of a plan, and another one finishing it."""

from __future__ import annotations

import os
import signal
import time

import psycopg
from fastapi.testclient import TestClient

from geo.core.db import libpq_url
from tests.conftest import OWNER_URL, World, start_worker, stop


def _job_status(conn: psycopg.Connection, plan_id: int) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT status::text, attempts FROM procrastinate_jobs "
        "WHERE task_name = 'compute_plan' AND (args->>'plan_id')::bigint = %s",
        (plan_id,),
    ).fetchall()
    return [(str(status), int(attempts)) for status, attempts in rows]


def _until(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_plan_whose_worker_dies_is_finished_by_another_once(
    client: TestClient, aguascalientes: World
) -> None:
    world = aguascalientes
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 2}, headers=world.auth("dispatcher")
    ).json()
    plan_id = made["id"]
    with psycopg.connect(libpq_url(OWNER_URL), autocommit=True) as watch:
        assert _job_status(watch, plan_id) == [("todo", 0)]  # queued with the plan
        # Hold the plan's row, so the first worker is caught inside the job, deterministically.
        holder = psycopg.connect(libpq_url(OWNER_URL))
        holder.execute("SELECT 1 FROM plans WHERE id = %s FOR UPDATE", (plan_id,))
        first = start_worker()
        try:
            _until(lambda: _job_status(watch, plan_id) == [("doing", 0)], 60)
            time.sleep(0.5)  # the job is now waiting on the row, mid-plan
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
        finally:
            holder.rollback()
            holder.close()
        time.sleep(4)  # past CAMPO_JOB_STALLED_AFTER_S=3: its heartbeats have stopped
        second = start_worker()
        try:
            _until(lambda: _job_status(watch, plan_id)[0][0] == "succeeded", 90)
        finally:
            stop(second)
        plan = client.get(f"/v1/plans/{plan_id}", headers=world.auth("dispatcher")).json()
        assert plan["status"] == "done", plan["message"]
        assert _job_status(watch, plan_id) == [("succeeded", 2)]  # one job, two attempts
        routes = watch.execute(
            "SELECT count(*) FROM plan_routes WHERE plan_id = %s", (plan_id,)
        ).fetchone()
        assert routes == (plan["stats"]["routes"],)


def test_a_tenant_that_queues_many_plans_waits_behind_its_own(
    client: TestClient, world: World, other_world: World
) -> None:
    """Three plans from one tenant, then one from another: with one worker, the other
    tenant's plan runs second, not fourth."""

    def post(w: World, day: str) -> int:
        answer = client.post(
            "/v1/plans", json={"date": day, "budget_s": 1}, headers=w.auth("dispatcher")
        )
        assert answer.status_code == 202, answer.text
        return int(answer.json()["id"])

    busy = [post(world, day) for day in ("2026-11-24", "2026-11-25", "2026-11-26")]
    late = post(other_world, "2026-11-24")
    only = start_worker()
    try:
        with psycopg.connect(libpq_url(OWNER_URL), autocommit=True) as watch:

            def finished() -> list[int]:
                rows = watch.execute(
                    "SELECT id FROM plans WHERE status IN ('done', 'failed') "
                    "ORDER BY finished_at, id"
                ).fetchall()
                return [int(plan_id) for (plan_id,) in rows]

            _until(lambda: len(finished()) == 4, 120)
            assert finished() == [busy[0], late, busy[1], busy[2]]
    finally:
        stop(only)


def test_a_cancelled_plan_is_never_computed_and_a_finished_one_cannot_be(
    client: TestClient, world: World, other_world: World
) -> None:
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    ).json()
    cancel = f"/v1/plans/{made['id']}/cancel"
    assert client.post(cancel, headers=other_world.auth("dispatcher")).status_code == 404
    assert client.post(cancel, headers=world.auth("agent")).status_code == 403
    answer = client.post(cancel, headers=world.auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["message"]) == (
        "failed",
        "cancelado por el despacho",
    )
    only = start_worker()
    try:
        with psycopg.connect(libpq_url(OWNER_URL), autocommit=True) as watch:
            _until(lambda: _job_status(watch, made["id"]) == [("succeeded", 1)], 60)
            routes = watch.execute(
                "SELECT count(*) FROM plan_routes WHERE plan_id = %s", (made["id"],)
            ).fetchone()
    finally:
        stop(only)
    assert routes == (0,)
    again = client.post(cancel, headers=world.auth("dispatcher"))
    assert again.status_code == 409
    assert again.json()["error"]["fields"][0]["field"] == "plan_id"
