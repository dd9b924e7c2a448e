"""The job queue: procrastinate's app, its tasks, and the worker that runs them.

Jobs live in PostgreSQL (procrastinate's tables, installed by a migration), so deferring one
commits or rolls back with the change that causes it, any number of workers on any number of
machines share them, and a job whose worker died is run again by another.

- ``compute_plan`` (queue ``plans``): a queued plan, computed and stored. Its lock is the
  tenant and day, so two plans of the same day never run at once. A worker that stops
  mid-plan stops sending heartbeats; ``retry_stalled`` (every minute, and whenever a worker
  starts) puts its job back in the queue, and the plan is computed again: storing is one
  transaction, so nothing half-stored is left, and a plan already stored is not redone.
- ``plan_tomorrow`` (queue ``maintenance``), every hour: the next day's plan for tenants that
  set ``plan_tomorrow_hour``, at that hour of their zone.
- ``alerts`` (queue ``maintenance``), every minute: each tenant's alert rules
  (:mod:`geo.alerts.rules`) at that minute.
- ``send_email`` (queue ``mail``): one outbox message, deferred with it
  (:func:`geo.visits.mail.queue_emails`); ``deliver_mail``, every minute, retries the ones that
  failed once their back-off is over (:func:`geo.visits.mail.deliver_due`).
- ``gps_partitions`` and ``gps_prune`` (queue ``maintenance``), every night: GPS partitions
  ahead, and whole months past retention dropped (as ``campo gps partitions|prune`` do).

A worker process runs two procrastinate workers: one takes plans, one at a time (planning is
CPU-bound and a 2,000-case plan peaks near 800 MiB, so two plans in one process could exhaust
a small machine), the other takes everything else several at a time, so e-mails and schedules
go on while a plan computes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta

import procrastinate
import procrastinate.app
import procrastinate.manager
from sqlalchemy import text

from geo.alerts.rules import evaluate_alerts
from geo.contacts.ledger import closed_day
from geo.core.db import libpq_url, owner_session, tenant_session
from geo.core.settings import get_settings
from geo.core.tenant_settings import tenant_settings
from geo.routing.jobs import PLAN_QUEUE, PLAN_TASK, create_plan, list_plans, run_plan
from geo.tracking.partitions import ensure_gps_partitions, prune_gps_partitions
from geo.visits.mail import MAIL_QUEUE, MAIL_TASK, deliver_due, deliver_message

log = logging.getLogger(__name__)
MAINTENANCE_QUEUE = "maintenance"
OTHER_QUEUES = (MAIL_QUEUE, MAINTENANCE_QUEUE)
"""Every queue but plans'."""

app = procrastinate.App(connector=procrastinate.PsycopgConnector())
"""Tasks register here; :func:`run_worker` connects it to the database of the settings."""


@app.task(name=PLAN_TASK, queue=PLAN_QUEUE)
def compute_plan(tenant_id: int, plan_id: int) -> None:
    """Compute and store a queued plan; failures are recorded on the plan itself."""
    run_plan(tenant_id, plan_id)


@app.task(name=MAIL_TASK, queue=MAIL_QUEUE)
def send_email(tenant_id: int, message_id: int) -> bool | None:
    """Send one outbox message unless it is sent already or another worker has it."""
    return deliver_message(tenant_id=tenant_id, message_id=message_id)


MAIL_PER_RUN = 10_000
"""E-mails one run may retry: everything due, in practice; the next minute takes the rest."""


@app.periodic(cron="* * * * *", periodic_id="deliver_mail")
@app.task(name="deliver_mail", queue=MAIL_QUEUE)
def deliver_mail(timestamp: int) -> int:
    """Every minute: the e-mails due again go out (the outbox keeps each message, its attempts
    and its back-off; an unsendable one is recorded and the next goes on)."""
    del timestamp
    return deliver_due(limit=MAIL_PER_RUN).sent


SCHEDULED_BUDGET_S = 60.0
"""Search time of a plan the schedule asks for."""


