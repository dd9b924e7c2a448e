"""Payments import at scale beside a raw COPY of the same rows.

A creditor's monthly payments file can hold hundreds of thousands of rows. campo reads it
(encoding, separator, amounts), validates every row, resolves the case references and stores
the payments with ``ON CONFLICT DO NOTHING``; the baseline is PostgreSQL's ``COPY`` of the
already-resolved rows into the same table, the least any import can cost.

Run: ``.venv/bin/python -m bench.imports --rows 300000``
"""

from __future__ import annotations

import argparse
import io
import random
import time
from datetime import date, timedelta

import psycopg

from bench.common import fresh_database
from geo.core.db import libpq_url, owner_session, tenant_session
from geo.portfolio.imports import import_cases
from geo.portfolio.payments import import_payments
from geo.provisioning.tenants import create_tenant

HEADER = (
    "external_ref,document_type,document_number,full_name,product,outstanding_cop,"
    "days_past_due,address,city,lat,lon\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--cases", type=int, default=20_000)
    args = parser.parse_args()
    owner, _app = fresh_database()
    with owner_session() as session:
        tenant_id = create_tenant(session, slug="bench", name="Bench").id
    cases = "".join(
        f"B-{k},CC,{k},Deudor {k},libranza,1000000,40,Calle {k % 90 + 1} # 1-1,Bogotá,4.6,-74.1\n"
        for k in range(args.cases)
    )
    with tenant_session(tenant_id) as session:
        import_cases(session, tenant_id=tenant_id, source=HEADER + cases)
    rng = random.Random(7)
    start_day = date(2026, 1, 1)
    rows = [
        (f"B-{rng.randrange(args.cases)}", start_day + timedelta(days=k % 300), 1000 + k)
        for k in range(args.rows)
    ]
    text = "case_ref;paid_on;amount_cop\n" + "".join(
        f"{ref};{day.isoformat()};{amount}\n" for ref, day, amount in rows
    )
    data = text.encode("cp1252")
    began = time.perf_counter()
    with tenant_session(tenant_id) as session:
        report = import_payments(session, tenant_id=tenant_id, source=data)
    campo_s = time.perf_counter() - began
    assert report.stored == args.rows, (report.stored, report.errors[:3])
    with psycopg.connect(libpq_url(owner)) as conn:
        found = conn.execute(
            "SELECT external_ref, id FROM cases WHERE tenant_id = %s", (tenant_id,)
        )
        ids: dict[str, int] = {ref: case_id for ref, case_id in found}
        conn.execute("DELETE FROM payments")
        copy_rows = io.StringIO("".join(f"{tenant_id}\t{ids[r]}\t{d}\t{a}\t\n" for r, d, a in rows))
        began = time.perf_counter()
        with conn.cursor().copy(
            "COPY payments (tenant_id, case_id, paid_on, amount_cop, reference) FROM STDIN"
        ) as copy:
            copy.write(copy_rows.getvalue())
        conn.commit()
        copy_s = time.perf_counter() - began
    print(f"payments import: {args.rows:,} rows, {args.cases:,} cases")
    print(f"  campo import_payments   {campo_s:7.2f} s   {args.rows / campo_s:10,.0f} rows/s")
    print(f"  raw COPY (resolved ids) {copy_s:7.2f} s   {args.rows / copy_s:10,.0f} rows/s")
    print(f"  ratio                   {campo_s / copy_s:7.1f}x")


if __name__ == "__main__":
    main()
