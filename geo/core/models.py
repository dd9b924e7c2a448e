"""The relational model, mirrored exactly by the Alembic migrations.

Every table carries ``tenant_id`` and it leads every primary, unique and foreign key, so the
schema can be distributed by tenant (Citus) and a row can never reference another tenant's row:
the composite foreign keys make cross-tenant links impossible in the database itself.
Geometries are stored in WGS 84 (EPSG:4326); metres are computed on the spheroid or in
EPSG:9377 by the queries that need them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo.core.contact_law import CHANNELS

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("admin", "dispatcher", "agent", "analyst")
TRAVEL_MODES = ("walk", "motorbike", "car")
CASE_STATUSES = ("open", "paid", "agreement", "written_off", "withdrawn")
GEOCODE_QUALITIES = ("provided", "grid", "manual", "none")
ZONE_KINDS = ("territory", "no_go", "area")
"""``area`` zones are the tenant's own map of its city, used to group analytics."""
VERDICTS = ("accepted", "review", "rejected")
ALERT_RULES = ("silent_agent", "low_battery", "rejected_checkin", "unpaid_promise")
VISIT_STATUSES = ("open", "completed", "rejected", "incomplete")
"""``incomplete``: closed without an outcome the server could accept (its submission's problems
wait in the review queue), so the case is never left blocked by an open visit."""
SUBMISSION_STATES = ("stored", "derived", "problems", "refused", "replaced")
"""``stored``: kept, not derived yet; ``derived``: its visit and outcome made; ``problems``: a
visit made, a part refused; ``refused``: nothing could be made; ``replaced``: by an edit."""
QUESTION_TYPES = (
    "text",
    "integer",
    "decimal",
    "select_one",
    "select_many",
    "date",
    "photo",
    "geopoint",
    "calculate",
)
TRACKER_PROTOCOLS = ("osmand", "owntracks")
FIX_SOURCES = ("app", *TRACKER_PROTOCOLS)
DEVICE_PROTOCOLS = (*TRACKER_PROTOCOLS, "odk", "web")
"""What a registered phone speaks: a tracker protocol, or OpenRosa (ODK Collect, or campo's own
web app in the phone's browser)."""
OUTCOMES = (
    "contact",
    "no_one_home",
    "wrong_address",
    "moved",
    "refused",
    "promise_to_pay",
    "paid",
)
BUCKET_SQL = (
    "CASE WHEN days_past_due <= 30 THEN '0-30' WHEN days_past_due <= 60 THEN '31-60' "
    "WHEN days_past_due <= 90 THEN '61-90' WHEN days_past_due <= 180 THEN '91-180' "
    "ELSE '180+' END"
)
BUCKETS = ("0-30", "31-60", "61-90", "91-180", "180+")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({_quoted(values)})"


def point_4326() -> Geometry:
    """A WGS 84 point column; its GiST index is declared explicitly on the table."""
    return Geometry("POINT", srid=4326, spatial_index=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="slug_format"),)


class User(Base):
    __tablename__ = "users"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "email"),
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )


class Agent(Base):
    __tablename__ = "agents"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(Text)
    base_point: Mapped[WKBElement] = mapped_column(point_4326())
    base_address: Mapped[str | None] = mapped_column(Text)
    travel_mode: Mapped[str] = mapped_column(Text)
    shift_start: Mapped[time] = mapped_column(Time)
    shift_end: Mapped[time] = mapped_column(Time)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    """Shift and capacity default to the tenant's settings (``geo.core.tenant_settings``)."""
    skills: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        UniqueConstraint("tenant_id", "user_id"),
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint(_one_of("travel_mode", TRAVEL_MODES), name="travel_mode"),
        CheckConstraint("daily_capacity > 0", name="daily_capacity_positive"),
        CheckConstraint("shift_end > shift_start", name="shift_order"),
        Index("ix_agents_base_point", "base_point", postgresql_using="gist"),
    )


class Debtor(Base):
    __tablename__ = "debtors"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    document_type: Mapped[str] = mapped_column(Text)
    document_number: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    authorised_channels: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    """Channels the debtor authorised for collection contacts; NULL: none on record."""
    agreed_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    """Contact hours the debtor asked for (a :class:`~geo.core.contact_law.WeeklyHours`),
    replacing the legal ones for this debtor; NULL: the legal hours."""

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "document_type", "document_number"),
        CheckConstraint(
            f"authorised_channels <@ ARRAY[{_quoted(CHANNELS)}]::text[]",
            name="channels",
        ),
        CheckConstraint(_one_of("document_type", ("CC", "CE", "NIT", "PP", "TI")), name="doc_type"),
    )


