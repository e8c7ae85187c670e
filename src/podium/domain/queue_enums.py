"""Orchestrator's queue enums, stored as their integer value and answered by name.

Status, exception type and review status use the numbers of Orchestrator's API guide; the others
are numbered in the swagger catalog's order (``Priority`` High=0, Normal=1, Low=2, so that ordering
ascending by the column puts High first, as the dequeue wants).
"""

from __future__ import annotations

import enum


class QueueItemStatus(enum.IntEnum):
    New = 0
    InProgress = 1
    Failed = 2
    Successful = 3
    Abandoned = 4
    Retried = 5
    Deleted = 6


class ProcessingExceptionType(enum.IntEnum):
    ApplicationException = 0
    BusinessException = 1


# "None" is one of Orchestrator's member names: only the functional API accepts it.
ReviewStatus: type[enum.IntEnum] = enum.IntEnum(
    "ReviewStatus", [("None", 0), ("InReview", 1), ("Verified", 2), ("Retried", 3)]
)
REVIEW_NONE, REVIEW_IN_REVIEW, REVIEW_VERIFIED, REVIEW_RETRIED = 0, 1, 2, 3


class QueueItemPriority(enum.IntEnum):
    High = 0
    Normal = 1
    Low = 2


class QueueItemEventAction(enum.IntEnum):
    Create = 0
    Edit = 1
    Delete = 2
    Status = 3
    Retry = 4


class ReferenceFilterOption(enum.IntEnum):
    Equals = 0
    StartsWith = 1


class CommitType(enum.IntEnum):
    AllOrNothing = 0
    StopOnFirstFailure = 1
    ProcessAllIndependently = 2


RetentionAction: type[enum.IntEnum] = enum.IntEnum(
    "RetentionAction", [("Delete", 0), ("Archive", 1), ("None", 2)]
)
RETENTION_DELETE, RETENTION_ARCHIVE, RETENTION_NONE = 0, 1, 2
