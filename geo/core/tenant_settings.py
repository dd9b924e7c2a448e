"""A tenant's settings: one typed model, every key with its type, unit, default and meaning.

``tenants.settings`` stores only what an admin set; the defaults live here and nowhere else, so
a changed default reaches every tenant that did not choose otherwise. The stored document is
validated on every write (an unknown key or a bad value names the key) and read once per
session (request or job), cached in the session.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pyproj import CRS
from pyproj.exceptions import CRSError
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.core.bounds import LocalTime
from geo.core.contact_law import LEGAL_HOURS, WeeklyHours
from geo.core.errors import InvalidInput, NotFound
from geo.core.models import BUCKETS, Tenant

WRITING = "writing"
"""Validation context: the keys being set now, whose values get the checks that only make sense
at that moment (a file exists on the server)."""


class Bucket(StrEnum):
    """A delinquency bucket (days past due)."""

    b0_30 = BUCKETS[0]
    b31_60 = BUCKETS[1]
    b61_90 = BUCKETS[2]
    b91_180 = BUCKETS[3]
    b180 = BUCKETS[4]


class SegmentSkill(BaseModel):
    """Cases matching every condition given need an agent with ``skill``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    skill: Annotated[str, Field(min_length=1, max_length=60)]
    min_outstanding_cop: Annotated[float, Field(ge=0)] = 0
    buckets: list[Bucket] | None = None
    products: list[str] | None = None

    def matches(self, *, outstanding_cop: float, bucket: str, product: str) -> bool:
        return (
            outstanding_cop >= self.min_outstanding_cop
            and (self.buckets is None or bucket in self.buckets)
            and (self.products is None or product in self.products)
        )


def _setting(default: Any, description: str, **limits: Any) -> Any:
    return Field(default, description=description, **limits)


