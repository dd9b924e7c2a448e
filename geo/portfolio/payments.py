"""Import payments (case reference, day, amount) from the creditor's CSV files.

Payments are what promises are matched against and what the recovery rate counts. Errors are
reported as the case import reports them (line, column, reason), the good rows are written in
the caller's transaction, and importing the same file again stores nothing twice: a payment is
its case, day, amount and reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo.core.bounds import FIRST_DAY
from geo.portfolio.imports import RepeatableReport, RowError, as_bytes
from geo.portfolio.tabular import parse_cop, read_table

REQUIRED_COLUMNS = ("case_ref", "paid_on", "amount_cop")


PaymentReport = RepeatableReport


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    case_ref: str
    paid_on: date
    amount_cop: Decimal
    reference: str


def _parse(line: int, raw: dict[str, str], today: date) -> _Row | RowError:
    ref = (raw.get("case_ref") or "").strip()
    if not ref:
        return RowError(line, "case_ref", "is empty")
    try:
        paid_on = date.fromisoformat((raw.get("paid_on") or "").strip())
    except ValueError:
        return RowError(line, "paid_on", "is not a date (YYYY-MM-DD)")
    if paid_on > today:
        return RowError(line, "paid_on", "is in the future")
    if paid_on < FIRST_DAY:
        return RowError(line, "paid_on", f"is before {FIRST_DAY}")
    try:
        amount = parse_cop(raw.get("amount_cop") or "")
    except InvalidOperation:
        return RowError(line, "amount_cop", "is not a number")
    if not amount.is_finite() or amount <= 0:
        return RowError(line, "amount_cop", "must be a positive amount in COP")
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e14"):
        return RowError(line, "amount_cop", "has more than 2 decimals or is too large")
    return _Row(line, ref, paid_on, amount, (raw.get("reference") or "").strip())


def import_payments(
    session: Session, *, tenant_id: int, source: bytes | str, today: date | None = None
) -> PaymentReport:
    """Validate every row, then store the good ones; the caller's transaction is the unit."""
    table = read_table(as_bytes(source))
    table.require(REQUIRED_COLUMNS)
    today = today or session.execute(select(func.current_date())).scalar_one()
    report = PaymentReport()
    rows: list[_Row] = []
    for line, raw in table.rows:
        parsed = _parse(line, raw, today)
        if isinstance(parsed, RowError):
            report.errors.append(parsed)
        else:
            rows.append(parsed)
    _stage(session, rows)
    unknown = list(session.scalars(_UNKNOWN, {"t": tenant_id}))
    report.errors += [RowError(line, "case_ref", "no case with this reference") for line in unknown]
    report.stored = session.connection().execute(_STORE, {"t": tenant_id}).rowcount
    report.already_stored = len(rows) - len(unknown) - report.stored
    report.errors.sort(key=lambda e: e.line)
    return report


_UNKNOWN = text(
    "SELECT p.line FROM payments_in p WHERE NOT EXISTS (SELECT FROM cases c "
    "WHERE c.tenant_id = :t AND c.external_ref = p.case_ref) ORDER BY p.line"
)
_STORE = text(
    "INSERT INTO payments (tenant_id, case_id, paid_on, amount_cop, reference) "
    "SELECT :t, c.id, p.paid_on, p.amount_cop, p.reference FROM payments_in p "
    "JOIN cases c ON c.tenant_id = :t AND c.external_ref = p.case_ref "
    "ORDER BY p.line ON CONFLICT DO NOTHING"
)


def _stage(session: Session, rows: list[_Row]) -> None:
    """The valid rows into a temporary table with ``COPY``: a monthly file of hundreds of
    thousands of rows is then resolved and stored by two statements, not row by row."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS payments_in (line integer, case_ref text, "
            "paid_on date, amount_cop numeric(16, 2), reference text) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE payments_in")
        with cursor.copy("COPY payments_in FROM STDIN") as copy:
            for r in rows:
                copy.write_row((r.line, r.case_ref, r.paid_on, r.amount_cop, r.reference))
