"""Helpers of the queue tests: items, transactions over the in-process API, robot tokens (queue definitions:
``tests.factories.create_queue``)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from podium.auth.tokens import TokenClaims, issue
from podium.db.schema import robots
from podium.db.schema_queues import queue_item_events, queue_items
from tests.support import SIGNING_KEY, Api

ODATA = "/odata"
SVC = "UiPathODataSvc"


def add_item(api: Api, queue: str = "invoices", status: int = 201, **data: Any) -> Any:
    response = api.post(
        f"{ODATA}/Queues/{SVC}.AddQueueItem", {"itemData": {"Name": queue, **data}}, folder="Shared"
    )
    return api.ok(response, status) if status < 300 else response


def start(api: Api, queue: str = "invoices", token: str | None = None, **data: Any) -> Any:
    body = {"transactionData": {"Name": queue, **data}}
    response = api.post(f"{ODATA}/Queues/{SVC}.StartTransaction", body, folder="Shared", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def result(api: Api, item_id: int, token: str | None = None, **transaction: Any) -> Any:
    body = {"transactionResult": transaction}
    return api.post(
        f"{ODATA}/Queues({item_id})/{SVC}.SetTransactionResult", body, folder="Shared", token=token
    )


def item(api: Api, item_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api.ok(api.get(f"{ODATA}/QueueItems({item_id})", folder="Shared"))
    return found


def create_robot(api: Api, name: str) -> dict[str, Any]:
    body = {"Name": name, "MachineName": "M1", "Username": f"dom\\{name}", "Type": "Unattended"}
    robot: dict[str, Any] = api.ok(api.post(f"{ODATA}/Robots", body, folder="Shared"), 201)
    return robot


def robot_key(db: Engine, robot_id: int) -> str:
    """The robot's Key (robots.key), what robots send as RobotIdentifier; RobotDto does not show it."""
    with db.connect() as conn:
        key: str = conn.execute(select(robots.c.key).where(robots.c.id == robot_id)).scalar_one()
    return key


def robot_token(api: Api, robot_id: int, key: str = SIGNING_KEY) -> str:
    """A robot's token (as the account area issues them): the admin's roles, acting as ``robot_id``."""
    claims = TokenClaims(
        api.tenant.admin_user_id, api.tenant.tenant_id, "robot", int(time.time()) + 3600, robot_id=robot_id
    )
    return issue(key, claims)


def counts(db: Engine) -> tuple[int, int]:
    """(queue items, queue item history rows) in the database."""
    with db.connect() as conn:
        items = conn.execute(select(func.count()).select_from(queue_items)).scalar_one()
        history = conn.execute(select(func.count()).select_from(queue_item_events)).scalar_one()
    return int(items), int(history)
