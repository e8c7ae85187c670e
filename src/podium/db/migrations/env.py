"""Alembic environment: runs migrations with the synchronous driver of the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, event, pool

from podium.db.engine import configure_sqlite, postgres_options, sync_url
from podium.db.migrate import include_object
from podium.db.tables import metadata

config = context.config
url = sync_url(config.attributes["database_url"])
if url.get_backend_name() == "postgresql":
    url, connect_args = postgres_options(url)
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
else:
    engine = create_engine(url, poolclass=pool.NullPool)
if url.get_backend_name() == "sqlite":

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: object, _record: object) -> None:
        configure_sqlite(dbapi_connection, immediate=False)


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
