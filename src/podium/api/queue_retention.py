"""Queue retention: the ``QueueRetention`` entity set (one QueueRetentionSettingDto per queue, keyed by
the queue's id). The policies and the sweep that applies them are in ``domain/queue_retention.py``.

``PUT /odata/QueueRetention({queue id})`` sets the policy, ``DELETE`` resets it to Orchestrator's
built-in one (30 days, Delete). The sweep runs as a service (``services/queue_retention.py``) every
``queue_retention_sweep_seconds``; its lease lets one server process do the work per interval.
"""

from __future__ import annotations

from podium.api.retention_sets import retention_set
from podium.db.schema_queues import queue_retention
from podium.odata.registry import Area

area = Area("Queues")

QUEUE_RETENTION = area.add(
    retention_set(
        name="QueueRetention",
        type_name="QueueRetentionSettingDto",
        table=queue_retention,
        permission="Queues",
        owner=("QueueDefinitionId", "queue_definition_id"),
    )
)
