"""The seven collection KPIs, each a ratio of two sums over the ``analytics`` views, and the
breaches of Ley 2300 de 2023 per contact.

Every KPI is computed for a period of local days (both ends included) and optionally grouped
by agent, zone, bucket or ISO week. A KPI is ``numerator / denominator``; both are returned so a
reader can re-aggregate and see how much evidence a value rests on. The definitions, in words,
are in ``docs/analytics.md``; this module is their only implementation, and one SQL statement
computes all seven. The breaches come from the compliance report (:mod:`geo.contacts.report`),
whose rules are the same Python the planner and the check-in use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.contacts.report import compliance_report
from geo.core.errors import InvalidInput

GroupBy = Literal["none", "agent", "zone", "bucket", "week"]
GROUPINGS: tuple[GroupBy, ...] = ("none", "agent", "zone", "bucket", "week")
MAX_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class Kpi:
    key: str
    label: str
    unit: Literal["ratio", "hours", "days"]


KPIS: tuple[Kpi, ...] = (
    Kpi("recovery_rate", "Tasa de recuperación", "ratio"),
    Kpi("promises_kept", "Promesas cumplidas", "ratio"),
    Kpi("response_time", "Tiempo de respuesta", "hours"),
    Kpi("contactability", "Contactabilidad", "ratio"),
    Kpi("agreement_rate", "Acuerdos satisfactorios", "ratio"),
    Kpi("retention", "Retención de clientes", "ratio"),
    Kpi("resolution_time", "Tiempo medio de resolución", "days"),
    Kpi("review_rejected", "Marcaciones en revisión rechazadas", "ratio"),
    Kpi("compliance_breaches", "Incumplimientos de la Ley 2300 por contacto", "ratio"),
)
_IN_SQL = tuple(k.key for k in KPIS if k.key != "compliance_breaches")
"""The KPIs one SQL statement computes; the breaches come from the compliance report, whose
rules are Python (:mod:`geo.contacts.report`)."""
_BY_KEY = {k.key: k for k in KPIS}

# The group of a row: its own attribute, or the week of the period it falls in.
_GROUP_SQL: dict[GroupBy, str] = {
    "none": "NULL::text",
    "agent": "x.agent_code",
    "zone": "x.zone_name",
    "bucket": "x.bucket",
    "week": "p.week::text",
}

# (key, table, join condition on the period p, numerator, denominator)
_PARTS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "recovery_rate",
        "analytics.payments",
        "x.paid_on BETWEEN p.p_from AND p.p_to",
        "sum(x.amount_cop)",
        "0",
    ),
    (
        "recovery_rate",
        "analytics.cases",
        "x.loaded_on <= p.p_to AND (x.closed_on IS NULL OR x.closed_on >= p.p_from)",
        "0",
        "sum(x.outstanding_cop)",
    ),
    (
        "promises_kept",
        "analytics.promises",
        "x.due_date BETWEEN p.p_from AND p.p_to AND x.state <> 'pending'",
        "count(*) FILTER (WHERE x.state = 'kept')",
        "count(*)",
    ),
    (
        "response_time",
        "analytics.cases",
        "x.assigned_on BETWEEN p.p_from AND p.p_to AND x.first_visit_at IS NOT NULL",
        "sum(extract(epoch FROM x.first_visit_at - x.assigned_at) / 3600)",
        "count(*)",
    ),
    (
        "contactability",
        "analytics.visits",
        "x.local_date BETWEEN p.p_from AND p.p_to AND x.status = 'completed'",
        "count(*) FILTER (WHERE x.contact)",
        "count(*)",
    ),
    (
        "agreement_rate",
        "analytics.visits",
        "x.local_date BETWEEN p.p_from AND p.p_to AND x.status = 'completed' AND x.contact",
        "count(*) FILTER (WHERE x.agreement)",
        "count(*)",
    ),
    (
        "retention",
        "analytics.cases",
        "x.closed_on BETWEEN p.p_from AND p.p_to",
        "count(*) FILTER (WHERE x.retained)",
        "count(*)",
    ),
    (
        "resolution_time",
        "analytics.cases",
        "x.closed_on BETWEEN p.p_from AND p.p_to AND x.assigned_at IS NOT NULL",
        "sum(extract(epoch FROM x.closed_at - x.assigned_at) / 86400)",
        "count(*)",
    ),
    (  # of the check-ins a supervisor reviewed, the share rejected; those waiting not counted
        "review_rejected",
        "analytics.visits",
        "x.local_date BETWEEN p.p_from AND p.p_to AND x.review_decision IS NOT NULL",
        "count(*) FILTER (WHERE x.review_decision = 'rejected')",
        "count(*)",
    ),
)

_PERIODS = """
    WITH periods AS (
        SELECT greatest(w::date, CAST(:date_from AS date)) AS p_from,
               least(w::date + 6, CAST(:date_to AS date)) AS p_to, w::date AS week
        FROM generate_series(date_trunc('week', CAST(:date_from AS timestamp)),
                             CAST(:date_to AS timestamp), interval '1 week') w
        WHERE CAST(:weekly AS boolean)
        UNION ALL
        SELECT CAST(:date_from AS date), CAST(:date_to AS date), NULL
        WHERE NOT CAST(:weekly AS boolean)
    )