class Address(Base):
    __tablename__ = "addresses"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    debtor_id: Mapped[int] = mapped_column(BigInteger)
    raw_text: Mapped[str] = mapped_column(Text)
    city: Mapped[str] = mapped_column(Text)
    point: Mapped[WKBElement | None] = mapped_column(point_4326())
    geocode_quality: Mapped[str] = mapped_column(Text, server_default=text("'none'"))
    geofence_radius_m: Mapped[float | None] = mapped_column(Float)
    geofence: Mapped[WKBElement | None] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False)
    )

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "debtor_id"], ["debtors.tenant_id", "debtors.id"], ondelete="CASCADE"
        ),
        CheckConstraint(_one_of("geocode_quality", GEOCODE_QUALITIES), name="geocode_quality"),
        CheckConstraint("(point IS NULL) = (geocode_quality = 'none')", name="point_quality"),
        CheckConstraint("geofence_radius_m IS NULL OR geofence_radius_m > 0", name="radius_pos"),
        CheckConstraint("geofence IS NULL OR ST_IsValid(geofence)", name="geofence_valid"),
        Index("ix_addresses_tenant_id_debtor_id", "tenant_id", "debtor_id"),
        Index("ix_addresses_point", "point", postgresql_using="gist"),
        Index("ix_addresses_geofence", "geofence", postgresql_using="gist"),
    )


class Case(Base):
    __tablename__ = "cases"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    external_ref: Mapped[str] = mapped_column(Text)
    debtor_id: Mapped[int] = mapped_column(BigInteger)
    address_id: Mapped[int | None] = mapped_column(BigInteger)
    product: Mapped[str] = mapped_column(Text)
    outstanding_cop: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    days_past_due: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(Text, Computed(BUCKET_SQL, persisted=True))
    priority: Mapped[int] = mapped_column(SmallInteger, server_default=text("50"))
    status: Mapped[str] = mapped_column(Text, server_default=text("'open'"))
    assigned_agent_id: Mapped[int | None] = mapped_column(BigInteger)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    visit_from: Mapped[time | None] = mapped_column(Time)
    visit_until: Mapped[time | None] = mapped_column(Time)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "debtor_id"], ["debtors.tenant_id", "debtors.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "address_id"], ["addresses.tenant_id", "addresses.id"]),
        ForeignKeyConstraint(["tenant_id", "assigned_agent_id"], ["agents.tenant_id", "agents.id"]),
        UniqueConstraint("tenant_id", "external_ref"),
        CheckConstraint(_one_of("status", CASE_STATUSES), name="status"),
        CheckConstraint("outstanding_cop >= 0", name="amount_nonnegative"),
        CheckConstraint("days_past_due >= 0", name="dpd_nonnegative"),
        CheckConstraint("priority BETWEEN 0 AND 100", name="priority_range"),
        CheckConstraint("(assigned_agent_id IS NULL) = (assigned_at IS NULL)", name="assignment"),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_at"),
        CheckConstraint(
            "(visit_from IS NULL) = (visit_until IS NULL) AND "
            "(visit_from IS NULL OR visit_from < visit_until)",
            name="visit_window",
        ),
        Index("ix_cases_tenant_id_status_bucket", "tenant_id", "status", "bucket"),
        Index("ix_cases_tenant_id_assigned_agent_id", "tenant_id", "assigned_agent_id"),
        Index("ix_cases_tenant_id_debtor_id", "tenant_id", "debtor_id"),
    )


class Zone(Base):
    __tablename__ = "zones"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"]),
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(_one_of("kind", ZONE_KINDS), name="kind"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index("ix_zones_geom", "geom", postgresql_using="gist"),
    )


class GpsFix(Base):
    """One GPS fix. Partitioned by month of ``recorded_at`` (device time).

    The key leads with (tenant, agent, device time), which is exactly the order trails and
    "latest fix" look-ups read, and ends with the device's idempotency id so a re-sent fix is
    recognised on conflict.
    """

    __tablename__ = "gps_fixes"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    point: Mapped[WKBElement] = mapped_column(point_4326())
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    charging: Mapped[bool | None] = mapped_column(Boolean)
    mock: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text, server_default=text("'app'"))
    device_id: Mapped[int | None] = mapped_column(BigInteger)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"]),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m > 0", name="accuracy_positive"),
        CheckConstraint("battery_pct IS NULL OR battery_pct BETWEEN 0 AND 100", name="battery"),
        Index("ix_gps_fixes_point", "point", postgresql_using="gist"),
        {"postgresql_partition_by": "RANGE (recorded_at)"},
    )


