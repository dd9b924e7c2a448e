"""Ley 2300 de 2023 as a calendar and as rules: hours to the minute, holidays, agreed schedules,
contacts a day, channels a week, authorisations."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from geo.analytics.contact_hours import HourCell, WindowRules, suggest_windows
from geo.contacts.rules import Standing, breaches, visit_window
from geo.core.contact_law import (
    LEGAL_HOURS,
    holiday_name,
    outside_hours,
    parse_agreed_hours,
    parse_channels,
)
from geo.core.tenant_settings import parse_settings

pytestmark = pytest.mark.clock

BOGOTA = ZoneInfo("America/Bogota")
LAW = parse_settings({})

# The official calendars of Colombian public holidays (Ley 51 de 1983 moves most to Monday);
# the 2025 law that made Nuestra Señora del Rosario de Chiquinquirá (9 July) a holiday adds one.
HOLIDAYS_2026 = [
    "2026-01-01", "2026-01-12", "2026-03-23", "2026-04-02", "2026-04-03", "2026-05-01",
    "2026-05-18", "2026-06-08", "2026-06-15", "2026-06-29", "2026-07-13", "2026-07-20",
    "2026-08-07", "2026-08-17", "2026-10-12", "2026-11-02", "2026-11-16", "2026-12-08",
    "2026-12-25",
]  # fmt: skip
HOLIDAYS_2027 = [
    "2027-01-01", "2027-01-11", "2027-03-22", "2027-03-25", "2027-03-26", "2027-05-01",
    "2027-05-10", "2027-05-31", "2027-06-07", "2027-07-05", "2027-07-12", "2027-07-20",
    "2027-08-07", "2027-08-16", "2027-10-18", "2027-11-01", "2027-11-15", "2027-12-08",
    "2027-12-25",
]  # fmt: skip


@pytest.mark.parametrize(("year", "official"), [(2026, HOLIDAYS_2026), (2027, HOLIDAYS_2027)])
def test_the_holidays_are_the_official_ones(year: int, official: list[str]) -> None:
    days = [
        date.fromordinal(n)
        for n in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())
    ]
    found = [d.isoformat() for d in days if holiday_name(d, "CO") is not None]
    assert found == official


def _at(day: str, hhmm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), BOGOTA)


@pytest.mark.parametrize(
    ("day", "inside", "outside"),
    [
        ("2026-11-28", "14:59", "15:00"),  # Saturday: 8:00-15:00
        ("2026-11-28", "08:00", "07:59"),
        ("2026-11-27", "18:59", "19:00"),  # Friday: 7:00-19:00
        ("2026-11-23", "07:00", "06:59"),  # Monday
    ],
)
def test_legal_hours_to_the_minute(day: str, inside: str, outside: str) -> None:
    assert outside_hours(_at(day, inside), weekly=LEGAL_HOURS, country="CO") is None
    why = outside_hours(_at(day, outside), weekly=LEGAL_HOURS, country="CO")
    assert why is not None
    assert "fuera del horario" in why


def test_sundays_and_a_holiday_moved_to_monday_allow_no_contact() -> None:
    sunday = outside_hours(_at("2026-11-29", "10:00"), weekly=LEGAL_HOURS, country="CO")
    assert sunday is not None
    assert "domingo" in sunday
    # Reyes Magos (6 January) falls on a Tuesday in 2026 and is moved to Monday the 12th.
    assert outside_hours(_at("2026-01-06", "10:00"), weekly=LEGAL_HOURS, country="CO") is None
    moved = outside_hours(_at("2026-01-12", "10:00"), weekly=LEGAL_HOURS, country="CO")
    assert moved is not None
    assert "Reyes Magos" in moved
    # A tenant outside Colombia's calendar (or none): the Monday is a working day.
    assert outside_hours(_at("2026-01-12", "10:00"), weekly=LEGAL_HOURS, country=None) is None


def test_an_agreed_schedule_replaces_the_legal_hours() -> None:
    agreed = parse_agreed_hours("lun-vie 19:00-21:00; dom 10:00-11:00")
    assert (
        outside_hours(_at("2026-11-25", "20:00"), weekly=LEGAL_HOURS, country="CO", agreed=agreed)
        is None
    )
    assert outside_hours(
        _at("2026-11-25", "10:00"), weekly=LEGAL_HOURS, country="CO", agreed=agreed
    )
    assert (
        outside_hours(_at("2026-11-29", "10:30"), weekly=LEGAL_HOURS, country="CO", agreed=agreed)
        is None
    )
    saturday = outside_hours(
        _at("2026-11-28", "10:00"), weekly=LEGAL_HOURS, country="CO", agreed=agreed
    )
    assert saturday is not None
    assert "sábado" in saturday
    assert agreed.text() == (
        "lun 19:00-21:00; mar 19:00-21:00; mié 19:00-21:00; jue 19:00-21:00; vie 19:00-21:00; "
        "dom 10:00-11:00"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("lunes a viernes", "día"),
        ("vie-lun 09:00-10:00", "backwards"),
        ("lun 10:00-09:00", "before until"),
        ("lun 09:00-10:00; lun 11:00-12:00", "twice"),
        ("xyz 09:00-10:00", "days are"),
        ("lun 25:00-26:00", "HH:MM"),
        ("", "no days"),
    ],
)
def test_a_bad_agreed_schedule_says_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_agreed_hours(text)


def test_channels_read_in_spanish_or_english() -> None:
    assert parse_channels("llamada; VISITA|sms, whatsapp") == ["visit", "call", "sms", "whatsapp"]
    with pytest.raises(ValueError, match="'fax' is not a channel"):
        parse_channels("visita, fax")


def _codes(
    *,
    authorised: tuple[str, ...] | None = ("visit", "call"),
    contacts_today: int = 0,
    week_channels: frozenset[str] = frozenset(),
) -> list[str]:
    standing = Standing(authorised, None, contacts_today, week_channels)
    at = _at("2026-11-25", "10:00")
    return [b.code for b in breaches(at=at, channel="visit", standing=standing, settings=LAW)]


def test_one_contact_a_day_one_channel_a_week_and_only_authorised_channels() -> None:
    assert _codes() == []
    assert _codes(contacts_today=1) == ["second_contact_today"]
    assert _codes(week_channels=frozenset({"visit"})) == []  # the same channel again this week
    assert _codes(week_channels=frozenset({"call"})) == ["second_channel_this_week"]
    assert _codes(authorised=("call",)) == ["channel_not_authorised"]
    assert _codes(authorised=None) == ["no_authorisation_on_record"]
    relaxed = parse_settings({"contact_unauthorised": True, "contacts_per_day": 2})
    found = breaches(
        at=_at("2026-11-25", "10:00"),
        channel="visit",
        standing=Standing(None, None, contacts_today=1),
        settings=relaxed,
    )
    assert found == []


def test_the_planner_window_is_the_day_s_hours_or_the_rule_that_rules_it_out() -> None:
    standing = Standing(("visit",), None)
    assert visit_window(date(2026, 11, 28), standing=standing, settings=LAW) == (
        8 * 3600,
        15 * 3600,
    )
    sunday = visit_window(date(2026, 11, 29), standing=standing, settings=LAW)
    assert not isinstance(sunday, tuple)
    assert sunday.code == "outside_contact_hours"
    called = visit_window(date(2026, 11, 25), standing=Standing(("visit",), None, 1), settings=LAW)
    assert not isinstance(called, tuple)
    assert called.code == "second_contact_today"


def test_suggested_windows_stay_inside_each_day_s_legal_hours() -> None:
    rules = WindowRules.of(LAW)
    assert rules.on(6) == (8, 15)
    assert rules.on(7) is None
    assert rules.on(1) == (7, 19)
    # 13:00-17:00 is the best time every day of the week, Saturdays and Sundays included.
    afternoon = [
        HourCell(None, None, dow, hour, 40, 30 if 13 <= hour <= 16 else 5)
        for dow in range(1, 8)
        for hour in range(7, 21)
    ]
    found = {s.dow: (s.start_hour, s.end_hour) for s in suggest_windows([], afternoon, rules)}
    assert found[3] == (13, 16)
    assert found[6] == (12, 15)  # not 13-16: Saturday's hours end at 15:00
    assert 7 not in found  # Sunday
