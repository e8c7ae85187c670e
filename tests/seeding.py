"""Inserting rows with the exact ids and values of UiPath's documentation examples."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from podium.db import schema

FOLDER_ID = 1  # replaced by the tenant's Shared folder


def when(text_value: str | None) -> dt.datetime | None:
    if text_value is None:
        return None
    return dt.datetime.fromisoformat(text_value.replace("Z", "+00:00"))


class Seeder:
    def __init__(self, engine: Engine, tenant_id: int, folder_id: int) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.folder_id = folder_id

    def environment(self, id: int, name: str) -> None:
        self._insert(
            schema.environments,
            id=id,
            tenant_id=self.tenant_id,
            folder_id=self.folder_id,
            name=name,
            type=0,
            creation_time=when("2017-12-01T00:00:00Z"),
        )

    def robot(self, id: int, name: str, **values: Any) -> None:
        row = {
            "id": id,
            "tenant_id": self.tenant_id,
            "key": str(uuid.uuid4()),
            "name": name,
            "type": 2,
            "robot_environments": "",
            "creation_time": when("2017-12-01T00:00:00Z"),
            **values,
        }
        self._insert(schema.robots, **row)
        self._insert(schema.folder_robots, folder_id=self.folder_id, robot_id=id)

    def environment_robot(self, environment_id: int, robot_id: int) -> None:
        self._insert(schema.environment_robots, environment_id=environment_id, robot_id=robot_id)

    def release(self, id: int, key: str, name: str, **values: Any) -> None:
        row = {
            "id": id,
            "tenant_id": self.tenant_id,
            "folder_id": self.folder_id,
            "key": key,
            "name": name,
            "process_key": name,
            "process_version": "1.0.0",
            "creation_time": when("2017-12-01T00:00:00Z"),
            **values,
        }
        self._insert(schema.releases, **row)

    def job(
        self,
        id: int,
        *,
        robot_id: int | None,
        release_id: int,
        state: int,
        key: str | None = None,
        start: str | None = None,
        end: str | None = None,
        created: str = "2018-01-01T00:00:00Z",
        info: str | None = None,
        batch: str | None = None,
    ) -> None:
        self._insert(
            schema.jobs,
            id=id,
            tenant_id=self.tenant_id,
            folder_id=self.folder_id,
            key=key or str(uuid.uuid4()),
            release_id=release_id,
            release_name=f"release-{release_id}",
            robot_id=robot_id,
            state=state,
            source="Manual",
            source_type=0,
            batch_execution_key=batch or str(uuid.uuid4()),
            info=info,
            creation_time=when(created),
            start_time=when(start),
            end_time=when(end),
        )

    def _insert(self, table: Any, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(table).values(**values))

    def finish(self) -> None:
        """On PostgreSQL, moves identity sequences past the ids inserted by hand."""
        if self.engine.dialect.name != "postgresql":
            return
        with self.engine.begin() as conn:
            for table in schema.metadata.sorted_tables:
                if "id" not in table.c or table.c.id.identity is None:
                    continue
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                    )
                )