class TenantSettings(BaseModel):
    """Everything a tenant admin may tune. Units are in the key names."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    # --- place and language
    timezone: str = _setting("America/Bogota", "IANA zone of the tenant's local days and times.")
    locale: str = _setting("es-CO", "Language of pages, e-mails and map labels.", pattern="^es-CO$")
    metric_srid: int | None = _setting(
        None,
        "EPSG code of a projected, metre-based CRS for planar lengths and areas; none: chosen "
        "for where the data is (EPSG:9377 in Colombia, its UTM zone elsewhere).",
    )
    street_network: str | None = _setting(
        None, "Path (on the server) of the OSM extract to route on; none: a street grid."
    )
    # --- people and notifications
    notify_emails: list[EmailStr] = _setting(
        [], "Who gets the e-mail of each completed visit.", max_length=50
    )
    agent_daily_capacity: int = _setting(
        20, "Visits per day of a new agent when none is given.", gt=0, le=200
    )
    agent_shift_start: LocalTime = _setting(time(8, 0), "Start of a new agent's shift.")
    agent_shift_end: LocalTime = _setting(time(17, 0), "End of a new agent's shift.")
    # --- alerts
    alert_emails: list[EmailStr] = _setting(
        [], "Supervisors who get each alert by e-mail when it is raised.", max_length=50
    )
    alert_silent_min: float = _setting(
        30, "Alert when an agent on shift sends no GPS fix for this long (0: never).", ge=0, le=1440
    )
    alert_battery_pct: float = _setting(
        15,
        "Alert when an agent on shift reports less battery, not charging (0: never).",
        ge=0,
        le=100,
    )
    alert_rejected_checkin: bool = _setting(True, "Alert on each rejected check-in.")
    alert_unpaid_promise: bool = _setting(
        True, "Alert on a promise due tomorrow with no payment since it was made."
    )
    # --- check-in verification
    geofence_radius_m: float = _setting(
        75, "Radius of an address's circular geofence when it has none of its own.", gt=0, le=5000
    )
    checkin_max_accuracy_m: float = _setting(
        50, "A fix less accurate than this cannot prove presence.", gt=0, le=5000
    )
    checkin_max_speed_mps: float = _setting(
        55, "A jump faster than this from the previous fix is impossible.", gt=0, le=350
    )
    checkin_max_fix_age_s: float = _setting(
        120, "A fix older than this at check-in is stale.", gt=0, le=86400
    )
    checkin_approach_window_min: float = _setting(
        10, "How far back the trail must show an approach to the address.", ge=0, le=1440
    )
    checkin_require_trail: bool = _setting(
        True,
        "With no GPS trail in the approach window a check-in goes to review (one fix proves "
        "nothing); off for teams without background tracking.",
    )
    checkin_approach_m: float = _setting(
        300, "The trail must come this close to the fence within the window.", gt=0, le=50000
    )
    checkin_dwell_min: float = _setting(
        0, "Minimum time inside the fence before checking out (0: not required).", ge=0, le=600
    )
    checkin_leave_grace_s: float = _setting(
        60, "Time outside the fence tolerated during a visit.", ge=0, le=3600
    )
    checkin_repeat_window_min: float = _setting(
        120, "Window in which identical coordinates count as a replayed fix.", gt=0, le=1440
    )
    checkin_mock_unknown: Literal["corroborate", "accept", "review", "reject"] = _setting(
        "corroborate",
        "A check-in from a browser cannot say whether its position is simulated (Android apps "
        "can). corroborate: accept it when the phone's own trail backs it (at least two fixes "
        "in the approach window, one near the door; jumps, repeats and accuracy are judged as "
        "always), else review; accept or review or reject it on that alone.",
    )
    checkin_repeat_count: int = _setting(
        3, "This many fixes at the very same point in the window look replayed.", ge=2, le=100
    )
    phone_clock_skew_min: float = _setting(
        15,
        "A phone's clock may run this far ahead of the server's: its submission is stored and "
        "its times moved back, the skew recorded; farther ahead, the visit also goes to review.",
        ge=0,
        le=1440,
    )
    # --- GPS tracking
    gps_horizon_days: float = _setting(
        30, "Fixes older than this when they arrive are refused.", gt=0, le=400
    )
    gps_shift_only: bool = _setting(True, "Store fixes only within the agent's shift.")
    gps_shift_margin_min: float = _setting(
        30, "Margin before and after the shift when gps_shift_only.", ge=0, le=720
    )
    gps_interval_s: int = _setting(30, "How often the app records a fix.", ge=1, le=3600)
    gps_low_battery_pct: float = _setting(
        20, "Below this battery level the app records less often.", ge=0, le=100
    )
    gps_low_battery_interval_s: int = _setting(
        120, "Recording interval on low battery.", ge=1, le=3600
    )
    live_stale_min: float = _setting(
        15, "An agent unheard of for longer is shown as stale.", gt=0, le=1440
    )
    # --- planning
    visit_service_min: float = _setting(20, "Time spent at each visit.", gt=0, le=480)
    compact_routes: bool = _setting(
        True,
        "Plan each agent within a territory of balanced work, so routes do not cross; "
        "off, any agent may take any case.",
    )
    plan_tomorrow_hour: int | None = _setting(
        None,
        "Local hour at which the job worker plans the next day by itself (60 s of search); "
        "none: only when asked.",
        ge=0,
        le=23,
    )
    max_snap_m: float = _setting(
        100,
        "Cases farther than this from a street the agent's mode uses are left unplanned.",
        gt=0,
        le=5000,
    )
    visit_hours: tuple[int, int] = _setting(
        (7, 19),
        "Local hours [from, until) in which visits are planned and windows suggested, within "
        "contact_hours.",
    )
    followup_broken_promise_bonus: int = _setting(
        30, "Priority added to a case whose promise to pay was broken.", ge=0, le=100
    )
    followup_no_one_home_bonus: int = _setting(
        15, "Priority added to a case where no one was home last time.", ge=0, le=100
    )
    segment_skills: list[SegmentSkill] = _setting(
        [], "Rules giving the skill a case needs by amount, bucket and product.", max_length=100
    )
    suggested_windows: bool = _setting(True, "Plan within each zone's best contact hours.")
    suggested_window_h: int = _setting(3, "Length of a suggested window.", ge=1, le=12)
    suggested_window_min_attempts: int = _setting(
        30, "Visits a window needs before it is trusted.", ge=1, le=10000
    )
    suggested_window_lookback_days: int = _setting(
        90, "History used to suggest windows.", ge=7, le=730
    )
    # --- the collections law (Ley 2300 de 2023): the defaults are the law
    contact_hours: WeeklyHours = _setting(
        LEGAL_HOURS,
        "Local hours per weekday (mon..sun) in which a debtor may be contacted; a day left out "
        "allows none. The law: Mon-Fri 07:00-19:00, Sat 08:00-15:00.",
    )
    contact_holidays: str | None = _setting(
        "CO",
        "Country whose public holidays allow no contact (the holidays package's calendar); "
        "none: holidays are ordinary days.",
    )
    contacts_per_day: int = _setting(
        1, "Contacts with a debtor per local day, across all channels.", ge=1, le=10
    )
    channels_per_week: int = _setting(
        1, "Channels through which a debtor may be contacted in one ISO week.", ge=1, le=6
    )
    contact_unauthorised: bool = _setting(
        False, "Visit debtors with no authorised channels on record (the law asks for them)."
    )
    contact_breach: Literal["rejected", "review"] = _setting(
        "rejected", "Verdict of a check-in that would break the law's rules."
    )
    # --- analytics
    promise_grace_days: int = _setting(
        3, "Days after its date a promise may still be kept by a payment.", ge=0, le=60
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("contact_holidays")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"no holiday calendar for country {value!r}")
        return value

    @field_validator("metric_srid")
    @classmethod
    def _metric_crs(cls, value: int | None) -> int | None:
        if value is None:
            return None
        try:
            crs = CRS.from_epsg(value)
        except CRSError as exc:
            raise ValueError(f"EPSG:{value} is not a known CRS") from exc
        units = {axis.unit_name for axis in crs.axis_info}
        if not crs.is_projected or units != {"metre"}:
            raise ValueError(f"EPSG:{value} is not a projected CRS in metres")
        return value

    @field_validator("street_network")
    @classmethod
    def _extract_exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        writing = info.context.get(WRITING, ()) if isinstance(info.context, dict) else ()
        if value is not None and info.field_name in writing and not Path(value).is_file():
            raise ValueError(f"no OSM extract at {value!r} on the server")
        return value

    @model_validator(mode="after")
    def _hours(self) -> TenantSettings:
        start, end = self.visit_hours
        if not 0 <= start < end <= 24:
            raise ValueError("visit_hours must be [from, until) with 0 <= from < until <= 24")
        if end - start < self.suggested_window_h:
            raise ValueError("suggested_window_h is longer than visit_hours")
        if self.agent_shift_end <= self.agent_shift_start:
            raise ValueError("agent_shift_end must be after agent_shift_start")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_CACHE_KEY = "tenant_settings"
_RAW_KEY = "tenant_settings_raw"


def parse_settings(
    raw: dict[str, Any] | None, *, writing: frozenset[str] = frozenset()
) -> TenantSettings:
    """Validate a stored or submitted document; errors name each key at fault."""
    try:
        return TenantSettings.model_validate(raw or {}, context={WRITING: writing})
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in e["loc"]) or "settings", e["msg"]) for e in exc.errors()
        ]
        message = "; ".join(f"{field}: {msg}" for field, msg in problems[:5])
        raise InvalidInput(message, problems[0][0], problems=problems) from exc


def tenant_settings(session: Session, tenant_id: int) -> TenantSettings:
    """The tenant's settings, read once per session (a request or a job)."""
    cache: dict[int, TenantSettings] = session.info.setdefault(_CACHE_KEY, {})
    if tenant_id not in cache:
        raw = session.info.get(_RAW_KEY, {}).get(tenant_id)
        if raw is None:
            raw = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
        if raw is None:
            raise NotFound("tenant not found", "tenant_id")
        cache[tenant_id] = parse_settings(raw)
    return cache[tenant_id]


def remember_settings(session: Session, tenant_id: int, raw: dict[str, Any]) -> None:
    """Settings read along with something else (the caller, on every request): this session
    need not read them again; they are validated only if asked for."""
    session.info.setdefault(_RAW_KEY, {})[tenant_id] = raw


def stored_overrides(settings: TenantSettings) -> dict[str, Any]:
    """What to store: only the keys set, as JSON."""
    return settings.model_dump(mode="json", exclude_unset=True)


def forget_settings(session: Session) -> None:
    """Drop the session's cached settings after they were changed."""
    session.info.pop(_CACHE_KEY, None)
    session.info.pop(_RAW_KEY, None)
