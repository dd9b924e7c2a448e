"""Migration 0013 gives tenants whose questionnaire asked about the debt whoever answered a new
version in which those questions are for the debtor only."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, text

from geo.core.db import on_database
from geo.core.settings import get_settings
from tests.conftest import alembic_config, recreate_database

SCRATCH = "campo_migrations_0013_test"
BEFORE = {  # the stock questionnaire as 0003-0012 created it, in short
    "title": "Visita de cobranza",
    "questions": [
        {"name": "contact_made", "type": "select_one", "choices": []},
        {"name": "who_answered", "type": "select_one", "relevant": "${contact_made} = 'si'"},
        {"name": "non_payment_reason", "relevant": "${contact_made} = 'si'"},
        {"name": "promise_amount", "relevant": "${outcome} = 'promise_to_pay'"},
        {"name": "comments", "type": "text"},
    ],
}


def test_the_debt_questions_become_the_debtor_s_only() -> None:
    url = on_database(get_settings().owner_url, SCRATCH)
    recreate_database(get_settings().owner_url, SCRATCH)
    config = alembic_config(url)
    command.upgrade(config, "0012")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tenant = conn.scalar(
                text("INSERT INTO tenants (slug, name) VALUES ('cartera', 'Cartera') RETURNING id")
            )
            conn.execute(
                text(
                    "INSERT INTO questionnaires (tenant_id, key, version, title, definition) "
                    "VALUES (:t, 'cobranza', 1, 'Visita', CAST(:d AS jsonb))"
                ),
                {"t": tenant, "d": json.dumps(BEFORE)},
            )
        command.upgrade(config, "0013")
        with engine.connect() as conn:
            versions = dict(
                conn.execute(
                    text("SELECT version, definition FROM questionnaires ORDER BY version")
                )
                .tuples()
                .all()
            )
    finally:
        engine.dispose()
    assert set(versions) == {1, 2}
    assert versions[1] == BEFORE  # answers given to version 1 still validate against it
    after = {q["name"]: q for q in versions[2]["questions"]}
    assert after["non_payment_reason"]["relevant"] == (
        "(${contact_made} = 'si') and ${who_answered} = 'titular'"
    )
    assert after["promise_amount"]["relevant"] == "${outcome} = 'promise_to_pay'"
    assert "relevant" not in after["comments"]
    assert after["who_answered"]["constraint"].startswith(". = 'titular'")
