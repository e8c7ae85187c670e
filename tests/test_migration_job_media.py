"""Migrations 0018 and 0019 on both backends: every existing release gets the built-in job retention
policy (30 days, Delete); the built-in Administrator and Folder Administrator roles of existing tenants
get the ExecutionMedia permissions (once: a permission held already is not doubled); other roles, and a
role that only shares the name, do not."""

from __future__ import annotations

from sqlalchemy import text

from podium.db.migrate import upgrade
from tests.conftest import sync_engine

NOW = "2026-01-01 00:00:00"
MEDIA = ["ExecutionMedia.Create", "ExecutionMedia.Delete", "ExecutionMedia.Edit", "ExecutionMedia.View"]

# revision 0015's rows, written by hand
SEED = [
    "INSERT INTO tenants (id, key, name, is_active, creation_time) VALUES (1, 't1', 'T', true, :now),"
    " (2, 't2', 'U', true, :now)",
    "INSERT INTO folders (id, tenant_id, key, display_name, fully_qualified_name, folder_type,"
    " provision_type, permission_model, feed_type, creation_time) VALUES"
    " (1, 1, 'f1', 'Shared', 'Shared', 0, 0, 1, 0, :now), (2, 1, 'f2', 'Other', 'Other', 0, 0, 1, 0, :now)",
    "INSERT INTO roles (id, tenant_id, name, type, is_static, is_editable, creation_time) VALUES"
    " (1, 1, 'Administrator', 0, true, false, :now), (2, 1, 'Folder Administrator', 2, true, true, :now),"
    " (3, 1, 'Automation User', 2, true, true, :now), (4, 2, 'Administrator', 0, false, true, :now)",
    "INSERT INTO role_permissions (role_id, name, is_granted) VALUES (1, 'Jobs.View', true),"
    " (2, 'ExecutionMedia.View', true)",
    "INSERT INTO releases (id, tenant_id, folder_id, key, name, process_key, process_version,"
    " is_latest_version, is_process_deleted, process_type, job_priority, requires_user_interaction,"
    " is_attended, creation_time, description, specific_priority_value) VALUES"
    " (1, 1, 1, 'k1', 'One', 'P', '1.0.0', false, false, 1, 1, false, false, :now, '', 45),"
    " (2, 1, 2, 'k2', 'Two', 'P', '1.0.0', false, false, 1, 1, false, false, :now, '', 45)",
]


def test_migrations_0018_and_0019(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0015")
    engine = sync_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement), {"now": NOW})
        upgrade(empty_database_url)
        with engine.connect() as conn:
            policies = conn.execute(
                text(
                    "SELECT release_id, folder_id, tenant_id, action, period FROM release_retention"
                    " ORDER BY release_id"
                )
            ).all()
            assert [tuple(p) for p in policies] == [(1, 1, 1, 0, 30), (2, 2, 1, 0, 30)]
            rows = conn.execute(
                text(
                    "SELECT role_id, name FROM role_permissions"
                    " WHERE name LIKE 'ExecutionMedia.%' ORDER BY role_id, name"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, name) for name in MEDIA] + [(2, name) for name in MEDIA]
