"""Enums of the robots' runtime (values in the seed's order)."""

from __future__ import annotations

import enum


class LogLevel(enum.IntEnum):
    Trace = 0
    Debug = 1
    Info = 2
    Warn = 3
    Error = 4
    Fatal = 5


class Platform(enum.IntEnum):
    Unknown = 0
    Windows = 1
    Linux = 2
    OSX = 3


class RobotSessionType(enum.IntEnum):
    LongLived = 0
    Ephemeral = 1


class MaintenanceMode(enum.IntEnum):
    Default = 0
    Enabled = 1
