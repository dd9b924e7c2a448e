"""spine schema: tenants, users, agents, portfolio, zones, GPS fixes, visits

Tables, then what autogenerate cannot express: the application role, row-level security on
every tenant table, the monthly partitions of gps_fixes and the login look-up.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 01:37:13.673509
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "tenants",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name=op.f("ck_tenants_slug_format")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "debtors",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("document_type", sa.Text(), nullable=False),
        sa.Column("document_number", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "document_type IN ('CC', 'CE', 'NIT', 'PP', 'TI')", name=op.f("ck_debtors_doc_type")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_debtors_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_debtors")),
        sa.UniqueConstraint(
            "tenant_id",
            "document_type",
            "document_number",
            name=op.f("uq_debtors_tenant_id_document_type_document_number"),
        ),
    )
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'dispatcher', 'agent', 'analyst')", name=op.f("ck_users_role")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lowercase")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_users")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_users_tenant_id_email")),
    )
    op.create_table(
        "addresses",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("debtor_id", sa.BigInteger(), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column(
            "point",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("geocode_quality", sa.Text(), server_default=sa.text("'none'"), nullable=False),
        sa.Column("geofence_radius_m", sa.Float(), nullable=True),
        sa.Column(
            "geofence",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "(point IS NULL) = (geocode_quality = 'none')", name=op.f("ck_addresses_point_quality")
        ),
        sa.CheckConstraint(
            "geocode_quality IN ('provided', 'grid', 'manual', 'none')",
            name=op.f("ck_addresses_geocode_quality"),
        ),
        sa.CheckConstraint(
            "geofence IS NULL OR ST_IsValid(geofence)", name=op.f("ck_addresses_geofence_valid")
        ),
        sa.CheckConstraint(
            "geofence_radius_m IS NULL OR geofence_radius_m > 0",
            name=op.f("ck_addresses_radius_pos"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "debtor_id"],
            ["debtors.tenant_id", "debtors.id"],
            name=op.f("fk_addresses_tenant_id_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_addresses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_addresses")),
    )
    op.create_index(
        "ix_addresses_geofence", "addresses", ["geofence"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_addresses_point", "addresses", ["point"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_addresses_tenant_id_debtor_id", "addresses", ["tenant_id", "debtor_id"], unique=False
    )
    op.create_table(
        "agents",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column(
            "base_point",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("base_address", sa.Text(), nullable=True),
        sa.Column("travel_mode", sa.Text(), nullable=False),
        sa.Column("shift_start", sa.Time(), server_default=sa.text("'08:00'"), nullable=False),
        sa.Column("shift_end", sa.Time(), server_default=sa.text("'17:00'"), nullable=False),
        sa.Column("daily_capacity", sa.Integer(), server_default=sa.text("20"), nullable=False),
        sa.Column(
            "skills",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            "travel_mode IN ('walk', 'motorbike', 'car')", name=op.f("ck_agents_travel_mode")
        ),
        sa.CheckConstraint("daily_capacity > 0", name=op.f("ck_agents_daily_capacity_positive")),
        sa.CheckConstraint("shift_end > shift_start", name=op.f("ck_agents_shift_order")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["users.tenant_id", "users.id"],
            name=op.f("fk_agents_tenant_id_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agents")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_agents_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_agents_tenant_id_user_id")),
    )
    op.create_index(
        "ix_agents_base_point", "agents", ["base_point"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "cases",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("external_ref", sa.Text(), nullable=False),
        sa.Column("debtor_id", sa.BigInteger(), nullable=False),
        sa.Column("address_id", sa.BigInteger(), nullable=True),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("outstanding_cop", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column(
            "bucket",
            sa.Text(),
            sa.Computed(
                "CASE WHEN days_past_due <= 30 THEN '0-30' WHEN days_past_due <= 60 THEN '31-60' WHEN days_past_due <= 90 THEN '61-90' WHEN days_past_due <= 180 THEN '91-180' ELSE '180+' END",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("priority", sa.SmallInteger(), server_default=sa.text("50"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False),
        sa.Column("assigned_agent_id", sa.BigInteger(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'open') = (closed_at IS NULL)", name=op.f("ck_cases_closed_at")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'agreement', 'written_off', 'withdrawn')",
            name=op.f("ck_cases_status"),
        ),
        sa.CheckConstraint(
            "(assigned_agent_id IS NULL) = (assigned_at IS NULL)", name=op.f("ck_cases_assignment")
        ),
        sa.CheckConstraint("days_past_due >= 0", name=op.f("ck_cases_dpd_nonnegative")),
        sa.CheckConstraint("outstanding_cop >= 0", name=op.f("ck_cases_amount_nonnegative")),
        sa.CheckConstraint("priority BETWEEN 0 AND 100", name=op.f("ck_cases_priority_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "address_id"],
            ["addresses.tenant_id", "addresses.id"],
            name=op.f("fk_cases_tenant_id_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assigned_agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_cases_tenant_id_assigned_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "debtor_id"],
            ["debtors.tenant_id", "debtors.id"],
            name=op.f("fk_cases_tenant_id_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_cases_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cases")),
        sa.UniqueConstraint(
            "tenant_id", "external_ref", name=op.f("uq_cases_tenant_id_external_ref")
        ),
    )
    op.create_index(
        "ix_cases_tenant_id_assigned_agent_id",
        "cases",
        ["tenant_id", "assigned_agent_id"],
        unique=False,
    )
    op.create_index(
        "ix_cases_tenant_id_debtor_id", "cases", ["tenant_id", "debtor_id"], unique=False
    )
    op.create_index(
        "ix_cases_tenant_id_status_bucket", "cases", ["tenant_id", "status", "bucket"], unique=False
    )
    op.create_table(
        "gps_fixes",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "point",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.Column("mock", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source", sa.Text(), server_default=sa.text("'app'"), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "accuracy_m IS NULL OR accuracy_m > 0", name=op.f("ck_gps_fixes_accuracy_positive")
        ),
        sa.CheckConstraint(
            "battery_pct IS NULL OR battery_pct BETWEEN 0 AND 100",
            name=op.f("ck_gps_fixes_battery"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_gps_fixes_tenant_id_agent_id_agents"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "agent_id", "recorded_at", "id", name=op.f("pk_gps_fixes")
        ),
        postgresql_partition_by="RANGE (recorded_at)",
    )
    op.create_index(
        "ix_gps_fixes_point", "gps_fixes", ["point"], unique=False, postgresql_using="gist"
    )
    op.create_table(
        "zones",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('territory', 'no_go')", name=op.f("ck_zones_kind")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_zones_geom_valid")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_zones_tenant_id_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_zones_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_zones")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_zones_tenant_id_name")),
    )
    op.create_index("ix_zones_geom", "zones", ["geom"], unique=False, postgresql_using="gist")
    op.create_table(
        "visits",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("checkin_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin_fix_id", sa.UUID(), nullable=True),
        sa.Column(
            "checkin_point",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("checkin_accuracy_m", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column(
            "reasons",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("checkout_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('contact', 'no_one_home', 'wrong_address', 'moved', 'refused', 'promise_to_pay', 'paid')",
            name=op.f("ck_visits_outcome"),
        ),
        sa.CheckConstraint(
            "verdict IN ('accepted', 'review', 'rejected')", name=op.f("ck_visits_verdict")
        ),
        sa.CheckConstraint(
            "checkout_at IS NULL OR checkout_at >= checkin_at", name=op.f("ck_visits_checkout")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_visits_tenant_id_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_visits_tenant_id_case_id_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_visits_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_visits")),
        sa.UniqueConstraint(
            "tenant_id",
            "agent_id",
            "client_id",
            name=op.f("uq_visits_tenant_id_agent_id_client_id"),
        ),
    )
    op.create_index(
        "ix_visits_checkin_point",
        "visits",
        ["checkin_point"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_visits_tenant_id_agent_id_checkin_at",
        "visits",
        ["tenant_id", "agent_id", "checkin_at"],
        unique=False,
    )
    op.create_index("ix_visits_tenant_id_case_id", "visits", ["tenant_id", "case_id"], unique=False)
    _security_and_partitions()


TENANT_TABLES = ("users", "agents", "debtors", "addresses", "cases", "zones", "gps_fixes", "visits")
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def _security_and_partitions() -> None:
    """Row-level security for the application role, and GPS partitions from two months back."""
    role = get_settings().app_db_role
    op.execute(
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
        END $$"""
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON tenants USING (id = {CURRENT_TENANT})")
    op.execute(f"GRANT SELECT, UPDATE (name, settings) ON tenants TO {role}")
    for table in TENANT_TABLES:
        for statement in isolation_ddl(table, role=role):
            op.execute(statement)
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")

    # Monthly partitions, created ahead by whoever ingests (the app role may call this, but
    # owns nothing: the function runs as the schema owner, with a pinned search_path).
    op.execute(
        """
        CREATE FUNCTION campo_ensure_gps_partitions(p_from timestamptz, p_to timestamptz)
        RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            month_start timestamptz := date_trunc('month', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
            created integer := 0;
            part text;
        BEGIN
            IF p_to - p_from > interval '10 years' THEN
                RAISE EXCEPTION 'refusing to create more than 10 years of partitions';
            END IF;
            WHILE month_start <= p_to LOOP
                part := format('gps_fixes_y%sm%s', to_char(month_start AT TIME ZONE 'UTC', 'YYYY'),
                               to_char(month_start AT TIME ZONE 'UTC', 'MM'));
                IF to_regclass(part) IS NULL THEN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF gps_fixes FOR VALUES FROM (%L) TO (%L)',
                        part, month_start, month_start + interval '1 month');
                    created := created + 1;
                END IF;
                month_start := month_start + interval '1 month';
            END LOOP;
            RETURN created;
        END $$
        """
    )
    op.execute(
        "REVOKE ALL ON FUNCTION campo_ensure_gps_partitions(timestamptz, timestamptz) FROM PUBLIC"
    )
    op.execute(
        f"GRANT EXECUTE ON FUNCTION campo_ensure_gps_partitions(timestamptz, timestamptz) TO {role}"
    )
    op.execute(
        "SELECT campo_ensure_gps_partitions(now() - interval '2 months', now() + interval '3 months')"
    )

    # Signing in happens before a tenant is known: this is the one, narrow, way to read a
    # user across the policy, by tenant slug and e-mail.
    op.execute(
        """
        CREATE FUNCTION campo_login_lookup(p_slug text, p_email text)
        RETURNS TABLE (tenant_id bigint, user_id bigint, role text, password_hash text, active boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT u.tenant_id, u.id, u.role, u.password_hash, u.active
            FROM tenants t JOIN users u ON u.tenant_id = t.id
            WHERE t.slug = p_slug AND u.email = lower(p_email)
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION campo_login_lookup(text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION campo_login_lookup(text, text) TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS campo_login_lookup(text, text)")
    op.execute("DROP FUNCTION IF EXISTS campo_ensure_gps_partitions(timestamptz, timestamptz)")
    for table in (
        "visits",
        "gps_fixes",
        "zones",
        "cases",
        "agents",
        "addresses",
        "users",
        "debtors",
        "tenants",
    ):
        op.drop_table(table)
