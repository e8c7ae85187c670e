"""Queues across folders: ShareToFolders, GetFoldersForQueue, GetQueuesAcrossFolders.

A queue is seen in every folder listed in ``queue_definition_folders`` (its creation folder included),
served by the same code as buckets (``api/folder_sharing.py``). The creation folder stays: its items,
their history and the retention policy live there, so removing it is refused (delete the queue there).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from podium.api import folder_sharing
from podium.api.folder_sharing import Sharing
from podium.api.queue_definitions import QUEUE_DEFINITIONS
from podium.domain.queue_definitions import FOLDER_LINK
from podium.http.context import RequestContext
from podium.odata.registry import ActionCall, Area

area = Area("Queues")

SHARING = Sharing(
    QUEUE_DEFINITIONS,
    FOLDER_LINK,
    "queue_definition_id",
    ids_name="QueueIds",
    noun="queue",
    creation_folder_stays=True,
)


@area.operation(
    "QueueDefinitions",
    "GetQueuesAcrossFolders",
    method="GET",
    returns="QueueDefinitions",
    parameters=("excludeFolderId",),
    summary="Queues of every folder where the caller has Queues.View, except the ones in one folder",
)
async def across_folders(ctx: RequestContext, call: ActionCall) -> Response:
    return await folder_sharing.across_folders(ctx, call, SHARING)


@area.operation(
    "QueueDefinitions",
    "GetFoldersForQueue",
    method="GET",
    returns="AccessibleFoldersDto",
    parameters=("id",),
    summary="Folders the queue is shared to that the caller can see, and how many in all",
)
async def folders_for_queue(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    return await folder_sharing.folders_of(ctx, call, SHARING)


@area.operation(
    "QueueDefinitions", "ShareToFolders", summary="Makes the queues visible in folders (or no longer)"
)
async def share_to_folders(ctx: RequestContext, call: ActionCall) -> None:
    await folder_sharing.share_to_folders(ctx, call, SHARING)
