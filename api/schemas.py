"""Request and response bodies. GeoJSON geometries are RFC 7946: [lon, lat]."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    WithJsonSchema,
)

from geo.accounts.agents import AgentView
from geo.core.bounds import FIRST_DAY, LAST_DAY, LocalTime
from geo.portfolio.cases import CaseView
from geo.visits.outcomes import VisitView

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id (64-bit).")]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` (pydantic would read ``0`` as 1970-01-01)."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise ValueError("must be a date as YYYY-MM-DD")


def _day_in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return day


def _instant_in_range(at: datetime) -> datetime:
    _day_in_range(at.date())  # the day as written; geo.core.bounds allows a day's offset
    return at


Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    AfterValidator(_day_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
            "description": f"YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}",
        }
    ),
]
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_instant_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": "^20[0-9]{2}-.*([Zz]|[+-][0-9]{2}:?[0-9]{2})$",
            "description": f"ISO 8601 with a UTC offset, from {FIRST_DAY} to {LAST_DAY}",
        }
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def documented(model: type[BaseModel]) -> WithJsonSchema:
    """Publish ``model`` as the schema of a field that is validated item by item in ``geo``
    (so one bad item of an offline batch is answered, not the whole batch refused)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return WithJsonSchema(inline(schema))


class FixItem(BaseModel):
    """One GPS fix as the field app records it; times carry their UTC offset."""

    id: uuid.UUID = Field(description="Made by the phone: the fix's idempotency key")
    recorded_at: AwareDatetime
    lat: Lat
    lon: Lon
    accuracy_m: Annotated[float | None, Field(gt=0)] = None
    speed_mps: Annotated[float | None, Field(ge=0)] = None
    heading_deg: Annotated[float | None, Field(ge=0, lt=360)] = None
    altitude_m: float | None = None
    battery_pct: Annotated[float | None, Field(ge=0, le=100)] = None
    charging: bool | None = None
    mock: bool | None = Field(
        False,
        description="The phone reported a simulated location; null: the platform cannot tell "
        "(a browser), and the tenant's checkin_mock_unknown decides",
    )


class QuestionnaireRef(Strict):
    key: Annotated[str, Field(max_length=40)]
    version: Annotated[int, Field(ge=1)]


OUTCOME = Literal[
    "contact", "no_one_home", "wrong_address", "moved", "refused", "promise_to_pay", "paid"
]


class CheckinItem(BaseModel):
    """A check-in recorded offline, verified against the fixes sent before it."""

    id: uuid.UUID
    case_id: Id
    fix: FixItem
    checked_in_at: AwareDatetime | None = None


class OutcomeItem(BaseModel):
    """A visit's outcome recorded offline, naming its visit by the check-in's id."""

    id: uuid.UUID
    checkin_id: uuid.UUID
    outcome: OUTCOME
    questionnaire: QuestionnaireRef
    answers: dict[str, Any] = {}
    checkout_at: AwareDatetime | None = None


class Point(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]

    @classmethod
    def of(cls, lon: float | None, lat: float | None) -> Point | None:
        return None if lon is None or lat is None else cls(coordinates=(lon, lat))


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int


class Me(BaseModel):
    user_id: int
    tenant_id: int
    role: str
    agent_id: int | None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    postgresql: str | None = None
    postgis: str | None = None


class Debtor(BaseModel):
    id: int
    full_name: str
    document_type: str
    document_number: str
    phone: str | None


class CaseAddress(BaseModel):
    id: int
    text: str
    city: str
    location: Point | None
    geocode_quality: str
    geofence_radius_m: float | None


class CaseOut(BaseModel):
    id: int
    external_ref: str
    product: str
    outstanding_cop: Decimal
    days_past_due: int
    bucket: str
    priority: int
    status: str
    assigned_agent_id: int | None
    assigned_at: datetime | None
    closed_at: datetime | None
    visit_window: tuple[LocalTime, LocalTime] | None = None
    debtor: Debtor
    address: CaseAddress | None

    @classmethod
    def of(cls, v: CaseView) -> CaseOut:
        address = None
        if v.address_id is not None:
            address = CaseAddress(
                id=v.address_id,
                text=v.address or "",
                city=v.city or "",
                location=Point.of(v.lon, v.lat),
                geocode_quality=v.geocode_quality or "none",
                geofence_radius_m=v.geofence_radius_m,
            )
        return cls(
            id=v.id,
            external_ref=v.external_ref,
            product=v.product,
            outstanding_cop=v.outstanding_cop,
            days_past_due=v.days_past_due,
            bucket=v.bucket,
            priority=v.priority,
            status=v.status,
            assigned_agent_id=v.assigned_agent_id,
            assigned_at=v.assigned_at,
            closed_at=v.closed_at,
            visit_window=None
            if v.visit_from is None or v.visit_until is None
            else (v.visit_from, v.visit_until),
            debtor=Debtor(
                id=v.debtor_id,
                full_name=v.debtor_name,
                document_type=v.document_type,
                document_number=v.document_number,
                phone=v.phone,
            ),
            address=address,
        )


