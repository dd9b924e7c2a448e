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

CLOSER_HELPS = {"outside_geofence", "mock_unknown", "poor_accuracy", "stale_fix"}
"""Reasons a new check-in at the door can answer (the others, a law's limit or a forged
phone, it cannot)."""
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


def receipt(derived: Derived | None) -> tuple[str, str]:
    """What Collect shows once the submission is stored, and what it came to, for an app to
    style: ``stored`` (not derived yet), ``refused`` (no visit), ``too_far`` (the check-in
    rejected only for where it was: coming closer and sending again helps), ``rejected``,
    ``incomplete``, or the check-in's verdict (``accepted``, ``review``)."""
    if derived is None:
        return "Envío guardado: se procesará en unos minutos", "stored"
    checkin = derived.checkin or {}
    reasons = "; ".join(r["message"] for r in checkin.get("reasons", []))
    said = f" ({reasons})" if reasons else ""
    if derived.state == "refused":
        return (
            "Envío guardado, pero no se pudo registrar la visita: queda para revisión de su "
            "supervisor",
            "refused",
        )
    verdict = str(checkin.get("verdict"))
    if verdict == "rejected":
        if {r["code"] for r in checkin.get("reasons", [])} <= CLOSER_HELPS:
            return (
                f"Envío guardado, pero la marcación fue rechazada{said}: acérquese a la puerta "
                "y repita la visita, o déjela para revisión de su supervisor",
                "too_far",
            )
        return (
            f"Envío guardado, pero la marcación fue rechazada{said}: revise con su supervisor",
            "rejected",
        )
    if (derived.outcome or {}).get("status") not in {None, "done"}:
        return (
            "Envío guardado; la visita quedó incompleta y pasa a revisión de su supervisor "
            "(el caso se puede visitar de nuevo)",
            "incomplete",
        )
    return f"Visita recibida: marcación {VERDICTS.get(verdict, '')}{said}", verdict


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
