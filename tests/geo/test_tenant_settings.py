"""The typed tenant settings: defaults in one place, every bad value refused by name."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from geo.core.errors import InvalidInput
from geo.core.tenant_settings import TenantSettings, parse_settings, stored_overrides

README = Path(__file__).resolve().parents[2] / "README.md"


def test_an_empty_document_is_every_default() -> None:
    settings = parse_settings({})
    assert settings == TenantSettings()
    assert settings.timezone == "America/Bogota"
    assert settings.agent_daily_capacity == 20
    assert settings.agent_shift_start == time(8, 0)
    assert stored_overrides(settings) == {}


def test_only_what_was_set_is_stored() -> None:
    settings = parse_settings({"geofence_radius_m": 50, "visit_hours": [8, 18]})
    assert stored_overrides(settings) == {"geofence_radius_m": 50.0, "visit_hours": [8, 18]}
    assert settings.visit_hours == (8, 18)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"geofence_radius_m": -5}, "geofence_radius_m"),
        ({"geofence_radius_m": "far"}, "geofence_radius_m"),
        ({"notify_emails": ["not-an-address"]}, "notify_emails.0"),
        ({"metric_srid": 4326}, "metric_srid"),
        ({"metric_srid": 999999}, "metric_srid"),
        ({"visit_hours": [20, 7]}, "settings"),
        (
            {"segment_skills": [{"skill": "legal", "buckets": ["soon"]}]},
            "segment_skills.0.buckets.0",
        ),
        ({"segment_skills": [{"skill": "legal", "colour": 1}]}, "segment_skills.0.colour"),
        ({"gps_shift_only": "maybe"}, "gps_shift_only"),
        ({"agent_shift_start": "25:00"}, "agent_shift_start"),
    ],
)
def test_bad_values_are_refused_naming_the_key(document: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_settings(document)
    assert refused.value.field == field


def test_an_extract_must_exist_when_it_is_set_not_when_it_is_read(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.osm.pbf")
    with pytest.raises(InvalidInput) as refused:
        parse_settings({"street_network": missing}, writing=frozenset({"street_network"}))
    assert refused.value.field == "street_network"
    assert parse_settings({"street_network": missing}).street_network == missing


def test_the_readme_lists_every_setting() -> None:
    readme = README.read_text(encoding="utf-8")
    assert [name for name in TenantSettings.model_fields if f"`{name}`" not in readme] == []