class CasePage(BaseModel):
    items: list[CaseOut]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


class CasePatch(Strict):
    priority: Annotated[int | None, Field(ge=0, le=100)] = None
    status: Literal["open", "paid", "agreement", "written_off", "withdrawn"] | None = None
    assigned_agent_id: Id | None = Field(default=None, description="null unassigns.")
    visit_window: tuple[LocalTime, LocalTime] | None = Field(
        default=None,
        description='Hours the debtor may be visited, ["14:00", "18:00"]; null clears.',
    )


class AgentOut(BaseModel):
    id: int
    user_id: int
    code: str
    full_name: str
    email: str
    base: Point
    base_address: str | None
    travel_mode: str
    shift_start: LocalTime
    shift_end: LocalTime
    daily_capacity: int
    skills: list[str]
    active: bool

    @classmethod
    def of(cls, v: AgentView) -> AgentOut:
        return cls(
            base=Point(coordinates=(v.lon, v.lat)),
            **{k: getattr(v, k) for k in cls.model_fields if k != "base"},
        )


class AgentIn(Strict):
    user_id: Id
    code: Annotated[str, Field(min_length=1, max_length=40)]
    base: Annotated[tuple[Lon, Lat], Field(description="[lon, lat] of the agent's base.")]
    base_address: Annotated[str | None, Field(max_length=300)] = None
    travel_mode: Literal["walk", "motorbike", "car"]
    shift_start: LocalTime | None = Field(None, description="Default: the tenant's setting.")
    shift_end: LocalTime | None = Field(None, description="Default: the tenant's setting.")
    daily_capacity: Annotated[
        int | None, Field(gt=0, le=200, description="Default: the tenant's setting.")
    ] = None
    skills: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=20)
    ] = []


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: str
    active: bool


class UserIn(Strict):
    email: EmailStr
    full_name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Literal["admin", "dispatcher", "agent", "analyst"]
    password: Annotated[str, Field(min_length=8, max_length=200)]


class UserPatch(Strict):
    full_name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    role: Literal["admin", "dispatcher", "agent", "analyst"] | None = None
    active: bool | None = Field(None, description="false: signed out at once, everywhere")


class PasswordOut(BaseModel):
    password: str = Field(description="The new password, shown this once")


class AgentPatch(Strict):
    travel_mode: Literal["walk", "motorbike", "car"] | None = None
    shift_start: LocalTime | None = None
    shift_end: LocalTime | None = None
    daily_capacity: Annotated[int | None, Field(gt=0, le=500)] = None
    active: bool | None = Field(None, description="false: not planned, may not sync")


class DeviceIn(Strict):
    """campo issues the identifier (and OwnTracks' password): see the answer."""

    agent_id: Id
    protocol: Literal["osmand", "owntracks", "odk"]


class DeviceOut(BaseModel):
    id: int
    agent_id: int
    identifier: str
    protocol: str
    active: bool
    created_at: datetime
    secret: str | None = Field(
        None, description="OwnTracks only, shown once: the HTTP Basic password for the app."
    )


class DevicePatch(Strict):
    active: bool


class TrackingOut(BaseModel):
    interval_s: int = Field(description="Seconds between fixes.")
    low_battery_pct: float = Field(description="Below this level, use the slower interval.")
    low_battery_interval_s: int
    shift_only: bool = Field(description="Fixes outside the shift (plus margin) are not kept.")
    shift_start: LocalTime
    shift_end: LocalTime
    shift_margin_min: float
    upload_horizon_days: float = Field(description="Older fixes are refused on upload.")
    timezone: str
    checkin_max_accuracy_m: float = Field(
        description="A check-in position less accurate than this is refused: the app waits."
    )
    checkin_max_fix_age_s: float = Field(
        description="A check-in position older than this is refused: the app waits for a new one."
    )


