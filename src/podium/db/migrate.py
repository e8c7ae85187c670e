"""Applies Alembic migrations (``podium db upgrade`` and every ``podium serve`` start)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"

# Indexes a migration creates only when the database allows it (PostgreSQL's pg_trgm, migration 0013):
# not in the metadata, so comparisons of the database with the metadata leave them out.
OPTIONAL_INDEXES = frozenset(
    {"ix_jobs_info_trgm", "ix_jobs_release_name_trgm", "ix_queue_items_reference_trgm"}
)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic's ``include_object`` hook: everything but :data:`OPTIONAL_INDEXES`."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


@contextmanager
def quiet_alembic() -> Iterator[None]:
    """Alembic's INFO lines (``setup plugin …``, ``Context impl …``, each revision run) are library chatter
    at every ``podium serve`` start, whatever logging the caller set up; its warnings still show."""
    logger = logging.getLogger("alembic")
    level = logger.level
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def upgrade(database_url: str, revision: str = "head") -> None:
    with quiet_alembic():
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    with quiet_alembic():
        command.downgrade(alembic_config(database_url), revision)
