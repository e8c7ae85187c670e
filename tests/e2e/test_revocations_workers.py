"""``podium serve --workers 2`` on PostgreSQL: access ended through one worker is refused by both
(``domain/revocations.py``: ``pg_notify`` in the revoking transaction, heard by every worker's LISTEN).
Each request goes over a fresh connection, so the kernel spreads them over the two workers, each of
which has the token cached by then: a revoked personal access token, a disabled robot's token and an
ended job's token are each refused by all of the 20 requests that follow.

The worker that made the change refuses at once; the other refuses once PostgreSQL has delivered the
notification to its LISTEN connection, milliseconds later, or longer on a loaded machine (a CI run saw
one request in that window get 200). The requests therefore start :data:`DELIVERY` after the change:
far below the few seconds a cached principal lives without the message (``auth/principal.py``), so a
LISTEN that hears nothing still fails this test."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from podium.db.schema import folders, releases, tenants
from podium.db.types import utcnow
from tests.conftest import sync_engine
from tests.e2e.queue_servers import ODATA, admin_token, podium_server, prepare_database
from tests.e2e.servers import ok

pytestmark = pytest.mark.e2e
NS = "UiPath.Server.Configuration.OData"
REQUESTS = 20
DELIVERY = 0.5  # seconds for the NOTIFY to reach the other worker (see above)

Call = Callable[[], httpx.Response]


def _statuses(call: Call) -> Counter[int]:
    """The statuses of REQUESTS calls, each on a fresh connection (spread over the workers)."""
    return Counter(call().status_code for _ in range(REQUESTS))


def _after_delivery(call: Call) -> Counter[int]:
    """:func:`_statuses` once a change made through one worker has had time to reach the other."""
    time.sleep(DELIVERY)
    return _statuses(call)


def _release(database_url: str) -> None:
    """Release 'proc' in Shared (a row: no job here runs a package)."""
    engine = sync_engine(database_url)
    try:
        with engine.begin() as conn:
            tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == "Default")).scalar_one()
            folder_id = conn.execute(
                select(folders.c.id).where(
                    folders.c.tenant_id == tenant_id, folders.c.display_name == "Shared"
                )
            ).scalar_one()
            conn.execute(
                insert(releases).values(
                    tenant_id=tenant_id,
                    folder_id=folder_id,
                    key=str(uuid.uuid4()),
                    name="proc",
                    process_key="proc",
                    creation_time=utcnow(),
                )
            )
    finally:
        engine.dispose()


def test_revoked_access_is_refused_by_every_worker(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no LISTEN: other workers refuse within their caches' 5 s (README)")
    prepare_database(database_url)
    with podium_server(database_url, tmp_path / "data", workers=2) as (base, _process):
        admin = {"Authorization": f"Bearer {admin_token(base)}", "X-UIPATH-FolderPath": "Shared"}
        _release(database_url)

        # a personal access token, used (and cached) by both workers, then revoked through one
        made = ok(httpx.post(f"{base}/api/PersonalAccessTokens", json={"Name": "ci"}, headers=admin), 201)
        pat = {"Authorization": f"Bearer {made['Token']}"}
        with_pat: Call = lambda: httpx.get(f"{base}{ODATA}/Jobs?$top=1", headers=pat, timeout=10)  # noqa: E731
        assert _statuses(with_pat) == {200: REQUESTS}
        ok(httpx.delete(f"{base}/api/PersonalAccessTokens/{made['Id']}", headers=admin), 204)
        assert _after_delivery(with_pat) == {401: REQUESTS}

        # a robot holding a job: its job's token ends with the job, its own with the robot's disabling
        machine = ok(httpx.post(f"{base}{ODATA}/Machines", json={"Name": "M"}, headers=admin), 201)
        body = {"Name": "r", "MachineId": machine["Id"], "Type": "Unattended"}
        robot = ok(httpx.post(f"{base}{ODATA}/Robots", json=body, headers=admin), 201)
        agent = str(uuid.uuid4())
        connect = {"machineKey": machine["Key"], "hostMachineName": "host", "agentId": agent}
        [grant] = ok(httpx.post(f"{base}/api/robot/connect", json=connect, timeout=10))["robots"]
        robot_headers = {"Authorization": f"Bearer {grant['token']}"}
        start = {"startInfo": {"ReleaseName": "proc", "Strategy": "JobsCount", "JobsCount": 1}}
        ok(httpx.post(f"{base}{ODATA}/Jobs/{NS}.StartJobs", json=start, headers=admin, timeout=10))
        poll = {"agentId": agent, "wait": 0}
        [job] = ok(httpx.post(f"{base}/api/robot/jobs/next", json=poll, headers=robot_headers))["jobs"]
        job_headers = {"Authorization": f"Bearer {job['accessToken']}", "X-UIPATH-FolderPath": "Shared"}
        with_job: Call = lambda: httpx.get(f"{base}{ODATA}/Jobs?$top=1", headers=job_headers, timeout=10)  # noqa: E731
        assert _statuses(with_job) == {200: REQUESTS}
        report = {"state": "Successful"}
        ok(httpx.post(f"{base}/api/robot/jobs/{job['key']}/state", json=report, headers=robot_headers))
        assert _after_delivery(with_job) == {401: REQUESTS}

        beat = {"agentId": agent, "running": {}}
        heartbeat: Call = lambda: httpx.post(  # noqa: E731
            f"{base}/api/robot/heartbeat", json=beat, headers=robot_headers, timeout=10
        )
        assert _statuses(heartbeat) == {200: REQUESTS}
        disable = {"Enabled": False}
        ok(httpx.patch(f"{base}{ODATA}/Robots({robot['Id']})", json=disable, headers=admin, timeout=10))
        assert _after_delivery(heartbeat) == {401: REQUESTS}