class StopOut(BaseModel):
    seq: int = Field(description="Visiting order in the day's published route, from 1")
    eta: datetime
    etd: datetime


class DayCaseOut(CaseOut):
    stop: StopOut | None = Field(None, description="Its place in the published route, if any")


class DayOut(BaseModel):
    date: date
    agent: AgentOut
    tracking: TrackingOut
    cases: list[DayCaseOut] = Field(description="The published route in order, then by priority")


class CheckinIn(Strict):
    id: str = Field(
        max_length=64, description="The check-in's UUID from the phone (idempotency key)."
    )
    case_id: Id
    fix: Annotated[dict[str, Any], documented(FixItem)] = Field(
        description="A fix, as in /v1/me/sync"
    )
    checked_in_at: str | None = Field(None, description="ISO 8601 with offset; default: now")


class Reason(BaseModel):
    code: str
    message: str


class CheckinOut(BaseModel):
    visit_id: int
    verdict: Literal["accepted", "review", "rejected"]
    distance_m: float
    radius_m: float | None
    accuracy_m: float | None
    reasons: list[Reason]
    dwell_s: float | None = None


class OutcomeIn(Strict):
    id: str = Field(
        max_length=64, description="The outcome's UUID from the phone (idempotency key)."
    )
    outcome: OUTCOME
    questionnaire: QuestionnaireRef
    answers: dict[str, Any] = {}
    checkout_at: str | None = Field(None, description="ISO 8601 with offset; default: now")


class OutcomeOut(BaseModel):
    visit_id: int
    status: str
    outcome: str
    promise_id: int | None
    notified: bool


class VisitOut(BaseModel):
    id: int
    case_id: int
    agent_id: int
    status: str
    verdict: str
    reasons: list[Reason]
    checkin_at: datetime
    location: Point
    accuracy_m: float | None
    distance_m: float
    radius_m: float | None
    dwell_s: float | None
    outcome: str | None
    answers: dict[str, Any] | None
    checkout_at: datetime | None
    promise_amount_cop: float | None
    promise_due_date: date | None

    @classmethod
    def of(cls, v: VisitView) -> VisitOut:
        fields = {k: getattr(v, k) for k in cls.model_fields if k != "location"}
        return cls(location=Point(coordinates=(v.lon, v.lat)), **fields)


class PolygonIn(Strict):
    type: Literal["Polygon"]
    coordinates: Annotated[
        list[Annotated[list[tuple[Lon, Lat]], Field(min_length=4, max_length=500)]],
        Field(min_length=1, max_length=20),
    ]


class GeofenceIn(Strict):
    radius_m: Annotated[float | None, Field(gt=0, le=2000)] = None
    polygon: PolygonIn | None = None


class GeofenceOut(BaseModel):
    case_id: int
    address_id: int
    radius_m: float | None
    polygon: dict[str, Any] | None
    tenant_default: bool


class QuestionnaireIn(Strict):
    key: Annotated[str, Field(pattern="^[a-z0-9_-]{2,40}$")]
    definition: dict[str, Any]


class QuestionnaireOut(BaseModel):
    id: int
    key: str
    version: int
    title: str
    definition: dict[str, Any]
    retired: bool = Field(
        description="Taken out of use by an admin: phones get the key's newest version in use."
    )


class QuestionnairePatch(Strict):
    retired: bool = Field(description="true takes the version out of use; false brings it back.")


class PinIn(Strict):
    case_id: Id
    agent_id: Id


class PlanIn(Strict):
    date: Day
    budget_s: Annotated[float, Field(gt=0, le=600, description="Solver time budget")] = 30.0
    replan: bool = Field(
        False,
        description="Plan the rest of today from now and from where "
        "the agents are; cases visited today stay out",
    )
    absent_agent_ids: Annotated[list[Id], Field(max_length=1000)] = []
    pins: Annotated[list[PinIn], Field(max_length=500)] = Field(
        [], description="Cases fixed to an agent; the rest is planned around them"
    )


class PlanProblem(BaseModel):
    rule: str = Field(
        description="case_twice, capacity, sequence, order, shift, window, skills, too_fast"
    )
    message: str
    agent_id: int | None
    case_id: int | None


class PlanAudit(BaseModel):
    plan_id: int
    ok: bool
    planned: int
    unplanned_by_reason: dict[str, int]
    route_overlap: float = Field(
        description="Share of the routes' area covered by two or more (0: separate patches)"
    )
    problems: list[PlanProblem]
