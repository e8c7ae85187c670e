"""Job retention per release: the ``ReleaseRetention`` entity set (one ReleaseRetentionSettingDto per
release, keyed by the release's id). The policies and the sweep that applies them are in
``domain/release_retention.py``.

``PUT /odata/ReleaseRetention({release id})`` sets the policy, ``DELETE`` resets it to Orchestrator's
built-in one (30 days, Delete); the release's folder's Processes.View/Edit govern them. The sweep runs
as a service (``services/job_retention.py``) under its lease.
"""

from __future__ import annotations

from podium.api.retention_sets import retention_set
from podium.db.schema_jobs import release_retention
from podium.odata.registry import Area

area = Area("Releases")

RELEASE_RETENTION = area.add(
    retention_set(
        name="ReleaseRetention",
        type_name="ReleaseRetentionSettingDto",
        table=release_retention,
        permission="Processes",
        owner=("ReleaseId", "release_id"),
    )
)