class Visit(Base):
    __tablename__ = "visits"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    case_id: Mapped[int] = mapped_column(BigInteger)
    agent_id: Mapped[int] = mapped_column(BigInteger)
    checkin_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checkin_fix_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    checkin_point: Mapped[WKBElement] = mapped_column(point_4326())
    checkin_accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    outcome: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    checkout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(Text, server_default=text("'open'"))
    checkin_fix_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checkin_dwell_s: Mapped[float | None] = mapped_column(Float)
    questionnaire_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome_client_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_decision: Mapped[str | None] = mapped_column(Text)
    """A supervisor's decision on a check-in the rules sent to review: approved or rejected."""
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
        ForeignKeyConstraint(["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"]),
        ForeignKeyConstraint(["tenant_id", "reviewed_by"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "questionnaire_id"], ["questionnaires.tenant_id", "questionnaires.id"]
        ),
        UniqueConstraint("tenant_id", "agent_id", "client_id"),
        CheckConstraint(_one_of("status", VISIT_STATUSES), name="status"),
        CheckConstraint(
            "review_decision IS NULL OR (review_decision IN ('approved', 'rejected') "
            "AND verdict = 'review' AND reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL)",
            name="review",
        ),
        CheckConstraint(
            "status <> 'completed' OR (outcome IS NOT NULL AND checkout_at IS NOT NULL)",
            name="completed_has_outcome",
        ),
        # One open visit per agent and case: a second check-in must not open another.
        Index(
            "ix_visits_one_open",
            "tenant_id",
            "agent_id",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        CheckConstraint(_one_of("verdict", VERDICTS), name="verdict"),
        CheckConstraint(f"outcome IS NULL OR {_one_of('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint("checkout_at IS NULL OR checkout_at >= checkin_at", name="checkout"),
        # A case's visits in time order: the law's ledger and the open-visit check read them by
        # case, never by the tenant's whole day (whose statistics always lag behind today).
        Index("ix_visits_tenant_id_case_id_checkin_at", "tenant_id", "case_id", "checkin_at"),
        Index("ix_visits_tenant_id_agent_id_checkin_at", "tenant_id", "agent_id", "checkin_at"),
        Index("ix_visits_checkin_point", "checkin_point", postgresql_using="gist"),
    )


class Device(Base):
    """A tracker app (Traccar Client, OwnTracks) registered to an agent by its identifier.

    The tracker protocols carry no tenant, so ``identifier`` is unique across tenants: it is the
    one key that is not led by ``tenant_id``, read only through ``campo_device_lookup()``.
    OwnTracks devices also carry a secret (stored as a SHA-256 digest: it is a random token, not
    a human password) checked against HTTP Basic auth.
    """

    __tablename__ = "devices"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigInteger)
    identifier: Mapped[str] = mapped_column(Text, unique=True)
    protocol: Mapped[str] = mapped_column(Text)
    secret_sha256: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"], ondelete="CASCADE"
        ),
        CheckConstraint(_one_of("protocol", DEVICE_PROTOCOLS), name="protocol"),
        CheckConstraint("length(identifier) BETWEEN 6 AND 200", name="identifier_length"),
        CheckConstraint(
            "protocol <> 'owntracks' OR secret_sha256 IS NOT NULL", name="owntracks_secret"
        ),
        Index("ix_devices_tenant_id_agent_id", "tenant_id", "agent_id"),
    )


class AgentPosition(Base):
    """The latest fix of each agent, upserted on ingest so live positions never scan history.

    A late upload never moves an agent back in time: the upsert only wins with a newer
    ``recorded_at``.
    """

    __tablename__ = "agent_positions"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fix_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    point: Mapped[WKBElement] = mapped_column(point_4326())
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    charging: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"], ondelete="CASCADE"
        ),
        Index("ix_agent_positions_point", "point", postgresql_using="gist"),
    )


class Questionnaire(Base):
    """A versioned questionnaire definition (JSON); a version, once used, never changes."""

    __tablename__ = "questionnaires"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    xlsform: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The XLSForm workbook as uploaded, when the version came from one."""
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When an admin took the version out of use: phones no longer get it (the key's newest
    version in use serves instead), while what was sent with it is still read with it."""

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "key", "version"),
        CheckConstraint("version > 0", name="version_positive"),
    )


