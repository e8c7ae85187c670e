"""robots hold the Robot role in their folders only; machines answer their LicenseKey; releases answer
Description and SpecificPriorityValue (data only, no schema change)

A robot connected before it had a user got one holding the Robot role tenant-wide, which let its token
read every folder. Such grants become grants in the robot's folders (``folder_robots``), as
``domain/robot_identity.provision_robot_user`` gives them now. Machines get their key as license key,
releases the values Orchestrator never answers as null (``domain/releases.py``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROBOT_USERS_TENANT_WIDE = """
    user_roles.folder_id IS NULL
    AND user_roles.role_id IN (SELECT roles.id FROM roles WHERE roles.name = 'Robot')
    AND user_roles.user_id IN (SELECT robots.user_id FROM robots WHERE robots.user_id IS NOT NULL)
"""


def upgrade() -> None:
    op.execute(
        f"""
        INSERT INTO user_roles (user_id, role_id, folder_id)
        SELECT DISTINCT robots.user_id, user_roles.role_id, folder_robots.folder_id
        FROM user_roles
        JOIN robots ON robots.user_id = user_roles.user_id
        JOIN folder_robots ON folder_robots.robot_id = robots.id
        WHERE {ROBOT_USERS_TENANT_WIDE}
        AND NOT EXISTS (
            SELECT 1 FROM user_roles AS held
            WHERE held.user_id = robots.user_id
            AND held.role_id = user_roles.role_id
            AND held.folder_id = folder_robots.folder_id
        )
        """
    )
    op.execute(f"DELETE FROM user_roles WHERE {ROBOT_USERS_TENANT_WIDE}")
    op.execute(
        """
        UPDATE machines SET license_key = machines.key
        WHERE license_key IS NULL
        AND NOT EXISTS (SELECT 1 FROM machines AS other WHERE other.license_key = machines.key)
        """
    )
    op.execute("UPDATE releases SET description = '' WHERE description IS NULL")
    op.execute(
        """
        UPDATE releases
        SET specific_priority_value = CASE job_priority WHEN 0 THEN 15 WHEN 2 THEN 75 ELSE 45 END
        WHERE specific_priority_value IS NULL
        """
    )


def downgrade() -> None:
    """Nothing to undo: the data stays valid for revision 0003 (a tenant-wide robot grant is not
    given back)."""
