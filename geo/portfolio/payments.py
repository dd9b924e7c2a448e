"""Import payments (case reference, day, amount) from the creditor's CSV files.

Payments are what promises are matched against and what the recovery rate counts. Errors are
reported as the case import reports them (line, column, reason), the good rows are written in
the caller's transaction, and importing the same file again stores nothing twice: a payment is
its case, day, amount and reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.core.bounds import FIRST_DAY
from geo.core.models import Case, Payment
from geo.portfolio.imports import RowError, as_bytes
from geo.portfolio.tabular import parse_cop, read_table

REQUIRED_COLUMNS = ("case_ref", "paid_on", "amount_cop")
CHUNK = 5000


@dataclass(slots=True)
class PaymentReport:
    stored: int = 0
    already_stored: int = 0
    errors: list[RowError] = field(default_factory=list)


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
    case_ids = _case_ids(session, tenant_id, sorted({r.case_ref for r in rows}))
    known = []
    for row in rows:
        if row.case_ref in case_ids:
            known.append(row)
        else:
            report.errors.append(RowError(row.line, "case_ref", "no case with this reference"))
    for start in range(0, len(known), CHUNK):
        chunk = known[start : start + CHUNK]
        values = [
            {
                "tenant_id": tenant_id,
                "case_id": case_ids[r.case_ref],
                "paid_on": r.paid_on,
                "amount_cop": r.amount_cop,
                "reference": r.reference,
            }
            for r in chunk
        ]
        statement = insert(Payment).values(values).on_conflict_do_nothing()
        stored = len(session.execute(statement.returning(Payment.id)).all())
        report.stored += stored
        report.already_stored += len(chunk) - stored
    report.errors.sort(key=lambda e: e.line)
    return report


def _case_ids(session: Session, tenant_id: int, refs: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(refs), 10_000):
        chunk = refs[start : start + 10_000]
        query = select(Case.external_ref, Case.id).where(
            Case.tenant_id == tenant_id, Case.external_ref.in_(chunk)
        )
        found.update((ref, case_id) for ref, case_id in session.execute(query))
    return found
