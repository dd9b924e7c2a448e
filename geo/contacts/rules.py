"""Would this contact break the law? The rules of Ley 2300 de 2023 on one contact.

A pure function of the contact (its local moment and channel), the debtor's authorised
channels and agreed schedule, what the ledger holds for that debtor on that day and in that
ISO week, and the tenant's policy (whose defaults are the law). The planner asks it before
planning a visit, the check-in before accepting one, and the compliance report of every
contact in the ledger, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from geo.core.contact_law import CHANNEL_LABELS, WeeklyHours, day_hours, outside_hours
from geo.core.tenant_settings import TenantSettings

RULES = (
    "outside_contact_hours",
    "second_contact_today",
    "second_channel_this_week",
    "channel_not_authorised",
    "no_authorisation_on_record",
)
"""Every rule's code, in the order they are checked."""
RULE_LABELS = {
    "outside_contact_hours": "Fuera del horario permitido",
    "second_contact_today": "Más de un contacto en el día",
    "second_channel_this_week": "Más de un canal en la semana",
    "channel_not_authorised": "Canal no autorizado",
    "no_authorisation_on_record": "Sin autorización registrada",
}


@dataclass(frozen=True, slots=True)
class Breach:
    code: str
    message: str
    """In Spanish, for the agent, the dispatcher and the report."""


@dataclass(frozen=True, slots=True)
class Standing:
    """What the ledger holds for a debtor before the contact in question."""

    authorised: Collection[str] | None
    """Channels the debtor authorised; None: no authorisation on record."""
    agreed: WeeklyHours | None
    contacts_today: int = 0
    """Contacts on the same local day, any channel."""
    week_channels: Collection[str] = ()
    """Channels used in the same ISO week."""


def standing_of(row: Any) -> Standing:
    """The standing a statement read: the debtor's ``authorised_channels`` and
    ``agreed_hours`` with the ledger's :data:`~geo.contacts.ledger.STANDING` columns."""
    agreed = None if row.agreed_hours is None else WeeklyHours.model_validate(row.agreed_hours)
    return Standing(row.authorised_channels, agreed, row.contacts_today, row.week_channels)


def breaches(
    *, at: datetime, channel: str, standing: Standing, settings: TenantSettings
) -> list[Breach]:
    """Every rule a contact through ``channel`` at the local moment ``at`` would break."""
    why = outside_hours(
        at, weekly=settings.contact_hours, country=settings.contact_holidays, agreed=standing.agreed
    )
    hours = [] if why is None else [Breach("outside_contact_hours", f"Ley 2300: {why}")]
    return hours + ledger_breaches(channel=channel, standing=standing, settings=settings)


def ledger_breaches(*, channel: str, standing: Standing, settings: TenantSettings) -> list[Breach]:
    """The rules of a contact through ``channel`` that do not depend on its hour: contacts
    that day, channels that week, and the debtor's authorisation."""
    found: list[Breach] = []
    if standing.contacts_today >= settings.contacts_per_day:
        found.append(
            Breach(
                "second_contact_today",
                f"Ley 2300: el deudor ya tuvo {standing.contacts_today} contacto(s) hoy "
                f"(máximo {settings.contacts_per_day} por día)",
            )
        )
    used = set(standing.week_channels)
    if channel not in used and len(used) >= settings.channels_per_week:
        others = ", ".join(CHANNEL_LABELS[c] for c in sorted(used))
        found.append(
            Breach(
                "second_channel_this_week",
                f"Ley 2300: esta semana ya se contactó al deudor por {others}; "
                f"{CHANNEL_LABELS[channel]} sería otro canal",
            )
        )
    if standing.authorised is None:
        if not settings.contact_unauthorised:
            found.append(
                Breach(
                    "no_authorisation_on_record",
                    "Ley 2300: el deudor no tiene canales autorizados registrados",
                )
            )
    elif channel not in standing.authorised:
        found.append(
            Breach(
                "channel_not_authorised",
                f"Ley 2300: el deudor no autorizó el canal {CHANNEL_LABELS[channel]}",
            )
        )
    return found


def visit_window(
    day: date, *, standing: Standing, settings: TenantSettings
) -> tuple[int, int] | Breach:
    """When a debtor may be visited on ``day``, in seconds after local midnight, or the first
    rule that rules the visit out that day (for the planner)."""
    ruled_out = ledger_breaches(channel="visit", standing=standing, settings=settings)
    if ruled_out:
        return ruled_out[0]
    today = day_hours(
        day,
        weekly=settings.contact_hours,
        country=settings.contact_holidays,
        agreed=standing.agreed,
    )
    if today.hours is None:
        return Breach("outside_contact_hours", f"Ley 2300: {today.closed}")
    start, end = today.hours
    return _seconds(start), 24 * 3600 if end == time.max else _seconds(end)


def _seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def next_contact_day(day: date, *, settings: TenantSettings, step: int) -> date:
    """``day`` itself if the tenant's policy has contact hours on it, else the nearest such
    day in the direction of ``step`` (1 forwards, -1 backwards)."""
    weekly, country = settings.contact_hours, settings.contact_holidays
    for _ in range(366):
        if day_hours(day, weekly=weekly, country=country).hours is not None:
            return day
        day += timedelta(days=step)
    raise ValueError("the policy allows no contact on any day of a year")
