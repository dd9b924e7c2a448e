"""The seven KPIs on the hand-built portfolio of ``tests/analytics.py``; every expected value
is worked out by hand (``docs/analytics.md`` shows the arithmetic)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geo.analytics.kpis import KpiRow, kpi_report
from geo.core.db import tenant_session
from geo.core.errors import InvalidInput
from tests.analytics import FIRST, LAST, build_portfolio

pytestmark = pytest.mark.clock


def _values(rows: list[KpiRow]) -> dict[tuple[str, str | None], tuple[float, float]]:
    return {(r.kpi, r.group): (r.numerator, r.denominator) for r in rows}


@pytest.fixture
def tenant_id() -> int:
    return build_portfolio().tenant_id


def test_whole_period(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session:
        rows = kpi_report(session, date_from=FIRST, date_to=LAST)
        breaches = kpi_report(session, date_from=FIRST, date_to=LAST, kpis=("compliance_breaches",))
    got = _values(rows)
    # C1 100,000 + C2 2,000,000 paid in the period; C1..C4 were in the portfolio (C5 closed
    # in September): 1 + 2 + 3 + 4 million.
    assert got["recovery_rate", None] == (2_100_000, 10_000_000)
    # P1 (100,000 due 10-10) paid on 10-07: kept. P2 (300,000 due 10-15): nothing by 10-18.
    assert got["promises_kept", None] == (1, 2)
    # Assigned in the period and visited: C2 26 h, C3 22 h, C4 24.25 h.
    assert got["response_time", None] == pytest.approx((72.25, 3))
    # Completed visits in the period: 5 (the rejected and the 10-19 ones are out); the
    # no-one-home is the only one without contact.
    assert got["contactability", None] == (4, 5)
    # Of the 4 contacts, 2 promised to pay.
    assert got["agreement_rate", None] == (2, 4)
    # Closed in the period: C2 paid (kept as a customer), C3 written off.
    assert got["retention", None] == (1, 2)
    # C2 10 days, C3 2 days.
    assert got["resolution_time", None] == pytest.approx((12, 2))
    # The five visits of the period that were contacts (not the rejected one, nor the 19th's)
    # kept the legal hours (none on the 12th, Día de la Raza), one a day per debtor.
    assert _values(breaches) == {("compliance_breaches", None): (0, 5)}
    values = {r.kpi: r.value for r in rows}
    assert values["recovery_rate"] == pytest.approx(0.21)
    assert values["response_time"] == pytest.approx(24.0833, abs=1e-4)
    assert values["resolution_time"] == pytest.approx(6)
    assert [r.kpi for r in rows] == [
        "recovery_rate",
        "promises_kept",
        "response_time",
        "contactability",
        "agreement_rate",
        "retention",
        "resolution_time",
    ]


def test_grouped_by_week(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session:
        got = _values(kpi_report(session, date_from=FIRST, date_to=LAST, group_by="week"))
    # Week of 10-05: C1's 100,000 over all four cases. Week of 10-12: C2's 2,000,000 over
    # C1, C2 and C4 (C3 closed on 10-08).
    assert got["recovery_rate", "2026-10-05"] == (100_000, 10_000_000)
    assert got["recovery_rate", "2026-10-12"] == (2_000_000, 7_000_000)
    assert got["contactability", "2026-10-05"] == (3, 4)
    assert got["contactability", "2026-10-12"] == (1, 1)
    assert got["promises_kept", "2026-10-05"] == (1, 1)
    assert got["promises_kept", "2026-10-12"] == (0, 1)
    assert got["retention", "2026-10-05"] == (0, 1)
    assert got["retention", "2026-10-12"] == (1, 1)


def test_grouped_by_agent_zone_and_bucket(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session:
        by_agent = _values(kpi_report(session, date_from=FIRST, date_to=LAST, group_by="agent"))
        by_zone = _values(kpi_report(session, date_from=FIRST, date_to=LAST, group_by="zone"))
        by_bucket = _values(kpi_report(session, date_from=FIRST, date_to=LAST, group_by="bucket"))
    assert by_agent["recovery_rate", "A1"] == (2_100_000, 3_000_000)
    assert by_agent["recovery_rate", "A2"] == (0, 7_000_000)
    assert by_agent["contactability", "A1"] == (2, 3)
    assert by_agent["contactability", "A2"] == (2, 2)
    assert by_agent["response_time", "A2"] == pytest.approx((46.25, 2))
    assert by_zone["contactability", "Norte"] == (2, 3)
    assert by_zone["contactability", "Sur"] == (2, 2)
    assert by_zone["retention", "Sur"] == (0, 1)
    assert by_bucket["resolution_time", "91-180"] == pytest.approx((10, 1))
    assert by_bucket["resolution_time", "0-30"] == pytest.approx((2, 1))


def test_another_tenant_sees_none_of_it(tenant_id: int) -> None:
    other = build_portfolio("otra").tenant_id
    with tenant_session(other) as session:
        mine = _values(kpi_report(session, date_from=FIRST, date_to=LAST))
    assert mine["contactability", None] == (4, 5)  # its own copy, not twice that
    with tenant_session(None) as session:
        assert kpi_report(session, date_from=FIRST, date_to=LAST) == []


def test_bad_periods_name_the_field(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session, pytest.raises(InvalidInput) as caught:
        kpi_report(session, date_from=LAST, date_to=FIRST)
    assert caught.value.field == "date_to"


def test_review_decisions_count_as_the_share_rejected(tenant_id: int) -> None:
    with tenant_session(tenant_id) as session:
        reviewer = session.execute(text("SELECT id FROM users ORDER BY id LIMIT 1")).scalar_one()
        decided = session.execute(
            text(
                "WITH picked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM visits "
                "WHERE checkin_at::date BETWEEN :a AND :b ORDER BY id LIMIT 3) "
                "UPDATE visits v SET verdict = 'review', reviewed_by = :u, reviewed_at = now(), "
                "review_decision = CASE p.n WHEN 1 THEN 'rejected' WHEN 2 THEN 'approved' END "
                "FROM picked p WHERE v.id = p.id AND p.n <= 2 RETURNING v.id"
            ),
            {"a": FIRST, "b": LAST, "u": reviewer},
        ).all()
        session.execute(  # a third still waiting for its reviewer is not counted
            text(
                "UPDATE visits SET verdict = 'review' WHERE id = (SELECT id FROM visits "
                "WHERE review_decision IS NULL AND checkin_at::date BETWEEN :a AND :b "
                "ORDER BY id LIMIT 1)"
            ),
            {"a": FIRST, "b": LAST},
        )
    assert len(decided) == 2
    with tenant_session(tenant_id) as session:
        got = _values(kpi_report(session, date_from=FIRST, date_to=LAST, kpis=("review_rejected",)))
    assert got == {("review_rejected", None): (1, 2)}
