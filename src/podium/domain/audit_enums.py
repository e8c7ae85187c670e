"""The enums of the audit log and of alerts, numbered in the catalog's order (``models.md``:
``AuditLogDto``, ``AlertDto``), stored as integers and answered by name."""

from __future__ import annotations

import enum

from podium.domain.enums import _ordered

AuditAction = _ordered(
    "AuditAction",
    "Unknown|Create|Update|Delete|StartJob|StopJob|Associate|Upload|ChangeStatus|Import|ChangePassword|"
    "Register|Toggle|ResetPassword|PasswordResetAttempt|Download|Acknowledge|Activate|Assign|BulkUpload|"
    "UpdateFeature|ResumeJob|Start|End|Skip|Unassign|Deactivate|CreateBlobFileSas|DeleteBlobFile|Move|Set|"
    "StartDelete|ExploreStart|ExploreEnd|Save|Convert|Forward|BulkComplete|BulkSave|ForceStopJob|"
    "MigrateFolder|EditTaskMetadata|Archive|StartMigrateFolders|ToggleUserFolderSubscription|StartUninstall|"
    "StartInstall|VideoAccess|AutomaticallyExploreEnd|InstallState|FinishInstall|FinishUninstall",
)

AuditComponent = _ordered(
    "AuditComponent",
    "Unknown|Assets|Environments|Processes|Queues|Robots|Roles|Schedules|Users|Comments|Units|Jobs|Settings|"
    "Packages|License|Tenant|Machines|Libraries|Webhooks|ExecutionMedia|Monitoring|CredentialStores|"
    "DefaultCredentialStores|TaskCatalogs|Tasks|Maintenance|Folders|DirectoryService|Buckets|TenantMove|"
    "Secrets|PersonalWorkspaces|CloudSubscriptions|CloudSnapshots|Sessions|CredentialsProxies|StudioWeb|"
    "AutomationSolutions|RemoteControl|TaskSolutions|TaskDefinitions|HttpTriggers|TestSets|TestSetSchedules|"
    "TestDataQueues|TestDataQueueItems",
)

AuditUserType = _ordered(
    "AuditUserType", "User|Robot|DirectoryUser|DirectoryGroup|DirectoryRobot|DirectoryExternalApplication"
)


class AlertSeverity(enum.IntEnum):
    """Orchestrator's numbers (next-areas §3); ``Severity ge 'Warn'`` compares them."""

    Info = 0
    Success = 1
    Warn = 2
    Error = 3
    Fatal = 4


AlertComponent = _ordered(
    "AlertComponent",
    "Robots|Transactions|Schedules|Jobs|Process|Tasks|Queues|Folders|PersonalWorkspaces|TestAutomation|"
    "Insights|CloudRobots|ConnectedTriggers|Serverless|Export",
)


class AlertState(enum.IntEnum):
    Unread = 0
    Read = 1