"""


def kpi_sql(group_by: GroupBy, kpis: tuple[str, ...]) -> str:
    """The one statement behind a report (also what ``bench/analytics.py`` runs bare)."""
    group = _GROUP_SQL[group_by]
    # Every fragment is a constant of this module; the dates travel as bound parameters.
    parts = [
        f"SELECT '{key}' AS kpi, {group} AS grp, ({num})::numeric AS num, "  # noqa: S608
        f"({den})::numeric AS den FROM periods p JOIN {table} x ON {on} GROUP BY 2"
        for key, table, on, num, den in _PARTS
        if key in kpis
    ]
    return (
        f"{_PERIODS} SELECT kpi, grp, sum(num) AS num, sum(den) AS den "  # noqa: S608
        f"FROM ({' UNION ALL '.join(parts)}) parts GROUP BY kpi, grp"
    )


@dataclass(frozen=True, slots=True)
class KpiRow:
    kpi: str
    label: str
    unit: str
    group: str | None
    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        """The ratio; ``None`` when nothing was there to measure."""
        return self.numerator / self.denominator if self.denominator else None


def check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("must not be before date_from", field="date_to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput(f"a report spans at most {MAX_DAYS} days", field="date_to")


def kpi_report(
    session: Session,
    *,
    date_from: date,
    date_to: date,
    group_by: GroupBy = "none",
    kpis: tuple[str, ...] = _IN_SQL,
) -> list[KpiRow]:
    """The KPIs over local days ``date_from``..``date_to``, per group, in ``KPIS`` order; by
    default the seven of SQL. ``compliance_breaches`` only when named: it walks every contact
    of the period through the law's rules in Python (tens of microseconds a contact).

    The session's tenant (``app.tenant_id``) is the one the views show.
    """
    check_period(date_from, date_to)
    if group_by not in GROUPINGS:
        raise InvalidInput(f"must be one of {', '.join(GROUPINGS)}", field="group_by")
    unknown = [k for k in kpis if k not in _BY_KEY]
    if unknown or not kpis:
        raise InvalidInput(f"unknown KPI {unknown[0] if unknown else '(none)'}", field="kpi")
    in_sql = tuple(k for k in kpis if k in _IN_SQL)
    found = (
        session.execute(
            text(kpi_sql(group_by, in_sql)),
            {"date_from": date_from, "date_to": date_to, "weekly": group_by == "week"},
        ).all()
        if in_sql
        else []
    )
    order = {k.key: i for i, k in enumerate(KPIS)}
    rows = [
        KpiRow(
            kpi=r.kpi,
            label=_BY_KEY[r.kpi].label,
            unit=_BY_KEY[r.kpi].unit,
            group=r.grp,
            numerator=float(r.num or 0),
            denominator=float(r.den or 0),
        )
        for r in found
    ]
    tenant_id = session.info.get("tenant_id")
    if "compliance_breaches" in kpis and tenant_id is not None:
        rows += _breach_rows(session, tenant_id, date_from, date_to, group_by)
    return sorted(rows, key=lambda r: (order[r.kpi], r.group is None, r.group or ""))


_BREACH_GROUP = {"agent": "agent_code", "zone": "zone_name", "bucket": "bucket"}


def _breach_rows(
    session: Session, tenant_id: int, date_from: date, date_to: date, group_by: GroupBy
) -> list[KpiRow]:
    """Breaches of the collections law per contact, from the compliance report."""
    report = compliance_report(session, tenant_id=tenant_id, date_from=date_from, date_to=date_to)
    kpi = _BY_KEY["compliance_breaches"]
    if group_by == "none":
        groups: dict[str | None, tuple[int, int]] = (
            {None: (len(report.breaches), report.contacts)} if report.contacts else {}
        )
    else:
        contacts = report.contacts_by.get(group_by, Counter())
        broken: Counter[str | None] = Counter(
            _monday(b.contacted_at.date())
            if group_by == "week"
            else getattr(b, _BREACH_GROUP[group_by])
            for b in report.breaches
        )
        groups = {g: (broken[g], n) for g, n in contacts.items()}
    return [
        KpiRow(kpi.key, kpi.label, kpi.unit, group, float(n), float(d))
        for group, (n, d) in groups.items()
    ]


def _monday(day: date) -> str:
    return (day - timedelta(days=day.weekday())).isoformat()
