"""CSV exports of any entity set's filtered rows (Jobs, RobotLogs): one implementation for all."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from podium.db.schema import exports
from podium.db.types import utcnow
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.model import EntitySet
from podium.odata.options import QueryOptions
from podium.odata.serialize import format_datetime

PAGE = 1000
# ExportModel.Type, numbered in the catalog's order
EXPORT_TYPES = {"OrchestratorAudit": 0, "Queues": 2, "Logs": 3, "Jobs": 4}


async def export_csv(
    ctx: RequestContext, entity_set: EntitySet, options: QueryOptions, columns: Sequence[str], kind: str
) -> dict[str, Any]:
    """Writes every row the options select (page by page) as CSV, keeps it as a finished export and
    answers its ExportModel; ``GET /api/Exports/{id}/Download`` serves the file."""
    options.top, options.count, options.select = PAGE, False, None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    skip = 0
    while True:
        options.skip = skip
        page = await service.list_entities(ctx, entity_set, options)
        for row in page.rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
        if len(page.rows) < PAGE:
            break
        skip += PAGE
    content = buffer.getvalue()
    size = len(content.encode())
    now = utcnow()
    name = f"{kind}-{now:%Y%m%d%H%M%S}.csv"
    async with ctx.state.db.write() as conn:
        values = {
            "tenant_id": ctx.tenant_id,
            "name": name,
            "type": EXPORT_TYPES[kind],
            "status": 2,  # Completed
            "requested_at": now,
            "executed_at": now,
            "size": size,
            "content": content,
            "creator_user_id": ctx.user_id,
        }
        export_id = (
            await conn.execute(insert(exports).values(**values).returning(exports.c.id))
        ).scalar_one()
    return {
        "Id": export_id,
        "Name": name,
        "Type": kind,
        "Status": "Completed",
        "RequestedAt": format_datetime(now),
        "ExecutedAt": format_datetime(now),
        "Size": size,
    }
