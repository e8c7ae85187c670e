"""Orchestrator's asset enums and error codes, stored as their integer value and answered by name."""

from __future__ import annotations

import enum


class AssetValueType(enum.IntEnum):
    """Orchestrator's numbers (API guide: Text 2, Bool 3, Integer 4, Credential 5); Secret is the newer
    secret asset type (``SecretValue``)."""

    DBConnectionString = 0
    HttpConnectionString = 1
    Text = 2
    Bool = 3
    Integer = 4
    Credential = 5
    WindowsCredential = 6
    KeyValueList = 7
    Secret = 8


class AssetValueScope(enum.IntEnum):
    Global = 0
    PerRobot = 1


class AssetErrorCode:
    CREDENTIAL_EMPTY_PASSWORD = 2400  # CredentialAssetEmptyPasswordForNewUser
    TYPE_NOT_UPDATABLE = 2401  # AssetTypeNonUpdatable
    NOT_AVAILABLE_FOR_ROBOT = 2402  # AssetNotAvailableForRobot
    NOT_FOUND = 2403  # AssetNotFound