class Promise(Base):
    """A promise to pay made during a visit, to be matched against payments."""

    __tablename__ = "promises"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    visit_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int] = mapped_column(BigInteger)
    amount_cop: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "visit_id"], ["visits.tenant_id", "visits.id"]),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
        UniqueConstraint("tenant_id", "visit_id"),
        CheckConstraint("amount_cop > 0", name="amount_positive"),
        Index("ix_promises_tenant_id_case_id_due_date", "tenant_id", "case_id", "due_date"),
    )


class OutboxMessage(Base):
    """An e-mail to send, written in the same transaction as the event it announces.

    About a visit (its completion) or an alert, never both; unique per (kind, visit) and per
    (kind, alert), so each is announced once. The job sends it and retries with back-off while
    the SMTP server is away.
    """

    __tablename__ = "outbox"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(BigInteger)
    alert_id: Mapped[int | None] = mapped_column(BigInteger)
    recipients: Mapped[list[str]] = mapped_column(ARRAY(Text))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "visit_id"], ["visits.tenant_id", "visits.id"]),
        ForeignKeyConstraint(["tenant_id", "alert_id"], ["alerts.tenant_id", "alerts.id"]),
        UniqueConstraint("tenant_id", "kind", "visit_id"),
        UniqueConstraint("tenant_id", "kind", "alert_id"),
        CheckConstraint("(visit_id IS NULL) <> (alert_id IS NULL)", name="one_subject"),
        CheckConstraint("status IN ('pending', 'sent')", name="status"),
        Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )


PLAN_STATUSES = ("queued", "running", "done", "failed")


class Plan(Base):
    """A day's plan: computed in the background, with progress, then its routes and stops."""

    __tablename__ = "plans"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, server_default=text("'queued'"))
    progress: Mapped[float] = mapped_column(Float, server_default=text("0"))
    message: Mapped[str | None] = mapped_column(Text)
    budget_s: Mapped[float] = mapped_column(Float)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a dispatcher made it the day's plan in force; at most one per day is."""
    published_by: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "published_by"], ["users.tenant_id", "users.id"]),
        CheckConstraint(_one_of("status", PLAN_STATUSES), name="status"),
        CheckConstraint("progress BETWEEN 0 AND 1", name="progress_range"),
        CheckConstraint("published_at IS NULL OR status = 'done'", name="published_done"),
        Index("ix_plans_tenant_id_day", "tenant_id", "day"),
        Index(
            "ix_plans_one_published",
            "tenant_id",
            "day",
            unique=True,
            postgresql_where=text("published_at IS NOT NULL"),
        ),
    )


