"""Rules of storage buckets: providers, options, and the storage settings of a bucket row.

Podium's own storage ("Orchestrator", the default) keeps files in the data folder. An S3-compatible
provider ("Amazon", "Minio", "S3Compatible") is configured by the DTO as:

- ``StorageContainer``: the S3 bucket name;
- ``StorageParameters``: ``Endpoint=http://host:9000;Region=eu-west-1;AccessKeyId=AKIA...`` (``;``
  separated ``key=value``, keys in any case; ``AddressingStyle=virtual`` for virtual-hosted URLs);
- ``Password``: the secret access key (write-only, sealed at rest).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from podium.errors import bad_request
from podium.storage.s3 import S3Settings

LOCAL_PROVIDER = "Orchestrator"
_LOCAL = {"orchestrator", "local", "podium"}
_S3 = {"amazon", "minio", "s3compatible", "s3"}

BucketOptions: type[enum.IntEnum] = enum.IntEnum(  # type: ignore[assignment]
    "BucketOptions",
    [("None", 0), ("ReadOnly", 1), ("AuditReadAccess", 2), ("AccessDataThroughOrchestrator", 4)],
)
READ_ONLY = 1
THROUGH_PODIUM = 4


def is_local(provider: str | None) -> bool:
    return provider is None or provider.strip().lower() in _LOCAL


def parse_parameters(text: str | None) -> dict[str, str]:
    """``A=1;b=2`` → ``{"a": "1", "b": "2"}``; 400 for a part without '='."""
    result: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise bad_request(f"StorageParameters: '{part.strip()}' is not 'name=value'.")
        result[name.strip().lower()] = value.strip()
    return result


def check_storage(values: Mapping[str, Any], has_secret: bool) -> None:
    """400 unless the provider is known and an S3 bucket names its container, endpoint and keys."""
    provider = values.get("storage_provider")
    if is_local(provider):
        return
    if str(provider).strip().lower() not in _S3:
        raise bad_request(
            f"The storage provider '{provider}' is not supported: use Orchestrator or an S3-compatible one."
        )
    if not values.get("storage_container"):
        raise bad_request("StorageContainer (the S3 bucket name) is required for an S3-compatible provider.")
    parameters = parse_parameters(values.get("storage_parameters"))
    endpoint = parameters.get("endpoint")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad_request("StorageParameters: Endpoint must be an http(s) URL.")
    if bool(parameters.get("accesskeyid")) != has_secret:
        raise bad_request(
            "An S3-compatible provider needs both AccessKeyId (StorageParameters) and Password, or neither."
        )


def s3_settings(row: Mapping[str, Any], secret: str | None) -> S3Settings:
    parameters = parse_parameters(row.get("storage_parameters"))
    return S3Settings(
        container=str(row["storage_container"]),
        endpoint=parameters.get("endpoint") or None,
        region=parameters.get("region") or "us-east-1",
        access_key_id=parameters.get("accesskeyid") or None,
        secret_access_key=secret,
        virtual_hosted=parameters.get("addressingstyle", "").lower() == "virtual",
    )
