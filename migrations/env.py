"""Alembic environment: the owner's URL from Settings, campo's metadata, PostGIS-aware."""

from __future__ import annotations

import re
from logging.config import fileConfig
from typing import Any

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from geo.core.models import Base
from geo.core.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Monthly partitions are created by campo_ensure_gps_partitions(), not by migrations,
# spatial_ref_sys belongs to PostGIS, and the job queue's tables are procrastinate's own
# schema (installed by a migration, not described by our models): none is schema drift.
_NOT_OURS = re.compile(r"^(gps_fixes_y\d{4}m\d{2}|spatial_ref_sys|procrastinate_\w+)$")


def include_name(name: str | None, type_: str, _parent: dict[str, Any]) -> bool:
    return not (type_ == "table" and name is not None and _NOT_OURS.match(name))


def run_migrations_online() -> None:
    url = config.attributes.get("url") or get_settings().owner_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=include_name,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("campo's migrations run online only (they create functions and policies)")
run_migrations_online()