class PlanRoute(Base):
    """One agent's route in a plan, with its street geometry."""

    __tablename__ = "plan_routes"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    distance_m: Mapped[float] = mapped_column(Float)
    ride_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Metres on streets; NULL on routes planned before ride and walk were measured apart."""
    walk_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    duration_s: Mapped[float] = mapped_column(Float)
    geometry: Mapped[WKBElement] = mapped_column(
        Geometry("LINESTRING", srid=4326, spatial_index=False)
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "plan_id"], ["plans.tenant_id", "plans.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"]),
        Index("ix_plan_routes_geometry", "geometry", postgresql_using="gist"),
    )


class PlanStop(Base):
    """A case in a route, in order, with its estimated arrival and departure."""

    __tablename__ = "plan_stops"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    eta: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    etd: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "plan_id"], ["plans.tenant_id", "plans.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
        UniqueConstraint("tenant_id", "plan_id", "agent_id", "seq"),
    )


class PlanUnplanned(Base):
    """A case the plan could not fit, and why."""

    __tablename__ = "plan_unplanned"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "plan_id"], ["plans.tenant_id", "plans.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
    )


class Alert(Base):
    """Something a supervisor should know, raised once per occurrence and resolved when the
    condition ends; ``subject`` names the occurrence (``agent:7``, ``visit:12``, ...)."""

    __tablename__ = "alerts"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        CheckConstraint(_one_of("rule", ALERT_RULES), name="rule"),
        # One open alert per occurrence: evaluating again does not raise it again.
        Index(
            "ix_alerts_one_open",
            "tenant_id",
            "rule",
            "subject",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_alerts_tenant_id_raised_at", "tenant_id", "raised_at"),
    )


class Payment(Base):
    """A payment received on a case, imported from the creditor's files.

    Imports are repeatable: a row with the same case, day, amount and reference is the same
    payment, so importing a file twice stores it once. Two equal payments on one day need
    distinct references.
    """

    __tablename__ = "payments"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    amount_cop: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    reference: Mapped[str] = mapped_column(Text, server_default=text("''"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
        UniqueConstraint("tenant_id", "case_id", "paid_on", "amount_cop", "reference"),
        CheckConstraint("amount_cop > 0", name="amount_positive"),
        Index("ix_payments_tenant_id_paid_on", "tenant_id", "paid_on"),
    )


class Contact(Base):
    """A contact attempt with a debtor through another channel than campo's visits (a call,
    an SMS, ...), imported from the tenant's other systems. Visits are contacts too: the
    ``contact_ledger`` view joins both. ``external_id`` makes an import repeatable."""

    __tablename__ = "contacts"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    debtor_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(Text)
    contacted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "debtor_id"], ["debtors.tenant_id", "debtors.id"]),
        ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"]),
        ForeignKeyConstraint(["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"]),
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        UniqueConstraint("tenant_id", "source", "external_id"),
        Index(
            "ix_contacts_tenant_id_debtor_id_contacted_at", "tenant_id", "debtor_id", "contacted_at"
        ),
        Index("ix_contacts_tenant_id_contacted_at", "tenant_id", "contacted_at"),
    )


class AuditEntry(Base):
    """A change made by someone, from the console or the API: who, when, what, before and
    after; the record a supervisor's decision leaves."""

    __tablename__ = "audit_log"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    """What changed, as ``kind:id`` (``visit:12``)."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
        Index("ix_audit_log_tenant_id_subject_at", "tenant_id", "subject", "at"),
        Index("ix_audit_log_tenant_id_user_id_at", "tenant_id", "user_id", "at"),
    )


class AnalystLogin(Base):
    """A database login for an analyst's own SQL tools, bound to one tenant.

    The ``analytics`` views show such a login its tenant's rows only, whatever it sets in
    ``app.tenant_id``; it has no privilege on the tables themselves.
    """

    __tablename__ = "analyst_logins"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    role_name: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),)


class VisitMedia(Base):
    """A file sent with a visit (a photo of the façade): stored on disk under its SHA-256,
    listed here with the question it answers."""

    __tablename__ = "visit_media"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    visit_id: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(Text)
    """The name the phone gave it, which the answers refer to."""
    sha256: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "visit_id"], ["visits.tenant_id", "visits.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "visit_id", "filename"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )


class Submission(Base):
    """A form instance as a phone sent it (ODK Collect's XML), kept before anything is derived
    from it: the truth its visit, outcome and trail are derived, and re-derived, from."""

    __tablename__ = "submissions"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    instance_id: Mapped[str] = mapped_column(Text)
    """``meta/instanceID`` (``uuid:…``): a resend is the same submission."""
    deprecated_id: Mapped[str | None] = mapped_column(Text)
    """``meta/deprecatedID``: the instance this one edits."""
    agent_id: Mapped[int] = mapped_column(BigInteger)
    device_id: Mapped[int] = mapped_column(BigInteger)
    form_id: Mapped[str] = mapped_column(Text)
    form_version: Mapped[str] = mapped_column(Text)
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """campo's clock when it was stored: the "now" it is judged against, on every derivation."""
    state: Mapped[str] = mapped_column(Text, server_default=text("'stored'"))
    problems: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    clock_skew_s: Mapped[float | None] = mapped_column(Float)
    """How far the phone's clock ran ahead of campo's (its times were moved back by this)."""
    visit_id: Mapped[int | None] = mapped_column(BigInteger)
    derived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "agent_id"], ["agents.tenant_id", "agents.id"]),
        ForeignKeyConstraint(["tenant_id", "device_id"], ["devices.tenant_id", "devices.id"]),
        ForeignKeyConstraint(["tenant_id", "visit_id"], ["visits.tenant_id", "visits.id"]),
        UniqueConstraint("tenant_id", "instance_id"),
        CheckConstraint(_one_of("state", SUBMISSION_STATES), name="state"),
        CheckConstraint("length(instance_id) BETWEEN 1 AND 200", name="instance_id_length"),
        Index("ix_submissions_tenant_id_visit_id", "tenant_id", "visit_id"),
        Index(
            "ix_submissions_needing_review",
            "tenant_id",
            "received_at",
            postgresql_where=text("state IN ('problems', 'refused')"),
        ),
    )


class SubmissionFile(Base):
    """An attachment of a submission, its bytes as sent (a photo, Collect's ``audit.csv``)."""

    __tablename__ = "submission_files"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    content_type: Mapped[str] = mapped_column(Text)
    """What the phone said it is (the bytes are sniffed again when derived)."""
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(Text)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["tenant_id", "submission_id"],
            ["submissions.tenant_id", "submissions.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("length(name) BETWEEN 1 AND 200", name="name_length"),
    )
