"""Migration 0004 on both backends: a robot user's tenant-wide Robot grant becomes grants in the robot's
folders (other users' and other roles' grants are untouched); machines get their key as LicenseKey;
releases get a Description and a SpecificPriorityValue."""

from __future__ import annotations

from sqlalchemy import text

from podium.db.migrate import upgrade
from tests.conftest import sync_engine

NOW = "2026-01-01 00:00:00"

# revision 0003's rows, written by hand (the tables of later revisions may have more columns)
SEED = [
    "INSERT INTO tenants (id, key, name, is_active, creation_time) VALUES (1, 't1', 'T', true, :now)",
    "INSERT INTO folders (id, tenant_id, key, display_name, fully_qualified_name, folder_type,"
    " provision_type, permission_model, feed_type, creation_time) VALUES"
    " (1, 1, 'f1', 'Shared', 'Shared', 0, 0, 1, 0, :now), (2, 1, 'f2', 'Other', 'Other', 0, 0, 1, 0, :now)",
    "INSERT INTO roles (id, tenant_id, name, type, is_static, is_editable, creation_time) VALUES"
    " (1, 1, 'Robot', 0, true, false, :now), (2, 1, 'Administrator', 0, true, false, :now)",
    "INSERT INTO users (id, tenant_id, key, user_name, is_active, type, creation_time) VALUES"
    " (1, 1, 'u1', 'robot-legacy', true, 1, :now), (2, 1, 'u2', 'an-app', true, 1, :now),"
    " (3, 1, 'u3', 'robot:new', true, 1, :now)",
    "INSERT INTO robots (id, tenant_id, key, name, type, hosting_type, provision_type, credential_type,"
    " enabled, user_id, robot_environments, limit_concurrent_execution, creation_time) VALUES"
    " (1, 1, 'r1', 'Legacy', 2, 0, 0, 0, true, 1, '', false, :now),"
    " (2, 1, 'r2', 'New', 2, 0, 0, 0, true, 3, '', false, :now)",
    "INSERT INTO folder_robots (folder_id, robot_id) VALUES (1, 1), (2, 2)",
    # the legacy robot: Robot tenant-wide (twice: NULLs never clash) and Administrator tenant-wide;
    # the app: Robot tenant-wide (an app's roles are the admin's choice); the new robot: Robot in Other
    "INSERT INTO user_roles (user_id, role_id, folder_id) VALUES"
    " (1, 1, NULL), (1, 1, NULL), (1, 2, NULL), (2, 1, NULL), (3, 1, 2)",
    "INSERT INTO machines (id, tenant_id, key, name, type, scope, non_production_slots, unattended_slots,"
    " creation_time) VALUES (1, 1, 'mk1', 'M1', 0, 0, 0, 1, :now)",
    "INSERT INTO machines (id, tenant_id, key, name, type, scope, license_key, non_production_slots,"
    " unattended_slots, creation_time) VALUES (2, 1, 'mk2', 'M2', 0, 0, 'own-license', 0, 1, :now)",
    "INSERT INTO releases (id, tenant_id, folder_id, key, name, process_key, process_version,"
    " is_latest_version, is_process_deleted, process_type, job_priority, requires_user_interaction,"
    " is_attended, creation_time, description, specific_priority_value) VALUES"
    " (1, 1, 1, 'k1', 'High', 'P', '1.0.0', false, false, 1, 2, false, false, :now, NULL, NULL),"
    " (2, 1, 1, 'k2', 'Normal', 'P', '1.0.0', false, false, 1, 1, false, false, :now, NULL, NULL),"
    " (3, 1, 1, 'k3', 'Kept', 'P', '1.0.0', false, false, 1, 0, false, false, :now, 'described', 7)",
]


def _check(url: str) -> None:
    upgrade(url, "0003")
    engine = sync_engine(url)
    try:
        with engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement), {"now": NOW})
        upgrade(url)
        with engine.connect() as conn:
            grants = sorted(
                (r.user_id, r.role_id, -1 if r.folder_id is None else r.folder_id)
                for r in conn.execute(text("SELECT user_id, role_id, folder_id FROM user_roles"))
            )
            assert grants == [(1, 1, 1), (1, 2, -1), (2, 1, -1), (3, 1, 2)]
            keys = conn.execute(text("SELECT id, license_key FROM machines ORDER BY id")).all()
            assert [tuple(k) for k in keys] == [(1, "mk1"), (2, "own-license")]
            releases = conn.execute(
                text("SELECT id, description, specific_priority_value FROM releases ORDER BY id")
            ).all()
            assert [tuple(r) for r in releases] == [(1, "", 75), (2, "", 45), (3, "described", 7)]
    finally:
        engine.dispose()


def test_migration_0004(empty_database_url: str) -> None:
    _check(empty_database_url)