@app.periodic(cron="5 * * * *", periodic_id="plan_tomorrow")
@app.task(name="plan_tomorrow", queue=MAINTENANCE_QUEUE)
def plan_tomorrow(timestamp: int) -> int:
    """Every hour: tenants whose ``plan_tomorrow_hour`` it is, in their own zone, get the next
    day planned (queued, like a dispatcher's), unless a plan for it is already there or on its
    way. Returns how many plans were queued."""
    at = datetime.fromtimestamp(timestamp, UTC)
    queued = 0
    for tenant_id in _tenant_ids():
        with tenant_session(tenant_id) as session:
            settings = tenant_settings(session, tenant_id)
            local = at.astimezone(settings.zone)
            if settings.plan_tomorrow_hour != local.hour:
                continue
            tomorrow = local.date() + timedelta(days=1)
            plans = list_plans(session, tenant_id=tenant_id, day=tomorrow)
            if any(p.status != "failed" for p in plans):
                continue
            if closed_day(session, tenant_id=tenant_id, day=tomorrow) is not None:
                continue  # a Sunday or a holiday: no collection visits
            create_plan(session, tenant_id=tenant_id, day=tomorrow, budget_s=SCHEDULED_BUDGET_S)
            queued += 1
    return queued


def _tenant_ids() -> list[int]:
    with owner_session() as session:
        return list(session.scalars(text("SELECT id FROM tenants ORDER BY id")))


@app.periodic(cron="* * * * *", periodic_id="alerts")
@app.task(name="alerts", queue=MAINTENANCE_QUEUE)
def alerts(timestamp: int) -> int:
    """Every minute, for every tenant: the alert rules at that minute; returns how many
    alerts were raised."""
    at = datetime.fromtimestamp(timestamp, UTC)
    raised = 0
    for tenant_id in _tenant_ids():
        with tenant_session(tenant_id) as session:
            raised += len(evaluate_alerts(session, tenant_id=tenant_id, now=at).raised)
    return raised


@app.periodic(cron="17 3 * * *", periodic_id="gps_partitions")
@app.task(name="gps_partitions", queue=MAINTENANCE_QUEUE)
def gps_partitions(timestamp: int) -> int:
    """Every night: the GPS partitions of the next three months exist before any fix needs
    them (the API also makes sure at start, but a server may run for months)."""
    del timestamp
    with owner_session() as session:
        return ensure_gps_partitions(session, months_back=0, months_ahead=3)


@app.periodic(cron="37 3 * * *", periodic_id="gps_prune")
@app.task(name="gps_prune", queue=MAINTENANCE_QUEUE)
def gps_prune(timestamp: int) -> list[str]:
    """Every night: whole months of GPS past ``CAMPO_GPS_RETENTION_DAYS`` are dropped."""
    del timestamp
    with owner_session() as session:
        dropped = prune_gps_partitions(session, keep_days=get_settings().gps_retention_days)
    return [p.name for p in dropped]


@app.periodic(cron="* * * * *", periodic_id="retry_stalled")
@app.task(name="retry_stalled", queue=MAINTENANCE_QUEUE, pass_context=True)
async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every minute, and when a worker starts: jobs whose worker stopped sending heartbeats
    (killed, or its machine gone) go back in the queue for another worker."""
    del timestamp  # the tick it was scheduled for; each run looks at the queue as it is now
    await _requeue_stalled(context.app.job_manager)


async def _requeue_stalled(manager: procrastinate.manager.JobManager) -> None:
    stalled_after = get_settings().job_stalled_after_s
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
        await manager.retry_job(job)


def run_worker(*, concurrency: int = 4) -> None:
    """Run a worker until SIGINT/SIGTERM: plans one at a time, other jobs ``concurrency`` at
    a time (start more workers, here or on other machines, for more plans at once)."""
    stalled_after = get_settings().job_stalled_after_s
    # As the application role: row-level security applies to the tenant data tasks touch.
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(get_settings().app_url))

    async def work() -> None:
        async with app.open_async():
            await _requeue_stalled(app.job_manager)

            def worker(name: str, queues: list[str], at_once: int) -> asyncio.Task[None]:
                options: procrastinate.app.WorkerOptions = {
                    "name": name,
                    "queues": queues,
                    "concurrency": at_once,
                    "update_heartbeat_interval": stalled_after / 3,
                    "stalled_worker_timeout": stalled_after,
                    "install_signal_handlers": False,  # one handler below stops both
                }
                return asyncio.create_task(app.run_worker_async(**options))

            workers = [
                worker("plans", [PLAN_QUEUE], 1),
                worker("jobs", list(OTHER_QUEUES), concurrency),
            ]
            loop = asyncio.get_running_loop()

            def stop() -> None:
                # Cancelling a worker stops it gracefully: running jobs finish first. A second
                # signal is not caught any more, and ends the process at once.
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
                for task in workers:
                    task.cancel()

            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop)
            await asyncio.gather(*workers, return_exceptions=True)

    with app.replace_connector(connector):
        asyncio.run(work())
