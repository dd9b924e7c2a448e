"""The call centre's morning for the demo: calls to debtors, imported into the contact ledger
through the same import as a tenant's file.

The calls go to debtors who authorised calls and had no contact yet that week, early on the
day given (inside the legal hours), so none breaks Ley 2300 de 2023 by itself; a plan of that
day then leaves their cases out with the reason (a visit would be a second contact that day),
which is the point of showing them.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.contacts.ledger import ContactReport, import_contacts, week_start
from geo.core.tenant_settings import tenant_settings

_QUIET = text(
    """
    SELECT d.document_type, d.document_number FROM debtors d
    WHERE d.tenant_id = :t AND 'call' = ANY(d.authorised_channels) AND d.agreed_hours IS NULL
      AND EXISTS (SELECT FROM cases c WHERE c.tenant_id = d.tenant_id AND c.debtor_id = d.id
                  AND c.status = 'open')
      AND NOT EXISTS (SELECT FROM contact_ledger l WHERE l.tenant_id = d.tenant_id
                      AND l.debtor_id = d.id AND l.contacted_at >= :week)
    ORDER BY d.id
    """
)


def seed_calls(
    session: Session, *, tenant_id: int, day: date, calls: int = 40, seed: int = 7
) -> ContactReport:
    """``calls`` calls between 8:00 and 9:00 local on ``day`` (a tenant session)."""
    zone = tenant_settings(session, tenant_id).zone
    quiet = session.execute(_QUIET, {"t": tenant_id, "week": week_start(day, zone)}).all()
    rng = random.Random(seed)
    chosen = rng.sample(quiet, min(calls, len(quiet)))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["channel", "contacted_at", "source", "document_type", "document_number", "result"]
    )
    start = datetime.combine(day, time(8), zone)
    for k, debtor in enumerate(chosen):
        at = start + timedelta(minutes=k * 60 // max(len(chosen), 1))
        result = rng.choice(["contacto", "no_contesta", "promesa_de_pago", "buzon_de_voz"])
        writer.writerow(["llamada", at.isoformat(), "call_center", *debtor, result])
    return import_contacts(session, tenant_id=tenant_id, source=out.getvalue())
