"""Deriving a stored submission without ever failing its sender, and what the agent is told.

Deriving runs after the submission is stored, in a savepoint of its own: whatever goes wrong
there (a bug included) leaves the submission kept and ``stored``, listed for a dispatcher to
derive again, and the phone still hears that it was received. The answer Collect shows the
agent says in Spanish what became of the visit.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from geo.core.audit import record
from geo.fieldkit.inbox import stored_submission
from geo.fieldkit.submissions import Derived, derive_submission

log = logging.getLogger(__name__)

VERDICTS = {"accepted": "aceptada", "review": "en revisión", "rejected": "rechazada"}


def derive_stored(
    session: Session, *, tenant_id: int, submission_id: int, now: datetime | None = None
) -> Derived | None:
    """Derive a stored submission (one derivation at a time per submission); ``None`` when
    deriving failed unexpectedly, the submission left as it was."""
    submission = stored_submission(
        session, tenant_id=tenant_id, submission_id=submission_id, lock=True
    )
    try:
        with session.begin_nested():
            return derive_submission(session, submission=submission, now=now)
    except Exception:
        log.exception("deriving submission %s failed; it stays stored", submission_id)
        return None


def verdict_message(derived: Derived | None) -> str:
    """What Collect shows once the submission is stored."""
    if derived is None:
        return "Envío guardado: se procesará en unos minutos"
    checkin = derived.checkin or {}
    reasons = "; ".join(r["message"] for r in checkin.get("reasons", []))
    said = f" ({reasons})" if reasons else ""
    if derived.state == "refused":
        return (
            "Envío guardado, pero no se pudo registrar la visita: queda para revisión de su "
            "supervisor"
        )
    if checkin.get("verdict") == "rejected":
        return f"Envío guardado, pero la marcación fue rechazada{said}: revise con su supervisor"
    if (derived.outcome or {}).get("status") not in {None, "done"}:
        return (
            "Envío guardado; la visita quedó incompleta y pasa a revisión de su supervisor "
            "(el caso se puede visitar de nuevo)"
        )
    return f"Visita recibida: marcación {VERDICTS.get(str(checkin.get('verdict')), '')}{said}"


def rederive(
    session: Session,
    *,
    tenant_id: int,
    submission_id: int,
    actor_id: int,
    now: datetime | None = None,
) -> Derived | None:
    """Derive a stored submission again (after a fix: a case assigned, a form version
    restored); what was made before stays, what was missing is made. Audited."""
    before = stored_submission(session, tenant_id=tenant_id, submission_id=submission_id)
    derived = derive_stored(session, tenant_id=tenant_id, submission_id=submission_id, now=now)
    record(
        session,
        tenant_id=tenant_id,
        user_id=actor_id,
        action="derive",
        subject=f"submission:{submission_id}",
        before={"state": before.state, "visit_id": before.visit_id},
        after=None
        if derived is None
        else {"state": derived.state, "visit_id": derived.visit_id, "problems": derived.problems},
        at=now,
    )
    return derived
