"""Peak memory of a job worker planning the demo's day, per 1,000 cases.

A fresh bench database gets the demo tenant (2,000 cases, 20 agents in three travel modes);
``campo worker`` starts in its own process, the day is queued as a dispatcher would queue it,
and the worker's peak resident memory (``VmHWM`` in ``/proc``) is read once the plan is done,
beside the same worker's memory before it took the job.

Run: ``.venv/bin/python -m bench.worker_memory [--budget 30]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.common import fresh_database, job_worker
from geo.accounts.users import tenant_by_slug
from geo.contacts.rules import next_contact_day
from geo.core.db import owner_session, tenant_session
from geo.core.tenant_settings import tenant_settings
from geo.demo.portfolio import DEMO_SLUG, seed
from geo.routing.jobs import create_plan, get_plan


def _memory_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=30)
    args = parser.parse_args()
    fresh_database()
    seed()
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, DEMO_SLUG).id
        cases = int(
            session.execute(
                text("SELECT count(*) FROM cases WHERE tenant_id = :t"), {"t": tenant_id}
            ).scalar_one()
        )
    with job_worker() as pid:
        time.sleep(5)  # imported and waiting for work
        idle = _memory_mib(pid, "VmRSS")
        with tenant_session(tenant_id) as session:
            plan = create_plan(
                session,
                tenant_id=tenant_id,
                day=next_contact_day(
                    date.today() + timedelta(days=1),
                    settings=tenant_settings(session, tenant_id),
                    step=1,
                ),
                budget_s=args.budget,
            )
        began = time.perf_counter()
        while True:
            with tenant_session(tenant_id) as session:
                status = get_plan(session, tenant_id=tenant_id, plan_id=plan.id).status
            if status in ("done", "failed"):
                break
            time.sleep(0.5)
        took = time.perf_counter() - began
        peak = _memory_mib(pid, "VmHWM")
    print(
        f"worker planning {cases:,} cases ({status} in {took:.0f} s): idle {idle:.0f} MiB, "
        f"peak {peak:.0f} MiB, {(peak - idle) / cases * 1000:.0f} MiB per 1,000 cases "
        "above idle"
    )


if __name__ == "__main__":
    main()
