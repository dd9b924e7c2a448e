"""contact ledger and debtors' authorisations

Ley 2300 de 2023 asks for the debtor's authorised channels and limits contacts per day and
channels per week: debtors get their authorised channels and an agreed schedule, contacts
keeps what other systems did (calls, SMS, ...), and the contact_ledger view reads them
together with campo's visits (those not rejected), under each reader's row-level security.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 12:24:23.854587
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER = """
CREATE VIEW contact_ledger WITH (security_invoker = true) AS
SELECT c.tenant_id, c.debtor_id, v.case_id, 'visit'::text AS channel,
       v.checkin_at AS contacted_at, v.agent_id, 'campo'::text AS source,
       coalesce(v.outcome, v.verdict) AS result, v.id AS visit_id, NULL::bigint AS contact_id
FROM visits v
JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
WHERE v.verdict <> 'rejected'
UNION ALL
SELECT k.tenant_id, k.debtor_id, k.case_id, k.channel, k.contacted_at, k.agent_id, k.source,
       k.result, NULL::bigint, k.id
FROM contacts k
"""

# The stock questionnaire ("cobranza") asked about the debt whoever answered the door; the law
# forbids disclosing it to anyone but the debtor. Tenants whose newest version still does get
# a new version in which the reason for not paying is asked of the debtor only, and a promise
# or a payment is refused unless the debtor answered (frozen here as of 0013).
_DEBT_QUESTIONS = ("non_payment_reason",)
_TITULAR = "${who_answered} = 'titular'"
_TITULAR_CHECK = ". = 'titular' or (${outcome} != 'promise_to_pay' and ${outcome} != 'paid')"


def _titular_only() -> None:
    connection = op.get_bind()
    latest = connection.execute(
        sa.text(
            "SELECT DISTINCT ON (tenant_id) tenant_id, version, title, definition "
            "FROM questionnaires WHERE key = 'cobranza' ORDER BY tenant_id, version DESC"
        )
    ).all()
    for row in latest:
        questions = row.definition.get("questions", [])
        names = {q.get("name") for q in questions}
        if "who_answered" not in names or any(
            _TITULAR in (q.get("relevant") or "") for q in questions
        ):
            continue
        for q in questions:
            if q.get("name") in _DEBT_QUESTIONS:
                q["relevant"] = (
                    f"({q['relevant']}) and {_TITULAR}" if q.get("relevant") else _TITULAR
                )
            if q.get("name") == "who_answered" and "constraint" not in q:
                q["constraint"] = _TITULAR_CHECK
                q["constraint_message"] = (
                    "Con un familiar o un tercero no se habla de la deuda: promesas y pagos, "
                    "solo con el titular"
                )
        connection.execute(
            sa.text(
                "INSERT INTO questionnaires (tenant_id, key, version, title, definition) "
                "VALUES (:t, 'cobranza', :v, :title, CAST(:d AS jsonb))"
            ),
            {
                "t": row.tenant_id,
                "v": row.version + 1,
                "title": row.title,
                "d": json.dumps(row.definition),
            },
        )


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("debtor_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel IN ('visit', 'call', 'sms', 'email', 'whatsapp', 'letter')",
            name=op.f("ck_contacts_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_contacts_tenant_id_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_contacts_tenant_id_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "debtor_id"],
            ["debtors.tenant_id", "debtors.id"],
            name=op.f("fk_contacts_tenant_id_debtor_id_debtors"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_contacts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contacts")),
        sa.UniqueConstraint(
            "tenant_id",
            "source",
            "external_id",
            name=op.f("uq_contacts_tenant_id_source_external_id"),
        ),
    )
    op.create_index(
        "ix_contacts_tenant_id_contacted_at",
        "contacts",
        ["tenant_id", "contacted_at"],
        unique=False,
    )
    op.create_index(
        "ix_contacts_tenant_id_debtor_id_contacted_at",
        "contacts",
        ["tenant_id", "debtor_id", "contacted_at"],
        unique=False,
    )
    op.add_column(
        "debtors", sa.Column("authorised_channels", postgresql.ARRAY(sa.Text()), nullable=True)
    )
    op.add_column(
        "debtors", sa.Column("agreed_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_debtors_channels"),
        "debtors",
        "authorised_channels <@ ARRAY['visit', 'call', 'sms', 'email', 'whatsapp', 'letter']::text[]",
    )
    for statement in isolation_ddl("contacts", role=get_settings().app_db_role):
        op.execute(statement)
    op.execute(LEDGER)
    op.execute(f"GRANT SELECT ON contact_ledger TO {get_settings().app_db_role}")
    _titular_only()


def downgrade() -> None:
    op.execute("DROP VIEW contact_ledger")
    op.drop_constraint(op.f("ck_debtors_channels"), "debtors", type_="check")
    op.drop_column("debtors", "agreed_hours")
    op.drop_column("debtors", "authorised_channels")
    op.drop_index("ix_contacts_tenant_id_debtor_id_contacted_at", table_name="contacts")
    op.drop_index("ix_contacts_tenant_id_contacted_at", table_name="contacts")
    op.drop_table("contacts")
