"""devices and live positions

Tracker apps registered to agents (looked up across tenants by identifier, the one narrow
crossing the tracker protocols need), the latest fix of each agent for live maps, the device a
fix came from, and EPSG:9377 (MAGNA-SIRGAS 2018 / Origen-Nacional, Colombia's metric CRS),
which the spatial_ref_sys of PostGIS 3.3 does not list yet.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:21:03.790903
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo.core.settings import get_settings
from geo.core.tenancy import isolation_ddl

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = ("devices", "agent_positions")
ORIGEN_NACIONAL_PROJ4 = (
    "+proj=tmerc +lat_0=4 +lon_0=-73 +k=0.9992 +x_0=5000000 +y_0=2000000 +ellps=GRS80 "
    "+towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
)
ORIGEN_NACIONAL_WKT = (
    'PROJCS["MAGNA-SIRGAS 2018 / Origen-Nacional",GEOGCS["MAGNA-SIRGAS 2018",'
    'DATUM["Marco_Geocentrico_Nacional_de_Referencia_2018",SPHEROID["GRS 1980",6378137,'
    '298.257222101,AUTHORITY["EPSG","7019"]],AUTHORITY["EPSG","1329"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","20046"]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["latitude_of_origin",4],PARAMETER["central_meridian",-73],'
    'PARAMETER["scale_factor",0.9992],PARAMETER["false_easting",5000000],'
    'PARAMETER["false_northing",2000000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],'
    'AUTHORITY["EPSG","9377"]]'
)
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"


def upgrade() -> None:
    op.create_geospatial_table(
        "agent_positions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("fix_id", sa.UUID(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
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
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("charging", sa.Boolean(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_agent_positions_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "agent_id", name=op.f("pk_agent_positions")),
    )
    op.create_geospatial_index(
        "ix_agent_positions_point",
        "agent_positions",
        ["point"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "devices",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("protocol", sa.Text(), nullable=False),
        sa.Column("secret_sha256", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "protocol <> 'owntracks' OR secret_sha256 IS NOT NULL",
            name=op.f("ck_devices_owntracks_secret"),
        ),
        sa.CheckConstraint("protocol IN ('osmand', 'owntracks')", name=op.f("ck_devices_protocol")),
        sa.CheckConstraint(
            "length(identifier) BETWEEN 6 AND 200", name=op.f("ck_devices_identifier_length")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_devices_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_devices_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_devices")),
        sa.UniqueConstraint("identifier", name=op.f("uq_devices_identifier")),
    )
    op.create_index(
        "ix_devices_tenant_id_agent_id", "devices", ["tenant_id", "agent_id"], unique=False
    )
    op.add_column("gps_fixes", sa.Column("device_id", sa.BigInteger(), nullable=True))
    op.get_bind().execute(
        sa.text(
            "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
            "VALUES (9377, 'EPSG', 9377, :wkt, :proj4) ON CONFLICT (srid) DO NOTHING"
        ),
        {"wkt": ORIGEN_NACIONAL_WKT, "proj4": ORIGEN_NACIONAL_PROJ4},
    )
    _security()


def _security() -> None:
    """Row-level security on the new tables and the device look-up across tenants."""
    role = get_settings().app_db_role
    for table in NEW_TENANT_TABLES:
        for statement in isolation_ddl(table, role=role):
            op.execute(statement)
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    # Tracker protocols name a device, not a tenant: this is their one way in, by identifier.
    op.execute(
        """
        CREATE FUNCTION campo_device_lookup(p_identifier text)
        RETURNS TABLE (tenant_id bigint, device_id bigint, agent_id bigint, protocol text,
                       secret_sha256 text, active boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT d.tenant_id, d.id, d.agent_id, d.protocol, d.secret_sha256,
                   d.active AND a.active
            FROM devices d JOIN agents a ON a.tenant_id = d.tenant_id AND a.id = d.agent_id
            WHERE d.identifier = p_identifier
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION campo_device_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION campo_device_lookup(text) TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS campo_device_lookup(text)")
    op.drop_column("gps_fixes", "device_id")
    op.drop_index("ix_devices_tenant_id_agent_id", table_name="devices")
    op.drop_table("devices")
    op.drop_geospatial_index(
        "ix_agent_positions_point",
        table_name="agent_positions",
        postgresql_using="gist",
        column_name="point",
    )
    op.drop_geospatial_table("agent_positions")
