"""The one error type of Podium.

Domain code raises :class:`PodiumError` with an Orchestrator ``errorCode`` and an HTTP status; the HTTP
edge turns it into Orchestrator's body ``{"message", "errorCode", "traceId"}``. Nothing else builds
error bodies.
"""

from __future__ import annotations


class ErrorCode:
    """Orchestrator error codes Podium answers with (the numbers clients see)."""

    GENERIC = 0
    NOT_FOUND = 1002
    VALIDATION = 1003
    INVALID_ODATA = 1004
    DUPLICATE = 1005
    FOLDER_NOT_FOUND = 1100
    FOLDER_REQUIRED = 1101
    INVALID_JOB_STATE = 1201
    NO_ROBOTS = 1202
    INPUT_TOO_LONG = 1203
    PAYLOAD_TOO_LARGE = 1013


class PodiumError(Exception):
    """An error with an HTTP status and an Orchestrator error code."""

    def __init__(self, message: str, *, status: int = 400, code: int = ErrorCode.GENERIC) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def bad_request(message: str, code: int = ErrorCode.VALIDATION) -> PodiumError:
    return PodiumError(message, status=400, code=code)


def not_found(message: str = "The requested entity was not found.") -> PodiumError:
    return PodiumError(message, status=404, code=ErrorCode.NOT_FOUND)


def unauthorized(message: str = "You are not authenticated!") -> PodiumError:
    return PodiumError(message, status=401, code=ErrorCode.GENERIC)


def forbidden(message: str = "You are not authorized!") -> PodiumError:
    return PodiumError(message, status=403, code=ErrorCode.GENERIC)


def conflict(message: str, code: int = ErrorCode.DUPLICATE) -> PodiumError:
    return PodiumError(message, status=409, code=code)


def invalid_odata(message: str) -> PodiumError:
    return PodiumError(message, status=400, code=ErrorCode.INVALID_ODATA)
