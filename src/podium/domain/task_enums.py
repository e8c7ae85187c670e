"""Action Center enums, with Orchestrator's numbers (answered by name in OData, ``status`` as a number in
the task-data DTOs the SDK reads)."""

from __future__ import annotations

import enum

from podium.domain.enums import _ordered


class TaskStatus(enum.IntEnum):
    Unassigned = 0
    Pending = 1
    Completed = 2


class TaskPriority(enum.IntEnum):
    Low = 0
    Medium = 1
    High = 2
    Critical = 3


class TaskType(enum.IntEnum):
    FormTask = 0
    ExternalTask = 1
    DocumentValidationTask = 2
    DocumentClassificationTask = 3
    DataLabelingTask = 4
    AppTask = 5
    QuickFormTask = 6  # what the SDK's tasks.create_quickform sends (type 6)


class TaskActivityType(enum.IntEnum):
    Created = 0
    Assigned = 1
    Reassigned = 2
    Unassigned = 3
    Saved = 4
    Forwarded = 5
    Completed = 6
    Commented = 7
    Deleted = 8
    BulkSaved = 9
    BulkCompleted = 10
    FirstOpened = 11


TaskRetentionAction = _ordered("TaskRetentionAction", "Delete|Archive|None")
