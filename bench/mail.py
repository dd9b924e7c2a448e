"""10,000 e-mail jobs through two job workers into a real SMTP server, beside a bare loop.

A tenant gets 10,000 alerts and, in one transaction, their messages and ``send_email`` jobs
(:func:`geo.visits.mail.queue_emails`, as the alert rules write them). Two ``campo worker``
processes, started and idle beforehand, work the queue into an SMTP server on loopback
(aiosmtpd, counting what arrives) until every message is sent. The baseline, in the same run
and into the same server: the same number of ready-made messages of the same size sent by a
bare ``smtplib`` loop in one process, one connection per message as campo opens them; it reads
no database and renders nothing.

Run: ``.venv/bin/python -m bench.mail [--messages 10000] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import socket
import time
from contextlib import ExitStack
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import text

from bench.common import fresh_database, job_worker
from geo.core.db import owner_session, tenant_session
from geo.provisioning.tenants import create_tenant
from geo.visits.mail import queue_emails


class Sink:
    """Counts the messages an SMTP server on loopback receives."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:  # noqa: N802
        self.received += 1
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(messages: int) -> int:
    with owner_session() as session:
        tenant_id = create_tenant(session, slug="correo", name="Cartera Correo").id
    with tenant_session(tenant_id) as session:
        session.execute(
            text(
                "UPDATE tenants SET settings = settings || "
                '\'{"alert_emails": ["jefe@correo.co"]}\' WHERE id = :t'
            ),
            {"t": tenant_id},
        )
        session.execute(
            text(
                "INSERT INTO alerts (tenant_id, rule, subject, message) "
                "SELECT :t, 'low_battery', 'agent:' || i, "
                "'La batería del gestor G' || i || ' está al 9 %' "
                "FROM generate_series(1, :n) AS i"
            ),
            {"t": tenant_id, "n": messages},
        )
    return tenant_id


def _queue(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session:
        ids = list(session.scalars(text("SELECT id FROM alerts ORDER BY id")))
        queue_emails(
            session,
            tenant_id=tenant_id,
            kind="alert",
            recipients=["jefe@correo.co"],
            alert_ids=ids,
        )


def _sent() -> int:
    with owner_session() as session:
        return int(session.scalar(text("SELECT count(*) FROM outbox WHERE status = 'sent'")) or 0)


def _bare(port: int, messages: int, body: str) -> None:
    for i in range(messages):
        message = EmailMessage()
        message["Subject"] = f"campo · Batería baja: La batería del gestor G{i} está al 9 %"
        message["From"] = "campo <avisos@campo.test>"
        message["To"] = "jefe@correo.co"
        message.set_content(body)
        message.add_alternative(f"<p>{body}</p>", subtype="html")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    fresh_database()
    tenant_id = _seed(args.messages)
    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {"CAMPO_SMTP_HOST": "127.0.0.1", "CAMPO_SMTP_PORT": str(port)}
        with ExitStack() as stack:
            for _ in range(args.workers):
                stack.enter_context(job_worker(**env))
            time.sleep(8)  # imported, connected, and waiting for work
            began = time.perf_counter()
            _queue(tenant_id)
            while _sent() < args.messages:
                time.sleep(0.2)
            campo_s = time.perf_counter() - began
        received = sink.received
        body = "La batería del gestor G1 está al 9 %\n\nDesde: 2026-11-29 12:00\nCartera: Correo\n"
        bare = multiprocessing.Process(target=_bare, args=(port, args.messages, body))
        began = time.perf_counter()
        bare.start()
        bare.join()
        bare_s = time.perf_counter() - began
    finally:
        controller.stop()
    assert received == args.messages, (received, args.messages)
    campo_rate, bare_rate = args.messages / campo_s, args.messages / bare_s
    print(f"{args.messages:,} e-mails, {args.workers} workers: {campo_s:.1f} s")
    print(f"  campo (jobs, outbox, render, SMTP): {campo_rate:,.0f} e-mails/s")
    print(f"  bare smtplib loop, one process:     {bare_rate:,.0f} e-mails/s")
    print(f"  ratio: {campo_rate / bare_rate:.2f}x of the bare loop's throughput")


if __name__ == "__main__":
    main()
