"""Orchestrator's enums. Stored as their integer value, answered by name.

Values follow Orchestrator's documented numbers where the API guide gives them (job, robot and
queue item states, log levels, asset types ...); for the other enums of the swagger catalog the
members are numbered in the catalog's order.
"""

from __future__ import annotations

import enum


def _ordered(name: str, members: str) -> type[enum.IntEnum]:
    """An IntEnum whose members are numbered 0.. in the catalog's order."""
    return enum.IntEnum(name, [(m, i) for i, m in enumerate(members.split("|"))])  # type: ignore[return-value]


class JobState(enum.IntEnum):
    Pending = 0
    Running = 1
    Stopping = 2
    Terminating = 3
    Faulted = 4
    Successful = 5
    Stopped = 6
    Suspended = 7
    Resumed = 8


class RobotState(enum.IntEnum):
    Available = 0
    Busy = 1
    Disconnected = 2
    Unknown = 3


class UserType(enum.IntEnum):
    User = 0
    Robot = 1
    DirectoryUser = 2
    DirectoryGroup = 3
    DirectoryRobot = 4
    DirectoryExternalApplication = 5


class StopStrategy(enum.IntEnum):
    SoftStop = 1
    Kill = 2


class StartStrategy(enum.IntEnum):
    All = 0
    Specific = 1
    RobotCount = 2
    JobsCount = 3
    ModernJobsCount = 4


class JobPriority(enum.IntEnum):
    Low = 0
    Normal = 1
    High = 2


RobotType = _ordered(
    "RobotType",
    "NonProduction|Attended|Unattended|Development|Studio|RpaDeveloper|StudioX|CitizenDeveloper|Headless"
    "|StudioPro|RpaDeveloperPro|TestAutomation|AutomationCloud|Serverless|AutomationKit"
    "|ServerlessTestAutomation|AutomationCloudTestAutomation|AttendedStudioWeb",
)
JobSourceType = _ordered(
    "JobSourceType",
    "Manual|Schedule|Agent|Queue|StudioWeb|IntegrationTrigger|StudioDesktop|AutomationOpsPipelines|Apps|SAP"
    "|HttpTrigger|HttpTriggerCallback|RobotAPI|CommandLine|RobotNetAPI",
)
JobType = _ordered("JobType", "Unattended|Attended|ServerlessGeneric")
ProcessType = _ordered("ProcessType", "Undefined|Process|TestAutomationProcess")


# What a Suspended job waits for (JobTriggerDto.TriggerType; a member named None needs the functional API).
JobTriggerType = _ordered("JobTriggerType", "None|QueueItem|Job|Task|Timer|Inbox")


class JobTriggerStatus(enum.IntEnum):
    """New: waiting; Ready: its condition is met, not yet handed to the job; Fired: resumed the job."""

    New = 0
    Ready = 1
    Fired = 2


EnvironmentType = _ordered("EnvironmentType", "Dev|Test|Prod")
FolderType = _ordered("FolderType", "Standard|Personal|Virtual|Solution")
ProvisionType = _ordered("ProvisionType", "Manual|Automatic")
PermissionModel = _ordered("PermissionModel", "InheritFromTenant|FineGrained")
FeedType = _ordered("FeedType", "Undefined|Processes|Libraries|PersonalWorkspace|FolderHierarchy")
RoleType = _ordered("RoleType", "Mixed|Tenant|Folder")
PermissionScope = _ordered("PermissionScope", "Global|Folder|GlobalOrFolder")
MachineType = _ordered("MachineType", "Standard|Template")
MachineScope = _ordered("MachineScope", "Default|Shared|PersonalWorkspace|Cloud|Serverless")
HostingType = _ordered("HostingType", "Standard|Floating")
CredentialType = _ordered("CredentialType", "Default|SmartCard|NCipher|SafeNet|NoCredential")
TargetFramework = _ordered("TargetFramework", "Legacy|Windows|Portable")
RemoteControlAccess = _ordered("RemoteControlAccess", "None|ReadOnly|Full")


def parse_enum(enum_type: type[enum.IntEnum], value: object) -> enum.IntEnum:
    """Reads an enum from a request: its name (any case), its number, or its number as text.

    Raises ValueError naming the allowed names otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(_allowed(enum_type))
    if isinstance(value, int):
        try:
            return enum_type(value)
        except ValueError:
            raise ValueError(_allowed(enum_type)) from None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return parse_enum(enum_type, int(text))
        for member in enum_type:
            if member.name.lower() == text.lower():
                return member
    raise ValueError(_allowed(enum_type))


def _allowed(enum_type: type[enum.IntEnum]) -> str:
    return f"allowed values of {enum_type.__name__}: " + ", ".join(m.name for m in enum_type)
